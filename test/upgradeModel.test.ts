// The ordering of an upgrade, checked on a model of the cluster: every order in which the engine
// could run the steps that upgradeEdges allows (every order ideal of the graph, explored
// exhaustively) keeps every running kubelet at or below the API server's version, and keeps at most
// maxUnavailable Windows nodes cordoned at once. The checker finds a counterexample when an edge
// that matters is dropped, so it can fail.
import * as assert from "assert";
import { parseStaged, stagedStdin, StepEdge, stepName, upgradeEdges, upgradeWaves, WINDOW_STEPS } from "../components/scripts/upgrade";
import { kubeletFlags, kubeProxyFlags } from "../components/scripts/windows";
import { KUBERNETES_MINORS } from "../components/versions";
import { topologySpec } from "../components/topology";
import { defaultAddresses } from "./fixtures";
import { addedCost, buildUpgradeModel, simulateUpgrade, withUpgradeSteps } from "../plan/upgradeModel";

const MASTER = "k8s-master";
type Scenario = "upgrade" | "fresh" | "new node during an upgrade";

interface NodeState {
    joined: boolean;
    /** The running kubelet's version (0 old, 1 target); null: none. */
    kubelet: number | null;
    /** The kubelet binary on disk, for a node that has not joined. */
    disk: number;
    staged: boolean;
    cordoned: boolean;
}
interface State {
    apiserver: number | null;
    masterKubelet: number | null;
    nodes: Record<string, NodeState>;
}

function initial(scenario: Scenario, nodes: string[]): State {
    const fresh = scenario === "fresh";
    return {
        apiserver: fresh ? null : 0,
        masterKubelet: fresh ? null : 0,
        nodes: Object.fromEntries(
            nodes.map((n, i) => {
                const joined = scenario === "upgrade" || (scenario === "new node during an upgrade" && i < nodes.length - 1);
                return [n, { joined, kubelet: joined ? 0 : null, disk: 0, staged: false, cordoned: false }];
            }),
        ),
    };
}

/** What each step does to the model (target version 1), in sub-steps (a step's own order is the script's, tested by running it). */
function effects(step: string, s: State): Array<(s: State) => void> {
    const node = Object.keys(s.nodes).find((n) => step.startsWith(`${n}-`));
    if (!node) {
        if (step === stepName(MASTER, "init")) return [(x) => { if (x.apiserver === null) { x.apiserver = 1; x.masterKubelet = 1; } }];
        // kubeadm upgrade apply, then the master's kubelet (renderMasterUpgrade)
        if (step === stepName(MASTER, "upgrade")) return [(x) => { x.apiserver = 1; }, (x) => { x.masterKubelet = 1; }];
        return [];
    }
    const kind = step.slice(node.length + 1);
    const n = (x: State) => x.nodes[node];
    switch (kind) {
        case "prepare-runtime":
            // a joined node stages; a fresh one installs directly (renderPrepareRuntime)
            return [(x) => { if (n(x).joined) n(x).staged = true; else n(x).disk = 1; }];
        case "join":
            return [(x) => { if (!n(x).joined) { n(x).joined = true; n(x).kubelet = n(x).disk; } }];
        case "drain":
            return [(x) => { if (n(x).staged) n(x).cordoned = true; }];
        case "upgrade":
            return [(x) => { if (n(x).staged) { n(x).kubelet = 1; n(x).staged = false; } }];
        case "uncordon":
            return [(x) => { n(x).cordoned = false; }];
        default:
            return [];
    }
}

function violation(s: State, maxUnavailable: number): string | undefined {
    const kubelets = [s.masterKubelet, ...Object.values(s.nodes).map((n) => n.kubelet)].filter((k): k is number => k !== null);
    if (kubelets.length && (s.apiserver === null || kubelets.some((k) => k > (s.apiserver as number)))) {
        return `a kubelet (${kubelets.join(", ")}) is newer than the API server (${s.apiserver})`;
    }
    const cordoned = Object.values(s.nodes).filter((n) => n.cordoned).length;
    if (cordoned > maxUnavailable) {
        return `${cordoned} nodes out of service, more than ${maxUnavailable}`;
    }
    return undefined;
}

/**
 * Explores every order the edges allow (depth first over the sets of finished steps; the model's
 * state depends only on that set). Returns a counterexample: the steps in order, and what broke.
 */
