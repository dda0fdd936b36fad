// The upgrade steps in the graph `pulumi up` runs: every ordering edge the upgrade relies on
// (components/scripts/upgrade.ts upgradeEdges, which the ordering model in upgradeModel.test.ts
// proves safe) is an edge of the plan, for maxUnavailable 1 and 2; an existing cluster's control
// plane is never upgraded, and its version check refuses Windows kubelets newer than it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as linux from "../components/scripts/linux";
import { upgradeStep } from "../components/hostCommand";
import { upgradeEdges } from "../components/scripts/upgrade";
import { UPGRADE_STEP } from "../plan/upgradeModel";
import { cachedPlan } from "./planRun";
import { sandbox } from "./shell";

describe("upgrade steps in the graph", () => {
    for (const maxUnavailable of [1, 2]) {
        it(`maxUnavailable ${maxUnavailable}: the plan has every edge the upgrade ordering relies on`, () => {
            const run = cachedPlan(["--config", "windowsNodeCount=3", "--config", `maxUnavailable=${maxUnavailable}`]);
            assert.strictEqual(run.code, 0, run.stderr);
            const g = run.graph!;
            const nodes = ["k8s-win-1", "k8s-win-2", "k8s-win-3"];
            for (const e of upgradeEdges("k8s-master", nodes, maxUnavailable)) {
                assert.ok(g.waitsOn(g.one(e.to), g.one(e.from)), `${e.to} waits on ${e.from} (${e.why})`);
            }
            // and no other wave edge: node i's window waits on exactly one earlier window, node i − maxUnavailable's
            const uncordons = new Map(g.find(/-uncordon$/).map((r) => [r.urn, r.name]));
            nodes.forEach((n, i) => {
                const waits = g.one(`${n}-drain`).dependsOn.filter((u) => uncordons.has(u)).map((u) => uncordons.get(u));
                assert.deepStrictEqual(waits, i >= maxUnavailable ? [`${nodes[i - maxUnavailable]}-uncordon`] : [], n);
            });
            // the plan says the order
            const waves = maxUnavailable === 1 ? "3 wave(s): k8s-win-1 → k8s-win-2 → k8s-win-3" : "2 wave(s): k8s-win-1 + k8s-win-2 → k8s-win-3";
            assert.ok(run.stdout.includes(`Upgrade order when a version changes: k8s-master-upgrade (control plane), then each Windows node's window (drain → upgrade → uncordon) in ${waves}.`), run.stdout);
            // the checks run once every window is closed
            for (const n of nodes) {
                assert.ok(g.waitsOn(g.one("cluster-check-node-ping"), g.one(`${n}-uncordon`)));
            }
        });
    }

    it("upgrade steps run nothing when created (no create) and run their script when a version change alters it (update, no replacement)", () => {
        const before = cachedPlan(["--config", "windowsNodeCount=2"]);
        const after = cachedPlan(["--config", "windowsNodeCount=2", "--config", "kubernetesVersion=1.35.5"]);
        assert.strictEqual(before.code, 0, before.stderr);
        assert.strictEqual(after.code, 0, after.stderr);
        const steps = before.graph!.find(UPGRADE_STEP);
        assert.deepStrictEqual(steps.map((r) => r.name).sort(), ["k8s-master-upgrade", "k8s-win-1-drain", "k8s-win-1-uncordon", "k8s-win-1-upgrade", "k8s-win-2-drain", "k8s-win-2-uncordon", "k8s-win-2-upgrade"]);
        for (const r of steps) {
            assert.strictEqual(r.inputs.create, undefined, `${r.name} has no create: pulumi-command's Create then runs nothing`);
            assert.strictEqual(typeof r.inputs.update, "string", r.name);
            const next = after.graph!.one(r.name);
            assert.notStrictEqual(next.inputs.update, r.inputs.update, `${r.name}: the new version changes its script, so its update runs`);
            assert.deepStrictEqual(next.inputs.triggers, r.inputs.triggers, `${r.name}: same triggers, so an update, not a replacement`);
        }
        // the plan writes an upgrade step's script under the step's name
        assert.ok(fs.existsSync(path.join(before.out, "scripts", "k8s-master-upgrade.sh")));
        assert.ok(fs.existsSync(path.join(before.out, "scripts", "k8s-win-1-upgrade.ps1")));
    });

    it("upgradeStep: the marker is a comment of hex, and nothing else gets in", () => {
        assert.deepStrictEqual(upgradeStep("echo hi\n"), { update: "echo hi\n" });
        assert.deepStrictEqual(upgradeStep("echo hi", "0af3"), { update: "echo hi\n# staged: 0af3\n" });
        assert.throws(() => upgradeStep("echo hi", "0a\nrm -rf /"), /hex/);
    });

    it("an existing cluster: no control-plane upgrade; node windows still drain and uncordon the stack's own nodes", () => {
        const run = cachedPlan(["--stack", "existing"]);
        assert.strictEqual(run.code, 0, run.stderr);
        const g = run.graph!;
        assert.deepStrictEqual(g.find(/^k8s-master-upgrade$/), []);
        assert.ok(g.waitsOn(g.one("win-b-drain"), g.one("win-a-uncordon")));
    });

    it("an existing cluster's version check: Windows kubelets at or below its API server (three minors at most), never above", () => {
        const sb = sandbox();
        const manifest = path.join(sb.dir, "etc/kubernetes/manifests");
        fs.mkdirSync(manifest, { recursive: true });
        fs.writeFileSync(path.join(manifest, "kube-apiserver.yaml"), "    image: registry.k8s.io/kube-apiserver:v1.34.3\n");
        const check = (v: string) => sb.run(linux.renderVersionCheck(v, { existingCluster: true }));
        for (const ok of ["1.34.3", "1.34.1", "1.33.7", "1.31.0"]) {
            assert.strictEqual(check(ok).code, 0, `${ok}: ${check(ok).stderr}`);
        }
        for (const [bad, why] of [["1.34.4", /newer than its API server/], ["1.35.0", /newer than its API server/], ["1.30.9", /three minor versions older/]] as const) {
            const r = check(bad);
            assert.notStrictEqual(r.code, 0, bad);
            assert.match(r.stderr, why);
        }
        // the stack's own cluster upgrades instead: the next minor goes through
        assert.strictEqual(sb.run(linux.renderVersionCheck("1.35.0")).code, 0);
    });
});
