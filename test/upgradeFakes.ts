// Stand-ins for a running kubeadm cluster as the upgrade steps see it from the master: packages
// installed by apt from the configured pkgs.k8s.io repository, kubeadm's upgrade of the control
// plane (the API server's manifest, then the kube-proxy addon in its last phases), the kubelet
// restarted by systemd, and Node objects with their cordon, annotations, readiness and kubelet
// version, pods with or without a controller. Each fake records its calls (test/shell.ts).
//
// State lives in $SANDBOX/state: pkg/<name> (installed versions), proxy (the kube-proxy addon's
// version), nodes/<name>/{kubelet,ready,unschedulable,annotation}, pods (lines
// "namespace/name|owner kind|mirror|node"), fail/<key> (how many times that action fails).
// kubeadm enforces its version skew policy as cmd/kubeadm/app/phases/upgrade/policy.go does:
// one minor at a time, and never past its own minor. apt installs only from the repository of
// the version's minor (pkgs.k8s.io has one per minor).
import { Sandbox } from "./shell";

export interface ClusterState {
    /** The API server's version (its manifest) and the kube-proxy addon's; undefined: no control plane. */
    controlPlane?: string;
    proxy?: string;
    /** Installed packages on the master. */
    packages: { kubeadm: string; kubelet: string; kubectl: string };
    /** Nodes: running kubelet version, Ready, cordoned, the upgrade annotation. */
    nodes: Record<string, { kubelet: string; ready?: boolean; unschedulable?: boolean; annotation?: string }>;
    /** Pods: namespace/name, owner kind ("" for none), node. */
    pods?: Array<{ name: string; owner: string; node: string; mirror?: boolean }>;
}

const minor = (v: string) => v.split(".").slice(0, 2).join(".");

