// Bash for the Linux master, rendered from typed inputs. Every script is idempotent (a second
// run changes nothing), runs under `set -euo pipefail`, and retries downloads.
import { NodeAddress } from "../addressing";
import { sh } from "./shell";

/**
 * Every script starts here (checks pass stopOnError false: they probe failures and report them).
 * The remote command runs the text with `bash -c` as the admin user;
 * the first line re-runs the same text as root (stdin is inherited, so secrets on stdin still
 * arrive). Azure's admin user has passwordless sudo.
 */
export function bashPrelude(stopOnError = true): string {
    return `#!/usr/bin/env bash
if [ "$(id -u)" -ne 0 ] && [ -n "\${BASH_EXECUTION_STRING:-}" ]; then exec sudo -n bash -c "$BASH_EXECUTION_STRING"; fi
set -${stopOnError ? "e" : ""}uo pipefail
`;
}

const PRELUDE = `${bashPrelude()}export DEBIAN_FRONTEND=noninteractive
retry() { local n=1; until "$@"; do if [ "$n" -ge 5 ]; then echo "failed after $n tries: $*" >&2; return 1; fi; sleep $((n * 5)); n=$((n + 1)); done; }
`;

/** kubectl as cluster admin, on the master. */
export const KUBECTL = "kubectl --kubeconfig /etc/kubernetes/admin.conf";

/** cloud-init for the master: sshd takes many concurrent connections (it proxies every Windows node). */
export function masterCloudInit(): string {
    return `#cloud-config
write_files:
  - path: /etc/ssh/sshd_config.d/90-hybrid-k8s.conf
    permissions: "0644"
    content: |
      # The master is the SSH proxy for every Windows node: many connections start at once.
      MaxStartups 200:30:400
      MaxSessions 200
runcmd:
  - [systemctl, restart, ssh]
`;
}

/** Readiness poll: SSH answers and cloud-init is done (sshd has its final config). */
export function renderReady(): string {
    return `#!/usr/bin/env bash
cloud-init status --wait >/dev/null 2>&1 || true
echo ready
`;
}

export interface MasterPrepareInput {
    kubernetesVersion: string;
    containerdVersion: string;
}

/** The minor release line of a version ("1.35.4" → "v1.35"), as pkgs.k8s.io names its repositories. */
export function minorLine(version: string): string {
    const [major, minor] = version.split(".");
    return `v${major}.${minor}`;
}

/**
 * Host preparation: kernel modules and sysctls (persisted), containerd with the systemd cgroup
 * driver, kubeadm/kubelet/kubectl pinned to the cluster version (pkgs.k8s.io, held).
 */
export function renderMasterPrepare(input: MasterPrepareInput): string {
    const k8s = input.kubernetesVersion;
    const line = minorLine(k8s);
    const ctr = input.containerdVersion;
    return `${PRELUDE}
# Kernel modules and sysctls that Kubernetes networking needs, persisted across reboots.
cat > /etc/modules-load.d/k8s.conf <<'EOF'
overlay
br_netfilter
EOF
modprobe overlay
modprobe br_netfilter
cat > /etc/sysctl.d/99-kubernetes.conf <<'EOF'
net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
EOF
sysctl --system >/dev/null
swapoff -a

# containerd ${ctr} (static release, checksum verified) with runc and the systemd cgroup driver.
if ! containerd --version 2>/dev/null | grep -q " v${ctr} "; then
  retry apt-get update -q
  retry apt-get install -y -q runc curl ca-certificates gpg apt-transport-https
  tmp=$(mktemp -d)
  url=https://github.com/containerd/containerd/releases/download/v${ctr}/containerd-${ctr}-linux-amd64.tar.gz
  retry curl -fsSL -o "$tmp/containerd.tgz" "$url"
  retry curl -fsSL -o "$tmp/containerd.tgz.sha256sum" "$url.sha256sum"
  echo "$(cut -d' ' -f1 "$tmp/containerd.tgz.sha256sum")  $tmp/containerd.tgz" | sha256sum -c -
  tar -C /usr/local -xzf "$tmp/containerd.tgz"
  rm -rf "$tmp"
fi
cat > /etc/systemd/system/containerd.service <<'EOF'
[Unit]
Description=containerd container runtime
After=network.target local-fs.target
[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999
[Install]
WantedBy=multi-user.target
EOF
mkdir -p /etc/containerd
if ! grep -q 'SystemdCgroup = true' /etc/containerd/config.toml 2>/dev/null; then
  containerd config default > /etc/containerd/config.toml
  # containerd 1.x lists SystemdCgroup = false; 2.x leaves it out of the runc options
  # (internal/cri/config/config_unix.go), so add it under the options table.
  if grep -q 'SystemdCgroup = false' /etc/containerd/config.toml; then
    sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
  else
    sed -i '/containerd\.runtimes\.runc\.options\]/a SystemdCgroup = true' /etc/containerd/config.toml
  fi
  grep -q 'SystemdCgroup = true' /etc/containerd/config.toml || { echo "could not enable the systemd cgroup driver in containerd's config" >&2; exit 1; }
fi
systemctl daemon-reload
systemctl enable containerd
systemctl restart containerd

# kubeadm, kubelet, kubectl ${k8s} from the ${line} repository, held at that version.
if ! kubeadm version -o short 2>/dev/null | grep -qx "v${k8s}"; then
  install -d -m 0755 /etc/apt/keyrings
  retry curl -fsSL https://pkgs.k8s.io/core:/stable:/${line}/deb/Release.key -o /tmp/k8s-release.key
  gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg /tmp/k8s-release.key
  echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/${line}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
  retry apt-get update -q
  apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
  retry apt-get install -y -q --allow-downgrades kubelet='${k8s}-*' kubeadm='${k8s}-*' kubectl='${k8s}-*'
  apt-mark hold kubelet kubeadm kubectl
fi
systemctl enable kubelet
echo "prepared: containerd ${ctr}, kubernetes ${k8s}"
`;
}

