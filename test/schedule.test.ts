import * as assert from "assert";
import { PlanDocument } from "../plan/evaluate";
import { sequentialTime, simulate } from "../plan/schedule";
import { BACKGROUND_PULL, Basis, describeBasis, durationOf, DURATIONS, isSourced, stepSpread } from "../plan/durations";
import { cachedPlan } from "./planRun";

function doc(edges: Record<string, string[]>): PlanDocument {
    return {
        project: "p",
        stack: "s",
        config: {},
        outputs: {},
        resources: Object.entries(edges).map(([name, deps]) => ({ urn: name, type: "t", name, dependsOn: deps, options: {}, inputs: {} })),
    };
}

describe("modeled schedule", () => {
    const minutes: Record<string, number> = { a: 2, b: 3, c: 1, d: 4 };
    const d = (u: string) => minutes[u];
    // a → b → d, a → c
    const g = doc({ a: [], b: ["a"], c: ["a"], d: ["b"] });

    it("uncapped makespan is the critical path", () => {
        assert.strictEqual(simulate(g, d).makespan, 2 + 3 + 4);
        assert.strictEqual(simulate(g, d).peakConcurrency, 2);
    });

    it("a cap of one runs everything in sequence", () => {
        assert.strictEqual(simulate(g, d, 1).makespan, sequentialTime(g, d));
        assert.strictEqual(sequentialTime(g, d), 10);
    });

    it("every duration rule cites its sources or says why it is an estimate, for both image kinds", () => {
        const ok = (b: Basis) => (isSourced(b) ? b.sourced.length > 0 && b.sourced.every((s) => /^https:\/\/|^components\//.test(s)) && b.note.length > 10 : b.estimate.length > 10);
        for (const rule of [...DURATIONS, { type: /pull/, stock: BACKGROUND_PULL.stock, basis: BACKGROUND_PULL.basis, prebuilt: BACKGROUND_PULL.prebuilt }]) {
            assert.ok(ok(rule.basis), String(rule.type));
            assert.ok(rule.stock.median >= 0 && rule.stock.p90 >= rule.stock.median, String(rule.type));
            if (rule.prebuilt) {
                assert.ok(ok(rule.prebuilt.basis), String(rule.type));
                assert.ok(rule.prebuilt.spread.p90 >= rule.prebuilt.spread.median, String(rule.type));
            }
        }
    });

    it("a prebuilt image skips the reboot and the downloads: those steps only verify", () => {
        const step = (name: string, type = "command:remote:Command") => ({ name, type });
        for (const name of ["k8s-win-1-prepare-features", "k8s-win-1-features-ready", "k8s-win-1-prepare-runtime"]) {
            assert.ok(stepSpread(step(name), "prebuilt").spread.median < stepSpread(step(name), "stock").spread.median / 3, name);
        }
        assert.strictEqual(BACKGROUND_PULL.prebuilt.spread.median, 0);
        // steps that do the same work on both images
        assert.deepStrictEqual(stepSpread(step("k8s-win-1-join"), "prebuilt"), stepSpread(step("k8s-win-1-join"), "stock"));
        assert.strictEqual(describeBasis(stepSpread(step("k8s-win-1-join"), "stock").basis).startsWith("estimate: "), true);
    });

    it("Windows nodes run side by side: more nodes add only their upgrade windows' checks, one after another", () => {
        const one = cachedPlan(["--config", "windowsNodeCount=1"]).doc!;
        const three = cachedPlan(["--config", "windowsNodeCount=3"]).doc!;
        const time = (p: PlanDocument) => {
            const by = new Map(p.resources.map((r) => [r.urn, r]));
            return simulate(p, (u) => durationOf(by.get(u)!)).makespan;
        };
        // with nothing staged each window only checks; maxUnavailable 1 chains them
        const window = ["drain", "upgrade", "uncordon"].reduce((a, s) => a + durationOf(three.resources.find((r) => r.name === `k8s-win-2-${s}`)!), 0);
        assert.ok(time(three) >= time(one));
        assert.ok(time(three) <= time(one) + 2 * window + 1e-9, `${time(three)} ≤ ${time(one)} + 2 × ${window}`);
    });
});
