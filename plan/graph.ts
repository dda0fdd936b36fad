// Graph queries over a plan: transitive dependencies, levels, and how much of the graph can run
// at once. Used by the plan's parallelism hint, the graph tests and the benchmark.
import { durationOf } from "./durations";
import { PlanDocument, PlanResource } from "./evaluate";
import { simulate } from "./schedule";

export class PlanGraph {
    readonly byUrn: Map<string, PlanResource>;
    private readonly closure = new Map<string, Set<string>>();

    constructor(readonly doc: PlanDocument) {
        this.byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    }

    /** Resources whose name matches. */
    find(pattern: RegExp, type?: string): PlanResource[] {
        return this.doc.resources.filter((r) => pattern.test(r.name) && (type === undefined || r.type === type));
    }

    one(name: string): PlanResource {
        const r = this.doc.resources.find((x) => x.name === name);
        if (!r) {
            throw new Error(`no resource named ${name} in the plan`);
        }
        return r;
    }

    /** Everything `urn` waits on, directly or through other resources. */
    ancestors(urn: string): Set<string> {
        const cached = this.closure.get(urn);
        if (cached) {
            return cached;
        }
        const out = new Set<string>();
        const stack = [...(this.byUrn.get(urn)?.dependsOn ?? [])];
        while (stack.length) {
            const u = stack.pop() as string;
            if (out.has(u)) {
                continue;
            }
            out.add(u);
            stack.push(...(this.byUrn.get(u)?.dependsOn ?? []));
        }
        this.closure.set(urn, out);
        return out;
    }

    waitsOn(a: PlanResource, b: PlanResource): boolean {
        return this.ancestors(a.urn).has(b.urn);
    }
}

/**
 * The most steps in flight at once when nothing caps them (modeled with the duration table),
 * and the `--parallel` value that lets all of them run: Pulumi's default cap is 4 x CPUs, and a
 * remote step holds its slot for minutes.
 */
export function recommendedParallelism(doc: PlanDocument): { width: number; recommended: number } {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const { peakConcurrency } = simulate(doc, (u) => durationOf(byUrn.get(u) as PlanResource));
    return { width: peakConcurrency, recommended: Math.max(16, peakConcurrency) };
}
