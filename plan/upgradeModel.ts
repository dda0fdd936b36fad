// Model of an upgrade by config (pure): the steps a version change runs, ordered by the same edges
// the graph is built from (components/scripts/upgrade.ts upgradeEdges), each step's duration drawn
// from its distribution, scheduled as the engine runs them (plan/montecarlo.ts runOnce). It reports
// the time an upgrade of N Windows nodes takes and the share of nodes out of service over it, and
// what the upgrade steps cost a first `pulumi up`, where they run nothing.
//
// Nothing here is measured: every duration is an estimate that says why, as in plan/durations.ts.
import { MASTER_NAME } from "../components/addressing";
import { StepEdge, upgradeEdges } from "../components/scripts/upgrade";
import { Basis, CREATELESS, Spread } from "./durations";
import { Model, ModelStep, percentile, RunOptions, runOnce, sampleSpread, seededRandom } from "./montecarlo";

const s = (median: number, p90: number): Spread => ({ median, p90 });
const estimate = (why: string): Basis => ({ estimate: why });

/** What kind of version change: a Kubernetes patch (the join keeps its script) or the next minor (the join runs again). */
export type UpgradeKind = "patch" | "minor";

/** Durations of the steps a version change runs, by the step's name (first match wins). */
export const UPGRADE_DURATIONS: Array<{ name: RegExp; spread: Spread; basis: Basis; minorOnly?: boolean }> = [
    { name: /master-version-check$/, spread: s(0.05, 0.1), basis: estimate("reads the API server's manifest: one SSH session") },
    {
        name: /master-prepare$/,
        spread: s(0.3, 0.6),
        basis: estimate("runs again (its script names the version): modules, sysctls and containerd's config already in place, a containerd restart, no package moves"),
    },
    { name: /master-init$/, spread: s(0.1, 0.2), basis: estimate("runs again: finds the control plane initialised and its config unchanged") },
    {
        name: /master-upgrade$/,
        spread: s(5, 9),
        basis: estimate(
            "apt update and kubeadm (0.5 min); kubeadm upgrade plan (0.2); kubeadm upgrade apply: its image pull 'might take a minute or two' (kubeadm's own output, kubernetes/kubeadm#1380) and each of etcd, the API server, controller manager and scheduler restarts in turn ('might take a minute or longer ... (timeout 5m0s)', kubeadm-upgrade.md): about 3; the drain, kubelet and kubectl, restart and waits: about 1.3",
        ),
    },
    {
        name: /win-\d+-prepare-runtime$/,
        spread: s(2, 3.5),
        basis: estimate("as a first runtime step's downloads (~300 MB, checksums), staged instead of installed; plan/durations.ts has the same figure"),
    },
    { name: /win-\d+-join$/, spread: s(0.3, 0.6), basis: estimate("a minor upgrade changes the agents' flags: the join rewrites start scripts and restarts kubelet and kube-proxy, no kubeadm join"), minorOnly: true },
    {
        name: /win-\d+-drain$/,
        spread: s(0.75, 2),
        basis: estimate("cordon and evict the node's pods; each gets its grace period (PodSpec terminationGracePeriodSeconds, 30 s unless set) and Windows containers stop slower than Linux ones"),
    },
    {
        name: /win-\d+-upgrade$/,
        spread: s(1.5, 3),
        basis: estimate("kubeadm upgrade node (seconds), the swaps (seconds), then containerd, flanneld, kubelet and kube-proxy restart in turn and report healthy; flanneld finding its HNS network again takes most of it"),
    },
    {
        name: /win-\d+-uncordon$/,
        spread: s(0.25, 0.5),
        basis: estimate("the node's Ready condition with the new kubelet version: the kubelet posts its status every 10 s (KubeletConfiguration nodeStatusUpdateFrequency default), then one uncordon"),
    },
];

/** A step of the upgrade model that is not in UPGRADE_DURATIONS takes no time (it does not run). */
const NOT_RUN: { spread: Spread; basis: Basis } = { spread: s(0, 0), basis: estimate("does not run in this kind of version change") };

