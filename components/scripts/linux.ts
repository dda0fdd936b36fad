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

/** The prelude of every master step that installs or downloads: non-interactive apt, and `retry` (5 tries). */
export const PRELUDE = `${bashPrelude()}export DEBIAN_FRONTEND=noninteractive
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

/**
 * On a fresh Ubuntu VM, unattended-upgrades holds the dpkg lock for minutes; apt-get fails at once
 * unless told to wait for it (Debian/apt apt-pkg/deb/debsystem.cc debSystem::Lock: DPkg::Lock::Timeout,
 * in seconds, default 0).
 */
export const APT_LOCK_WAIT = "-o DPkg::Lock::Timeout=600";

/**
 * The sandbox (pause) image kubeadm expects, by Kubernetes minor: kubernetes/kubernetes
 * cmd/kubeadm/app/constants/constants.go PauseVersion ("3.10" on the 1.32 line, "3.10.1" on the
 * 1.35 line; that 1.34 already has 3.10.1 and 1.33 still 3.10 is not checked against the source).
 * containerd's default (internal/cri/config/config.go DefaultSandboxImage, "pause:3.10" in 2.1)
 * must match it, or kubeadm's preflight warns and the kubelet's pinned image gets garbage-collected.
 */
export function pauseImage(kubernetesVersion: string): string {
    const minor = Number(kubernetesVersion.split(".")[1]);
    return `registry.k8s.io/pause:${minor >= 34 ? "3.10.1" : "3.10"}`;
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
    const pause = pauseImage(k8s);
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
  retry apt-get ${APT_LOCK_WAIT} update -q
  retry apt-get ${APT_LOCK_WAIT} install -y -q runc curl ca-certificates gpg apt-transport-https
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
# The sandbox image kubeadm ${k8s} expects: containerd 2.x keeps it under the images plugin's
# pinned_images (sandbox = ...), 1.x as sandbox_image (containerd docs/cri/config.md).
if ! grep -qF -e "sandbox = '${pause}'" -e 'sandbox_image = "${pause}"' /etc/containerd/config.toml; then
  sed -i -E "s#^( *)sandbox = .*#\\1sandbox = '${pause}'#" /etc/containerd/config.toml
  sed -i -E 's#^( *)sandbox_image = .*#\\1sandbox_image = "${pause}"#' /etc/containerd/config.toml
  grep -qF -e "sandbox = '${pause}'" -e 'sandbox_image = "${pause}"' /etc/containerd/config.toml || { echo "could not pin the sandbox image ${pause} in containerd's config" >&2; exit 1; }
fi
systemctl daemon-reload
systemctl enable containerd
systemctl restart containerd

# kubeadm, kubelet, kubectl ${k8s} from the ${line} repository, held at that version. All three are
# checked: a host where one of them differs installs them again. On a host that already runs a
# control plane (kubeadm wrote its API server's manifest) the packages are left alone: moving them
# is the upgrade step's work, in kubeadm's order (kubeadm, upgrade apply, then kubelet and kubectl).
installed() {
  kubeadm version -o short 2>/dev/null | grep -qx "v${k8s}" &&
    kubelet --version 2>/dev/null | grep -qx "Kubernetes v${k8s}" &&
    kubectl version --client 2>/dev/null | grep -qx "Client Version: v${k8s}"
}
if [ -f /etc/kubernetes/manifests/kube-apiserver.yaml ] && ! installed; then
  echo "a control plane runs on this host: kubeadm, kubelet and kubectl stay as they are; the upgrade step moves them to ${k8s}"
elif ! installed; then
  install -d -m 0755 /etc/apt/keyrings
  retry curl -fsSL https://pkgs.k8s.io/core:/stable:/${line}/deb/Release.key -o /tmp/k8s-release.key
  gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg /tmp/k8s-release.key
  echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/${line}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
  retry apt-get ${APT_LOCK_WAIT} update -q
  apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
  retry apt-get ${APT_LOCK_WAIT} install -y -q --allow-downgrades kubelet='${k8s}-*' kubeadm='${k8s}-*' kubectl='${k8s}-*'
  apt-mark hold kubelet kubeadm kubectl
fi
systemctl enable kubelet
echo "prepared: containerd ${ctr}, kubernetes packages $(kubeadm version -o short 2>/dev/null || echo none)"
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

/** Written last by a `kubeadm init` that finished every phase; its absence means "not initialised". */
export const INIT_MARKER = "/etc/kubernetes/hybrid-k8s/init-complete";
/** The line of the init step's output that names the cluster: its CA's public-key hash. */
export const CLUSTER_CA_PREFIX = "cluster-ca sha256:";

/**
 * kubeadm init, once, and only counted as done when it finished. kubeadm writes admin.conf in
 * its kubeconfig phase, before etcd, the control plane, bootstrap tokens and the addons
 * (kubernetes/kubernetes cmd/kubeadm/app/cmd/init.go, newCmdInit's phase list), so admin.conf
 * proves nothing: a marker written after init succeeded does. Leftovers without the marker are
 * an interrupted init, unless the cluster has everything init creates last (cluster-info, CoreDNS,
 * kube-proxy); otherwise `kubeadm reset -f` and init again. A second run finds the marker, checks
 * that the live kubeadm-config (kube-system ConfigMap, key ClusterConfiguration: cmd/kubeadm/app/
 * constants/constants.go KubeadmConfigConfigMap) still matches what the stack renders, and changes nothing.
 * The last lines print the cluster CA's public-key hash (what `--discovery-token-ca-cert-hash`
 * pins: sha256 of the certificate's SubjectPublicKeyInfo, cmd/kubeadm/app/util/pubkeypin), the
 * cluster's identity: it changes exactly when the control plane is initialised anew.
 */
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
    const expected: Array<[string, string]> = [
        ["controlPlaneEndpoint", `${input.master.privateIp}:6443`],
        ["podSubnet", input.podCidr],
        ["serviceSubnet", input.serviceCidr],
    ];
    const configChecks = expected.map(([key, value]) => `  config_field ${sh(key)} ${sh(value)}`).join("\n");
    return `${PRELUDE}
