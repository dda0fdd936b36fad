// Stand-ins for kubeadm and kubectl on the master that leave the states real kubeadm leaves.
// `kubeadm init` goes through its phases in kubeadm's order (kubernetes/kubernetes
// cmd/kubeadm/app/cmd/init.go, newCmdInit: preflight, certs, kubeconfig, etcd, control-plane,
// kubelet-start, wait-control-plane, upload-config, upload-certs, mark-control-plane,
// bootstrap-token, kubelet-finalize, addon) and writes what each phase writes: a real CA in
// certs, admin.conf in kubeconfig, static pod manifests, the kubeadm-config ConfigMap in
// upload-config, cluster-info in bootstrap-token, CoreDNS and kube-proxy in addon. A file
// `fail-after` in the sandbox names a phase after which init fails (exit 1), as a real failure would.
import { Sandbox } from "./shell";

export const INIT_PHASES = ["preflight", "certs", "kubeconfig", "etcd", "control-plane", "kubelet-start", "wait-control-plane", "upload-config", "upload-certs", "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon"];

export function controlPlaneFakes(sb: Sandbox, version = "1.35.4"): void {
    sb.fake(
        "kubeadm",
        `K="$SANDBOX/etc/kubernetes"; S="$SANDBOX/state"; mkdir -p "$S"
fail_after() { [ -f "$SANDBOX/fail-after" ] && [ "$(cat "$SANDBOX/fail-after")" = "$1" ] && { echo "error execution phase $1" >&2; exit 1; }; return 0; }
case "$1" in
  init)
    fail_after preflight
    mkdir -p "$K/pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$K/pki/ca.key" -out "$K/pki/ca.crt" -subj /CN=kubernetes -days 1 2>/dev/null
    fail_after certs
    echo "apiVersion: v1" > "$K/admin.conf"; fail_after kubeconfig
    mkdir -p "$K/manifests"; touch "$K/manifests/etcd.yaml"; fail_after etcd
    printf '    image: registry.k8s.io/kube-apiserver:v${version}\\n' > "$K/manifests/kube-apiserver.yaml"; fail_after control-plane
    fail_after kubelet-start
    touch "$S/apiserver-up"; fail_after wait-control-plane
    sed -n '/^kind: ClusterConfiguration/,/^---/p' "$K/kubeadm.yaml" > "$S/kubeadm-config"; fail_after upload-config
    fail_after upload-certs; fail_after mark-control-plane
    touch "$S/cluster-info"; fail_after bootstrap-token
    fail_after kubelet-finalize
    touch "$S/coredns" "$S/kube-proxy"; fail_after addon
    ;;
  reset)
    rm -rf "$K/pki" "$K/manifests" "$K/admin.conf" "$K/super-admin.conf" "$K/kubelet.conf" "$S"
    ;;
esac`,
    );
    sb.fake(
        "kubectl",
        `S="$SANDBOX/state"
[ -f "$SANDBOX/etc/kubernetes/admin.conf" ] && [ -f "$S/apiserver-up" ] || exit 1
case "$*" in
  *"get --raw /readyz"*) exit 0 ;;
  *"configmap cluster-info"*) [ -f "$S/cluster-info" ] ;;
  *"deployment coredns"*) [ -f "$S/coredns" ] ;;
  *"daemonset kube-proxy"*) [ -f "$S/kube-proxy" ] ;;
  *"configmap kubeadm-config"*) [ -f "$S/kubeadm-config" ] && cat "$S/kubeadm-config" ;;
  *) exit 1 ;;
esac`,
    );
}

/** The kubeadm subcommands called so far ("init", "reset", ...). */
export function kubeadmCalls(sb: Sandbox): string[] {
    return sb.calls("kubeadm").map((c) => c.split(" ")[0]);
}

/**
 * The tools the master's prepare step calls besides kubeadm (downloads, checksums, temp folders),
 * and containerd answering its default config; `versionAnswer` is the bash that answers
 * `containerd --version` (it may fail: containerd not installed).
 */
export function prepareToolFakes(sb: Sandbox, versionAnswer = 'echo "containerd github.com/containerd/containerd/v2 v2.1.4 abc"'): void {
    for (const c of ["curl", "gpg", "tar", "sha256sum", "cut", "mktemp"]) {
        sb.fake(c, c === "mktemp" ? 'mkdir -p "$SANDBOX/tmp"; echo "$SANDBOX/tmp"' : c === "sha256sum" ? "cat > /dev/null" : "exit 0");
    }
    sb.fake(
        "containerd",
        `case "$1" in
  config) printf "[plugins.'io.containerd.cri.v1.images'.pinned_images]\\n  sandbox = 'registry.k8s.io/pause:3.10'\\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\\n  BinaryName = ''\\n" ;;
  *) ${versionAnswer} ;;
esac`,
    );
}
