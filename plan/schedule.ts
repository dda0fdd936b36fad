// Modeled time to a working cluster: a list schedule of the plan's graph with per-step
// durations and Pulumi's cap on concurrent operations (--parallel).
import { PlanDocument } from "./evaluate";
import { PlanGraph } from "./graph";

export interface Schedule {
    /** Minutes until the last step finishes. */
    makespan: number;
    /** Most steps running at the same moment. */
    peakConcurrency: number;
}

/**
 * Simulates `pulumi up`: a step starts when everything it waits on has finished and a slot is
 * free (at most `cap` at once; Infinity for no cap). Ready steps take free slots longest-path
 * first. Deterministic for a given plan.
 */
export function simulate(doc: PlanDocument, duration: (urn: string) => number, cap = Infinity): Schedule {
    const g = new PlanGraph(doc);
    const steps = doc.resources.map((r) => r.urn);
    const deps = new Map(steps.map((u) => [u, (g.byUrn.get(u)?.dependsOn ?? []).filter((d) => g.byUrn.has(d))]));
    const dependents = new Map<string, string[]>(steps.map((u) => [u, []]));
    for (const [u, ds] of deps) {
        for (const d of ds) {
            dependents.get(d)!.push(u);
        }
    }
    // priority: longest remaining path from the step to the end
    const tail = new Map<string, number>();
    const tailOf = (u: string): number => {
        const known = tail.get(u);
        if (known !== undefined) {
            return known;
        }
        const t = duration(u) + Math.max(0, ...dependents.get(u)!.map(tailOf));
        tail.set(u, t);
        return t;
    };
    const waiting = new Map(steps.map((u) => [u, deps.get(u)!.length]));
    let ready = steps.filter((u) => waiting.get(u) === 0);
    const running: Array<{ urn: string; end: number }> = [];
    let now = 0;
    let makespan = 0;
    let peak = 0;
    let done = 0;
    while (done < steps.length) {
        ready.sort((a, b) => tailOf(b) - tailOf(a) || a.localeCompare(b));
        while (ready.length && running.length < cap) {
            const u = ready.shift() as string;
            running.push({ urn: u, end: now + duration(u) });
        }
        // zero-length steps (components, providers) do not hold a real slot
        peak = Math.max(peak, running.filter((r) => duration(r.urn) > 0).length);
        running.sort((a, b) => a.end - b.end);
        const next = running.shift();
        if (!next) {
            throw new Error("the plan's graph has a cycle");
        }
        now = next.end;
        makespan = Math.max(makespan, now);
        done++;
        for (const d of dependents.get(next.urn)!) {
            const left = (waiting.get(d) as number) - 1;
            waiting.set(d, left);
            if (left === 0) {
                ready.push(d);
            }
        }
    }
    return { makespan, peakConcurrency: peak };
}

/** Sum of all durations: every step one after another, as the seed's manual procedure runs. */
export function sequentialTime(doc: PlanDocument, duration: (urn: string) => number): number {
    return doc.resources.reduce((sum, r) => sum + duration(r.urn), 0);
}
