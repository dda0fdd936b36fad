// A version change in config as a rolling upgrade, in the order the Kubernetes documentation
// prescribes for kubeadm clusters with Windows nodes (kubernetes/website content/en/docs/tasks/
// administer-cluster/kubeadm/kubeadm-upgrade.md and upgrading-windows-nodes.md): the control plane
// first (kubeadm, `kubeadm upgrade plan`/`apply`, then the master's kubelet and kubectl, drained),
// then each Windows node in its window: drained on the master, its staged binaries swapped and
// `kubeadm upgrade node` on the node, uncordoned on the master once Ready at the new version. No
// kubelet is ever newer than the API server (content/en/releases/version-skew-policy.md: "kubelet
// must not be newer than kube-apiserver"; "In-place minor version kubelet upgrades are not
// supported": drain first). Every step is a no-op costing seconds when there is nothing to do,
// and resumable: it judges each part by the host's state, never by a step it remembers.
//
// Pure: scripts rendered from typed inputs, and the ordering edges the graph is built from.
import { APT_LOCK_WAIT, KUBECTL, minorLine, PRELUDE as BASH_PRELUDE } from "./linux";
import { ps, sh } from "./shell";
import { AGENTS_FN, PRELUDE, STAGED_PREFIX, STAGING_DIR, STAGING_PLAN, versionsStamp, WindowsVersions } from "./windows";

/**
 * The annotation by which a node records that this stack cordoned it for an upgrade (its value:
 * what the upgrade was for). Only a cordon carrying it is lifted: a node its owner cordoned stays
 * cordoned.
 */
export const CORDON_ANNOTATION = "hybrid-k8s.io/cordoned-for-upgrade";
/** kubectl drain's --timeout (0, kubectl's default, waits for ever). */
export const DRAIN_TIMEOUT_SECONDS = 600;
/** How long an uncordon waits for its node to be Ready at the new version. */
export const NODE_READY_TIMEOUT_SECONDS = 600;
/** Where `kubeadm upgrade node` leaves its output on a Windows node. */
export const NODE_UPGRADE_LOG = "C:\\var\\log\\kubernetes\\kubeadm-upgrade.log";

/** The remote steps of a node's window, in order. */
export const WINDOW_STEPS = ["drain", "upgrade", "uncordon"] as const;
export type WindowStep = (typeof WINDOW_STEPS)[number];

/** A step's resource name: `<host>-<step>` (the master is `k8s-master`, a Windows node `k8s-win-<i>`). */
export function stepName(host: string, step: string): string {
    return `${host}-${step}`;
}

/**
 * Bash functions shared by every step that cordons, drains or uncordons a node: `$node`,
 * `$timeout` set by the caller. Pods without a controller are never deleted: kubectl drain refuses
 * them unless --force (kubernetes/kubectl pkg/drain/filters.go, unmanagedFatal "cannot delete Pods
 * that declare no controller"), and --force would delete them for good, as nothing recreates them.
 * The drain refuses before cordoning, naming them and the fix. Pods with emptyDir volumes are
 * evicted (--delete-emptydir-data): their controllers recreate them elsewhere, and emptyDir is
 * scratch space by definition. DaemonSet pods stay (--ignore-daemonsets, as both upgrade guides do).
 * Mirror pods (static pods) are skipped by kubectl drain and here.
 */
