import * as assert from "assert";
import { windowsSteps } from "../components/scripts/provision";
import { PlanDocument } from "../plan/evaluate";
import { buildModel, criticalPath, medianDurations, Model, monteCarlo, percentile, runOnce, sampleSpread, seededRandom } from "../plan/montecarlo";
import { maxStartupsDropChance, TokenBucket } from "../plan/limits";
import { PROVISION_LANES, stepSpread } from "../plan/durations";
import { cachedPlan } from "./planRun";

/** A model by hand: steps with fixed minutes (no spread) unless given. */
function model(edges: Record<string, { deps: string[]; minutes: number; p90?: number; ssh?: boolean; bucket?: boolean }>, bucket?: { capacity: number; refillPerMinute: number }): Model {
    const names = Object.keys(edges);
    return {
        kind: "stock",
        buckets: bucket ? [{ name: "b", capacity: bucket.capacity, refillPerMinute: bucket.refillPerMinute, types: /./, source: "test" }] : [],
        steps: names.map((name) => {
            const e = edges[name];
            return {
                name,
                type: "t",
                deps: e.deps.map((d) => names.indexOf(d)),
                spread: { median: e.minutes, p90: e.p90 ?? e.minutes },
                basis: { estimate: "test step" },
                slot: e.minutes > 0,
                ssh: e.ssh ?? false,
                buckets: e.bucket ? [0] : [],
            };
        }),
    };
}

