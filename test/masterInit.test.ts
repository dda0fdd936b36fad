// The master's init, version check and preparation, run against stand-ins that leave the states
// real kubeadm leaves (controlPlaneFakes.ts): a first run, a second run on its result, and a run
// that fails half way followed by a retry.
import * as assert from "assert";
import * as linux from "../components/scripts/linux";
import { controlPlaneFakes, INIT_PHASES, kubeadmCalls, prepareToolFakes } from "./controlPlaneFakes";
import { defaultAddresses } from "./fixtures";
import { sandbox, Sandbox, shellcheck } from "./shell";

const plan = defaultAddresses(1);
const input: linux.MasterInitInput = { kubernetesVersion: "1.35.4", master: plan.master, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, publicIp: "20.0.0.1" };
const init = linux.renderMasterInit(input);

function failAfter(sb: Sandbox, phase: string | undefined): void {
    sb.run(phase ? `echo ${phase} > "$SANDBOX/fail-after"` : `rm -f "$SANDBOX/fail-after"`);
}

function addonsExist(sb: Sandbox): boolean {
    return ["cluster-info", "coredns", "kube-proxy"].every((f) => sb.exists(`state/${f}`));
}

describe("master init (kubeadm stand-in with kubeadm's phases)", () => {
    it("first run initialises and records it; a second run calls kubeadm zero times and names the same cluster", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        const first = sb.run(init);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init"]);
        assert.ok(sb.exists("etc/kubernetes/hybrid-k8s/init-complete"), "the marker is written");
        assert.ok(addonsExist(sb));
        const id = linux.clusterIdFromInit(first.stdout);
        assert.match(id, /^sha256:[0-9a-f]{64}$/);
        const second = sb.run(init);
        assert.strictEqual(second.code, 0, second.stderr);
        assert.match(second.stdout, /already initialised/);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init"], "no kubeadm call on the second run");
        assert.strictEqual(linux.clusterIdFromInit(second.stdout), id, "same cluster, same identity");
    });

    for (const phase of ["kubeconfig", "wait-control-plane", "upload-config", "bootstrap-token"]) {
        it(`init failing after its ${phase} phase (admin.conf already written): the retry resets and initialises again`, () => {
            const sb = sandbox();
            controlPlaneFakes(sb);
            failAfter(sb, phase);
            const failed = sb.run(init);
            assert.notStrictEqual(failed.code, 0, "the failed init fails the step");
            assert.ok(sb.exists("etc/kubernetes/admin.conf"), "kubeadm left admin.conf behind (its kubeconfig phase ran)");
            assert.ok(!sb.exists("etc/kubernetes/hybrid-k8s/init-complete"), "no marker for a failed init");
            assert.ok(INIT_PHASES.indexOf(phase) < INIT_PHASES.indexOf("addon"));
            failAfter(sb, undefined);
            const retry = sb.run(init);
            assert.strictEqual(retry.code, 0, retry.stderr);
            assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset", "init"]);
            assert.ok(addonsExist(sb), "the retry leaves cluster-info, CoreDNS and kube-proxy");
            assert.ok(sb.exists("etc/kubernetes/hybrid-k8s/init-complete"));
            const again = sb.run(init);
            assert.strictEqual(again.code, 0, again.stderr);
            assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset", "init"], "and then nothing more");
        });
    }

    it("an init that finished but lost its session before the marker is recorded, never reset", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        assert.strictEqual(sb.run(init).code, 0);
        sb.run(`rm -f /etc/kubernetes/hybrid-k8s/init-complete`);
        const res = sb.run(init);
        assert.strictEqual(res.code, 0, res.stderr);
        assert.match(res.stdout, /an earlier kubeadm init finished/);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init"]);
    });

    it("a new control plane (after reset) has a new identity", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        const before = linux.clusterIdFromInit(sb.run(init).stdout);
        sb.run(`rm -f /etc/kubernetes/hybrid-k8s/init-complete; rm -rf "$SANDBOX/state"`);
        const after = sb.run(init);
        assert.strictEqual(after.code, 0, after.stderr);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset", "init"]);
        assert.notStrictEqual(linux.clusterIdFromInit(after.stdout), before);
    });

    it("a kubeadm config that changed after init fails loudly, naming the field, and touches nothing", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        assert.strictEqual(sb.run(init).code, 0);
        const changed = linux.renderMasterInit({ ...input, podCidr: "10.200.0.0/16" });
        const res = sb.run(changed);
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /podSubnet is 10\.244\.0\.0\/16 in the cluster but 10\.200\.0\.0\/16 in the stack/);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init"]);
        assert.strictEqual(sb.run(init).code, 0, "the unchanged config still passes");
    });

    it("clusterIdFromInit refuses output without the CA line", () => {
        assert.throws(() => linux.clusterIdFromInit("control plane ready"), /names no cluster CA/);
        assert.strictEqual(linux.clusterIdFromInit("x\ncluster-ca sha256:ab12\ncontrol plane ready"), "sha256:ab12");
    });
});