export interface MasterInitInput {
    kubernetesVersion: string;
    master: NodeAddress;
    podCidr: string;
    serviceCidr: string;
    /** The master's public IP, added to the API server certificate (pulumi runs from outside). */
    publicIp: string;
    /** tor (no flannel): the master's own bridge CNI config and its masquerade rules. */
    tor?: { cniConfig: string; masqueradeScript: string };
}

/** The kubeadm config: one pod CIDR for kubeadm and flannel; the stack assigns node pod CIDRs. */
export function renderKubeadmConfig(input: MasterInitInput): string {
    const m = input.master;
    return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: ${m.privateIp}
  bindPort: 6443
nodeRegistration:
  name: ${m.name}
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - name: node-ip
      value: ${m.privateIp}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v${input.kubernetesVersion}
controlPlaneEndpoint: ${m.privateIp}:6443
networking:
  podSubnet: ${input.podCidr}
  serviceSubnet: ${input.serviceCidr}
apiServer:
  certSANs:
    - ${input.publicIp}
    - ${m.privateIp}
    - ${m.name}
controllerManager:
  extraArgs:
    # Each node's pod /24 is assigned by the stack (the -podcidr steps), not by the range allocator.
    - name: allocate-node-cidrs
      value: "false"
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`;
}

/** kubeadm init, once: a second run finds a healthy control plane and does nothing. */
export function renderMasterInit(input: MasterInitInput): string {
    const tor = input.tor
        ? `
# tor: no flannel. The master's pods use a bridge with host-local IPAM from its own pod /24,
# and only traffic leaving the cluster's ranges is masqueraded (rules re-applied at boot).
mkdir -p /etc/cni/net.d
cat > /etc/cni/net.d/10-tor-bridge.conflist <<'EOF'
${input.tor.cniConfig}
EOF
cat > /usr/local/sbin/hybrid-k8s-masquerade <<'EOF'
${input.tor.masqueradeScript}EOF
chmod 0755 /usr/local/sbin/hybrid-k8s-masquerade
cat > /etc/systemd/system/hybrid-k8s-masquerade.service <<'EOF'
[Unit]
Description=Masquerade pod traffic leaving the cluster's ranges (tor topology)
After=network-online.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/hybrid-k8s-masquerade
RemainAfterExit=yes
[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable hybrid-k8s-masquerade.service
/usr/local/sbin/hybrid-k8s-masquerade
`
        : "";
    return `${PRELUDE}
mkdir -p /etc/kubernetes
cat > /etc/kubernetes/kubeadm.yaml <<'EOF'
${renderKubeadmConfig(input)}EOF
healthy() { ${KUBECTL} get --raw /readyz >/dev/null 2>&1; }
if [ -f /etc/kubernetes/admin.conf ]; then
  # Initialised before: never reset a cluster that exists, wait for it instead.
  for _ in $(seq 1 60); do healthy && break; sleep 5; done
  healthy || { echo "the control plane was initialised but its API server is not healthy; see journalctl -u kubelet" >&2; exit 1; }
  echo "control plane already initialised"
else
  if [ -e /etc/kubernetes/manifests/kube-apiserver.yaml ]; then
    echo "cleaning up an interrupted kubeadm init" >&2
    kubeadm reset -f
  fi
  kubeadm init --config /etc/kubernetes/kubeadm.yaml --skip-token-print
  for _ in $(seq 1 60); do healthy && break; sleep 5; done
  healthy
fi
${tor}echo "control plane ready"
`;
}

/** Prints the admin kubeconfig with the server set to the public address (reachable from adminCidr). */
export function renderReadKubeconfig(publicIp: string): string {
    return `${PRELUDE}
sed -E 's#^( *server: https://)[^:]+(:6443)#\\1${publicIp}\\2#' /etc/kubernetes/admin.conf
`;
}

/**
 * Registers a node's pod /24 on the master: creates the Node object with spec.podCIDR set if it
 * does not exist yet (kubelet adopts it when it registers), or sets podCIDR if it is empty. A
 * value that already matches is a no-op; a different value fails (podCIDR is immutable once set).
 */
export function renderPodCidr(node: NodeAddress, os: "linux" | "windows"): string {
    const name = sh(node.name);
    const cidr = sh(node.podCidr);
    const object = JSON.stringify({
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: node.name, labels: { "kubernetes.io/os": os, "kubernetes.io/hostname": node.name } },
        spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] },
    });
    return `${PRELUDE}
node=${name}
cidr=${cidr}
if ! ${KUBECTL} get node "$node" >/dev/null 2>&1; then
  echo ${sh(object)} | ${KUBECTL} create -f - >/dev/null 2>&1 || true
fi
current=$(${KUBECTL} get node "$node" -o jsonpath='{.spec.podCIDR}')
if [ -z "$current" ]; then
  ${KUBECTL} patch node "$node" --type merge -p "{\\"spec\\":{\\"podCIDR\\":\\"$cidr\\",\\"podCIDRs\\":[\\"$cidr\\"]}}"
  echo "node $node: podCIDR set to $cidr"
elif [ "$current" = "$cidr" ]; then
  echo "node $node: podCIDR is $cidr"
else
  echo "node $node has podCIDR $current, but the stack assigns $cidr; podCIDR cannot change once set: delete the node (kubectl delete node $node) and run pulumi up again" >&2
  exit 1
fi
`;
}

/** On removal of a node: drain it and delete its Node object. A node already gone is fine. */
export function renderRemoveNode(nodeName: string): string {
    return `${PRELUDE}
node=${sh(nodeName)}
if ${KUBECTL} get node "$node" >/dev/null 2>&1; then
  ${KUBECTL} drain "$node" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s || echo "drain of $node incomplete; deleting it anyway" >&2
  ${KUBECTL} delete node "$node" --wait=true
fi
echo "node $node removed"
`;
}

/**
 * A fresh bootstrap token for one join (init's own token expires after 24 h). Prints the join
 * command; the caller treats stdout as a secret.
 */
export function renderJoinToken(nodeName: string): string {
    return `${PRELUDE}
kubeadm token create --ttl 24h --description ${sh(`join ${nodeName}`)} --print-join-command
`;
}

export interface AgentKubeconfigInput {
    /** The API server as the nodes reach it (the master's private address). */
    server: string;
    /** Service accounts to build kubeconfigs for: key → namespace/name and its token Secret. */
    accounts: Array<{ key: string; namespace: string; serviceAccount: string; secret: string }>;
}

/**
 * Kubeconfigs for host agents on Windows (flanneld and kube-proxy run as services, not pods, so
 * they get no mounted token). Each is built from a service-account token Secret and points at
 * the master's private address. Prints one JSON object {key: kubeconfig}; stdout is a secret.
 */
export function renderAgentKubeconfigs(input: AgentKubeconfigInput): string {
    const blocks = input.accounts
        .map(
            (a) => `${KUBECTL} -n ${sh(a.namespace)} get serviceaccount ${sh(a.serviceAccount)} >/dev/null 2>&1 || ${KUBECTL} -n ${sh(a.namespace)} create serviceaccount ${sh(a.serviceAccount)} >/dev/null
${KUBECTL} apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: ${a.secret}
  namespace: ${a.namespace}
  annotations:
    kubernetes.io/service-account.name: ${a.serviceAccount}
EOF
token=""
for _ in $(seq 1 60); do
  token=$(${KUBECTL} -n ${sh(a.namespace)} get secret ${sh(a.secret)} -o jsonpath='{.data.token}' | base64 -d)
  [ -n "$token" ] && break
  sleep 2
done
[ -n "$token" ] || { echo "no token for ${a.namespace}/${a.serviceAccount}" >&2; exit 1; }
printf '%s' "$(kubeconfig ${sh(a.serviceAccount)} "$token")" > "$out/${a.key}"`,
        )
        .join("\n");
    const keys = input.accounts.map((a) => a.key);
    return `${PRELUDE}
ca=$(base64 -w0 /etc/kubernetes/pki/ca.crt)
kubeconfig() {
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: ${input.server}
    certificate-authority-data: $ca
users:
- name: $1
  user:
    token: $2
contexts:
- name: $1
  context:
    cluster: kubernetes
    user: $1
current-context: $1
EOF
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
${blocks}
python3 - "$out" ${keys.map(sh).join(" ")} <<'EOF'
import json, sys
out, keys = sys.argv[1], sys.argv[2:]
print(json.dumps({k: open(f"{out}/{k}").read() for k in keys}))
EOF
`;
}