const NODE_FNS = `mark=${CORDON_ANNOTATION}
node_get() { ${KUBECTL} get node "$node" -o jsonpath="$1"; }
ours() { node_get '{.metadata.annotations.${CORDON_ANNOTATION.replace(/\./g, "\\.")}}'; }
# pods on the node that nothing would recreate: no owner, not a mirror pod, not finished
unmanaged() {
  ${KUBECTL} get pods --all-namespaces --field-selector "spec.nodeName=$node,status.phase!=Succeeded,status.phase!=Failed" \\
    -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name}|{.metadata.ownerReferences[0].kind}|{.metadata.annotations.kubernetes\\.io/config\\.mirror}{"\\n"}{end}' |
    awk -F'|' '$1 != "" && $2 == "" && $3 == "" { print $1 }'
}
drain_node() {
  local pods
  pods=$(unmanaged | tr '\\n' ' ')
  if [ -n "$pods" ]; then
    echo "$node was not drained (nothing changed): these pods have no controller, and draining would delete them for good: $pods. Delete them (kubectl delete pod -n <namespace> <name>) or run them under a Deployment, StatefulSet or Job, then run pulumi up again." >&2
    exit 1
  fi
  if [ "$(node_get '{.spec.unschedulable}')" != true ]; then
    # the mark goes first: a run cut short after it finds the node uncordoned and cordons it
    ${KUBECTL} annotate node "$node" --overwrite "$mark=$1" >/dev/null
    ${KUBECTL} cordon "$node"
  elif [ -z "$(ours)" ]; then
    echo "$node was cordoned before this upgrade, not by it: it is drained, and stays cordoned afterwards"
  fi
  if ! ${KUBECTL} drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout="\${timeout}s"; then
    echo "the drain of $node did not finish within \${timeout}s: a PodDisruptionBudget or a pod that does not terminate holds it (kubectl get pdb --all-namespaces; kubectl get pods --all-namespaces --field-selector spec.nodeName=$node). The node stays cordoned; fix the cause and run pulumi up again." >&2
    exit 1
  fi
}
uncordon_node() {
  if [ -n "$(ours)" ]; then
    ${KUBECTL} uncordon "$node"
    ${KUBECTL} annotate node "$node" "$mark-" >/dev/null
    echo "$node uncordoned"
  fi
}
# Ready, with its kubelet at $1, within $2 seconds
wait_node() {
  local i
  for i in $(seq 0 5 "$2"); do
    if [ "$(node_get '{.status.conditions[?(@.type=="Ready")].status}')" = True ] && [ "$(node_get '{.status.nodeInfo.kubeletVersion}')" = "v$1" ]; then
      return 0
    fi
    [ "$i" -ge "$2" ] || sleep 5
  done
  return 1
}
`;

export interface MasterUpgradeInput {
    /** The target, x.y.z. */
    kubernetesVersion: string;
    /** The control-plane node's name. */
    nodeName: string;
}

/**
 * `<master>-upgrade`, on the master after `-init`: brings the control plane to kubernetesVersion
 * in kubeadm-upgrade.md's order, each part judged by the host's state, so it resumes where a
 * failed run stopped, and costs seconds when everything already runs the target:
 * 1. the package repository of the target's minor (pkgs.k8s.io has one per minor; only the list
 *    line changes, the keyring stays: change-package-repository.md), then kubeadm;
 * 2. `kubeadm upgrade plan` and `kubeadm upgrade apply -y v<target>` while the control plane
 *    (the API server's manifest) or the kube-proxy addon (written by apply's last phases:
 *    cmd/kubeadm/app/cmd/upgrade/apply.go phases control-plane … addon, post-upgrade) is not at
 *    the target yet; kubeadm re-applies a version it already runs without harm ("run kubeadm
 *    upgrade again. This command is idempotent", kubeadm-upgrade.md). Its health check runs a Job
 *    (cmd/kubeadm/app/phases/upgrade/health.go, createJob), so a node this step cordoned in an
 *    earlier run is uncordoned first;
 * 3. drain (the guide: "Draining nodes before kubelet MINOR version upgrades is required"; it
 *    drains for patches too), kubelet and kubectl, daemon-reload, restart kubelet;
 * 4. wait for the API server, the control-plane pods (label tier=control-plane:
 *    cmd/kubeadm/app/constants/constants.go ControlPlaneTier) and the node Ready at the target,
 *    then uncordon if this step cordoned it.
 * The master is the only Linux node: CoreDNS has nowhere to go while it is drained (Pending until
 * the uncordon, a minute or two in which cluster DNS does not answer).
 */
