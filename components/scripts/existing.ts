// Scripts for machines the stack did not create: an existing kubeadm cluster's compatibility check
// (read-only, before any host is touched), the undo of what the steps installed (run on destroy,
// leaving the machine usable), the one-time OpenSSH script a user runs on each Windows host, and
// the routes a top-of-rack switch needs. Pure: typed inputs in, script text or data out.
import { isNetworkAddress, NODE_POD_PREFIX, overlaps, parseCidr } from "../addressing";
import { TOPOLOGIES, Topology } from "../config";
import { topologySpec, TopologySpec, VXLAN_PORT, VXLAN_VNI } from "../topology";
import { KUBERNETES_MINORS } from "../versions";
import { bashPrelude } from "./linux";
import { ps, psData, sh } from "./shell";
import { AGENT_SERVICES, CONTAINERD_PIPE, CRICTL_FN, POWERSHELL_EXE, PRELUDE, SSHD_FIREWALL, SSHD_INSTALL } from "./windows";

// ---------------------------------------------------------------------------------------------
// An existing cluster: what it is, and whether Windows nodes of the configured topology can join.

/** The line of the compatibility step's output that carries the facts, as JSON after this prefix. */
export const CLUSTER_FACTS_PREFIX = "cluster-facts ";

export interface ClusterCompatibilityInput {
    /** The configured topology (hybrid-k8s:topology). */
    spec: TopologySpec;
    /** hybrid-k8s:podCidr */
    podCidr: string;
    /** hybrid-k8s:serviceCidr */
    serviceCidr: string;
    /** hybrid-k8s:kubernetesVersion: what the Windows nodes install. */
    kubernetesVersion: string;
    /**
     * The Windows nodes the stack will join, with the pod /24 it plans for each and its address (the
     * next hop of its route in the tor topology's table). Defaults to none.
     */
    windowsNodes?: ReadonlyArray<{ name: string; podCidr: string; address?: string }>;
}

/** flannel as it runs in the cluster (only vxlan and host-gw pass the check). */
export interface FlannelFacts {
    namespace: string;
    daemonSet: string;
    backend: "vxlan" | "host-gw";
    /** vxlan only. */
    vni: number | null;
    /** vxlan only. */
    port: number | null;
}

/** What an existing cluster is, as the compatibility step read it. */
export interface ClusterFacts {
    podCidr: string;
    serviceCidr: string;
    /** The API server's version, x.y.z. */
    version: string;
    /** kube-controller-manager assigns nodes' spec.podCIDR itself (--allocate-node-cidrs). */
    allocatesNodeCidrs: boolean;
    /** The prefix of the pod CIDR it assigns each node (--node-cidr-mask-size, default 24). */
    nodeCidrMaskSize: number;
    /** flannel's DaemonSet and net-conf.json, or null when flannel does not run. */
    flannel: FlannelFacts | null;
    /** Every node the cluster has, with its spec.podCIDR (null when none is assigned yet). */
    nodes: Array<{ name: string; podCidr: string | null }>;
}

/**
 * Pod networks whose Linux nodes carry pods their own way (an overlay, BGP or eBPF), not on a bridge
 * with host-local ranges that a switch's routes reach: the tor topology refuses a cluster running
 * one. Their DaemonSets, by the names of the upstream manifests: projectcalico/calico
 * charts/calico/templates/calico-node.yaml (calico-node; canal when Calico runs with flannel; the
 * Tigera operator runs calico-node in calico-system, hence every namespace is read); cilium/cilium
 * install/kubernetes/cilium/templates/cilium-agent/daemonset.yaml (cilium); weaveworks/weave
 * prog/weave-kube/weave-daemonset-k8s-1.11.yaml (weave-net); antrea-io/antrea
 * build/charts/antrea/templates/agent/daemonset.yaml (antrea-agent). kube-router is not among them:
 * its kubeadm manifest (cloudnativelabs/kube-router daemonset/kubeadm-kuberouter.yaml) gives pods the
 * bridge and host-local plugins on each node's podCIDR, the Linux side tor needs.
 */
export const TOR_REFUSED_CNI = ["calico-node", "canal", "cilium", "weave-net", "antrea-agent"] as const;

/**
 * The compatibility step's last part in the tor topology: the switch's route table, complete, in
 * torRouteTable's two forms (its `ios` and `linux` lines, under the headings the plan's
 * tor-routes.txt uses), from the cluster's Nodes ($nodes: name|podCIDR|InternalIPs) and the planned
 * Windows nodes the cluster does not have yet ($planned: name|pod /24|address).
 */
const TOR_ROUTES_SCRIPT = `  ip_int() { local a b c d; IFS=. read -r a b c d <<< "$1"; echo $(( (a << 24) | (b << 16) | (c << 8) | d )); }
  mask_int() { echo $(( (0xffffffff << (32 - $1)) & 0xffffffff )); }
  dotted() { echo "$(( ($1 >> 24) & 255 )).$(( ($1 >> 16) & 255 )).$(( ($1 >> 8) & 255 )).$(( $1 & 255 ))"; }
  is_network() { [ $(( $(ip_int "\${1%/*}") & ~$(mask_int "\${1#*/}") & 0xffffffff )) -eq 0 ]; }
  table=""
  # every value read from the cluster passes its pattern before it is printed; one that fails is
  # named by its place in the list, never printed
  i=0
  while IFS='|' read -r name cidr addrs; do
    [ -n "$name$cidr$addrs" ] || continue
    i=$((i + 1))
    if ! node_name "$name"; then
      echo "no route for the cluster's node number $i: its name is not a node name (not printed)"
      continue
    fi
    if [ -z "$cidr" ]; then
      echo "no route for node $name: it has no spec.podCIDR"
      continue
    fi
    if ! [[ "$cidr" =~ $net_re ]] || ! is_network "$cidr"; then
      echo "no route for node $name: its spec.podCIDR is not an IPv4 network in CIDR form (not printed)"
      continue
    fi
    hop=""
    read -ra found <<< "$addrs"
    for a in "\${found[@]}"; do
      if [[ "$a" =~ $ipv4_re ]]; then hop=$a; break; fi
    done
    if [ -z "$hop" ]; then
      echo "no route for node $name: it has no IPv4 InternalIP address"
      continue
    fi
    table+="$cidr $hop $name"$'\\n'
  done <<< "$nodes"
  # the planned Windows nodes the cluster does not have yet (one it has is routed by its Node above)
  while IFS='|' read -r pname pcidr paddr; do
    [ -n "$pname" ] || continue
    known=""
    while IFS='|' read -r name _; do
      if [ "$name" = "$pname" ]; then known=yes; fi
    done <<< "$nodes"
    [ -z "$known" ] || continue
    if [ -z "$paddr" ]; then
      echo "no route for planned node $pname: no address given"
      continue
    fi
    table+="$pcidr $paddr $pname"$'\\n'
  done <<< "$planned"
  # sorted by destination, as torRouteTable sorts them
  sorted=$(printf '%s' "$table" | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n)
  echo "tor: the routes to program on the top-of-rack switch, every node of the cluster (its spec.podCIDR via its InternalIP) and each planned Windows node (its pod /24 via its address):"
  echo "! a switch (IOS-style)"
  while read -r cidr hop name; do
    [ -n "$cidr" ] || continue
    echo "ip route \${cidr%/*} $(dotted "$(mask_int "\${cidr#*/}")") $hop name $name"
  done <<< "$sorted"
  echo "# a Linux router"
  while read -r cidr hop name; do
    [ -n "$cidr" ] || continue
    echo "ip route replace $cidr via $hop"
  done <<< "$sorted"
`;