export function clusterFakes(sb: Sandbox, st: ClusterState, master = "k8s-master"): void {
    const lines: string[] = ['mkdir -p "$SANDBOX/state/pkg" "$SANDBOX/state/fail" "$SANDBOX/state/nodes"'];
    const put = (file: string, value: string) => lines.push(`printf '%s' '${value}' > "$SANDBOX/state/${file}"`);
    put("pkg/kubeadm", st.packages.kubeadm);
    put("pkg/kubelet", st.packages.kubelet);
    put("pkg/kubectl", st.packages.kubectl);
    put("master", master);
    if (st.controlPlane) {
        lines.push(`mkdir -p /etc/kubernetes/manifests && printf '    image: registry.k8s.io/kube-apiserver:v${st.controlPlane}\\n' > /etc/kubernetes/manifests/kube-apiserver.yaml`);
        put("proxy", st.proxy ?? st.controlPlane);
        lines.push(`mkdir -p /etc/apt/sources.list.d && echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor(st.packages.kubeadm)}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list`);
        lines.push(`mkdir -p /etc/apt/keyrings && echo key > /etc/apt/keyrings/kubernetes-apt-keyring.gpg`);
    }
    for (const [name, n] of Object.entries(st.nodes)) {
        lines.push(`mkdir -p "$SANDBOX/state/nodes/${name}"`);
        put(`nodes/${name}/kubelet`, n.kubelet);
        put(`nodes/${name}/ready`, n.ready === false ? "False" : "True");
        if (n.unschedulable) put(`nodes/${name}/unschedulable`, "true");
        if (n.annotation) put(`nodes/${name}/annotation`, n.annotation);
    }
    lines.push(`: > "$SANDBOX/state/pods"`);
    for (const p of st.pods ?? []) {
        lines.push(`echo '${p.name}|${p.owner}|${p.mirror ? "hash" : ""}|${p.node}' >> "$SANDBOX/state/pods"`);
    }
    const setup = sb.run(lines.join("\n"));
    if (setup.code !== 0) {
        throw new Error(setup.stderr);
    }
    // every fake also appends to calls/all, so tests can read the order across commands
    const common = `S="$SANDBOX/state"; echo "$(basename "$0") $*" | sed 's#--kubeconfig [^ ]* ##' >> "$SANDBOX/calls/all"
fail_once() { local f="$S/fail/$1"; [ -f "$f" ] && [ "$(cat "$f")" -gt 0 ] || return 1; echo $(($(cat "$f") - 1)) > "$f"; return 0; }`;

    sb.fake(
        "kubeadm",
        `${common}
minor() { echo "$1" | cut -d. -f2; }
case "$1 $2" in
  "version -o") echo "v$(cat "$S/pkg/kubeadm")" ;;
  "upgrade plan") echo "[upgrade/versions] Cluster version: $(sed -n 's#.*kube-apiserver:##p' "$SANDBOX/etc/kubernetes/manifests/kube-apiserver.yaml")"; echo "[upgrade/versions] kubeadm version: v$(cat "$S/pkg/kubeadm")" ;;
  "upgrade apply")
    [ "$3" = -y ] || { echo "kubeadm would ask for confirmation" >&2; exit 1; }
    want="\${4#v}"; have=$(cat "$S/pkg/kubeadm")
    cluster=$(sed -n 's#.*kube-apiserver:v##p' "$SANDBOX/etc/kubernetes/manifests/kube-apiserver.yaml")
    if [ "$(minor "$want")" -gt "$(minor "$have")" ]; then echo "[upgrade/version] FATAL: Specified version to upgrade to \\"v$want\\" is at least one minor release higher than the kubeadm minor release" >&2; exit 1; fi
    if [ "$(minor "$want")" -gt $(($(minor "$cluster") + 1)) ]; then echo "[upgrade/version] FATAL: Specified version to upgrade to \\"v$want\\" is too high; kubeadm can upgrade only 1 minor version at a time" >&2; exit 1; fi
    # its health check runs a Job (cmd/kubeadm/app/phases/upgrade/health.go, createJob): it needs a schedulable node
    if [ -z "$(for d in "$S"/nodes/*/; do [ -f "$d/unschedulable" ] || echo "$d"; done)" ]; then echo "[upgrade] FATAL: Job \\"upgrade-health-check\\" in the namespace \\"kube-system\\" did not complete: 0/1 nodes are available: node(s) were unschedulable" >&2; exit 1; fi
    printf '    image: registry.k8s.io/kube-apiserver:v%s\\n' "$want" > "$SANDBOX/etc/kubernetes/manifests/kube-apiserver.yaml"
    if fail_once apply-addon; then echo "error execution phase addon/kube-proxy: unable to update daemonset" >&2; exit 1; fi
    printf '%s' "$want" > "$S/proxy"
    echo "[upgrade] SUCCESS! A control plane node of your cluster was upgraded to \\"v$want\\"."
    ;;
  *) echo "unexpected kubeadm $*" >&2; exit 1 ;;
esac`,
    );
    sb.fake(
        "apt-get",
        `${common}
case "$*" in
  *install*)
    for spec in "$@"; do
      case "$spec" in
        *=*-\\*)
          p="\${spec%%=*}"; v="\${spec#*=}"; v="\${v%-\\*}"
          m=$(echo "$v" | cut -d. -f1-2)
          grep -q "core:/stable:/v$m/deb" "$SANDBOX/etc/apt/sources.list.d/kubernetes.list" || { echo "E: Version '$v-*' for '$p' was not found" >&2; exit 100; }
          if fail_once "apt-$p"; then echo "E: Failed to fetch $p $v: Connection timed out" >&2; exit 100; fi
          printf '%s' "$v" > "$S/pkg/$p"
          ;;
      esac
    done ;;
esac`,
    );
    sb.fake("kubelet", `echo "Kubernetes v$(cat "$SANDBOX/state/pkg/kubelet")"`);
    sb.fake("systemctl", `${common}; if [ "$1 $2" = "restart kubelet" ]; then cp "$S/pkg/kubelet" "$S/nodes/$(cat "$S/master")/kubelet"; fi`);
    for (const c of ["curl", "gpg", "install"]) {
        sb.fake(c, c === "install" ? 'mkdir -p "${@: -1}"' : "exit 0");
    }
    sb.fake(
        "kubectl",
        `${common}
args=()
while [ $# -gt 0 ]; do case "$1" in --kubeconfig) shift 2 ;; -n) shift 2 ;; *) args+=("$1"); shift ;; esac; done
set -- "\${args[@]}"
node_dir() { local d="$S/nodes/$1"; [ -d "$d" ] || { echo "Error from server (NotFound): nodes \\"$1\\" not found" >&2; exit 1; }; echo "$d"; }
case "$1" in
  version) echo "Client Version: v$(cat "$S/pkg/kubectl")"; echo "Kustomize Version: v5.7.1" ;;
  wait) exit 0 ;;
  cordon) d=$(node_dir "$2") || exit 1; printf true > "$d/unschedulable"; echo "node/$2 cordoned" ;;
  uncordon) d=$(node_dir "$2") || exit 1; rm -f "$d/unschedulable"; echo "node/$2 uncordoned" ;;
  annotate)
    d=$(node_dir "$3") || exit 1
    if [ "$4" = --overwrite ]; then printf '%s' "\${5#*=}" > "$d/annotation"; else rm -f "$d/annotation"; fi ;;
  drain)
    d=$(node_dir "$2") || exit 1
    if fail_once drain; then echo "error: unable to drain node \\"$2\\" due to error: global timeout reached: 10m0s" >&2; printf true > "$d/unschedulable"; exit 1; fi
    bare=$(awk -F'|' -v n="$2" '$4 == n && $2 == "" && $3 == "" { printf "%s ", $1 }' "$S/pods")
    printf true > "$d/unschedulable"
    if [ -n "$bare" ] && ! [[ "$*" == *--force* ]]; then echo "error: unable to drain node \\"$2\\" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): $bare" >&2; exit 1; fi
    # evicted pods go back to Pending (their controllers recreate them elsewhere)
    awk -F'|' -v n="$2" 'BEGIN { OFS = "|" } $4 == n && $2 != "DaemonSet" && $3 == "" { $4 = "" } { print }' "$S/pods" > "$S/pods.new" && mv "$S/pods.new" "$S/pods"
    echo "node/$2 drained" ;;
  get)
    case "$2" in
      --raw) exit 0 ;;
      daemonset) printf 'registry.k8s.io/kube-proxy:v%s' "$(cat "$S/proxy")" ;;
      pods)
        n=$(echo "$*" | sed -n 's/.*spec.nodeName=\\([^,]*\\).*/\\1/p')
        awk -F'|' -v n="$n" '$4 == n { print $1 "|" $2 "|" $3 }' "$S/pods" ;;
      node)
        d=$(node_dir "$3") || exit 1
        case "$*" in
          *unschedulable*) cat "$d/unschedulable" 2>/dev/null || true ;;
          *cordoned-for-upgrade*) cat "$d/annotation" 2>/dev/null || true ;;
          *Ready*) cat "$d/ready" ;;
          *kubeletVersion*) printf 'v%s' "$(cat "$d/kubelet")" ;;
        esac ;;
      *) echo "unexpected kubectl $*" >&2; exit 1 ;;
    esac ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac`,
    );
}