export function renderMasterUpgrade(input: MasterUpgradeInput): string {
    const line = minorLine(input.kubernetesVersion);
    return `${BASH_PRELUDE}
target=${sh(input.kubernetesVersion)}
node=${sh(input.nodeName)}
timeout=${DRAIN_TIMEOUT_SECONDS}
manifest=/etc/kubernetes/manifests/kube-apiserver.yaml
${NODE_FNS}healthy() { ${KUBECTL} get --raw /readyz >/dev/null 2>&1; }
wait_healthy() { for _ in $(seq 1 60); do healthy && return 0; sleep 5; done; return 1; }
apiserver() { sed -n -E 's#^ *image: .*/kube-apiserver:v([0-9]+\\.[0-9]+\\.[0-9]+).*#\\1#p' "$manifest" | head -n 1; }
proxy_addon() { ${KUBECTL} -n kube-system get daemonset kube-proxy -o jsonpath='{.spec.template.spec.containers[0].image}' | sed -n 's#.*:v##p'; }
pkg() {
  case "$1" in
    kubeadm) kubeadm version -o short 2>/dev/null | sed 's/^v//' ;;
    kubelet) kubelet --version 2>/dev/null | sed 's/^Kubernetes v//' ;;
    kubectl) kubectl version --client 2>/dev/null | sed -n 's/^Client Version: v//p' ;;
  esac
}
running_kubelet() { node_get '{.status.nodeInfo.kubeletVersion}' | sed 's/^v//'; }

[ -f "$manifest" ] || { echo "no control plane on this host ($manifest is missing): the init step comes first" >&2; exit 1; }
wait_healthy || { echo "the API server is not healthy, nothing was changed; see journalctl -u kubelet" >&2; exit 1; }
if [ "$(apiserver)" = "$target" ] && [ "$(proxy_addon)" = "$target" ] && [ "$(pkg kubeadm)" = "$target" ] &&
  [ "$(pkg kubelet)" = "$target" ] && [ "$(pkg kubectl)" = "$target" ] && [ "$(running_kubelet)" = "$target" ] && [ -z "$(ours)" ]; then
  echo "control plane already runs v$target: nothing to upgrade"
  exit 0
fi
from=$(apiserver)
# the version check refuses these before any host changes; refused here too, before apt moves
# anything (kubeadm itself would allow one minor down, and refuse a skip only after its install)
if [ "$(printf '%s\\n' "$from" "$target" | sort -V | head -n 1)" != "$from" ]; then
  echo "the control plane runs v$from, newer than v$target: downgrades are not supported; nothing was changed" >&2
  exit 1
fi
if [ "$(echo "$target" | cut -d. -f2)" -gt $(($(echo "$from" | cut -d. -f2) + 1)) ]; then
  echo "the control plane runs v$from: kubeadm upgrades one minor version at a time, v$target skips one; nothing was changed" >&2
  exit 1
fi
echo "control plane v$from → v$target"

# 1. The target's package repository (one per minor on pkgs.k8s.io), then kubeadm.
repo="deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/${line}/deb/ /"
apt_ready=""
install_pkgs() {
  if [ -z "$apt_ready" ]; then
    if ! grep -qxF "$repo" /etc/apt/sources.list.d/kubernetes.list 2>/dev/null; then
      install -d -m 0755 /etc/apt/keyrings
      if [ ! -s /etc/apt/keyrings/kubernetes-apt-keyring.gpg ]; then
        retry curl -fsSL https://pkgs.k8s.io/core:/stable:/${line}/deb/Release.key -o /tmp/k8s-release.key
        gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg /tmp/k8s-release.key
      fi
      echo "$repo" > /etc/apt/sources.list.d/kubernetes.list
      echo "package repository: ${line}"
    fi
    retry apt-get ${APT_LOCK_WAIT} update -q
    apt_ready=1
  fi
  local specs=() p
  for p in "$@"; do specs+=("$p=$target-*"); done
  apt-mark unhold "$@" >/dev/null
  retry apt-get ${APT_LOCK_WAIT} install -y -q "\${specs[@]}"
  apt-mark hold "$@" >/dev/null
}
if [ "$(pkg kubeadm)" != "$target" ]; then
  install_pkgs kubeadm
fi
[ "$(pkg kubeadm)" = "$target" ] || { echo "kubeadm reports v$(pkg kubeadm) after installing $target" >&2; exit 1; }

# 2. The control plane: kubeadm checks the cluster's health and its version skew policy first.
if [ "$(apiserver)" != "$target" ] || [ "$(proxy_addon)" != "$target" ]; then
  uncordon_node
  kubeadm upgrade plan "v$target"
  if ! kubeadm upgrade apply -y "v$target"; then
    if [ "$(node_get '{.spec.unschedulable}')" = true ]; then
      echo "kubeadm upgrade apply failed; $node is cordoned (not by this upgrade), and kubeadm's health check runs a Job that needs a schedulable node: uncordon a node (kubectl uncordon $node) and run pulumi up again" >&2
    else
      echo "kubeadm upgrade apply failed (its output is above; its backups are in /etc/kubernetes/tmp); fix the cause and run pulumi up again: it resumes here" >&2
    fi
    exit 1
  fi
  wait_healthy || { echo "kubeadm upgrade apply finished but the API server is not healthy; see journalctl -u kubelet and /etc/kubernetes/tmp (kubeadm's backups)" >&2; exit 1; }
fi

# 3. kubelet and kubectl, with the node drained while its kubelet changes.
if [ "$(running_kubelet)" != "$target" ] || [ "$(pkg kubelet)" != "$target" ]; then
  drain_node "v$target"
fi
if [ "$(pkg kubelet)" != "$target" ] || [ "$(pkg kubectl)" != "$target" ]; then
  install_pkgs kubelet kubectl
fi
if [ "$(running_kubelet)" != "$target" ]; then
  systemctl daemon-reload
  systemctl restart kubelet
fi

# 4. Up again: API server, control-plane pods, the node at the target; then schedulable again.
wait_healthy || { echo "the API server did not come back after the kubelet restart; see journalctl -u kubelet" >&2; exit 1; }
${KUBECTL} -n kube-system wait --for=condition=Ready pod -l tier=control-plane --timeout=300s >/dev/null ||
  { echo "the control-plane pods are not Ready (kubectl -n kube-system get pods -l tier=control-plane); the node stays cordoned until a pulumi up finds them Ready" >&2; exit 1; }
wait_node "$target" ${NODE_READY_TIMEOUT_SECONDS} || { echo "$node is not Ready with kubelet v$target; see journalctl -u kubelet" >&2; exit 1; }
uncordon_node
echo "control plane upgraded to v$target"
`;
}