/** "1.33, 1.34 and 1.35" */
function minorsText(): string {
    const m = KUBERNETES_MINORS.map((x) => x.minor);
    return m.length > 1 ? `${m.slice(0, -1).join(", ")} and ${m[m.length - 1]}` : m.join("");
}

/**
 * On a control-plane node of an existing kubeadm cluster (admin kubeconfig /etc/kubernetes/admin.conf,
 * run as root through bashPrelude's sudo, as every master step is): reads what the cluster is and
 * refuses, before any host is touched, what cannot work with the configured topology and Windows,
 * each problem with its exact fix. It only reads (kubectl get): a second run gives the same answer.
 * On success it prints one line, CLUSTER_FACTS_PREFIX + JSON (ClusterFacts; parseClusterFacts).
 *
 * Where each fact comes from:
 * - podSubnet, serviceSubnet: the kube-system ConfigMap kubeadm-config, key ClusterConfiguration
 *   (kubernetes cmd/kubeadm/app/constants/constants.go KubeadmConfigConfigMap, ClusterConfigurationConfigMapKey).
 * - the version: the API server's /version (gitVersion).
 * - node CIDR allocation: kube-controller-manager's flags, from its mirror pod (static pod label
 *   component=kube-controller-manager) or its manifest. kubeadm sets --allocate-node-cidrs=true and
 *   --cluster-cidr=<podSubnet> whenever podSubnet is set (cmd/kubeadm/app/phases/controlplane/
 *   manifests.go getControllerManagerCommand); the mask defaults to /24 for IPv4 and a set
 *   --node-cidr-mask-size wins over --node-cidr-mask-size-ipv4 (cmd/kube-controller-manager/app/
 *   core.go defaultNodeMaskCIDRIPv4, setNodeCIDRMaskSizes); repeated flags: the last one wins (pflag).
 * - flannel: the DaemonSet labelled app=flannel and the ConfigMap kube-flannel-cfg, key
 *   net-conf.json, in kube-flannel (flannel-io/flannel Documentation/kube-flannel.yml) or kube-system
 *   (older manifests). Backend defaults on Linux: VNI 1, Port 0 = the kernel's 8472
 *   (pkg/backend/vxlan/vxlan.go defaultVNI; Documentation/backends.md). flanneld on Windows refuses
 *   VNI < 4096, any Port but 4789, DirectRouting and GBP (pkg/backend/vxlan/vxlan_windows.go
 *   RegisterNetwork); sig-windows-tools guides/flannel.md sets VNI 4096 and Port 4789 on Linux for
 *   that reason. Go's JSON decoding matches keys case-insensitively, so the keys are read so too.
 * - other pod networks: DaemonSets by the names their upstream manifests give them (TOR_REFUSED_CNI).
 * - nodes: each Node's metadata.name, spec.podCIDR and status.addresses of type InternalIP (the
 *   node's address on the cluster network: kubernetes staging/src/k8s.io/api/core/v1/types.go
 *   NodeInternalIP), read with '|' between them, which none of the three can hold, so an empty
 *   podCIDR stays an empty field. In the tor topology the step prints the switch's whole route
 *   table from them and the planned Windows nodes (TOR_ROUTES_SCRIPT).
 */
