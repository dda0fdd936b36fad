// The upgrade steps that run on the master (bash), run against stand-ins for a kubeadm cluster
// (test/upgradeFakes.ts): the version check, prepare on a running control plane, the control
// plane's upgrade, and a Windows node's drain and uncordon. Each: a first run, a second run on its
// result (changes nothing), a run that fails half way followed by a retry.
import * as assert from "assert";
import * as fc from "fast-check";
import * as linux from "../components/scripts/linux";
import * as upgrade from "../components/scripts/upgrade";
import { prepareToolFakes } from "./controlPlaneFakes";
import { VERSIONS } from "./fixtures";
import { allCalls, clusterFakes, ClusterState, count, failNext, readCluster } from "./upgradeFakes";
import { sandbox, Sandbox, shellcheck } from "./shell";

const at = (v: string): ClusterState["packages"] => ({ kubeadm: v, kubelet: v, kubectl: v });

describe("upgrade scripts pass shellcheck", () => {
    const scripts: Record<string, string> = {
        "master upgrade": upgrade.renderMasterUpgrade({ kubernetesVersion: "1.35.5", nodeName: "k8s-master" }),
        drain: upgrade.renderWindowsDrain({ node: "k8s-win-1", versions: VERSIONS }),
        uncordon: upgrade.renderWindowsUncordon({ node: "k8s-win-1", versions: VERSIONS }),
    };
    for (const [name, text] of Object.entries(scripts)) {
        it(name, () => assert.strictEqual(shellcheck(text), ""));
    }
});

describe("version check: the running version, a newer patch or the next minor; nothing else", () => {
    /** What the check must answer, from the two versions alone. */
    function oracle(running: string, want: string): "ok" | "skip" | "down" | "major" {
        const [rM, rm, rp] = running.split(".").map(Number);
        const [wM, wm, wp] = want.split(".").map(Number);
        if (wM !== rM) return "major";
        if (wm < rm || (wm === rm && wp < rp)) return "down";
        if (wm > rm + 1) return "skip";
        return "ok";
    }
    function runningAt(version: string | undefined): Sandbox {
        const sb = sandbox();
        if (version) {
            sb.run(`mkdir -p /etc/kubernetes/manifests && printf '    image: registry.k8s.io/kube-apiserver:v${version}\\n' > /etc/kubernetes/manifests/kube-apiserver.yaml`);
        }
        return sb;
    }

    it("agrees with the rule for any pair of versions, and answers the same twice", () => {
        const version = fc.tuple(fc.constantFrom(1, 2), fc.integer({ min: 30, max: 37 }), fc.integer({ min: 0, max: 12 })).map((t) => t.join("."));
        fc.assert(
            fc.property(version, version, (running, want) => {
                const sb = runningAt(running);
                const verdict = oracle(running, want);
                for (let n = 0; n < 2; n++) {
                    const r = sb.run(linux.renderVersionCheck(want));
                    assert.strictEqual(r.code === 0, verdict === "ok", `${running} → ${want}: ${r.stdout}${r.stderr}`);
                }
            }),
            { numRuns: 40, seed: 17 },
        );
    });

    it("a skipped minor is refused before anything changes, naming the versions to go through", () => {
        const sb = runningAt("1.33.4");
        const r = sb.run(linux.renderVersionCheck("1.35.2"));
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /hybrid-k8s:kubernetesVersion is 1\.35\.2 but the control plane runs v1\.33\.4/);
        assert.match(r.stderr, /go through 1\.33\.4 → 1\.34\.x → 1\.35\.2/);
        assert.match(r.stderr, /Nothing was changed/);
        const three = runningAt("1.32.1").run(linux.renderVersionCheck("1.35.0"));
        assert.match(three.stderr, /go through 1\.32\.1 → 1\.33\.x → 1\.34\.x → 1\.35\.0/);
    });

    it("a downgrade (older patch or minor) is refused, saying how to set it back", () => {
        for (const want of ["1.35.3", "1.34.9"]) {
            const r = runningAt("1.35.4").run(linux.renderVersionCheck(want));
            assert.strictEqual(r.code, 1, want);
            assert.match(r.stderr, /downgrades are not supported/);
            assert.match(r.stderr, /pulumi config set hybrid-k8s:kubernetesVersion 1\.35\.4/);
        }
    });

    it("a new cluster, the same version, a patch, the next minor: go through and say what follows", () => {
        assert.match(runningAt(undefined).run(linux.renderVersionCheck("1.35.4")).stdout, /no control plane yet/);
        assert.match(runningAt("1.35.4").run(linux.renderVersionCheck("1.35.4")).stdout, /no version change/);
        assert.match(runningAt("1.35.4").run(linux.renderVersionCheck("1.35.5")).stdout, /patch upgrade/);
        assert.match(runningAt("1.34.2").run(linux.renderVersionCheck("1.35.5")).stdout, /minor upgrade/);
    });
});

