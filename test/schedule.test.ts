import * as assert from "assert";
import { PlanDocument } from "../plan/evaluate";
import { sequentialTime, simulate } from "../plan/schedule";
import { durationOf, DURATIONS } from "../plan/durations";
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

    it("every duration rule says what it is based on", () => {
        for (const rule of DURATIONS) {
            assert.ok(rule.basis.length > 10 && rule.minutes >= 0, String(rule.type));
        }
    });

    it("Windows nodes add no time at the recommended parallelism (they run side by side)", () => {
        const one = cachedPlan(["--config", "windowsNodeCount=1"]).doc!;
        const three = cachedPlan(["--config", "windowsNodeCount=3"]).doc!;
        const time = (p: PlanDocument) => {
            const by = new Map(p.resources.map((r) => [r.urn, r]));
            return simulate(p, (u) => durationOf(by.get(u)!)).makespan;
        };
        assert.strictEqual(time(three), time(one));
    });
});