/** What a node's prepare-runtime staged, from the step's output (its last STAGED_PREFIX line); [] when nothing. */
export function parseStaged(stdout: string): string[] {
    const lines = stdout.split(/\r?\n/).filter((l) => l.startsWith(STAGED_PREFIX));
    const last = lines.length ? lines[lines.length - 1].slice(STAGED_PREFIX.length).trim() : "";
    return last === "" || last === "none" ? [] : last.split(/\s+/);
}

/** The drain's stdin: prepare-runtime's staged names on one line (empty: nothing staged). */
export function stagedStdin(prepareRuntimeStdout: string): string {
    return `${parseStaged(prepareRuntimeStdout).join(" ")}\n`;
}

/** A short, stable label of a version set (what a window is for; it re-renders the window's steps). */
function versionLabel(v: WindowsVersions): string {
    return `kubernetes ${v.kubernetesVersion}, containerd ${v.containerdVersion}, flannel ${v.flannelVersion}`;
}

export interface WindowInput {
    /** The node's Kubernetes name. */
    node: string;
    /** The node's versions, as its prepare-runtime step has them. */
    versions: WindowsVersions;
}

/**
 * `<node>-drain`, on the master, the first step of a node's window. stdin: what the node's
 * prepare-runtime staged (stagedStdin); nothing staged, nothing to do. Otherwise: refuse when pods
 * without a controller run there (before anything changes), mark the node as cordoned by this
 * stack, cordon, drain with a timeout (upgrading-windows-nodes.md: `kubectl drain <node>
 * --ignore-daemonsets`). A node its owner had cordoned is drained and left cordoned. The versions
 * are part of the script: a new version set runs it again.
 */
export function renderWindowsDrain(input: WindowInput): string {
    return `${BASH_PRELUDE}
node=${sh(input.node)}
target=${sh(versionLabel(input.versions))}
timeout=${DRAIN_TIMEOUT_SECONDS}
${NODE_FNS}staged=$(tr '\\n' ' ' | sed 's/^ *//; s/ *$//')
if [ -z "$staged" ] || [ "$staged" = none ]; then
  echo "nothing staged on $node for $target: not drained"
  exit 0
fi
if ! ${KUBECTL} get node "$node" >/dev/null 2>&1; then
  echo "$node is not a node of the cluster yet: nothing to drain"
  exit 0
fi
drain_node "$target"
echo "$node drained for its upgrade to $target ($staged)"
`;
}

/**
 * `<node>-uncordon`, on the master, the last step of a node's window: waits until the node is
 * Ready with its kubelet at the target (the node's upgrade restarted it), then uncordons it if
 * this stack cordoned it. A node that does not come back stays cordoned and the step fails. With
 * nothing upgraded it finds the node Ready at the target at once.
 */