describe("master prepare on a running control plane", () => {
    function host(running: string | undefined, tools: string): Sandbox {
        const sb = sandbox();
        prepareToolFakes(sb);
        sb.fake("kubeadm", `echo "v$(cat "$SANDBOX/kubeadm-version" 2>/dev/null || echo ${tools})"`);
        sb.fake("kubelet", `echo "Kubernetes v$(cat "$SANDBOX/kubeadm-version" 2>/dev/null || echo ${tools})"`);
        sb.fake("kubectl", `echo "Client Version: v$(cat "$SANDBOX/kubeadm-version" 2>/dev/null || echo ${tools})"`);
        sb.fake("apt-get", `case "$*" in *kubeadm=*) echo 1.35.5 > "$SANDBOX/kubeadm-version" ;; esac`);
        if (running) {
            sb.run(`mkdir -p /etc/kubernetes/manifests && printf '    image: registry.k8s.io/kube-apiserver:v${running}\\n' > /etc/kubernetes/manifests/kube-apiserver.yaml`);
        }
        return sb;
    }
    const prepare = linux.renderMasterPrepare({ kubernetesVersion: "1.35.5", containerdVersion: "2.1.4" });
    const installs = (sb: Sandbox) => count(sb, "apt-get", /kubeadm=|kubelet=|kubectl=/);

    it("does not move kubeadm, kubelet or kubectl (the upgrade step does, in order), first run and second", () => {
        const sb = host("1.35.4", "1.35.4");
        for (const n of [1, 2]) {
            const r = sb.run(prepare);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /a control plane runs on this host: kubeadm, kubelet and kubectl stay as they are; the upgrade step moves them to 1\.35\.5/, `run ${n}`);
        }
        assert.strictEqual(installs(sb), 0);
        assert.strictEqual(count(sb, "apt-mark", /unhold/), 0);
    });

    it("without a control plane it installs the configured version, as before", () => {
        const sb = host(undefined, "1.35.4");
        assert.strictEqual(sb.run(prepare).code, 0);
        assert.strictEqual(installs(sb), 1);
        assert.strictEqual(sb.run(prepare).code, 0);
        assert.strictEqual(installs(sb), 1, "nothing installed on the second run");
    });
});