function upgradeSpread(name: string, kind: UpgradeKind): { spread: Spread; basis: Basis } {
    const rule = UPGRADE_DURATIONS.find((d) => d.name.test(name));
    return rule && (!rule.minorOnly || kind === "minor") ? rule : NOT_RUN;
}

/** Steps and dependencies from ordering edges, named as the graph names them. */
function fromEdges(edges: StepEdge[], extra: string[], spreadOf: (name: string) => { spread: Spread; basis: Basis }): Model {
    const names = [...new Set([...extra, ...edges.flatMap((e) => [e.from, e.to])])];
    const index = new Map(names.map((n, i) => [n, i]));
    const steps: ModelStep[] = names.map((name) => {
        const { spread, basis } = spreadOf(name);
        return { name, type: "command:remote:Command", deps: [], spread, basis, slot: spread.median > 0, ssh: spread.median > 0, buckets: [] };
    });
    for (const e of edges) {
        steps[index.get(e.to)!].deps.push(index.get(e.from)!);
    }
    return { kind: "stock", steps, buckets: [] };
}

/** The steps of a version change on a cluster of `nodes` Windows nodes (all joined), at most `maxUnavailable` at once. */
export function buildUpgradeModel(nodes: number, maxUnavailable: number, kind: UpgradeKind = "patch"): Model {
    const names = Array.from({ length: nodes }, (_, i) => `k8s-win-${i + 1}`);
    return fromEdges(upgradeEdges(MASTER_NAME, names, maxUnavailable), [], (n) => upgradeSpread(n, kind));
}

export interface UpgradeFigures {
    runs: number;
    /** Minutes from the start of `pulumi up` to the last node back in service. */
    p50: number;
    p90: number;
    /** Minutes from the first node's drain to the last node's uncordon. */
    nodePhaseP50: number;
    /** Most Windows nodes out of service at once (cordoned by a window), as a share of all of them. */
    peakShareUnavailable: number;
    /** The share of Windows nodes out of service, averaged over the node phase. */
    meanShareUnavailable: number;
    /** Node-minutes out of service, summed over the nodes (median run). */
    nodeMinutesOutP50: number;
}

/**
 * `runs` upgrades with durations drawn from each step's distribution (fixed seed, same figures each
 * time), without a --parallel cap (an upgrade holds few steps at once). A node is out of service
 * from the start of its drain to the end of its uncordon.
 */
export function simulateUpgrade(model: Model, runs: number, seed: number): UpgradeFigures {
    const rand = seededRandom(seed);
    const windows = model.steps
        .map((st, i) => ({ st, i }))
        .filter(({ st }) => /-drain$/.test(st.name))
        .map(({ st, i }) => ({ drain: i, uncordon: model.steps.findIndex((x) => x.name === st.name.replace(/-drain$/, "-uncordon")) }));
    const n = windows.length;
    const makespans: number[] = [];
    const phases: number[] = [];
    const outMinutes: number[] = [];
    let peak = 0;
    let meanShare = 0;
    const d = new Float64Array(model.steps.length);
    for (let r = 0; r < runs; r++) {
        model.steps.forEach((st, i) => (d[i] = sampleSpread(st.spread, rand)));
        const run = runOnce(model, d, { cap: Infinity, throttling: false, maxStartups: null });
        makespans.push(run.makespan);
        const spans = windows.map((w) => [run.start[w.drain], run.finish[w.uncordon]] as const);
        const from = Math.min(...spans.map((x) => x[0]));
        const to = Math.max(...spans.map((x) => x[1]));
        phases.push(to - from);
        const total = spans.reduce((a, [a0, a1]) => a + (a1 - a0), 0);
        outMinutes.push(total);
        meanShare += to > from ? total / (to - from) / n : 0;
        // the most spans open at one time
        const events = spans.flatMap(([a0, a1]) => [[a0, 1], [a1, -1]] as Array<[number, number]>).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        let open = 0;
        for (const [, delta] of events) {
            open += delta;
            peak = Math.max(peak, open);
        }
    }
    const sorted = (xs: number[]) => Float64Array.from(xs).sort();
    return {
        runs,
        p50: percentile(sorted(makespans), 0.5),
        p90: percentile(sorted(makespans), 0.9),
        nodePhaseP50: percentile(sorted(phases), 0.5),
        peakShareUnavailable: n ? peak / n : 0,
        meanShareUnavailable: runs ? meanShare / runs : 0,
        nodeMinutesOutP50: percentile(sorted(outMinutes), 0.5),
    };
}