export function renderClusterCompatibility(input: ClusterCompatibilityInput): string {
    const spec = input.spec;
    const planned = (input.windowsNodes ?? []).map((n) => `${n.name}|${n.podCidr}|${n.address ?? ""}`).join("\n");
    const minors = KUBERNETES_MINORS.map((m) => m.minor);
    return `${bashPrelude(false)}
want_pod=${sh(input.podCidr)}
want_svc=${sh(input.serviceCidr)}
want_version=${sh(input.kubernetesVersion)}
topology=${sh(spec.topology)}
supported=${sh(minors.join(" "))}
planned=${sh(planned)}
k() { kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"; }
cidr_re='^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$'
# what the cluster's Nodes hold is data: printed only once it passes these. A Node's name is a
# DNS-1123 subdomain of at most 253 characters (kubernetes pkg/apis/core/validation/validation.go
# ValidateNodeName: k8s.io/apimachinery pkg/api/validation NameIsDNSSubdomain, IsDNS1123Subdomain).
name_re='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
node_name() { [ "\${#1}" -le 253 ] && [[ "$1" =~ $name_re ]]; }
octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
ipv4_re="^$octet(\\.$octet){3}$"
net_re="^$octet(\\.$octet){3}/(3[0-2]|[12]?[0-9])$"
problems=()
refuse() { problems+=("$1"); }

if [ ! -f /etc/kubernetes/admin.conf ]; then
  echo "/etc/kubernetes/admin.conf is missing: hybrid-k8s:masterAddress must be a control-plane node of the existing kubeadm cluster (existingCluster: true). Nothing was changed." >&2
  exit 1
fi
if ! version_json=$(k get --raw /version 2>&1); then
  echo "the cluster's API server does not answer (kubectl get --raw /version: $version_json). Nothing was changed: run pulumi up again once it answers." >&2
  exit 1
fi

# --- version: the API server's; the Windows kubelets must never be newer (kubeadm's preflight
# KubeletVersionCheck, cmd/kubeadm/app/preflight/checks.go)
server=$(printf '%s\\n' "$version_json" | sed -n -E 's/.*"gitVersion": *"v?([0-9]+\\.[0-9]+\\.[0-9]+).*/\\1/p' | head -n 1)
if [ -z "$server" ]; then
  refuse "cannot read the API server's version from /version"
else
  server_minor=\${server%.*}
  case " $supported " in
    *" $server_minor "*) ;;
    *) refuse "the cluster runs Kubernetes v$server, but the scripts are written for ${minorsText()} (components/versions.ts). Fix: upgrade the control plane with kubeadm, one minor at a time (kubeadm upgrade apply; kubeadm refuses to skip a minor: cmd/kubeadm/app/phases/upgrade/policy.go), to one of them; a newer cluster needs a newer release of this stack." ;;
  esac
  IFS=. read -r want_major want_minor _ <<< "$want_version"
  IFS=. read -r run_major run_minor _ <<< "$server"
  if [ "$want_major" -gt "$run_major" ] || { [ "$want_major" -eq "$run_major" ] && [ "$want_minor" -gt "$run_minor" ]; }; then
    refuse "hybrid-k8s:kubernetesVersion is $want_version but the cluster runs v$server: a kubelet must never be newer than the API server. Fix: pulumi config set hybrid-k8s:kubernetesVersion $server"
  fi
fi

# --- kubeadm's ClusterConfiguration
cc=$(k -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' 2>/dev/null)
field() { printf '%s\\n' "$cc" | sed -n "s/^ *$1: *//p" | head -n 1 | tr -d "\\"'"; }
pod_subnet=""; svc_subnet=""
if [ -z "$cc" ]; then
  refuse "the cluster has no kube-system/kubeadm-config ConfigMap: it was not made by kubeadm, and Windows nodes join with kubeadm join. Fix: point hybrid-k8s:masterAddress at a kubeadm control-plane node, or let the stack build the cluster (existingCluster: false on a fresh host)."
else
  pod_subnet=$(field podSubnet)
  svc_subnet=$(field serviceSubnet)
fi

# --- kube-controller-manager: does it assign nodes' pod CIDRs?
flags=$(k -n kube-system get pods -l component=kube-controller-manager -o jsonpath='{range .items[0].spec.containers[0].command[*]}{@}{"\\n"}{end}' 2>/dev/null)
[ -n "$flags" ] || flags=$(sed -n 's/^ *- *\\(--.*\\)$/\\1/p' /etc/kubernetes/manifests/kube-controller-manager.yaml 2>/dev/null)
flag() { printf '%s\\n' "$flags" | sed -n -E "s/^--$1(=(.*))?$/=\\2/p" | tail -n 1 | cut -c2-; }
# a bool flag: bare, or =value as Go's strconv.ParseBool reads it (1, t, T, true, TRUE, True)
alloc=$(printf '%s\\n' "$flags" | grep -E '^--allocate-node-cidrs(=|$)' | tail -n 1)
case "$alloc" in
  --allocate-node-cidrs | --allocate-node-cidrs=[1tT]*) allocates=true ;;
  *) allocates=false ;;
esac
cluster_cidr=$(flag cluster-cidr)
mask=$(flag node-cidr-mask-size)
[ -n "$mask" ] || mask=$(flag node-cidr-mask-size-ipv4)
[ -n "$mask" ] || mask=24
if [ -z "$flags" ]; then
  refuse "cannot read kube-controller-manager's flags (no mirror pod labelled component=kube-controller-manager in kube-system, no /etc/kubernetes/manifests/kube-controller-manager.yaml): the stack must know whether the cluster assigns nodes' pod CIDRs. Fix: run the step on a control-plane node."
fi

# --- flannel
flannel_ns=""; flannel_ds=""
for ns in kube-flannel kube-system; do
  ds=$(k -n "$ns" get daemonsets -l app=flannel -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
  if [ -n "$ds" ]; then flannel_ns=$ns; flannel_ds=$ds; break; fi
done
backend=""; vni=""; port=""; network=""
if [ -n "$flannel_ns" ]; then
  netconf=$(k -n "$flannel_ns" get configmap kube-flannel-cfg -o jsonpath='{.data.net-conf\\.json}' 2>/dev/null)
  nc=$(printf '%s' "$netconf" | tr -d ' \\t\\r\\n')
  jstr() { printf '%s' "$nc" | grep -io "\\"$1\\":\\"[^\\"]*\\"" | head -n 1 | cut -d'"' -f4; }
  jnum() { printf '%s' "$nc" | grep -io "\\"$1\\":[0-9]*" | head -n 1 | cut -d: -f2; }
  jtrue() { grep -iq "\\"$1\\":true" <<< "$nc"; }
  if [ -z "$nc" ]; then
    refuse "flannel runs ($flannel_ns/$flannel_ds) but its ConfigMap $flannel_ns/kube-flannel-cfg has no net-conf.json: cannot tell its backend. Fix: restore the ConfigMap flannel was installed with."
  else
    network=$(jstr Network)
    backend=$(jstr Type | tr '[:upper:]' '[:lower:]')
    [ -n "$backend" ] || backend=vxlan
    if [ "$backend" = vxlan ]; then
      vni=$(jnum VNI); [ -n "$vni" ] || vni=1
      port=$(jnum Port); { [ -n "$port" ] && [ "$port" != 0 ]; } || port=8472
    fi
  fi
fi

# --- the pod and service CIDRs: kubeadm's, else the controller-manager's, else flannel's
pod=$pod_subnet
[ -n "$pod" ] || pod=$cluster_cidr
[ -n "$pod" ] || pod=$network
svc=$svc_subnet
if [ -z "$pod" ]; then
  refuse "the cluster declares no pod CIDR (no podSubnet in kubeadm-config, no --cluster-cidr, no flannel Network). Fix: give the cluster one (kubeadm init --pod-network-cidr when it is built); the stack needs hybrid-k8s:podCidr to be the cluster's."
elif [[ "$pod" == *,* ]]; then
  refuse "the cluster is dual-stack (pod CIDRs $pod): the stack's Windows networking is IPv4 only. Fix: join these Windows nodes to an IPv4 cluster."
  pod=""
elif ! [[ "$pod" =~ $cidr_re ]]; then
  refuse "cannot read the cluster's pod CIDR (got '$pod')"
  pod=""
elif [ "$pod" != "$want_pod" ]; then
  refuse "the cluster's pod CIDR is $pod but hybrid-k8s:podCidr is $want_pod; a cluster keeps the pod CIDR it was built with. Fix: pulumi config set hybrid-k8s:podCidr $pod"
fi
for other in "kube-controller-manager --cluster-cidr=$cluster_cidr" "flannel's Network $network"; do
  value=\${other##*[ =]}
  if [ -n "$pod" ] && [ -n "$value" ] && [ "$value" != "$pod" ]; then
    refuse "the cluster disagrees with itself: its pod CIDR is $pod but $other. Fix the cluster first (they must be one range), then run pulumi up again."
  fi
done
if [ -z "$svc" ]; then
  refuse "cannot read the cluster's service CIDR (no serviceSubnet in kubeadm-config)"
elif ! [[ "$svc" =~ $cidr_re ]]; then
  refuse "cannot read the cluster's service CIDR (got '$svc')"
  svc=""
elif [ "$svc" != "$want_svc" ]; then
  refuse "the cluster's service CIDR is $svc but hybrid-k8s:serviceCidr is $want_svc; a cluster keeps the service CIDR it was built with. Fix: pulumi config set hybrid-k8s:serviceCidr $svc"
fi
if [ "$allocates" = true ] && [ "$mask" != ${NODE_POD_PREFIX} ]; then
  refuse "kube-controller-manager assigns each node a /$mask of the pod CIDR (--node-cidr-mask-size), but the stack lays out one /${NODE_POD_PREFIX} per node (components/addressing.ts NODE_POD_PREFIX) for its Windows networks and routes. Fix: join these nodes to a cluster that assigns /${NODE_POD_PREFIX}s (the default)."
fi

# --- other pod networks: namespace/name of each DaemonSet, matched by exact name
daemonsets=$(k get daemonsets -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}' 2>/dev/null)
cni_running() { printf '%s\\n' "$daemonsets" | grep -E "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/($1)\\$" | tr '\\n' ' '; }

# --- flannel against the topology
fix_vxlan="set Backend to {\\"Type\\": \\"vxlan\\", \\"VNI\\": ${VXLAN_VNI}, \\"Port\\": ${VXLAN_PORT}} in net-conf.json (kubectl -n $flannel_ns edit configmap kube-flannel-cfg), restart flannel (kubectl -n $flannel_ns rollout restart daemonset $flannel_ds), delete the old device on every Linux node (ip link delete flannel.$vni) and allow UDP ${VXLAN_PORT} between all nodes. While the rollout runs, nodes disagree on VNI and port: pods on different Linux nodes lose connectivity to each other from the first restarted flannel pod to the last, so do it in a maintenance window. Then run pulumi up again."
case "$topology" in
  vxlan|host-gw)
    if [ -z "$flannel_ns" ]; then
      others=$(cni_running ${sh([...TOR_REFUSED_CNI, "kube-router"].join("|"))})
      refuse "the $topology topology needs flannel, and no flannel DaemonSet (label app=flannel) runs in kube-flannel or kube-system\${others:+ (the cluster runs $others- Windows nodes of this stack cannot join that network)}. Fix: install flannel (flannel-io/flannel Documentation/kube-flannel.yml) with net-conf.json {\\"Network\\": \\"$want_pod\\", \\"Backend\\": $( [ "$topology" = vxlan ] && echo "{\\"Type\\": \\"vxlan\\", \\"VNI\\": ${VXLAN_VNI}, \\"Port\\": ${VXLAN_PORT}}" || echo "{\\"Type\\": \\"host-gw\\"}" )} (sig-windows-tools guides/flannel.md), or choose the tor topology."
    elif [ -n "$backend" ] && [ "$backend" != "$topology" ]; then
      case "$backend" in
        vxlan|host-gw) refuse "hybrid-k8s:topology is $topology but flannel runs the $backend backend ($flannel_ns/kube-flannel-cfg). Fix: pulumi config set hybrid-k8s:topology $backend (changing flannel's backend instead disturbs every pod on the Linux nodes)." ;;
        *) refuse "flannel runs the $backend backend, which flanneld on Windows does not have (only vxlan and host-gw, the stack's vxlan and host-gw topologies). Fix: move the cluster to one of them, or choose the tor topology." ;;
      esac
    elif [ "$backend" = vxlan ]; then
      if [ "$vni" != ${VXLAN_VNI} ] || [ "$port" != ${VXLAN_PORT} ]; then
        refuse "flannel runs vxlan with VNI $vni and port $port ($flannel_ns/kube-flannel-cfg), but flanneld on Windows takes only VNI >= ${VXLAN_VNI} and port ${VXLAN_PORT} (flannel-io/flannel pkg/backend/vxlan/vxlan_windows.go), and the stack's Windows nodes use VNI ${VXLAN_VNI} (HNS network flannel.${VXLAN_VNI}). Fix: $fix_vxlan"
      fi
      for opt in DirectRouting GBP; do
        if jtrue "$opt"; then
          refuse "flannel's vxlan backend sets $opt, which flanneld on Windows refuses (pkg/backend/vxlan/vxlan_windows.go). Fix: remove $opt from net-conf.json and restart flannel (kubectl -n $flannel_ns rollout restart daemonset $flannel_ds); Linux pods lose cross-node connectivity while it restarts."
        fi
      done
    fi
    ;;
  tor)
    if [ -n "$flannel_ns" ]; then
      refuse "the tor topology routes each node's pod /24 through the switch, with no flannel, but flannel runs in the cluster ($flannel_ns/$flannel_ds, backend \${backend:-unknown}). Fix: pulumi config set hybrid-k8s:topology \${backend:-vxlan} to join flannel's network instead."
    fi
    tor_cni=$(cni_running ${sh(TOR_REFUSED_CNI.join("|"))})
    if [ -n "$tor_cni" ]; then
      refuse "the tor topology has the switch route each node's pod /24 to that node, so every Linux node must put its pods on a bridge with host-local addresses from its spec.podCIDR; this cluster's pods are networked by $tor_cni- a network that carries pods its own way (overlay, BGP or eBPF), which the switch's routes do not reach and which Windows nodes of this stack cannot join. Fix: use the topology that matches the cluster's network (vxlan or host-gw, for a cluster that runs flannel: this stack's Windows nodes join no other network plugin), or join them to a cluster whose Linux nodes route pods through the switch with the bridge and host-local CNI plugins (containernetworking/plugins), as a master this stack initialises for tor does."
    fi
    ;;
esac

# --- nodes: the cluster's, and the stack's planned Windows nodes against them (podCIDR never changes)
nodes=$(k get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.spec.podCIDR}{"|"}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}' 2>/dev/null)
while IFS='|' read -r pname pcidr _; do
  [ -n "$pname" ] || continue
  while IFS='|' read -r name cidr _; do
    [ -n "$name" ] || continue
    if [ "$name" = "$pname" ] && [ -n "$cidr" ] && [ "$cidr" != "$pcidr" ]; then
      [[ "$cidr" =~ $net_re ]] || cidr="(not shown: not an IPv4 network)"
      refuse "node $name is already in the cluster with podCIDR $cidr, but the stack plans $pcidr for it, and a node's podCIDR never changes. Fix: if that node is gone, delete it (kubectl delete node $name); otherwise name this Windows host differently."
    elif [ "$name" != "$pname" ] && [ "$cidr" = "$pcidr" ]; then
      if ! node_name "$name"; then
        refuse "a node whose name is not a node name (not shown) already holds $cidr, the pod /24 the stack plans for $pname. Fix: find it (kubectl get nodes -o wide) and delete it if it is gone; otherwise give $pname a /24 no node holds (hybrid-k8s:windowsHosts, its entry's podSubnet)."
        continue
      fi
      refuse "node $name already holds $cidr, the pod /24 the stack plans for $pname. Fix: if $name is gone, delete it (kubectl delete node $name); otherwise give $pname a /24 no node holds (hybrid-k8s:windowsHosts, its entry's podSubnet: e.g. { name: $pname, address: <its address>, podSubnet: <a free /24> })."
    fi
  done <<< "$nodes"
done <<< "$planned"

if [ \${#problems[@]} -gt 0 ]; then
  echo "the existing cluster cannot take Windows nodes of the $topology topology as configured; nothing was changed on any host:" >&2
  for p in "\${problems[@]}"; do echo "- $p" >&2; done
  exit 1
fi

nodes_json=""
while IFS='|' read -r name cidr _; do
  [ -n "$name" ] || continue
  case "$name" in *[!a-z0-9.-]*) continue ;; esac
  if [[ "$cidr" =~ $cidr_re ]]; then c="\\"$cidr\\""; else c=null; fi
  nodes_json="$nodes_json\${nodes_json:+,}{\\"name\\":\\"$name\\",\\"podCidr\\":$c}"
done <<< "$nodes"
flannel_json=null
if [ -n "$flannel_ns" ]; then
  if [ "$backend" = vxlan ]; then
    flannel_json="{\\"namespace\\":\\"$flannel_ns\\",\\"daemonSet\\":\\"$flannel_ds\\",\\"backend\\":\\"vxlan\\",\\"vni\\":$vni,\\"port\\":$port}"
  else
    flannel_json="{\\"namespace\\":\\"$flannel_ns\\",\\"daemonSet\\":\\"$flannel_ds\\",\\"backend\\":\\"$backend\\",\\"vni\\":null,\\"port\\":null}"
  fi
fi
echo "cluster v$server: pod CIDR $pod, service CIDR $svc, node CIDRs assigned by the cluster: $allocates (/$mask), flannel: \${backend:-none}"
if [ "$topology" = tor ]; then
${TOR_ROUTES_SCRIPT}fi
printf '%s{"podCidr":"%s","serviceCidr":"%s","version":"%s","allocatesNodeCidrs":%s,"nodeCidrMaskSize":%s,"flannel":%s,"nodes":[%s]}\\n' ${sh(CLUSTER_FACTS_PREFIX)} "$pod" "$svc" "$server" "$allocates" "$mask" "$flannel_json" "$nodes_json"
`;
}