describe("master upgrade (k8s-master-upgrade)", () => {
    const script = (v: string) => upgrade.renderMasterUpgrade({ kubernetesVersion: v, nodeName: "k8s-master" });
    function cluster(from: string, extra: Partial<ClusterState> = {}): Sandbox {
        const sb = sandbox();
        clusterFakes(sb, { controlPlane: from, packages: at(from), nodes: { "k8s-master": { kubelet: from } }, pods: [{ name: "kube-system/coredns-1", owner: "ReplicaSet", node: "k8s-master" }], ...extra });
        return sb;
    }
    function upgraded(sb: Sandbox, v: string): void {
        const c = readCluster(sb);
        assert.deepStrictEqual([c.controlPlane, c.proxy, c.packages], [v, v, at(v)]);
        assert.deepStrictEqual(c.node("k8s-master"), { kubelet: v, unschedulable: false, annotation: undefined });
    }

    for (const [from, to] of [["1.35.4", "1.35.5"], ["1.34.3", "1.35.5"]]) {
        it(`${from} → ${to}: kubeadm, plan, apply, drain, kubelet and kubectl, restart, uncordon, in that order; a second run does nothing`, () => {
            const sb = cluster(from);
            const first = sb.run(script(to));
            assert.strictEqual(first.code, 0, first.stderr + first.stdout);
            upgraded(sb, to);
            assert.match(first.stdout, new RegExp(`control plane v${from.replace(/\./g, "\\.")} → v1\\.35\\.5`));
            assert.match(first.stdout, /control plane upgraded to v1\.35\.5/);
            // the guide's order, across commands
            const steps = allCalls(sb).filter((c) => /install -y|kubeadm upgrade|kubectl (cordon|drain|uncordon)|systemctl/.test(c)).map((c) => c.replace(/ -o DPkg::Lock::Timeout=600 install -y -q/, " install"));
            assert.deepStrictEqual(steps, [
                `apt-get install kubeadm=${to}-*`,
                `kubeadm upgrade plan v${to}`,
                `kubeadm upgrade apply -y v${to}`,
                "kubectl cordon k8s-master",
                "kubectl drain k8s-master --ignore-daemonsets --delete-emptydir-data --timeout=600s",
                `apt-get install kubelet=${to}-* kubectl=${to}-*`,
                "systemctl daemon-reload",
                "systemctl restart kubelet",
                "kubectl uncordon k8s-master",
            ]);
            const apt = sb.calls("apt-get").filter((c) => c.includes("install"));
            assert.deepStrictEqual(apt.map((c) => c.replace(/.* -q /, "")), [`kubeadm=${to}-*`, `kubelet=${to}-* kubectl=${to}-*`]);
            assert.deepStrictEqual(sb.calls("kubeadm").filter((c) => c.startsWith("upgrade")), [`upgrade plan v${to}`, `upgrade apply -y v${to}`]);
            assert.deepStrictEqual(sb.calls("systemctl"), ["daemon-reload", "restart kubelet"]);
            const kubectl = sb.calls("kubectl").map((c) => c.replace(/^--kubeconfig \S+ /, "")).filter((c) => /^(cordon|drain|uncordon|annotate)/.test(c));
            assert.deepStrictEqual(kubectl.map((c) => c.split(" ")[0]), ["annotate", "cordon", "drain", "uncordon", "annotate"]);
            assert.match(sb.file("etc/apt/sources.list.d/kubernetes.list"), /core:\/stable:\/v1\.35\/deb/);
            assert.deepStrictEqual(readCluster(sb).pods, ["kube-system/coredns-1|ReplicaSet||"], "CoreDNS was evicted (Pending until it is rescheduled)");

            const before = sb.calls("kubectl").length;
            const second = sb.run(script(to));
            assert.strictEqual(second.code, 0, second.stderr);
            assert.match(second.stdout, /control plane already runs v1\.35\.5: nothing to upgrade/);
            assert.strictEqual(count(sb, "apt-get", /install/), 2, "nothing installed");
            assert.strictEqual(count(sb, "kubeadm", /^upgrade/), 2, "no kubeadm upgrade");
            assert.ok(sb.calls("kubectl").slice(before).every((c) => / get |version --client/.test(c)), "only reads");
            upgraded(sb, to);
        });
    }

    it("on a cluster that already runs the target (a first pulumi up) it only reads", () => {
        const sb = cluster("1.35.4");
        const r = sb.run(script("1.35.4"));
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /already runs v1\.35\.4/);
        assert.deepStrictEqual(sb.calls("apt-get"), []);
        assert.deepStrictEqual(sb.calls("systemctl"), []);
        assert.ok(sb.calls("kubectl").every((c) => / get |version --client/.test(c)), sb.calls("kubectl").join("\n"));
    });

    it("kubeadm upgrade apply fails half way (after the control plane, before the addons): the retry applies again and finishes", () => {
        const sb = cluster("1.35.4");
        failNext(sb, "apply-addon");
        const failed = sb.run(script("1.35.5"));
        assert.notStrictEqual(failed.code, 0);
        assert.deepStrictEqual([readCluster(sb).controlPlane, readCluster(sb).proxy], ["1.35.5", "1.35.4"], "the API server moved, the addon did not");
        assert.strictEqual(readCluster(sb).node("k8s-master").unschedulable, false, "not drained yet");
        const retry = sb.run(script("1.35.5"));
        assert.strictEqual(retry.code, 0, retry.stderr);
        upgraded(sb, "1.35.5");
        assert.strictEqual(count(sb, "apt-get", /kubeadm=/), 1, "kubeadm installed once");
        assert.strictEqual(count(sb, "kubeadm", /^upgrade apply/), 2);
    });

    it("the kubelet's install fails after the drain: the node stays cordoned; the retry installs, restarts and uncordons without applying again", () => {
        const sb = cluster("1.35.4");
        failNext(sb, "apt-kubelet", 5);
        const failed = sb.run(script("1.35.5"));
        assert.notStrictEqual(failed.code, 0);
        const mid = readCluster(sb);
        assert.deepStrictEqual([mid.controlPlane, mid.node("k8s-master")], ["1.35.5", { kubelet: "1.35.4", unschedulable: true, annotation: "v1.35.5" }]);
        const retry = sb.run(script("1.35.5"));
        assert.strictEqual(retry.code, 0, retry.stderr);
        upgraded(sb, "1.35.5");
        assert.strictEqual(count(sb, "kubeadm", /^upgrade apply/), 1, "apply ran once");
    });

    it("a retry with a newer target while this step holds the node cordoned uncordons it first (kubeadm's health check needs it)", () => {
        const sb = cluster("1.35.4");
        failNext(sb, "apt-kubelet", 5);
        assert.notStrictEqual(sb.run(script("1.35.5")).code, 0);
        const r = sb.run(script("1.35.6"));
        assert.strictEqual(r.code, 0, r.stderr);
        upgraded(sb, "1.35.6");
    });

    it("a control-plane node its owner cordoned is drained and upgraded, and stays cordoned", () => {
        const sb = cluster("1.35.4", { nodes: { "k8s-master": { kubelet: "1.35.4", unschedulable: true }, "k8s-win-1": { kubelet: "1.35.4" } } });
        const r = sb.run(script("1.35.5"));
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /cordoned before this upgrade, not by it/);
        assert.deepStrictEqual(readCluster(sb).node("k8s-master"), { kubelet: "1.35.5", unschedulable: true, annotation: undefined });
        // with no schedulable node at all, kubeadm's health check fails: the step says why and what to do
        const alone = cluster("1.35.4", { nodes: { "k8s-master": { kubelet: "1.35.4", unschedulable: true } } });
        const stuck = alone.run(script("1.35.5"));
        assert.strictEqual(stuck.code, 1);
        assert.match(stuck.stderr, /k8s-master is cordoned \(not by this upgrade\), and kubeadm's health check runs a Job that needs a schedulable node: uncordon a node/);
    });

    it("a skipped minor or a downgrade is refused before anything changes", () => {
        const skip = cluster("1.33.4");
        const r = skip.run(script("1.35.5"));
        assert.strictEqual(r.code, 1);
        assert.match(r.stderr, /kubeadm upgrades one minor version at a time, v1\.35\.5 skips one; nothing was changed/);
        assert.deepStrictEqual(skip.calls("apt-get"), []);
        assert.deepStrictEqual(readCluster(skip).packages, at("1.33.4"));
        const down = cluster("1.35.4");
        const d = down.run(script("1.35.3"));
        assert.strictEqual(d.code, 1);
        assert.match(d.stderr, /downgrades are not supported; nothing was changed/);
        assert.deepStrictEqual(down.calls("apt-get"), []);
    });
});