/** The calls of the cluster's fakes, in order ("kubeadm upgrade apply -y v1.35.5", "kubectl cordon k8s-win-1", ...). */
export function allCalls(sb: Sandbox): string[] {
    return sb.exists("calls/all") ? sb.file("calls/all").split("\n").filter((l) => l) : [];
}

/** A fake's call count of one kind, e.g. calls(sb, "kubeadm", /^upgrade apply/). */
export function count(sb: Sandbox, cmd: string, re: RegExp): number {
    return sb.calls(cmd).filter((c) => re.test(c)).length;
}

/** The sandbox's cluster as the tests read it back. */
export function readCluster(sb: Sandbox): { controlPlane: string; proxy: string; packages: Record<string, string>; node: (n: string) => { kubelet: string; unschedulable: boolean; annotation?: string }; pods: string[] } {
    const read = (p: string) => (sb.exists(`state/${p}`) ? sb.file(`state/${p}`) : undefined);
    return {
        controlPlane: /kube-apiserver:v([\d.]+)/.exec(sb.file("etc/kubernetes/manifests/kube-apiserver.yaml"))?.[1] ?? "",
        proxy: read("proxy") ?? "",
        packages: { kubeadm: read("pkg/kubeadm")!, kubelet: read("pkg/kubelet")!, kubectl: read("pkg/kubectl")! },
        node: (n) => ({ kubelet: read(`nodes/${n}/kubelet`)!, unschedulable: read(`nodes/${n}/unschedulable`) === "true", annotation: read(`nodes/${n}/annotation`) }),
        pods: (read("pods") ?? "").split("\n").filter((l) => l),
    };
}

/** Makes the next `times` runs of an action fail (keys: apply-addon, apt-<package>, drain). */
export function failNext(sb: Sandbox, key: string, times = 1): void {
    sb.run(`mkdir -p "$SANDBOX/state/fail" && echo ${times} > "$SANDBOX/state/fail/${key}"`);
}