/**
 * The facts from the compatibility step's output (the CLUSTER_FACTS_PREFIX line). Throws, naming
 * what is wrong, when the output has no such line or it is not ClusterFacts.
 */
export function parseClusterFacts(stdout: string): ClusterFacts {
    const line = stdout.split(/\r?\n/).find((l) => l.startsWith(CLUSTER_FACTS_PREFIX));
    if (!line) {
        throw new Error(`the cluster check's output has no "${CLUSTER_FACTS_PREFIX.trim()}" line: run pulumi up again, or read the check step's log`);
    }
    let raw: unknown;
    try {
        raw = JSON.parse(line.slice(CLUSTER_FACTS_PREFIX.length));
    } catch (e) {
        throw new Error(`the cluster check's facts are not JSON: ${(e as Error).message}`);
    }
    const bad = (what: string): never => {
        throw new Error(`the cluster check's facts are malformed: ${what}`);
    };
    const o = (typeof raw === "object" && raw !== null ? raw : bad("not an object")) as Record<string, unknown>;
    const cidr = (v: unknown, key: string): string => {
        const c = typeof v === "string" ? parseCidr(v) : undefined;
        return c && isNetworkAddress(c) ? c.text : bad(`${key} is not a CIDR block`);
    };
    const version = typeof o.version === "string" && /^\d+\.\d+\.\d+$/.test(o.version) ? o.version : bad("version is not x.y.z");
    const allocates = typeof o.allocatesNodeCidrs === "boolean" ? o.allocatesNodeCidrs : bad("allocatesNodeCidrs is not a boolean");
    const mask = typeof o.nodeCidrMaskSize === "number" && Number.isInteger(o.nodeCidrMaskSize) && o.nodeCidrMaskSize >= 1 && o.nodeCidrMaskSize <= 32 ? o.nodeCidrMaskSize : bad("nodeCidrMaskSize is not a prefix length");
    let flannel: FlannelFacts | null = null;
    if (o.flannel !== null) {
        const f = (typeof o.flannel === "object" && o.flannel !== null ? o.flannel : bad("flannel is neither null nor an object")) as Record<string, unknown>;
        const backend = f.backend === "vxlan" || f.backend === "host-gw" ? f.backend : bad("flannel.backend is neither vxlan nor host-gw");
        const num = (v: unknown, key: string): number | null => (v === null ? null : typeof v === "number" && Number.isInteger(v) ? v : bad(`flannel.${key} is not a number`));
        flannel = {
            namespace: typeof f.namespace === "string" ? f.namespace : bad("flannel.namespace is not a string"),
            daemonSet: typeof f.daemonSet === "string" ? f.daemonSet : bad("flannel.daemonSet is not a string"),
            backend,
            vni: num(f.vni, "vni"),
            port: num(f.port, "port"),
        };
    }
    const nodes = (Array.isArray(o.nodes) ? o.nodes : bad("nodes is not a list")).map((n: unknown, i: number) => {
        const x = (typeof n === "object" && n !== null ? n : bad(`nodes[${i}] is not an object`)) as Record<string, unknown>;
        return {
            name: typeof x.name === "string" && x.name !== "" ? x.name : bad(`nodes[${i}].name is not a name`),
            podCidr: x.podCidr === null ? null : cidr(x.podCidr, `nodes[${i}].podCidr`),
        };
    });
    return { podCidr: cidr(o.podCidr, "podCidr"), serviceCidr: cidr(o.serviceCidr, "serviceCidr"), version, allocatesNodeCidrs: allocates, nodeCidrMaskSize: mask, flannel, nodes };
}