/**
 * A first `pulumi up`'s model with the upgrade steps added as the graph holds them (nothing runs
 * when they are created: plan/durations.ts CREATELESS), unless the plan has them already. The
 * difference to the model without them is what the upgrade steps cost a first `pulumi up`.
 */
export function withUpgradeSteps(base: Model, maxUnavailable: number, master = MASTER_NAME): Model {
    if (base.steps.some((st) => /-uncordon$/.test(st.name))) {
        return base;
    }
    const steps: ModelStep[] = base.steps.map((st) => ({ ...st, deps: [...st.deps] }));
    const index = new Map(steps.map((st, i) => [st.name, i]));
    const nodes = steps.map((st) => /^(k8s-win-\d+)-join$/.exec(st.name)?.[1]).filter((n): n is string => !!n);
    const edges = upgradeEdges(master, nodes, maxUnavailable).filter((e) => !e.existing);
    for (const e of edges) {
        for (const name of [e.from, e.to]) {
            if (!index.has(name)) {
                // as the graph holds them: nothing runs when they are created (plan/durations.ts CREATELESS)
                const { spread, basis } = CREATELESS;
                index.set(name, steps.length);
                steps.push({ name, type: "command:remote:Command", deps: [], spread, basis, slot: false, ssh: false, buckets: [] });
            }
        }
        const to = steps[index.get(e.to)!];
        const from = index.get(e.from)!;
        if (!to.deps.includes(from)) {
            to.deps.push(from);
        }
    }
    return { ...base, steps };
}

/** The upgrade steps of a plan's model: the master's upgrade and each node's drain, upgrade and uncordon. */
export const UPGRADE_STEP = /(-master-upgrade|-drain|-win-\d+-upgrade|-uncordon)$/;

/**
 * The same model with the upgrade steps taking no time and no --parallel slot: what a first
 * `pulumi up` would take without them (addedCost against the model itself gives their cost).
 */
export function withoutUpgradeCost(model: Model): Model {
    return { ...model, steps: model.steps.map((st) => (UPGRADE_STEP.test(st.name) ? { ...st, spread: { median: 0, p90: 0 }, slot: false, ssh: false } : st)) };
}

/**
 * What the steps `extended` adds to `base` cost (extended = base's steps, same order, then more;
 * or the same steps, where base's zero-time steps stand for steps it does not have):
 * each run draws the shared steps' durations once and runs both models on them, so the difference
 * is the added steps' and not sampling noise. Minutes to the end of `pulumi up`.
 */
export function addedCost(base: Model, extended: Model, opts: RunOptions, runs: number, seed: number): { p50Without: number; p50With: number; addedP50: number; addedP90: number } {
    const rand = seededRandom(seed);
    const without: number[] = [];
    const withSteps: number[] = [];
    const added: number[] = [];
    const d = new Float64Array(extended.steps.length);
    for (let r = 0; r < runs; r++) {
        extended.steps.forEach((st, i) => (d[i] = sampleSpread(st.spread, rand)));
        const sshSeed = Math.floor(rand() * 2 ** 31);
        const dBase = Float64Array.from(d.subarray(0, base.steps.length), (x, i) => (base.steps[i].spread.median === 0 && base.steps[i].spread.p90 === 0 ? 0 : x));
        const a = runOnce(base, dBase, opts, seededRandom(sshSeed)).makespan;
        const b = runOnce(extended, d, opts, seededRandom(sshSeed)).makespan;
        without.push(a);
        withSteps.push(b);
        added.push(b - a);
    }
    const sorted = (xs: number[]) => Float64Array.from(xs).sort();
    return { p50Without: percentile(sorted(without), 0.5), p50With: percentile(sorted(withSteps), 0.5), addedP50: percentile(sorted(added), 0.5), addedP90: percentile(sorted(added), 0.9) };
}