function counterexample(edges: StepEdge[], scenario: Scenario, nodes: string[], maxUnavailable: number): { order: string[]; problem: string } | undefined {
    const steps = [...new Set([...edges.flatMap((e) => [e.from, e.to]), ...nodes.flatMap((n) => WINDOW_STEPS.map((w) => stepName(n, w)))])];
    const index = new Map(steps.map((s, i) => [s, i]));
    const deps = steps.map(() => 0);
    for (const e of edges) {
        deps[index.get(e.to)!] |= 1 << index.get(e.from)!;
    }
    const seen = new Set<number>();
    const full = (1 << steps.length) - 1;
    const walk = (done: number, state: State, order: string[]): { order: string[]; problem: string } | undefined => {
        if (done === full || seen.has(done)) return undefined;
        seen.add(done);
        for (let i = 0; i < steps.length; i++) {
            if (done & (1 << i) || (deps[i] & done) !== deps[i]) continue;
            const next = structuredClone(state);
            for (const f of effects(steps[i], next)) {
                f(next);
                const problem = violation(next, maxUnavailable);
                if (problem) return { order: [...order, steps[i]], problem };
            }
            const found = walk(done | (1 << i), next, [...order, steps[i]]);
            if (found) return found;
        }
        return undefined;
    };
    return walk(0, initial(scenario, nodes), []);
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `k8s-win-${i + 1}`);
const SCENARIOS: Scenario[] = ["upgrade", "fresh", "new node during an upgrade"];

describe("upgrade ordering (model of every order the graph allows)", () => {
    for (const n of [1, 2, 3, 4]) {
        for (const k of [1, 2]) {
            if (k > n) continue;
            it(`${n} node(s), maxUnavailable ${k}: no kubelet newer than the API server, at most ${k} node(s) cordoned, in every order`, () => {
                for (const scenario of SCENARIOS) {
                    const found = counterexample(upgradeEdges(MASTER, names(n), k), scenario, names(n), k);
                    assert.strictEqual(found, undefined, `${scenario}: ${found?.problem} after ${found?.order.join(" → ")}`);
                }
            });
        }
    }

    it("the checker finds the orders that break when an edge is dropped", () => {
        const nodes = names(3);
        const all = upgradeEdges(MASTER, nodes, 1);
        const without = (pred: (e: StepEdge) => boolean) => all.filter((e) => !pred(e));
        // nodes before the control plane (the window's edge, and the join's that implies it): a node's kubelet moves first
        const early = counterexample(without((e) => e.from === stepName(MASTER, "upgrade") && /-(drain|join)$/.test(e.to)), "upgrade", nodes, 1);
        assert.match(early?.problem ?? "", /newer than the API server \(0\)/);
        // a node added during an upgrade joins with the new kubelet before the control plane moved
        const join = counterexample(without((e) => e.from === stepName(MASTER, "upgrade") && e.to.endsWith("-join")), "new node during an upgrade", nodes, 1);
        assert.match(join?.problem ?? "", /newer than the API server/);
        assert.strictEqual(join?.order[join.order.length - 1], "k8s-win-3-join");
        // no waves: all nodes drained at once
        const waves = counterexample(without((e) => e.why.startsWith("at most")), "upgrade", nodes, 1);
        assert.match(waves?.problem ?? "", /2 nodes out of service, more than 1/);
    });

    it("upgradeWaves: node i waits on node i − maxUnavailable's uncordon, and only that", () => {
        assert.deepStrictEqual(
            upgradeWaves(names(5), 2).map((e) => `${e.from} → ${e.to}`),
            ["k8s-win-1-uncordon → k8s-win-3-drain", "k8s-win-2-uncordon → k8s-win-4-drain", "k8s-win-3-uncordon → k8s-win-5-drain"],
        );
        assert.deepStrictEqual(upgradeWaves(names(3), 3), [], "every node at once");
        assert.deepStrictEqual(upgradeWaves([], 1), []);
        assert.throws(() => upgradeWaves(names(2), 0), /maxUnavailable must be a whole number of at least 1/);
        assert.throws(() => upgradeWaves(names(2), 1.5), RangeError);
    });

    it("upgradeEdges: every new edge ends at an upgrade step, a window step or a join, and the graph has no cycle", () => {
        const edges = upgradeEdges(MASTER, names(3), 1);
        for (const e of edges.filter((x) => !x.existing)) {
            assert.match(e.to, /-(upgrade|drain|uncordon|join)$/, `${e.from} → ${e.to}`);
        }
        // Kahn's algorithm consumes every step
        const steps = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
        const indeg = new Map(steps.map((s) => [s, edges.filter((e) => e.to === s).length]));
        const queue = steps.filter((s) => indeg.get(s) === 0);
        let seen = 0;
        while (queue.length) {
            const s = queue.shift()!;
            seen++;
            for (const e of edges.filter((x) => x.from === s)) {
                indeg.set(e.to, indeg.get(e.to)! - 1);
                if (indeg.get(e.to) === 0) queue.push(e.to);
            }
        }
        assert.strictEqual(seen, steps.length);
    });
});

describe("what the drain reads from prepare-runtime", () => {
    it("the last staged line, as names; none or no line: nothing", () => {
        assert.deepStrictEqual(parseStaged("x\nstaged: kubelet.exe kube-proxy.exe\r\n"), ["kubelet.exe", "kube-proxy.exe"]);
        assert.deepStrictEqual(parseStaged("staged: kubelet.exe\nstaged: none\n"), []);
        assert.deepStrictEqual(parseStaged(""), []);
        assert.strictEqual(stagedStdin("staged: flanneld.exe\n"), "flanneld.exe\n");
        assert.strictEqual(stagedStdin(""), "\n");
    });
});