// ---------------------------------------------------------------------------------------------
// Undo on destroy.

/** The HNS networks the steps create for pods, in any topology (flannel's vxlan and host-gw names, and tor's). */
export const POD_NETWORK_NAMES: readonly string[] = [...new Set(TOPOLOGIES.map((t: Topology) => topologySpec(t).windowsNetworkName))];
/** The firewall rules renderPrepareFeatures creates. */
export const WINDOWS_FIREWALL_RULES = ["hybrid-k8s-kubelet", "hybrid-k8s-icmp", "hybrid-k8s-vxlan"] as const;
/** The scheduled tasks the steps register (prepare-features: boot task and reboot; prepare-runtime: image pre-pull). */
export const WINDOWS_TASKS = ["hybrid-k8s-external-network", "hybrid-k8s-reboot", "hybrid-k8s-prepull"] as const;
/**
 * The folders the steps and the agents they run write, removed whole: the steps' own (C:\k: binaries,
 * start scripts, kubeconfigs, hns.psm1; CNI binaries and config; flannel's net-conf and subnet file;
 * kubeadm's C:\etc\kubernetes; kubelet's C:\var\lib\kubelet and its pod and container log folders
 * (kubernetes pkg/kubelet/apis/config/v1beta1/defaults.go DefaultPodLogsDir /var/log/pods,
 * pkg/kubelet/kubelet.go DefaultContainerLogsDir /var/log/containers);
 * host-local's store; the service logs; containerd and nssm).
 */
export const WINDOWS_FOLDERS = [
    "C:\\k",
    "C:\\opt\\cni",
    "C:\\etc\\cni",
    "C:\\etc\\kube-flannel",
    "C:\\etc\\kubernetes",
    "C:\\var\\lib\\kubelet",
    "C:\\var\\lib\\cni",
    "C:\\var\\log\\kubernetes",
    "C:\\var\\log\\pods",
    "C:\\var\\log\\containers",
    "C:\\run\\flannel",
    "$env:ProgramFiles\\containerd",
    "$env:ProgramFiles\\nssm",
] as const;
/** Their parents, which prepare-runtime creates when missing: removed only when empty (a machine that had them keeps them). */
export const WINDOWS_PARENT_FOLDERS = ["C:\\opt", "C:\\etc", "C:\\var\\lib", "C:\\var\\log", "C:\\var", "C:\\run"] as const;
/** The detached task that removes the External HNS network once the undo step has returned. */
export const REMOVE_EXTERNAL_TASK = "hybrid-k8s-remove-external";

