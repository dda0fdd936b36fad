import * as assert from "assert";
import { torBridgeConf, torMasqueradeScript } from "../components/manifests/cni";
import * as linux from "../components/scripts/linux";
import { sandbox, shellcheck } from "./shell";
import { defaultAddresses } from "./fixtures";
import { controlPlaneFakes } from "./controlPlaneFakes";

const plan = defaultAddresses(2);
const initInput: linux.MasterInitInput = {
    kubernetesVersion: "1.35.4",
    master: plan.master,
    podCidr: plan.podCidr,
    serviceCidr: plan.serviceCidr,
    publicIp: "20.0.0.1",
};

describe("Linux master scripts", () => {
    const scripts: Record<string, string> = {
        prepare: linux.renderMasterPrepare({ kubernetesVersion: "1.35.4", containerdVersion: "2.1.4" }),
        init: linux.renderMasterInit(initInput),
        "init (tor)": linux.renderMasterInit({ ...initInput, tor: { cniConfig: torBridgeConf(plan.master, "cbr0"), masqueradeScript: torMasqueradeScript(plan.podCidr, plan.vnetCidr) } }),
        ready: linux.renderReady(),
        kubeconfig: linux.renderReadKubeconfig("20.0.0.1"),
        podcidr: linux.renderPodCidr(plan.windows[0], "windows"),
        remove: linux.renderRemoveNode("k8s-win-1"),
        token: linux.renderJoinToken("k8s-win-1"),
        "print secret": linux.renderPrintSecret(linux.joinCommandFile("k8s-win-1")),
        "delete tokens": linux.renderDeleteJoinTokens("k8s-win-1"),
        "version check": linux.renderVersionCheck("1.35.4"),
        agents: linux.renderAgentKubeconfigs({ server: "https://10.240.0.4:6443", accounts: [{ key: "flannel", namespace: "kube-flannel", serviceAccount: "flannel", secret: "flannel-windows-token" }] }),
    };
    for (const [name, text] of Object.entries(scripts)) {
        it(`${name}: passes shellcheck`, () => {
            assert.strictEqual(shellcheck(text), "");
        });
    }

    it("prepare loads and persists br_netfilter/overlay and the sysctls the seed requires", () => {
        const s = scripts.prepare;
        assert.match(s, /cat > \/etc\/modules-load\.d\/k8s\.conf <<'EOF'\noverlay\nbr_netfilter\nEOF/);
        assert.match(s, /net\.bridge\.bridge-nf-call-iptables = 1/);
        assert.match(s, /net\.ipv4\.ip_forward = 1/);
        assert.match(s, /SystemdCgroup = true/);
        assert.match(s, /kubeadm='1\.35\.4-\*'/);
        assert.match(s, /pkgs\.k8s\.io\/core:\/stable:\/v1\.35\/deb/);
        assert.match(s, /sha256sum -c/);
    });

    it("prepare: a first run installs; a run on a prepared host downloads and installs nothing", () => {
        const sb = sandbox();
        // nothing installed yet: containerd and kubeadm are missing
        for (const c of ["curl", "gpg", "tar", "sha256sum", "cut", "mktemp"]) {
            sb.fake(c, c === "mktemp" ? 'mkdir -p "$SANDBOX/tmp"; echo "$SANDBOX/tmp"' : c === "sha256sum" ? "cat > /dev/null" : "exit 0");
        }
        sb.fake("containerd", `case "$1" in
  config) printf "[plugins.'io.containerd.cri.v1.images'.pinned_images]\\n  sandbox = 'registry.k8s.io/pause:3.10'\\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\\n  BinaryName = ''\\n" ;;
  *) [ -f "$SANDBOX/containerd-installed" ] && echo "containerd github.com/containerd/containerd/v2 v2.1.4 abc" || exit 127 ;;
esac`);
        sb.fake("kubeadm", `[ -f "$SANDBOX/kubeadm-installed" ] && echo v1.35.4 || exit 127`);
        sb.fake("kubelet", `[ -f "$SANDBOX/kubeadm-installed" ] && echo "Kubernetes v1.35.4" || exit 127`);
        sb.fake("kubectl", `[ -f "$SANDBOX/kubeadm-installed" ] && echo "Client Version: v1.35.4" || exit 127`);
        sb.fake("apt-get", 'case "$*" in *kubeadm=*) touch "$SANDBOX/kubeadm-installed" ;; esac');
        const first = sb.run(scripts.prepare);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.ok(sb.calls("curl").some((c) => c.includes("containerd-2.1.4-linux-amd64.tar.gz")), "downloads containerd");
        assert.ok(sb.calls("apt-get").some((c) => c.includes("kubeadm=1.35.4-*")), "installs kubeadm");
        assert.ok(sb.exists("etc/sysctl.d/99-kubernetes.conf"));
        // containerd 2.x's default config has no SystemdCgroup key: it is added under the runc options
        assert.match(sb.file("etc/containerd/config.toml"), /runtimes\.runc\.options\]\nSystemdCgroup = true\n  BinaryName = ''/);
        // now the host is prepared
        sb.run("touch \"$SANDBOX/containerd-installed\"");
        const curls = sb.calls("curl").length;
        const installs = sb.calls("apt-get").filter((c) => c.includes("install")).length;
        const second = sb.run(scripts.prepare);
        assert.strictEqual(second.code, 0, second.stderr);
        assert.strictEqual(sb.calls("curl").length, curls, "no download on the second run");
        assert.strictEqual(sb.calls("apt-get").filter((c) => c.includes("install")).length, installs, "no install on the second run");
    });

    it("kubeadm config: one pod CIDR, the service CIDR, node CIDR allocation off, public IP in the certificate", () => {
        const cfg = linux.renderKubeadmConfig(initInput);
        assert.match(cfg, /podSubnet: 10\.244\.0\.0\/16/);
        assert.match(cfg, /serviceSubnet: 10\.96\.0\.0\/12/);
        assert.match(cfg, /name: allocate-node-cidrs\n\s+value: "false"/);
        assert.match(cfg, /certSANs:\n\s+- 20\.0\.0\.1/);
        assert.match(cfg, /advertiseAddress: 10\.240\.0\.4/);
    });

    it("init: the first run calls kubeadm init once with the config; the second run calls it zero times", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        const first = sb.run(scripts.init);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.deepStrictEqual(sb.calls("kubeadm").filter((c) => c.startsWith("init")), [`init --config ${sb.dir}/etc/kubernetes/kubeadm.yaml --skip-token-print`]);
        const written = sb.file("etc/kubernetes/kubeadm.yaml");
        assert.match(written, /podSubnet: 10\.244\.0\.0\/16/);
        assert.match(written, /serviceSubnet: 10\.96\.0\.0\/12/);
        const second = sb.run(scripts.init);
        assert.strictEqual(second.code, 0, second.stderr);
        assert.match(second.stdout, /already initialised/);
        assert.strictEqual(sb.calls("kubeadm").filter((c) => c.startsWith("init")).length, 1);
    });

    it("init: a failing kubeadm init fails the step (non-zero exit)", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        sb.run("echo preflight > \"$SANDBOX/fail-after\"");
        const res = sb.run(scripts.init);
        assert.notStrictEqual(res.code, 0);
        assert.doesNotMatch(res.stdout, /control plane ready/);
    });

    it("init: an interrupted init is reset before trying again; a healthy one never is", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        sb.run("mkdir -p /etc/kubernetes/manifests && touch /etc/kubernetes/manifests/kube-apiserver.yaml");
        assert.strictEqual(sb.run(scripts.init).code, 0);
        assert.deepStrictEqual(sb.calls("kubeadm").map((c) => c.split(" ")[0]), ["reset", "init"]);
        sb.run(scripts.init);
        assert.ok(!sb.calls("kubeadm").slice(2).includes("reset -f"));
    });

    it("init (tor): writes the bridge CNI config for the master's own pod /24", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        assert.strictEqual(sb.run(scripts["init (tor)"]).code, 0);
        const conf = JSON.parse(sb.file("etc/cni/net.d/10-tor-bridge.conflist"));
        assert.strictEqual(conf.plugins[0].ipMasq, false);
        assert.deepStrictEqual(conf.plugins[0].ipam.ranges, [[{ subnet: "10.244.0.0/24", gateway: "10.244.0.1" }]]);
    });

    it("agent kubeconfigs: one JSON object of kubeconfigs at the private address, from the service-account tokens", () => {
        const sb = sandbox();
        sb.run("mkdir -p /etc/kubernetes/pki && printf 'CA' > /etc/kubernetes/pki/ca.crt");
        sb.fake("kubectl", `case "$*" in
  *"get secret"*flannel-windows-token*) printf '%s' "$(printf 'flannel-token' | base64)" ;;
  *"get secret"*) printf '' ;;
  *) cat > /dev/null ;;
esac`);
        const res = sb.run(scripts.agents);
        assert.strictEqual(res.code, 0, res.stderr);
        assert.doesNotMatch(res.stdout, /flannel-token/, "the building step prints no secret");
        const printed = sb.run(linux.renderPrintSecret(linux.AGENT_KUBECONFIGS_FILE));
        assert.strictEqual(printed.code, 0, printed.stderr);
        const out = JSON.parse(printed.stdout);
        assert.deepStrictEqual(Object.keys(out), ["flannel"]);
        assert.match(out.flannel, /server: https:\/\/10\.240\.0\.4:6443/);
        assert.match(out.flannel, /token: flannel-token/);
        assert.match(out.flannel, /certificate-authority-data: Q0E=/);
        // a token that never appears fails the step, naming the account
        const empty = sandbox();
        empty.run("mkdir -p /etc/kubernetes/pki && printf 'CA' > /etc/kubernetes/pki/ca.crt");
        empty.fake("kubectl", `case "$*" in *"get secret"*) printf '' ;; *) cat > /dev/null ;; esac`);
        const failed = empty.run(scripts.agents);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /no token for kube-flannel\/flannel/);
    });

    describe("podcidr", () => {
        function fakeNode(sb: ReturnType<typeof sandbox>, state: "missing" | "empty" | string) {
            // kubectl get node: exists unless missing; jsonpath: the current podCIDR
            sb.fake(
                "kubectl",
                `args="$*"
case "$args" in
  *"get node"*"jsonpath"*) [ "${state}" = empty ] || [ "${state}" = missing ] || printf '%s' "${state}"; [ -f "$SANDBOX/created" ] && printf '%s' "$(cat "$SANDBOX/created")"; exit 0 ;;
  *"get node"*) [ "${state}" != missing ] || [ -f "$SANDBOX/created" ] ;;
  *"create -f -"*) cat > "$SANDBOX/node.json"; echo -n 10.244.1.0/24 > "$SANDBOX/created" ;;
  *patch*) exit 0 ;;
esac`,
            );
        }

        it("creates the Node with its podCIDR when the kubelet has not registered yet", () => {
            const sb = sandbox();
            fakeNode(sb, "missing");
            const res = sb.run(scripts.podcidr);
            assert.strictEqual(res.code, 0, res.stderr);
            const node = JSON.parse(sb.file("node.json"));
            assert.deepStrictEqual(node.spec, { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"] });
            assert.strictEqual(node.metadata.labels["kubernetes.io/os"], "windows");
        });

        it("patches an empty podCIDR once", () => {
            const sb = sandbox();
            fakeNode(sb, "empty");
            assert.strictEqual(sb.run(scripts.podcidr).code, 0);
            assert.strictEqual(sb.calls("kubectl").filter((c) => c.includes("patch")).length, 1);
        });

        it("is a no-op when the value matches", () => {
            const sb = sandbox();
            fakeNode(sb, "10.244.1.0/24");
            const res = sb.run(scripts.podcidr);
            assert.strictEqual(res.code, 0);
            assert.strictEqual(sb.calls("kubectl").filter((c) => c.includes("patch") || c.includes("create")).length, 0);
        });

        it("fails loudly when the node already has another podCIDR", () => {
            const sb = sandbox();
            fakeNode(sb, "10.244.9.0/24");
            const res = sb.run(scripts.podcidr);
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /has podCIDR 10\.244\.9\.0\/24, but the stack assigns 10\.244\.1\.0\/24/);
        });
    });

    it("remove: drains and deletes a node that exists, and succeeds when it is already gone", () => {
        const present = sandbox();
        present.fake("kubectl", "exit 0");
        assert.strictEqual(present.run(scripts.remove).code, 0);
        assert.deepStrictEqual(present.calls("kubectl").map((c) => c.split(" ")[2]), ["get", "drain", "delete"]);
        const gone = sandbox();
        gone.fake("kubectl", `case "$*" in *"get node"*) exit 1 ;; esac`);
        assert.strictEqual(gone.run(scripts.remove).code, 0);
        assert.strictEqual(gone.calls("kubectl").length, 1);
    });
});