describe("a Windows node's drain and uncordon (on the master)", () => {
    const newer = { ...VERSIONS, kubernetesVersion: "1.35.5" };
    const drain = upgrade.renderWindowsDrain({ node: "k8s-win-1", versions: newer });
    const uncordon = upgrade.renderWindowsUncordon({ node: "k8s-win-1", versions: newer });
    const staged = "kubelet.exe kubeadm.exe kube-proxy.exe\n";
    function cluster(node: ClusterState["nodes"][string], pods: ClusterState["pods"] = [{ name: "default/web-1", owner: "ReplicaSet", node: "k8s-win-1" }]): Sandbox {
        const sb = sandbox();
        clusterFakes(sb, { controlPlane: "1.35.5", packages: at("1.35.5"), nodes: { "k8s-master": { kubelet: "1.35.5" }, "k8s-win-1": node }, pods });
        return sb;
    }
    const writes = (sb: Sandbox) => sb.calls("kubectl").filter((c) => / (annotate|cordon|uncordon|drain) /.test(` ${c.replace(/^--kubeconfig \S+ /, "")}`));

    it("nothing staged on the node: the drain is a no-op that asks the API nothing", () => {
        const sb = cluster({ kubelet: "1.35.4" });
        for (const stdin of ["", "\n", "none\n"]) {
            const r = sb.run(drain, stdin);
            assert.strictEqual(r.code, 0, r.stderr);
            assert.match(r.stdout, /nothing staged on k8s-win-1/);
        }
        assert.deepStrictEqual(sb.calls("kubectl"), []);
    });

    it("something staged: marks, cordons, drains (pods evicted); a second run marks and cordons nothing; the uncordon waits for the node at the target, then lifts the cordon once", () => {
        const sb = cluster({ kubelet: "1.35.4" });
        const first = sb.run(drain, staged);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.match(first.stdout, /k8s-win-1 drained for its upgrade to kubernetes 1\.35\.5/);
        assert.deepStrictEqual(readCluster(sb).node("k8s-win-1"), { kubelet: "1.35.4", unschedulable: true, annotation: "kubernetes 1.35.5, containerd 2.1.4, flannel 0.27.4" });
        assert.deepStrictEqual(readCluster(sb).pods, ["default/web-1|ReplicaSet||"], "evicted");
        const n = writes(sb).length;
        const second = sb.run(drain, staged);
        assert.strictEqual(second.code, 0, second.stderr);
        assert.deepStrictEqual(writes(sb).slice(n).map((c) => c.replace(/^--kubeconfig \S+ /, "").split(" ")[0]), ["drain"], "only the (idempotent) drain again");

        // the node's upgrade has not run yet: the uncordon waits, fails, leaves the cordon
        const early = sb.run(uncordon);
        assert.strictEqual(early.code, 1);
        assert.match(early.stderr, /k8s-win-1 is not Ready with kubelet v1\.35\.5 .*kubelet: v1\.35\.4\); it stays cordoned/);
        assert.strictEqual(readCluster(sb).node("k8s-win-1").unschedulable, true);
        sb.run(`printf 1.35.5 > "$SANDBOX/state/nodes/k8s-win-1/kubelet"`);
        const done = sb.run(uncordon);
        assert.strictEqual(done.code, 0, done.stderr);
        assert.deepStrictEqual(readCluster(sb).node("k8s-win-1"), { kubelet: "1.35.5", unschedulable: false, annotation: undefined });
        const m = writes(sb).length;
        const again = sb.run(uncordon);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.match(again.stdout, /k8s-win-1 Ready at v1\.35\.5/);
        assert.strictEqual(writes(sb).length, m, "nothing to uncordon the second time");
    });

    it("pods without a controller: refused before the node is cordoned, naming them and the fix; the retry after their removal drains", () => {
        const sb = cluster({ kubelet: "1.35.4" }, [
            { name: "default/debug", owner: "", node: "k8s-win-1" },
            { name: "default/web-1", owner: "ReplicaSet", node: "k8s-win-1" },
            { name: "default/elsewhere", owner: "", node: "k8s-master" },
        ]);
        const refused = sb.run(drain, staged);
        assert.strictEqual(refused.code, 1);
        assert.match(refused.stderr, /k8s-win-1 was not drained \(nothing changed\): these pods have no controller, and draining would delete them for good: default\/debug \. Delete them \(kubectl delete pod -n <namespace> <name>\) or run them under a Deployment, StatefulSet or Job, then run pulumi up again\./);
        assert.deepStrictEqual(writes(sb), []);
        assert.strictEqual(readCluster(sb).node("k8s-win-1").unschedulable, false);
        sb.run(`sed -i '/default\\/debug/d' "$SANDBOX/state/pods"`);
        const retry = sb.run(drain, staged);
        assert.strictEqual(retry.code, 0, retry.stderr);
        assert.strictEqual(readCluster(sb).node("k8s-win-1").unschedulable, true);
    });

    it("a drain that times out leaves the node cordoned and marked; the retry finishes, and the uncordon lifts the cordon", () => {
        const sb = cluster({ kubelet: "1.35.4" });
        failNext(sb, "drain");
        const failed = sb.run(drain, staged);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /the drain of k8s-win-1 did not finish within 600s: a PodDisruptionBudget .* The node stays cordoned/);
        assert.deepStrictEqual(readCluster(sb).node("k8s-win-1").annotation, "kubernetes 1.35.5, containerd 2.1.4, flannel 0.27.4");
        const retry = sb.run(drain, staged);
        assert.strictEqual(retry.code, 0, retry.stderr);
        sb.run(`printf 1.35.5 > "$SANDBOX/state/nodes/k8s-win-1/kubelet"`);
        assert.strictEqual(sb.run(uncordon).code, 0);
        assert.strictEqual(readCluster(sb).node("k8s-win-1").unschedulable, false);
    });

    it("a node its owner cordoned is drained, and the uncordon leaves it cordoned", () => {
        const sb = cluster({ kubelet: "1.35.4", unschedulable: true });
        const r = sb.run(drain, staged);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /cordoned before this upgrade, not by it/);
        assert.strictEqual(readCluster(sb).node("k8s-win-1").annotation, undefined);
        sb.run(`printf 1.35.5 > "$SANDBOX/state/nodes/k8s-win-1/kubelet"`);
        assert.strictEqual(sb.run(uncordon).code, 0);
        assert.strictEqual(readCluster(sb).node("k8s-win-1").unschedulable, true);
        assert.ok(!writes(sb).some((c) => / uncordon /.test(` ${c}`)));
    });
});