describe("Monte Carlo model of pulumi up", () => {
    // a → b → d, a → c
    const m = model({ a: { deps: [], minutes: 2 }, b: { deps: ["a"], minutes: 3 }, c: { deps: ["a"], minutes: 1 }, d: { deps: ["b"], minutes: 4 } });

    it("uncapped, the makespan is the critical path, and the path is found", () => {
        const r = runOnce(m, medianDurations(m), { cap: Infinity });
        assert.strictEqual(r.makespan, 9);
        assert.deepStrictEqual(r.criticalPath.map((i) => m.steps[i].name), ["a", "b", "d"]);
        assert.strictEqual(r.peakSlots, 2);
    });

    it("one slot runs the steps one after another, first come first served", () => {
        const r = runOnce(m, medianDurations(m), { cap: 1 });
        assert.strictEqual(r.makespan, 10);
        // b and c became ready together: b (plan order) first, so c waits 3 minutes for the slot;
        // d, ready when b ends, queues behind c (first come, first served) and waits 1
        assert.strictEqual(r.start[2], 5);
        assert.strictEqual(r.start[3], 6);
        assert.strictEqual(r.waits.slot, 4);
    });

    it("a token bucket serializes creates once its burst is spent", () => {
        const many: Record<string, { deps: string[]; minutes: number; bucket: boolean }> = {};
        for (let i = 0; i < 5; i++) {
            many[`vm${i}`] = { deps: [], minutes: 1, bucket: true };
        }
        // 2 tokens at once, then one every half minute
        const r = runOnce(model(many, { capacity: 2, refillPerMinute: 2 }), Float64Array.from([1, 1, 1, 1, 1]), { cap: Infinity });
        assert.deepStrictEqual(Array.from(r.start), [0, 0, 0, 0, 0]);
        assert.deepStrictEqual(Array.from(r.finish), [1, 1, 1.5, 2, 2.5]);
        assert.strictEqual(r.waits.throttle, 0.5 + 1 + 1.5);
        // without throttling they all end at once
        assert.strictEqual(runOnce(model(many, { capacity: 2, refillPerMinute: 2 }), Float64Array.from([1, 1, 1, 1, 1]), { cap: Infinity, throttling: false }).makespan, 1);
    });

    it("the token bucket refills up to its capacity and no further", () => {
        const b = new TokenBucket({ capacity: 3, refillPerMinute: 1 });
        assert.deepStrictEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [0, 0, 0, 1]);
        // idle for 10 minutes: full again (3), not 10
        assert.deepStrictEqual([b.take(11), b.take(11), b.take(11), b.take(11)], [0, 0, 0, 1]);
    });

    it("sshd's MaxStartups 200:30:400 refuses nothing below 200, 30% at 200, everything at 400", () => {
        assert.strictEqual(maxStartupsDropChance(199), 0);
        assert.strictEqual(maxStartupsDropChance(200), 0.3);
        assert.ok(Math.abs(maxStartupsDropChance(300) - 0.65) < 1e-12);
        assert.strictEqual(maxStartupsDropChance(400), 1);
        // a tiny MaxStartups makes simultaneous SSH steps retry; the default (200) does not
        const ssh: Record<string, { deps: string[]; minutes: number; ssh: boolean }> = {};
        for (let i = 0; i < 20; i++) {
            ssh[`cmd${i}`] = { deps: [], minutes: 1, ssh: true };
        }
        const sm = model(ssh);
        assert.strictEqual(runOnce(sm, medianDurations(sm), { cap: Infinity }).waits.ssh, 0);
        const tight = runOnce(sm, medianDurations(sm), { cap: Infinity, maxStartups: { start: 2, rate: 30, full: 4 } }, seededRandom(7));
        assert.ok(tight.waits.ssh > 0 && tight.makespan > 1);
    });

    it("lognormal draws have the stated median and p90", () => {
        const rand = seededRandom(1);
        const xs = Float64Array.from({ length: 20000 }, () => sampleSpread({ median: 4, p90: 7 }, rand)).sort();
        assert.ok(Math.abs(percentile(xs, 0.5) - 4) < 0.1, String(percentile(xs, 0.5)));
        assert.ok(Math.abs(percentile(xs, 0.9) - 7) < 0.25, String(percentile(xs, 0.9)));
        assert.strictEqual(sampleSpread({ median: 2, p90: 2 }, rand), 2);
    });

    it("the same seed gives the same figures; the spread makes p90 exceed p50", () => {
        const sm = model({ a: { deps: [], minutes: 2, p90: 4 }, b: { deps: ["a"], minutes: 3, p90: 5 } });
        const one = monteCarlo(sm, { cap: Infinity }, 500, 42);
        assert.deepStrictEqual(monteCarlo(sm, { cap: Infinity }, 500, 42), one);
        assert.notDeepStrictEqual(monteCarlo(sm, { cap: Infinity }, 500, 43), one);
        assert.ok(one.p90 > one.p50 && one.p50 > 4);
    });

    it("nearest-rank percentiles", () => {
        const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert.strictEqual(percentile(xs, 0.5), 5);
        assert.strictEqual(percentile(xs, 0.9), 9);
        assert.strictEqual(percentile(xs, 1), 10);
    });

    describe("on the plan's graph", () => {
        const plan = (n: number): PlanDocument => cachedPlan(["--config", `windowsNodeCount=${n}`]).doc!;

        it("adds one background image pull per Windows node, which the sample waits for", () => {
            const mm = buildModel(plan(3), "stock");
            const pulls = mm.steps.filter((s) => s.type === "model:background-pull");
            assert.deepStrictEqual(pulls.map((p) => p.name).sort(), ["k8s-win-1-image-pull", "k8s-win-2-image-pull", "k8s-win-3-image-pull"]);
            // on the stock image the provisioning's boot task starts the pull
            assert.ok(pulls.every((p) => !p.slot && mm.steps[p.deps[0]].name.endsWith("-provision-reboot")));
            const deployment = mm.steps.find((s) => s.type.endsWith("apps/v1:Deployment"))!;
            assert.strictEqual(deployment.deps.filter((d) => mm.steps[d].type === "model:background-pull").length, 3);
        });

        it("Azure creates draw from the subscription's buckets: every ARM write, and Put VM for VMs only", () => {
            const mm = buildModel(plan(1), "stock");
            const names = (st: Model["steps"][number]) => st.buckets.map((b) => mm.buckets[b].name);
            assert.deepStrictEqual(names(mm.steps.find((s) => s.name === "k8s-win-1-vm")!), ["ARM subscription writes", "Compute Put VM"]);
            assert.deepStrictEqual(names(mm.steps.find((s) => s.name === "k8s-win-1-provision")!), ["ARM subscription writes", "Compute Update VM (extensions)"]);
            assert.deepStrictEqual(names(mm.steps.find((s) => s.name === "k8s-win-1-nic")!), ["ARM subscription writes"]);
            assert.deepStrictEqual(names(mm.steps.find((s) => s.name === "k8s-win-1-join")!), []);
            assert.ok(mm.steps.find((s) => s.name === "k8s-win-1-join")!.ssh);
            // with a tiny write bucket the creates queue for tokens
            const tight = { ...mm, buckets: mm.buckets.map((b) => ({ ...b, capacity: 1, refillPerMinute: 1 })) };
            assert.ok(runOnce(tight, medianDurations(tight), { cap: Infinity }).waits.throttle > 0);
            assert.strictEqual(runOnce(mm, medianDurations(mm), { cap: Infinity }).waits.throttle, 0);
        });

        it("stock: the typical run's critical path is the Windows chain through the reboot and the image pull", () => {
            const cp = criticalPath(buildModel(plan(1), "stock"), { cap: Infinity });
            const names = cp.steps.map((s) => s.name);
            for (const step of ["k8s-win-1-vm", "k8s-win-1-provision", "k8s-win-1-provision-reboot", "k8s-win-1-image-pull", "sample-deployment"]) {
                assert.ok(names.includes(step), `${step} not in ${names.join(" > ")}`);
            }
            assert.ok(Math.abs(cp.pathMinutes - cp.makespan) < 1e-9);
            assert.ok(cp.sourcedShare > 0 && cp.sourcedShare < 1);
        });

        it("prebuilt is faster than stock at every percentile, and no reboot or pull is on its critical path", () => {
            const doc = plan(1);
            const stock = monteCarlo(buildModel(doc, "stock"), { cap: 16 }, 200, 1);
            const pre = monteCarlo(buildModel(doc, "prebuilt"), { cap: 16 }, 200, 1);
            assert.ok(pre.p50 < stock.p50 && pre.p90 < stock.p90);
            const names = criticalPath(buildModel(doc, "prebuilt"), { cap: 16 }).steps.map((s) => s.name);
            assert.ok(!names.includes("k8s-win-1-image-pull") && !names.includes("k8s-win-1-features-ready"), names.join(" > "));
        });

        it("the stock chain with the provisioning extension: the plan's steps are those provision.ts windowsSteps('stock') lists", () => {
            const doc = plan(3);
            const byName = new Map(doc.resources.map((r) => [r.name, r]));
            const nameOf = (u: string) => doc.resources.find((r) => r.urn === u)?.name;
            for (const n of [1, 2, 3]) {
                const node = `k8s-win-${n}`;
                assert.ok(!byName.has(`${node}-openssh`) && !byName.has(`${node}-prepare-features`) && !byName.has(`${node}-features-ready`));
                const ext = byName.get(`${node}-provision`)!;
                assert.strictEqual(ext.type, "azure-native:compute:VirtualMachineExtension");
                for (const st of windowsSteps("stock").filter((x) => x.kind === "Command" || x.step === "provision")) {
                    for (const dep of st.dependsOn.filter((d) => !d.includes(".") && d !== "clusterReady")) {
                        assert.ok(byName.get(`${node}-${st.step}`)!.dependsOn.map(nameOf).includes(`${node}-${dep}`), `${node}-${st.step} waits on ${node}-${dep}`);
                    }
                }
                assert.ok(ext.dependsOn.map(nameOf).includes("k8s-master-version-check"), "it installs kubelet: after the master's version check");
            }
        });

        it("models the provisioning extension as the rows of what it runs, its lanes side by side, then the reboot, from which the pull starts", () => {
            const mm = buildModel(plan(1), "stock");
            const at = (name: string) => mm.steps.findIndex((s) => s.name === name);
            const ext = mm.steps[at("k8s-win-1-provision")];
            assert.strictEqual(ext.lanes!.length, PROVISION_LANES.length);
            const lane = (i: number) => PROVISION_LANES[i].reduce((a, p) => a + stepSpread(p.row, p.variant).spread.median, 0);
            assert.strictEqual(medianDurations(mm)[at("k8s-win-1-provision")], Math.max(lane(0), lane(1)));
            assert.deepStrictEqual(mm.steps[at("k8s-win-1-provision-reboot")].deps, [at("k8s-win-1-provision")]);
            assert.deepStrictEqual(mm.steps[at("k8s-win-1-ready")].deps.filter((d) => mm.steps[d].name.startsWith("k8s-win-1-provision")), [at("k8s-win-1-provision-reboot")]);
            assert.deepStrictEqual(mm.steps[at("k8s-win-1-image-pull")].deps, [at("k8s-win-1-provision-reboot")], "the boot task pulls");
            // prepare-runtime over SSH is its second run
            assert.deepStrictEqual(mm.steps[at("k8s-win-1-prepare-runtime")].spread, stepSpread({ type: "command:remote:Command", name: "x-prepare-runtime" }, "prebuilt").spread);
            const names = criticalPath(mm, { cap: 16 }).steps.map((s) => s.name);
            assert.deepStrictEqual(names.filter((n) => n.startsWith("k8s-win-1")), ["k8s-win-1-nic", "k8s-win-1-vm", "k8s-win-1-provision", "k8s-win-1-provision-reboot", "k8s-win-1-image-pull"]);
        });

        it("more nodes: the same typical run uncapped, a longer one under a small cap, a wider p90 with the spread", () => {
            const one = buildModel(plan(1), "stock");
            const three = buildModel(plan(3), "stock");
            assert.strictEqual(runOnce(three, medianDurations(three), { cap: Infinity }).makespan, runOnce(one, medianDurations(one), { cap: Infinity }).makespan);
            assert.ok(runOnce(three, medianDurations(three), { cap: 2 }).makespan > runOnce(one, medianDurations(one), { cap: 2 }).makespan);
            assert.ok(monteCarlo(three, { cap: Infinity }, 300, 5).p90 > monteCarlo(one, { cap: Infinity }, 300, 5).p90);
        });
    });
});