export interface WindowsUndoInput {
    /** The node's name, for the messages. */
    nodeName: string;
}

/**
 * The script of REMOVE_EXTERNAL_TASK: removes the External HNS network a few seconds after the undo
 * step returned, then unregisters itself. Removing the last HNS network on the NIC re-plumbs it, as
 * creating the first one does (renderExternalNetworkTask), which can drop the SSH session that asked.
 */
export function renderRemoveExternalTask(): string {
    return `$ErrorActionPreference = 'Stop'
Start-Sleep -Seconds 10
Get-HnsNetwork | Where-Object Name -EQ External | Remove-HnsNetwork
Unregister-ScheduledTask -TaskName ${REMOVE_EXTERNAL_TASK} -Confirm:$false
`;
}

/**
 * On destroy (or when a host leaves the list), on an existing Windows host: undoes what
 * renderPrepareFeatures, renderPrepareRuntime and renderJoin installed, leaving the machine usable
 * (OpenSSH, its key and the Containers feature stay; the node steps can run on it again). In order:
 * 1. kube-proxy and kubelet stop, so nothing starts pods any more.
 * 2. kubeadm reset removes what the join wrote and the pods' containers (through containerd, which
 *    runs for it: kubernetes cmd/kubeadm/app/cmd/phases/reset/cleanupnode.go removeContainers);
 *    then crictl removes every image (cri-tools cmd/crictl/image.go rmi --all), so containerd
 *    deletes the layers itself.
 * 3. The agent services stop and are deleted: sc.exe delete is what containerd --unregister-service
 *    does (containerd cmd/containerd/command/service_windows.go unregisterService: Delete) and what
 *    microsoft/SDN's reset does for every service (Kubernetes/windows/helper.v2.psm1 RemoveService).
 * 4. The pod networks' HNS endpoints, then the networks (microsoft/SDN Kubernetes/flannel/l2bridge/
 *    reset.ps1), the firewall rules, the scheduled tasks.
 * 5. The folders (WINDOWS_FOLDERS), the empty parents, containerd's data (containerd
 *    defaults/defaults_windows.go: %ProgramData%\containerd\root and \state; best effort: a layer
 *    still held is reported, and goes on a later run).
 * 6. The External network last, detached (renderRemoveExternalTask), as microsoft/SDN's
 *    kubeadm/KubeCluster.ps1 -Reset removes it after the pod network.
 * Every part checks before it changes: a second run changes nothing and says so; a run that failed
 * half way is finished by the next. Left as it is: the persistent route to 169.254.169.254 that
 * prepare-features adds when missing (on Azure it can be the platform's own; it is harmless elsewhere)
 * and the ACLs prepare-runtime set on C:\opt, C:\etc, C:\var\lib and C:\run where those existed before.
 */
export function renderWindowsUndo(input: WindowsUndoInput): string {
    const encoded = Buffer.from(renderRemoveExternalTask(), "utf16le").toString("base64");
    const list = (xs: readonly string[]) => xs.map((x) => (x.startsWith("$env:") ? `"${x}"` : ps(x))).join(", ");
    return `${PRELUDE}${CRICTL_FN}
$node = ${ps(input.nodeName)}
$done = New-Object System.Collections.Generic.List[string]
function Test-Hns { return [bool](Get-Command Get-HnsNetwork -ErrorAction SilentlyContinue) }
function Remove-AgentService([string]$Name) {
  if (-not (Get-Service $Name -ErrorAction SilentlyContinue)) { return }
  Stop-Service $Name -Force
  $ErrorActionPreference = 'Continue'
  $out = (& sc.exe delete $Name 2>&1 | ForEach-Object { "$_" }) -join ' '
  # 1060: no such service (gone meanwhile); 1072: marked for deletion (goes once the last handle closes)
  if ($LASTEXITCODE -eq 0) { $done.Add("deleted service $Name") }
  elseif ($LASTEXITCODE -ne 1060 -and $LASTEXITCODE -ne 1072) { throw "sc.exe delete $Name failed with exit code $($LASTEXITCODE): $out" }
}

# 1. nothing starts pods any more
foreach ($n in 'kube-proxy', 'kubelet') {
  if ((Get-Service $n -ErrorAction SilentlyContinue).Status -eq 'Running') { Stop-Service $n -Force; $done.Add("stopped $n") }
}
# 2. what the join wrote, and the pods' containers and images, removed by their owners
$containerd = [bool](Get-Service containerd -ErrorAction SilentlyContinue)
if ($containerd) {
  try { Start-Service containerd } catch { Write-Output "containerd does not start ($($_.Exception.Message)): containers and images are left to the folder removal" }
}
$joined = @('C:\\etc\\kubernetes\\kubelet.conf', 'C:\\etc\\kubernetes\\bootstrap-kubelet.conf', 'C:\\etc\\kubernetes\\pki\\ca.crt', 'C:\\var\\lib\\kubelet\\config.yaml') | Where-Object { Test-Path $_ }
if ($joined -and (Test-Path C:\\k\\kubeadm.exe)) {
  Invoke-Native "kubeadm reset on $node" { kubeadm.exe reset -f --cri-socket ${CONTAINERD_PIPE} } | Out-Null
  $done.Add('kubeadm reset')
}
if ($containerd -and (Test-Path C:\\k\\crictl.exe) -and (Test-Crictl @('version'))) {
  if (Test-Crictl @('rmi', '--all')) { $done.Add('removed the images') } else { Write-Output 'crictl could not remove every image: what is left goes with containerd''s data' }
}
# 3. the agent services, in reverse boot order
foreach ($n in @(${AGENT_SERVICES.slice().reverse().map(ps).join(", ")})) { Remove-AgentService $n }
# 4. pod networks (their endpoints first), firewall rules, scheduled tasks
if (Test-Hns) {
  foreach ($name in @(${list(POD_NETWORK_NAMES)})) {
    $net = Get-HnsNetwork | Where-Object Name -EQ $name
    if (-not $net) { continue }
    Get-HnsEndpoint | Where-Object VirtualNetworkName -EQ $name | Remove-HnsEndpoint
    $net | Remove-HnsNetwork
    $done.Add("removed HNS network $name")
  }
}
foreach ($r in @(${list(WINDOWS_FIREWALL_RULES)})) {
  if (Get-NetFirewallRule -Name $r -ErrorAction SilentlyContinue) { Remove-NetFirewallRule -Name $r; $done.Add("removed firewall rule $r") }
}
# (and a removal task of an earlier run that did not finish: step 6 starts it again if needed)
foreach ($t in @(${list([...WINDOWS_TASKS, REMOVE_EXTERNAL_TASK])})) {
  if (Get-ScheduledTask -TaskName $t -ErrorAction SilentlyContinue) { Unregister-ScheduledTask -TaskName $t -Confirm:$false; $done.Add("removed task $t") }
}
# 5. folders: kubelet's link to C:\\etc\\kubernetes\\pki first, the link alone (never what it points to)
$link = Get-Item -Force -ErrorAction SilentlyContinue C:\\var\\lib\\kubelet\\etc\\kubernetes\\pki
if ($link -and $link.LinkType) { [IO.Directory]::Delete($link.FullName) }
foreach ($d in @(${list(WINDOWS_FOLDERS)})) {
  if (Test-Path $d) { Remove-Item -Recurse -Force $d; $done.Add("removed $d") }
}
foreach ($d in @(${list(WINDOWS_PARENT_FOLDERS)})) {
  if ((Test-Path $d) -and -not (Get-ChildItem -Force $d)) { Remove-Item -Force $d; $done.Add("removed $d") }
}
$data = "$env:ProgramData\\containerd"
if (Test-Path $data) {
  try { Remove-Item -Recurse -Force $data; $done.Add("removed $data") }
  catch { Write-Output "could not remove all of $data yet ($($_.Exception.Message)); the next run (or a reboot and a run) finishes it" }
}
# 6. the External network, last and detached: the NIC re-plumbs when it goes
if ((Test-Hns) -and (Get-HnsNetwork | Where-Object Name -EQ External)) {
  $action = New-ScheduledTaskAction -Execute powershell.exe -Argument '-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encoded}'
  $principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
  Register-ScheduledTask -TaskName ${REMOVE_EXTERNAL_TASK} -Action $action -Principal $principal -Force | Out-Null
  Start-ScheduledTask -TaskName ${REMOVE_EXTERNAL_TASK}
  $done.Add('External HNS network: removal started (a detached task, in 10 seconds)')
}
if ($done.Count -eq 0) {
  Write-Output "nothing to undo on $node"
} else {
  foreach ($d in $done) { Write-Output $d }
  Write-Output "undone on $($node): OpenSSH and the Containers feature stay"
}
`;
}