describe("a re-run join before a node's window is safe", () => {
    // The join writes the agents' start scripts for the configured version and restarts them with
    // the binaries still in place (the window swaps them after): the next minor's flags must be
    // flags the previous minor's kubelet and kube-proxy accept. Today each minor only drops flags.
    const node = defaultAddresses(1).windows[0];
    const minors = KUBERNETES_MINORS.map((m) => m.minor);
    for (let i = 1; i < minors.length; i++) {
        it(`${minors[i - 1]} → ${minors[i]}: the new flags are a subset of the old`, () => {
            const [older, newer] = [`${minors[i - 1]}.0`, `${minors[i]}.0`];
            for (const topology of ["vxlan", "host-gw", "tor"] as const) {
                const spec = topologySpec(topology);
                const proxy = (v: string) => kubeProxyFlags({ node, spec, podCidr: "10.244.0.0/16", kubernetesVersion: v });
                for (const [now, next] of [[kubeletFlags(node, older), kubeletFlags(node, newer)], [proxy(older), proxy(newer)]]) {
                    assert.deepStrictEqual(next.filter((f) => !now.includes(f)), [], topology);
                }
            }
        });
    }
});

describe("the upgrade model behind npm run bench", () => {
    it("an upgrade of N nodes one at a time keeps 1/N out of service at most, and takes longer than with 5 at once", () => {
        const one = simulateUpgrade(buildUpgradeModel(10, 1), 200, 7);
        const five = simulateUpgrade(buildUpgradeModel(10, 5), 200, 7);
        assert.strictEqual(one.peakShareUnavailable, 0.1);
        assert.strictEqual(five.peakShareUnavailable, 0.5);
        assert.ok(one.meanShareUnavailable <= 0.1 + 1e-9 && five.meanShareUnavailable <= 0.5);
        assert.ok(one.p50 > five.p50, `${one.p50} > ${five.p50}`);
        // one at a time: the node phase is the sum of the windows (no overlap)
        assert.ok(Math.abs(one.nodePhaseP50 - one.nodeMinutesOutP50) < 1e-6);
        // the same seed, the same figures
        assert.deepStrictEqual(simulateUpgrade(buildUpgradeModel(10, 1), 200, 7), one);
    });

    it("every step of the model has an estimate that says why, and a minor upgrade runs the joins again", () => {
        const patch = buildUpgradeModel(2, 1, "patch");
        const minor = buildUpgradeModel(2, 1, "minor");
        for (const st of patch.steps) {
            assert.ok("estimate" in st.basis && st.basis.estimate.length > 10, st.name);
        }
        const join = (m: typeof patch) => m.steps.find((st) => st.name === "k8s-win-1-join")!.spread.median;
        assert.strictEqual(join(patch), 0);
        assert.ok(join(minor) > 0);
    });

    it("withUpgradeSteps adds the master's upgrade and three steps per node, ordered as upgradeEdges orders them, once", () => {
        const base = {
            kind: "stock" as const,
            buckets: [],
            steps: ["k8s-master-version-check", "k8s-master-prepare", "k8s-master-init", "k8s-win-1-prepare-runtime", "k8s-win-1-join", "k8s-win-2-prepare-runtime", "k8s-win-2-join"].map((name, i, all) => ({
                name,
                type: "command:remote:Command",
                deps: i === 0 ? [] : name.endsWith("-join") ? [all.indexOf(name.replace("-join", "-prepare-runtime")), 2] : [i === 3 || i === 5 ? 0 : i - 1],
                spread: { median: 1, p90: 1 },
                basis: { estimate: "test step" },
                slot: true,
                ssh: true,
                buckets: [],
            })),
        };
        const m = withUpgradeSteps(base, 1);
        assert.deepStrictEqual(m.steps.slice(7).map((st) => st.name), ["k8s-master-upgrade", "k8s-win-1-drain", "k8s-win-1-upgrade", "k8s-win-1-uncordon", "k8s-win-2-drain", "k8s-win-2-upgrade", "k8s-win-2-uncordon"]);
        const deps = (name: string) => m.steps.find((st) => st.name === name)!.deps.map((i) => m.steps[i].name).sort();
        assert.deepStrictEqual(deps("k8s-win-2-drain"), ["k8s-master-upgrade", "k8s-win-1-uncordon", "k8s-win-2-join", "k8s-win-2-prepare-runtime"]);
        assert.ok(deps("k8s-win-1-join").includes("k8s-master-upgrade"));
        assert.strictEqual(withUpgradeSteps(m, 1), m, "a plan that has them already is left as it is");
        // no-op windows in a chain: the added time is their sum when nothing else runs after the joins
        const cost = addedCost(base, m, { cap: Infinity, maxStartups: null, throttling: false }, 50, 3);
        assert.ok(cost.addedP50 > 0);
    });
});