mkdir -p /etc/kubernetes /etc/kubernetes/hybrid-k8s
cat > /etc/kubernetes/kubeadm.yaml <<'EOF'
${renderKubeadmConfig(input)}EOF
marker=${INIT_MARKER}
healthy() { ${KUBECTL} get --raw /readyz >/dev/null 2>&1; }
wait_healthy() { for _ in $(seq 1 60); do healthy && return 0; sleep 5; done; return 1; }
# What kubeadm init creates in its last phases (bootstrap-token: cluster-info; addon: CoreDNS, kube-proxy).
complete() {
  healthy &&
    ${KUBECTL} -n kube-public get configmap cluster-info >/dev/null 2>&1 &&
    ${KUBECTL} -n kube-system get deployment coredns >/dev/null 2>&1 &&
    ${KUBECTL} -n kube-system get daemonset kube-proxy >/dev/null 2>&1
}
init_cluster() {
  kubeadm init --config /etc/kubernetes/kubeadm.yaml --skip-token-print
  wait_healthy || { echo "kubeadm init finished but the API server is not healthy; see journalctl -u kubelet" >&2; exit 1; }
  complete || { echo "kubeadm init finished but cluster-info, CoreDNS or kube-proxy is missing" >&2; exit 1; }
}
# kubeadm applies its ClusterConfiguration only at init: a different value later is an error, not ignored.
config_field() {
  local got
  got=$(printf '%s\\n' "$live" | sed -n "s/^ *$1: *//p" | head -n 1)
  if [ "$got" != "$2" ]; then
    mismatch="$mismatch $1 is $got in the cluster but $2 in the stack;"
  fi
}
if [ -f "$marker" ]; then
  wait_healthy || { echo "the control plane was initialised but its API server is not healthy; see journalctl -u kubelet" >&2; exit 1; }
  live=$(${KUBECTL} -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')
  mismatch=""
${configChecks}
  if [ -n "$mismatch" ]; then
    echo "kubeadm applies its configuration only when the cluster is created, and the running cluster differs from the stack:$mismatch change the config back, or replace the master (pulumi up --replace <urn of k8s-master-vm>) to build a new cluster" >&2
    exit 1
  fi
  echo "control plane already initialised"
else
  if [ -e /etc/kubernetes/admin.conf ] || [ -e /etc/kubernetes/manifests/kube-apiserver.yaml ] || [ -e /etc/kubernetes/pki/ca.crt ]; then
    # An earlier init got at least to its certs or kubeconfig phase: finished (only the marker is
    # missing) or interrupted. A few seconds for a restarting API server, then judge.
    for _ in $(seq 1 12); do healthy && break; sleep 5; done
    if complete; then
      echo "an earlier kubeadm init finished; recording it"
    else
      echo "cleaning up an interrupted kubeadm init" >&2
      kubeadm reset -f
      init_cluster
    fi
  else
    init_cluster
  fi
  date -u +%FT%TZ > "$marker"
fi
${tor}ca_hash=$(openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
echo "${CLUSTER_CA_PREFIX}$ca_hash"
echo "control plane ready"
`;
}

/**
 * The cluster's identity from the init step's output: "sha256:<CA public-key hash>". Throws when
 * the output has no such line (an init step that did not finish).
 */
export function clusterIdFromInit(stdout: string): string {
    const line = stdout.split(/\r?\n/).find((l) => l.startsWith(CLUSTER_CA_PREFIX));
    if (!line) {
        throw new Error("the init step's output names no cluster CA (no \"cluster-ca sha256:\" line): run pulumi up again, or read the init step's log");
    }
    return `sha256:${line.slice(CLUSTER_CA_PREFIX.length).trim()}`;
}

/**
 * `-version-check`, on the master before any host changes: the only version changes it lets
 * through are the ones the upgrade steps can carry out in kubeadm's order (control plane first,
 * then the nodes, no kubelet ever newer than the API server):
 * - the running version again, or a newer patch of the running minor;
 * - any patch of the next minor: kubeadm upgrades one minor at a time (kubernetes/kubernetes
 *   cmd/kubeadm/app/phases/upgrade/policy.go, MaximumAllowedMinorVersionUpgradeSkew = 1; the
 *   version skew policy, kubernetes/website content/en/releases/version-skew-policy.md: "require
 *   kube-apiserver to not skip minor versions when upgrading").
 * A skipped minor is refused naming the versions to go through ("1.33.4 → 1.34.x → 1.35.2"); a
 * downgrade is refused (kubeadm would allow one minor down, policy.go
 * MaximumAllowedMinorVersionDowngradeSkew, but the nodes would then run kubelets newer than the
 * API server until their turn). The running version is read from the API server's static pod
 * manifest, which kubeadm init and kubeadm upgrade apply write (no API call: this works even with
 * the API server down).
 */
export function renderVersionCheck(kubernetesVersion: string, opts: { existingCluster?: boolean } = {}): string {
    const want = sh(kubernetesVersion);
    // An existing cluster's control plane is its owner's: the stack never upgrades it, so the
    // Windows kubelets may only match or trail it, by at most three minors (version-skew-policy.md:
    // "kubelet must not be newer than kube-apiserver, and may be up to three minor versions older").
    const existing = opts.existingCluster
        ? `if [ "$want_minor" -gt "$run_minor" ] || { [ "$want_minor" -eq "$run_minor" ] && [ "$want_patch" -gt "$run_patch" ]; }; then
  echo "$key is $want but the existing cluster's control plane runs v$running: its Windows kubelets would be newer than its API server, and this stack never upgrades a control plane it did not create. Nothing was changed. Upgrade the control plane first (kubeadm upgrade), or set: pulumi config set $key $running" >&2
  exit 1
fi
if [ "$want_minor" -lt $((run_minor - 3)) ]; then
  echo "$key is $want but the existing cluster's control plane runs v$running: a kubelet may be at most three minor versions older than its API server. Nothing was changed. Set: pulumi config set $key $running" >&2
  exit 1
fi
echo "existing control plane v$running; Windows nodes at v$want"
exit 0
`
        : "";
    return `${PRELUDE}
want=${want}
manifest=/etc/kubernetes/manifests/kube-apiserver.yaml
if [ ! -f "$manifest" ]; then
  echo "no control plane yet: Kubernetes $want will be installed"
  exit 0
fi
running=$(sed -n -E 's#^ *image: .*/kube-apiserver:v([0-9]+\\.[0-9]+\\.[0-9]+).*#\\1#p' "$manifest" | head -n 1)
if [ -z "$running" ]; then
  echo "cannot read the API server's version from $manifest" >&2
  exit 1
fi
IFS=. read -r want_major want_minor want_patch <<< "$want"
IFS=. read -r run_major run_minor run_patch <<< "$running"
key=hybrid-k8s:kubernetesVersion
if [ "$want_major" -ne "$run_major" ]; then
  echo "$key is $want but the control plane runs v$running: a change of major version is not an upgrade kubeadm performs. Nothing was changed. Set it back: pulumi config set $key $running" >&2
  exit 1
fi
${existing}if [ "$want_minor" -lt "$run_minor" ] || { [ "$want_minor" -eq "$run_minor" ] && [ "$want_patch" -lt "$run_patch" ]; }; then
  echo "$key is $want but the control plane runs v$running: downgrades are not supported (every kubelet would be newer than the API server until its node's turn). Nothing was changed. Set it back: pulumi config set $key $running" >&2
  exit 1
fi
if [ "$want_minor" -gt $((run_minor + 1)) ]; then
  path="$running"
  for m in $(seq $((run_minor + 1)) $((want_minor - 1))); do path="$path → $want_major.$m.x"; done
  path="$path → $want"
  echo "$key is $want but the control plane runs v$running: kubeadm upgrades one minor version at a time, so go through $path (set each version in turn and run pulumi up after each, using the latest patch of every minor in between). Nothing was changed. To stay where you are: pulumi config set $key $running" >&2
  exit 1
fi
if [ "$want" = "$running" ]; then
  echo "control plane v$running: no version change"
elif [ "$want_minor" -eq "$run_minor" ]; then
  echo "control plane v$running → v$want: a patch upgrade; the control plane goes first, then each node in its window"
else
  echo "control plane v$running → v$want: a minor upgrade; the control plane goes first, then each node in its window (drained)"
fi
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
 * Secrets a step produces on the master wait here, root-only, for a second step that only prints
 * them. pulumi-command's error text carries everything a command printed (provider/pkg/provider/
 * remote/commandOutputs.go: `running %q:\n%s` with stdout and stderr): a step that prints a
 * secret and can still fail afterwards (a later command, a broken session) would put the secret
 * in the error. The producing step prints nothing secret; the printing step is a single `cat`.
 */
export const SECRET_DIR = "/etc/kubernetes/hybrid-k8s/secrets";

/** The root-only file a secret of `name` is kept in on the master. */
export function secretFile(name: string): string {
    return `${SECRET_DIR}/${name}`;
}

/** Runs `producer` (bash that writes the secret to stdout) into `file`, atomically, mode 0600. */
function writeSecret(file: string, producer: string, what: string): string {
    return `install -d -m 0700 ${SECRET_DIR}
umask 077
tmp=$(mktemp ${sh(`${file}.XXXXXX`)})
trap 'rm -f "$tmp"' EXIT
${producer} > "$tmp"
[ -s "$tmp" ] || { echo ${sh(`no ${what} was produced`)} >&2; exit 1; }
mv -f "$tmp" ${sh(file)}
echo ${sh(`${what} written to ${file}`)}
`;
}

/** Prints a secret another step wrote: the only thing this step does (see SECRET_DIR). */
export function renderPrintSecret(file: string): string {
    return `${PRELUDE}
[ -f ${sh(file)} ] || { echo ${sh(`${file} is missing: the step that writes it has to run again (pulumi up --replace its URN)`)} >&2; exit 1; }
cat ${sh(file)}
`;
}

/** The file a node's join command is kept in. */
export function joinCommandFile(nodeName: string): string {
    return secretFile(`join-${nodeName}`);
}

/**
 * A fresh bootstrap token for one join (init's own token expires after 24 h). The join command
 * goes to a root-only file (joinCommandFile), printed by a separate step.
 */
export function renderJoinToken(nodeName: string): string {
    return `${PRELUDE}
${writeSecret(joinCommandFile(nodeName), `kubeadm token create --ttl 24h --description ${sh(`join ${nodeName}`)} --print-join-command`, `the join command for ${nodeName}`)}`;
}

/**
 * On removal (or replacement) of a node's token step: deletes the bootstrap tokens minted for that
 * node, found by their description. A bootstrap token is the kube-system Secret
 * bootstrap-token-<id>, type bootstrap.kubernetes.io/token, with a `description` key (kubernetes/
 * kubernetes staging/src/k8s.io/cluster-bootstrap/token/api/types.go); deleting the Secret deletes
 * the token. Only names and descriptions are read, never a token.
 */
export function renderDeleteJoinTokens(nodeName: string): string {
    return `${PRELUDE}
want=$(printf '%s' ${sh(`join ${nodeName}`)} | base64 -w0)
${KUBECTL} -n kube-system get secrets --field-selector type=bootstrap.kubernetes.io/token -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.data.description}{"\\n"}{end}' |
  while read -r name description; do
    if [ "$description" = "$want" ]; then
      ${KUBECTL} -n kube-system delete secret "$name" --ignore-not-found >/dev/null
      echo "deleted $name"
    fi
  done
rm -f ${sh(joinCommandFile(nodeName))}
echo ${sh(`join tokens of ${nodeName} removed`)}
`;
}

/** The file the agent kubeconfigs are kept in (printed by a separate step, see SECRET_DIR). */
export const AGENT_KUBECONFIGS_FILE = secretFile("agent-kubeconfigs.json");

export interface AgentKubeconfigInput {
    /** The API server as the nodes reach it (the master's private address). */
    server: string;
    /**
     * Service accounts to build kubeconfigs for: key → namespace/name and its token Secret. A list
     * of namespaces: the first that has the service account (an existing cluster's flannel runs in
     * kube-flannel, or in kube-system with older manifests); none of them is an error. A single
     * namespace: the service account is created there when missing.
     */
    accounts: Array<{ key: string; namespace: string | string[]; serviceAccount: string; secret: string }>;
}

/** Bash that sets $ns to the account's namespace (the first candidate that has the service account). */
function accountNamespace(a: AgentKubeconfigInput["accounts"][number]): string {
    if (typeof a.namespace === "string") {
        return `ns=${sh(a.namespace)}
${KUBECTL} -n "$ns" get serviceaccount ${sh(a.serviceAccount)} >/dev/null 2>&1 || ${KUBECTL} -n "$ns" create serviceaccount ${sh(a.serviceAccount)} >/dev/null`;
    }
    return `ns=""
for c in ${a.namespace.map(sh).join(" ")}; do
  if ${KUBECTL} -n "$c" get serviceaccount ${sh(a.serviceAccount)} >/dev/null 2>&1; then ns=$c; break; fi
done
[ -n "$ns" ] || { echo ${sh(`no service account ${a.serviceAccount} in ${a.namespace.join(" or ")}: is its agent (flannel) deployed?`)} >&2; exit 1; }`;
}

/**
 * Kubeconfigs for host agents on Windows (flanneld and kube-proxy run as services, not pods, so
 * they get no mounted token). Each is built from a service-account token Secret and points at
 * the master's private address. Writes one JSON object {key: kubeconfig} to AGENT_KUBECONFIGS_FILE
 * (root-only); a second step prints it.
 */
export function renderAgentKubeconfigs(input: AgentKubeconfigInput): string {
    const blocks = input.accounts
        .map(
            (a) => `${accountNamespace(a)}
${KUBECTL} apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: ${a.secret}
  namespace: $ns
  annotations:
    kubernetes.io/service-account.name: ${a.serviceAccount}
EOF
token=""
for _ in $(seq 1 60); do
  token=$(${KUBECTL} -n "$ns" get secret ${sh(a.secret)} -o jsonpath='{.data.token}' | base64 -d)
  [ -n "$token" ] && break
  sleep 2
done
[ -n "$token" ] || { echo "no token for $ns/${a.serviceAccount}" >&2; exit 1; }
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
install -d -m 0700 ${SECRET_DIR}
umask 077
python3 - "$out" ${keys.map(sh).join(" ")} > "$out/all.json" <<'EOF'
import json, sys
out, keys = sys.argv[1], sys.argv[2:]
print(json.dumps({k: open(f"{out}/{k}").read() for k in keys}))
EOF
mv -f "$out/all.json" ${sh(AGENT_KUBECONFIGS_FILE)}
echo ${sh(`agent kubeconfigs written to ${AGENT_KUBECONFIGS_FILE}`)}
`;
}

/**
 * `-cluster-ca`, for an existing cluster (existingCluster): the line init prints, read from the
 * running cluster's CA (the same hash: sha256 of the CA certificate's SubjectPublicKeyInfo,
 * kubernetes/kubernetes cmd/kubeadm/app/util/pubkeypin). Changes nothing.
 */
export function renderClusterCa(): string {
    return `${bashPrelude()}test -s /etc/kubernetes/pki/ca.crt || { echo "no /etc/kubernetes/pki/ca.crt: this host is not a kubeadm control plane; set hybrid-k8s:existingCluster false, or give the control-plane host's address in hybrid-k8s:masterAddress" >&2; exit 1; }
ca_hash=$(openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
echo "${CLUSTER_CA_PREFIX}$ca_hash"
`;
}

/**
 * The delete of the agent kubeconfigs step: the token Secrets it created go (which revokes their
 * tokens: a service-account token Secret's token is valid while the Secret exists,
 * kubernetes/kubernetes pkg/serviceaccount/legacy.go), and so does the file. The service accounts
 * stay: kube-proxy's belongs to kubeadm, flannel's to flannel. A second run finds nothing to do.
 */
export function renderDeleteAgentKubeconfigs(accounts: AgentKubeconfigInput["accounts"]): string {
    const deletes = accounts
        .flatMap((a) => (typeof a.namespace === "string" ? [a.namespace] : a.namespace).map((ns) => `${KUBECTL} -n ${sh(ns)} delete secret ${sh(a.secret)} --ignore-not-found >/dev/null`))
        .join("\n");
    return `${PRELUDE}if [ -s /etc/kubernetes/admin.conf ]; then
${deletes}
fi
rm -f ${sh(AGENT_KUBECONFIGS_FILE)}
echo "agent token Secrets removed"
`;
}