export function renderWindowsUncordon(input: WindowInput): string {
    const k8s = input.versions.kubernetesVersion;
    return `${BASH_PRELUDE}
node=${sh(input.node)}
target=${sh(k8s)}
timeout=${DRAIN_TIMEOUT_SECONDS}
# the window's version set: ${versionLabel(input.versions)}
${NODE_FNS}if ! ${KUBECTL} get node "$node" >/dev/null 2>&1; then
  echo "$node is not a node of the cluster: its join comes first" >&2
  exit 1
fi
if ! wait_node "$target" ${NODE_READY_TIMEOUT_SECONDS}; then
  printf '%s\\n' "$node is not Ready with kubelet v$target after ${NODE_READY_TIMEOUT_SECONDS / 60} minutes (Ready: $(node_get '{.status.conditions[?(@.type=="Ready")].status}'), kubelet: $(node_get '{.status.nodeInfo.kubeletVersion}')); it stays cordoned if this upgrade cordoned it. See the logs on the node (C:\\\\var\\\\log\\\\kubernetes), then run pulumi up again." >&2
  exit 1
fi
uncordon_node
echo "$node Ready at v$target"
`;
}

/**
 * `<node>-upgrade`, on the Windows node, the middle of its window (after the drain, after the
 * control plane's upgrade): carries out what prepare-runtime staged (STAGING_PLAN), in
 * upgrading-windows-nodes.md's order: kubeadm first, `kubeadm upgrade node` when the Kubernetes
 * version changes (on a worker it fetches the ClusterConfiguration and writes the kubelet's
 * configuration for the new version: cmd/kubeadm/app/cmd/upgrade/node.go, phases preflight,
 * kubelet-config), then the other binaries and containerd's config, and a restart of the agents
 * that use them. A running agent's binary is locked: it is renamed aside (Windows allows renaming
 * a running executable, not overwriting it) and the new file copied in; a failed copy puts the old
 * one back. Nothing restarts until every file is in place, so no agent runs a half-swapped set;
 * Restart-Agents brings back every agent that was running, even when a restart fails. The plan is
 * removed, and the versions recorded, only when the agents run again and are healthy: a retry
 * swaps what is left (files already in place are skipped by their hash) and restarts the agents.
 * Nothing staged: nothing to do.
 */
export function renderNodeUpgrade(input: WindowInput): string {
    const stamp = versionsStamp(input.versions);
    const node = input.node;
    return `${PRELUDE}${AGENTS_FN}
$planFile = ${ps(STAGING_PLAN)}
$stamp = ${ps(stamp)}
$target = ${ps(input.versions.kubernetesVersion)}
if (-not (Test-Path $planFile)) {
  Write-Output "nothing staged on ${node}: no upgrade"
  exit 0
}
$plan = Get-Content -Raw $planFile | ConvertFrom-Json
if ($plan.stamp -ne $stamp) { throw "what is staged on ${node} is for another version set ($($plan.stamp)): its prepare-runtime step stages again; run pulumi up again" }
$installed = $null
if (Test-Path C:\\k\\versions.json) { $installed = Get-Content -Raw C:\\k\\versions.json | ConvertFrom-Json }
$items = @($plan.items)
$services = @()
foreach ($i in $items) { foreach ($s in @($i.services)) { if ($s -and ($services -notcontains $s)) { $services += $s } } }
function Swap-File($Item) {
  if ((Test-Path $Item.target) -and ((Get-FileHash $Item.target).Hash -eq (Get-FileHash $Item.source).Hash)) { return }
  $old = $null
  if (Test-Path $Item.target) { $old = "$($Item.target).$([DateTime]::UtcNow.Ticks).old"; Move-Item -Force $Item.target $old }
  try { Copy-Item -Force $Item.source $Item.target } catch { if ($old) { Move-Item -Force $old $Item.target }; throw }
  Write-Output "swapped $($Item.name)"
}
New-Item -ItemType Directory -Force C:\\var\\log\\kubernetes | Out-Null
foreach ($i in @($items | Where-Object name -EQ 'kubeadm.exe')) { Swap-File $i }
if ((-not $installed) -or ($installed.kubernetesVersion -ne $target)) {
  Invoke-Native "kubeadm upgrade node (see ${NODE_UPGRADE_LOG} on ${node})" { kubeadm.exe upgrade node } | Out-File -Append -Encoding ascii ${NODE_UPGRADE_LOG}
  Write-Output "kubelet configuration for v$target written (kubeadm upgrade node)"
}
foreach ($i in @($items | Where-Object name -NE 'kubeadm.exe')) { Swap-File $i }
Restart-Agents $services
function Test-Healthz([int]$Port) {
  try { return (Invoke-WebRequest -UseBasicParsing -TimeoutSec 5 "http://127.0.0.1:$Port/healthz").StatusCode -eq 200 } catch { return $false }
}
for ($n = 0; ; $n++) {
  $down = @($agents | Where-Object { (Get-Service $_ -ErrorAction SilentlyContinue) -and (Get-Service $_).StartType -eq 'Automatic' -and (Get-Service $_).Status -ne 'Running' })
  $kubelet = Test-Healthz 10248
  $proxy = Test-Healthz 10256
  if ($down.Count -eq 0 -and $kubelet -and $proxy) { break }
  if ($n -ge 120) { throw "${node} did not come back after its upgrade: services not running: $down; kubelet healthy: $kubelet; kube-proxy healthy: $proxy; see C:\\var\\log\\kubernetes (the staged files stay: run pulumi up again)" }
  Start-Sleep -Seconds 5
}
Set-Content -Path C:\\k\\versions.json -Value $stamp
Remove-Item -Recurse -Force ${ps(STAGING_DIR)}
Get-ChildItem C:\\k, "$env:ProgramFiles\\containerd" -Filter '*.old' -ErrorAction SilentlyContinue | Remove-Item -Force -ErrorAction SilentlyContinue
Write-Output "${node} upgraded: $(@($items | ForEach-Object { $_.name }) -join ' '); agents restarted: $($services -join ' ')"
`;
}