describe("master version check (kubelets never ahead of the API server)", () => {
    const check = (v: string) => linux.renderVersionCheck(v);
    function runningAt(version: string | undefined): Sandbox {
        const sb = sandbox();
        if (version) {
            sb.run(`mkdir -p /etc/kubernetes/manifests && printf '    image: registry.k8s.io/kube-apiserver:v${version}\\n' > /etc/kubernetes/manifests/kube-apiserver.yaml`);
        }
        return sb;
    }

    it("passes shellcheck", () => {
        assert.strictEqual(shellcheck(check("1.35.4")), "");
    });

    it("a new cluster, the same version, a newer patch, the next minor: goes through (twice, same answer)", () => {
        for (const [running, want] of [[undefined, "1.36.0"], ["1.35.4", "1.35.4"], ["1.35.4", "1.35.5"], ["1.34.2", "1.35.0"]] as Array<[string | undefined, string]>) {
            const sb = runningAt(running);
            for (const n of [1, 2]) {
                const r = sb.run(check(want));
                assert.strictEqual(r.code, 0, `${running} → ${want} (run ${n}): ${r.stderr}`);
            }
        }
    });

    it("a skipped minor and a downgrade are refused before anything changes, naming the key and what to do", () => {
        const sb = runningAt("1.35.4");
        const r = sb.run(check("1.37.0"));
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /hybrid-k8s:kubernetesVersion is 1\.37\.0 but the control plane runs v1\.35\.4: kubeadm upgrades one minor version at a time, so go through 1\.35\.4 → 1\.36\.x → 1\.37\.0/);
        assert.match(r.stderr, /pulumi config set hybrid-k8s:kubernetesVersion 1\.35\.4/);
        for (const older of ["1.35.1", "1.34.2"]) {
            const d = sb.run(check(older));
            assert.strictEqual(d.code, 1, older);
            assert.match(d.stderr, /downgrades are not supported/);
        }
        // once the control plane runs 1.36, the next step goes through
        sb.run(`printf '    image: registry.k8s.io/kube-apiserver:v1.36.2\\n' > /etc/kubernetes/manifests/kube-apiserver.yaml`);
        assert.strictEqual(sb.run(check("1.37.0")).code, 0);
    });
});

describe("master prepare", () => {
    const prepare = linux.renderMasterPrepare({ kubernetesVersion: "1.35.4", containerdVersion: "2.1.4" });

    /** A host with containerd 2.1.4 installed and its default config, and the given Kubernetes tools. */
    function host(tools: { kubeadm?: string; kubelet?: string; kubectl?: string }, containerdInstalled = true): Sandbox {
        const sb = sandbox();
        prepareToolFakes(sb, `{ [ ${containerdInstalled} = true ] || [ -f "$SANDBOX/ctr" ]; } && echo "containerd github.com/containerd/containerd/v2 v2.1.4 abc" || exit 127`);
        const v = (name: string) => `cat "$SANDBOX/${name}-version" 2>/dev/null || echo ${tools[name as keyof typeof tools] ?? "missing"}`;
        sb.fake("kubeadm", `echo "v$(${v("kubeadm")})"`);
        sb.fake("kubelet", `echo "Kubernetes v$(${v("kubelet")})"`);
        sb.fake("kubectl", `echo "Client Version: v$(${v("kubectl")})"`);
        sb.fake("apt-get", `case "$*" in *kubeadm=*) for t in kubeadm kubelet kubectl; do echo 1.35.4 > "$SANDBOX/$t-version"; done ;; esac`);
        return sb;
    }
    const installs = (sb: Sandbox) => sb.calls("apt-get").filter((c) => c.includes("kubeadm=")).length;

    it("installs again when kubelet or kubectl differ, even if kubeadm matches", () => {
        for (const tools of [{ kubeadm: "1.35.4", kubelet: "1.34.1", kubectl: "1.35.4" }, { kubeadm: "1.35.4", kubelet: "1.35.4", kubectl: "1.36.0" }]) {
            const sb = host(tools);
            const first = sb.run(prepare);
            assert.strictEqual(first.code, 0, first.stderr);
            assert.strictEqual(installs(sb), 1, JSON.stringify(tools));
            assert.strictEqual(sb.run(prepare).code, 0);
            assert.strictEqual(installs(sb), 1, "nothing installed on the second run");
        }
    });

    it("every apt-get waits for the dpkg lock unattended-upgrades holds on a fresh VM", () => {
        const sb = host({}, false);
        const r = sb.run(prepare);
        assert.strictEqual(r.code, 0, r.stderr);
        const calls = sb.calls("apt-get").filter((c) => /\b(update|install)\b/.test(c));
        assert.ok(calls.length >= 3, calls.join("\n"));
        for (const c of calls) {
            assert.match(c, /-o DPkg::Lock::Timeout=600/, c);
        }
    });

    it("pins the sandbox image kubeadm 1.35 expects (pause 3.10.1) in containerd's config, once", () => {
        assert.strictEqual(linux.pauseImage("1.35.4"), "registry.k8s.io/pause:3.10.1");
        assert.strictEqual(linux.pauseImage("1.33.2"), "registry.k8s.io/pause:3.10");
        const sb = host({ kubeadm: "1.35.4", kubelet: "1.35.4", kubectl: "1.35.4" });
        const first = sb.run(prepare);
        assert.strictEqual(first.code, 0, first.stderr);
        const config = sb.file("etc/containerd/config.toml");
        assert.match(config, /^  sandbox = 'registry\.k8s\.io\/pause:3\.10\.1'$/m);
        assert.doesNotMatch(config, /pause:3\.10'/);
        assert.strictEqual(sb.run(prepare).code, 0);
        assert.strictEqual(sb.file("etc/containerd/config.toml"), config, "the second run leaves the config as it was");
    });

    it("a run that fails half way (a download) succeeds on the retry", () => {
        const sb = host({}, false);
        sb.fake("tar", 'touch "$SANDBOX/ctr"');
        sb.fake("curl", 'if [ -f "$SANDBOX/online" ]; then exit 0; fi; exit 22');
        const failed = sb.run(prepare);
        assert.notStrictEqual(failed.code, 0);
        assert.strictEqual(installs(sb), 0, "nothing installed after the failed download");
        sb.run('touch "$SANDBOX/online"');
        const retry = sb.run(prepare);
        assert.strictEqual(retry.code, 0, retry.stderr);
        assert.strictEqual(installs(sb), 1);
    });
});