/** Files of the stack under /etc/kubernetes on a master it initialised (init's config, marker and secrets). */
export const MASTER_STACK_FILES = ["/etc/kubernetes/kubeadm.yaml", "/etc/kubernetes/hybrid-k8s"] as const;
/** Network devices the master's pod networks create: flannel's vxlan device (flannel.<VNI>), flannel's bridge, tor's bridge. */
export const MASTER_LINKS = [`flannel.${VXLAN_VNI}`, "cni0", "cbr0"] as const;

/**
 * On destroy, on a master the stack itself initialised on an existing machine (not for
 * existingCluster: that cluster is not the stack's to undo): kubeadm reset -f, then what reset
 * leaves by design (kubernetes cmd/kubeadm/app/cmd/reset.go: "does not clean CNI configuration",
 * "does not reset or clean up iptables rules"): the CNI configs the stack's steps and its flannel
 * wrote (tor's bridge conflist; flannel's 10-flannel.conflist, components/manifests/flannel.ts
 * install-cni), the pod networks' state (/var/lib/cni: flannel's and host-local's stores for the
 * stack's network names, libcni's cached results <network>-<container>-<ifname>; /run/flannel), their
 * devices (MASTER_LINKS; the bridge plugin's default name is cni0, containernetworking/plugins
 * plugins/main/bridge/bridge.go defaultBrName), tor's masquerade service and rules, and every
 * iptables rule of kube-proxy, the CNI plugins and flannel, kept out of the rest of the rules as
 * k3s's uninstall does (k3s-io/k3s install.sh, k3s-killall.sh: iptables-save | grep -v KUBE- |
 * grep -v CNI- | grep -iv flannel | iptables-restore); and the stack's own files (MASTER_STACK_FILES).
 * containerd, kubeadm, kubelet and kubectl stay installed (as prepare left them), so the machine can
 * be initialised again. Each part checks first: a second run changes nothing and says so.
 */
export function renderMasterUndo(): string {
    const cniNetworks = [...new Set(TOPOLOGIES.map((t: Topology) => topologySpec(t).linuxCniName))];
    return `${bashPrelude()}
done_any=""
did() { echo "$1"; done_any=yes; }
# kubeadm reset only where something of a control plane is left (it keeps the folders it empties)
if [ -e /etc/kubernetes/admin.conf ] || [ -e /etc/kubernetes/kubelet.conf ] || [ -n "$(ls -A /etc/kubernetes/manifests 2>/dev/null)" ] || [ -n "$(ls -A /etc/kubernetes/pki 2>/dev/null)" ]; then
  kubeadm reset -f
  did "kubeadm reset"
fi
if [ -e /etc/systemd/system/hybrid-k8s-masquerade.service ]; then
  systemctl disable --now hybrid-k8s-masquerade.service >/dev/null 2>&1 || true
  rm -f /etc/systemd/system/hybrid-k8s-masquerade.service
  systemctl daemon-reload
  did "removed the masquerade service"
fi
for f in /usr/local/sbin/hybrid-k8s-masquerade /etc/cni/net.d/10-tor-bridge.conflist /etc/cni/net.d/10-flannel.conflist /run/flannel /var/lib/cni/flannel ${cniNetworks.map((n) => `/var/lib/cni/networks/${n}`).join(" ")} ${MASTER_STACK_FILES.join(" ")}; do
  if [ -e "$f" ]; then rm -rf "$f"; did "removed $f"; fi
done
for f in ${cniNetworks.map((n) => `/var/lib/cni/results/${n}-*`).join(" ")}; do
  if [ -e "$f" ]; then rm -f "$f"; did "removed $f"; fi
done
for link in ${MASTER_LINKS.join(" ")}; do
  if ip link show "$link" >/dev/null 2>&1; then ip link delete "$link"; did "deleted device $link"; fi
done
# kube-proxy's, the CNI plugins', flannel's and the stack's rules; everything else stays as it is
ours='KUBE-|CNI-|HYBRID-K8S-|flannel'
for t in iptables ip6tables; do
  command -v "$t-save" >/dev/null 2>&1 || continue
  rules=$("$t-save")
  if grep -qiE "$ours" <<< "$rules"; then
    grep -viE "$ours" <<< "$rules" | "$t-restore"
    did "removed the Kubernetes rules from $t"
  fi
done
if [ -z "$done_any" ]; then echo "nothing to undo on this master"; else echo "master undone: containerd, kubeadm, kubelet and kubectl stay installed"; fi
`;
}

// ---------------------------------------------------------------------------------------------
// The one-time OpenSSH script for an existing Windows host.

/**
 * What a user runs once, in an elevated Windows PowerShell, on each existing Windows Server
 * 2022/2025 host: the OpenSSH server enabled and started at boot, the key in
 * administrators_authorized_keys with the ACL sshd demands, PowerShell as the default shell, sshd's
 * port open. The key is added to the keys already there (other administrators' stay), and the file
 * is rewritten as UTF-8 without a byte order mark, which is what sshd reads.
 * - 2022: the server is a capability to add; 2025 ships it installed, its service disabled until
 *   enabled (MicrosoftDocs/windowsserverdocs WindowsServerDocs/administration/OpenSSH/
 *   OpenSSH_Install_FirstUse.md, "Beginning with Windows Server 2025, OpenSSH is now installed by
 *   default"): SSHD_INSTALL adds it only when the service is missing, and the start type is set to
 *   Automatic before the first start (a disabled service does not start).
 * - 2025's own rule OpenSSH-Server-In-TCP covers the Domain and Private profiles only; SSHD_FIREWALL's
 *   rule covers all of them.
 * - An elevated session is checked first: its token carries the High Mandatory Level SID
 *   S-1-16-12288 (whoami /groups).
 */