/** One ordering edge between remote steps, by resource name: `to` waits on `from`. */
export interface StepEdge {
    from: string;
    to: string;
    /** Why the edge exists. */
    why: string;
    /** The graph already has it (before the upgrade steps); false: the wiring adds it. */
    existing: boolean;
}

/**
 * The serialization of the node windows: node i's window (its drain) waits on the uncordon of
 * node i − maxUnavailable, so at most maxUnavailable Windows nodes are out of service at once,
 * in node order. Every window also waits on the control plane's upgrade (upgradeEdges).
 */
export function upgradeWaves(nodeNames: readonly string[], maxUnavailable: number): StepEdge[] {
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) {
        throw new RangeError(`maxUnavailable must be a whole number of at least 1, not ${maxUnavailable}`);
    }
    return nodeNames.flatMap((n, i) =>
        i >= maxUnavailable
            ? [{ from: stepName(nodeNames[i - maxUnavailable], "uncordon"), to: stepName(n, "drain"), why: `at most ${maxUnavailable} node(s) out of service at once`, existing: false }]
            : [],
    );
}

/**
 * Every ordering edge an upgrade relies on, among the master's steps and each Windows node's
 * runtime, join and window: the edges the graph has today and the ones the upgrade steps add
 * (`existing: false`). The wiring, the ordering model test and the upgrade bench share it.
 */
export function upgradeEdges(master: string, nodeNames: readonly string[], maxUnavailable: number): StepEdge[] {
    const m = (step: string) => stepName(master, step);
    const edges: StepEdge[] = [
        { from: m("version-check"), to: m("prepare"), why: "nothing changes on a host before the version check", existing: true },
        { from: m("prepare"), to: m("init"), why: "init needs the packages", existing: true },
        { from: m("init"), to: m("upgrade"), why: "an upgrade needs a control plane", existing: false },
    ];
    for (const n of nodeNames) {
        const s = (step: string) => stepName(n, step);
        edges.push(
            { from: m("version-check"), to: s("prepare-runtime"), why: "nothing changes on a host before the version check", existing: true },
            { from: s("prepare-runtime"), to: s("join"), why: "the join needs the runtime", existing: true },
            { from: m("init"), to: s("join"), why: "the join needs a control plane (podcidr, token)", existing: true },
            { from: m("upgrade"), to: s("join"), why: "a new node's kubelet is the target version: the API server must run it first", existing: false },
            { from: s("prepare-runtime"), to: s("drain"), why: "the drain reads what was staged (stdin)", existing: false },
            { from: s("join"), to: s("drain"), why: "a re-run join writes the target's agent flags before the binaries change", existing: false },
            { from: m("upgrade"), to: s("drain"), why: "nodes after the control plane", existing: false },
            { from: s("drain"), to: s("upgrade"), why: "swap only on a drained node", existing: false },
            { from: s("upgrade"), to: s("uncordon"), why: "schedulable again once upgraded", existing: false },
        );
    }
    return [...edges, ...upgradeWaves(nodeNames, maxUnavailable)];
}