export function renderEnableOpenSsh(publicKey: string): string {
    return `${PRELUDE}
if (-not ((whoami.exe /groups) -match 'S-1-16-12288')) {
  throw 'Run this script in Windows PowerShell opened with "Run as administrator": it installs a service and writes under %ProgramData%\\ssh.'
}
${SSHD_INSTALL}Set-Service sshd -StartupType Automatic
# sshd's first start creates %ProgramData%\\ssh with its own restricted permissions
Start-Service sshd
$keys = "$env:ProgramData\\ssh\\administrators_authorized_keys"
if (-not (Test-Path $keys)) { New-Item -ItemType File $keys | Out-Null }
# sshd reads administrators_authorized_keys only when Administrators and SYSTEM alone may write it
Invoke-Native icacls { icacls.exe $keys /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F' } | Out-Null
# the key travels as data (base64): nothing in its comment can become code; a key already there
# (same type and blob, any comment) is not added twice
$key = ${psData(publicKey.trim(), "authorized-key")}
$id = (($key -split '\\s+') | Select-Object -First 2) -join ' '
$lines = @(([IO.File]::ReadAllText($ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($keys)) -split "\`r?\`n") | Where-Object { $_.Trim() -ne '' })
$present = @($lines | Where-Object { ((($_.Trim() -split '\\s+') | Select-Object -First 2) -join ' ') -eq $id }).Count -gt 0
$wanted = $lines
if (-not $present) { $wanted = $lines + $key }
if (Set-FileText $keys ((($wanted | ForEach-Object { $_.Trim() }) -join "\`n") + "\`n")) { Write-Output "key written to $keys" } else { Write-Output "key already in $keys" }
${SSHD_FIREWALL}Write-Output "sshd runs on $env:COMPUTERNAME: port 22 open, PowerShell (${POWERSHELL_EXE.replace(/\$env:WINDIR/, "%WINDIR%")}) as its shell"
`;
}

// ---------------------------------------------------------------------------------------------
// Routes for a top-of-rack switch.

export interface TorNode {
    name: string;
    /** The node's address on the segment the switch routes to (the next hop). */
    address: string;
    /** The node's pod subnet. */
    podCidr: string;
}

export interface TorRoute {
    name: string;
    /** The destination, a.b.c.d/n. */
    prefix: string;
    /** Its network address and dotted mask, as IOS writes them. */
    network: string;
    mask: string;
    nextHop: string;
}

export interface TorRouteTable {
    routes: TorRoute[];
    /** Cisco IOS-style static routes (also what Arista EOS takes): `ip route <net> <mask> <next hop> name <node>`. */
    ios: string;
    /** iproute2, for a Linux router: `ip route replace <prefix> via <next hop>` (replace: pasting twice is harmless). */
    linux: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function dottedMask(prefix: number): string {
    const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join(".");
}

/**
 * The routes a top-of-rack switch needs in the tor topology: each node's pod subnet to that node's
 * address, sorted by destination, in forms a network engineer can paste. Throws, naming the node,
 * for a pod subnet that is not a network address, an address that is not IPv4, a next hop inside a
 * pod subnet, overlapping pod subnets, or a repeated or unusable name.
 */
export function torRouteTable(nodes: readonly TorNode[]): TorRouteTable {
    const seen = new Set<string>();
    const parsed = nodes.map((n) => {
        if (!ROUTE_NAME.test(n.name)) {
            throw new Error(`tor route for '${n.name}': a route name is letters, digits, '.', '_' and '-'`);
        }
        if (seen.has(n.name)) {
            throw new Error(`tor route for ${n.name}: the name appears twice`);
        }
        seen.add(n.name);
        const c = parseCidr(n.podCidr);
        if (!c || !isNetworkAddress(c)) {
            throw new Error(`tor route for ${n.name}: '${n.podCidr}' is not a network address in CIDR form`);
        }
        if (!IPV4.test(n.address)) {
            throw new Error(`tor route for ${n.name}: '${n.address}' is not an IPv4 address`);
        }
        return { node: n, cidr: c };
    });
    for (let i = 0; i < parsed.length; i++) {
        for (let j = 0; j < parsed.length; j++) {
            const hop = parseCidr(`${parsed[i].node.address}/32`)!;
            if (overlaps(hop, parsed[j].cidr)) {
                throw new Error(`tor route for ${parsed[i].node.name}: its address ${parsed[i].node.address} is inside the pod subnet ${parsed[j].cidr.text} of ${parsed[j].node.name}`);
            }
            if (j > i && overlaps(parsed[i].cidr, parsed[j].cidr)) {
                throw new Error(`tor routes for ${parsed[i].node.name} and ${parsed[j].node.name}: their pod subnets ${parsed[i].cidr.text} and ${parsed[j].cidr.text} overlap`);
            }
        }
    }
    const routes = parsed
        .sort((a, b) => (a.cidr.first < b.cidr.first ? -1 : a.cidr.first > b.cidr.first ? 1 : a.cidr.prefix - b.cidr.prefix))
        .map(({ node, cidr }) => ({ name: node.name, prefix: cidr.text, network: cidr.text.split("/")[0], mask: dottedMask(cidr.prefix), nextHop: node.address }));
    return {
        routes,
        ios: routes.map((r) => `ip route ${r.network} ${r.mask} ${r.nextHop} name ${r.name}\n`).join(""),
        linux: routes.map((r) => `ip route replace ${r.prefix} via ${r.nextHop}\n`).join(""),
    };
}

/**
 * The switch's route table as the compatibility step printed it (TOR_ROUTES_SCRIPT's IOS-style
 * lines), parsed back into torRouteTable's shape: the stack's torRoutes outputs on an existing
 * cluster, complete once `pulumi up` has run the step. Only lines of the exact form count (the
 * step printed nothing it did not check); undefined when the output has none.
 */
export function torRoutesFromCheck(stdout: string): TorRouteTable | undefined {
    const line = /^ip route (\d{1,3}(?:\.\d{1,3}){3}) (\d{1,3}(?:\.\d{1,3}){3}) (\d{1,3}(?:\.\d{1,3}){3}) name ([A-Za-z0-9._-]+)$/;
    const nodes: TorNode[] = [];
    for (const l of stdout.split(/\r?\n/)) {
        const m = line.exec(l);
        if (!m) {
            continue;
        }
        // the mask back to its prefix, as dottedMask wrote it
        const prefix = Array.from({ length: 33 }, (_, p) => p).find((p) => dottedMask(p) === m[2]);
        if (prefix !== undefined) {
            nodes.push({ name: m[4], address: m[3], podCidr: `${m[1]}/${prefix}` });
        }
    }
    return nodes.length ? torRouteTable(nodes) : undefined;
}
