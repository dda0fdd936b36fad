// Monte Carlo model of `pulumi up` (pure): each step's duration drawn from its distribution
// (plan/durations.ts), scheduled on the plan's graph the way the engine runs it, with the limits
// that serialize real runs (plan/limits.ts). A fixed seed gives the same figures every time.
import { PlanDocument, PlanResource } from "./evaluate";
import { BACKGROUND_PULL, Basis, CREATELESS, ImageKind, isCreateless, isProvisionExtension, isSourced, PROVISION_REBOOT, provisionSpread, Spread, stepSpread } from "./durations";
import { AZURE_BUCKETS, MASTER_MAX_STARTUPS, MaxStartups, maxStartupsDropChance, SSH_HANDSHAKE_MINUTES, SSH_RETRY_MINUTES, TokenBucket, TokenBucketSpec } from "./limits";

export interface ModelStep {
    name: string;
    type: string;
    deps: number[];
    spread: Spread;
    basis: Basis;
    /** Holds one of Pulumi's --parallel slots while it runs (real work; not components, providers or background pulls). */
    slot: boolean;
    /** Opens an SSH connection to the master (every remote command: the master is the proxy for Windows nodes). */
    ssh: boolean;
    /** Indices of the token buckets it draws from when it starts. */
    buckets: number[];
    /**
     * A step made of parts (the provisioning extension): lanes of parts one after another, lanes side
     * by side; a draw is the longest lane's sum of its parts' draws. `spread` then only describes it.
     */
    lanes?: Spread[][];
}

export interface Model {
    kind: ImageKind;
    steps: ModelStep[];
    buckets: TokenBucketSpec[];
}

const isMasterVm = (r: PlanResource) => r.type === "azure-native:compute:VirtualMachine" && /master-vm$/.test(r.name);
/** A VM made from a gallery image version (an image reference by id). */
function fromGallery(r: PlanResource): boolean {
    const storage = r.inputs.storageProfile as { imageReference?: { id?: unknown } } | undefined;
    return typeof storage?.imageReference?.id === "string";
}

/** Name of the modeled background pull of a node's runtime step. */
export const pullName = (runtimeStep: string) => `${runtimeStep.replace(/-prepare-runtime$/, "")}-image-pull`;

/**
 * The plan's graph as model steps, for an image kind. Adds one background step per Windows node:
 * the sample image's pull, which starts when the node's runtime step ends, holds no Pulumi slot,
 * and which the sample's Deployment waits for.
 */
export function buildModel(doc: PlanDocument, kind: ImageKind, buckets: TokenBucketSpec[] = AZURE_BUCKETS): Model {
    const index = new Map(doc.resources.map((r, i) => [r.urn, i]));
    // nodes provisioned by the extension (the stock chain of components/scripts/provision.ts): their
    // prepare-runtime over SSH is its second run (the verify-only row)
    const provisioned = new Set(doc.resources.filter(isProvisionExtension).map((r) => r.name.slice(0, -"-provision".length)));
    const secondRun = (name: string) => provisioned.has(name.replace(/-prepare-runtime$/, "")) && name.endsWith("-prepare-runtime");
    // the master's own rows (its steps, flannel's DaemonSet) take their prebuilt figures only when
    // the master is made from a gallery image (the master image of images/)
    const masterKind: ImageKind = kind === "prebuilt" && doc.resources.some((r) => isMasterVm(r) && fromGallery(r)) ? "prebuilt" : "stock";
    const kindOf = (r: PlanResource): ImageKind => (/(^|-)master-/.test(r.name) || /apps\/v1:DaemonSet$/.test(r.type) ? masterKind : kind);
    const steps: ModelStep[] = doc.resources.map((r) => {
        const createless = isCreateless(r);
        const { spread, basis } = createless ? CREATELESS : secondRun(r.name) ? stepSpread(r, "prebuilt") : stepSpread(r, kindOf(r));
        return {
            name: r.name,
            type: r.type,
            deps: r.dependsOn.map((d) => index.get(d)).filter((i): i is number => i !== undefined),
            spread,
            basis,
            // a step that runs nothing when created holds neither a slot's real work nor an SSH session
            slot: spread.median > 0 && !createless,
            ssh: r.type === "command:remote:Command" && !createless,
            buckets: buckets.flatMap((b, i) => (b.types.test(r.type) ? [i] : [])),
        };
    });
    // The provisioning extension: made of the rows of the work it runs; then the reboot, which the
    // ready step waits out in its slot, and from whose end the boot task pulls (provision.ts).
    const rebootOf = new Map<string, number>();
    doc.resources.forEach((r, i) => {
        const node = r.name.slice(0, -"-provision".length);
        if (!provisioned.has(node) || r.name !== `${node}-provision`) {
            return;
        }
        const { spread, basis, lanes } = provisionSpread();
        Object.assign(steps[i], { spread, basis, lanes });
        const reboot = stepSpread(PROVISION_REBOOT.as, "stock");
        rebootOf.set(node, steps.length);
        steps.push({
            name: `${node}-provision-reboot`,
            type: "model:reboot",
            deps: [i],
            spread: { median: reboot.spread.median + PROVISION_REBOOT.delay.median, p90: reboot.spread.p90 + PROVISION_REBOOT.delay.p90 },
            lanes: [[reboot.spread, PROVISION_REBOOT.delay]],
            basis: reboot.basis,
            // the ready step waits out the reboot in its slot
            slot: true,
            ssh: false,
            buckets: [],
        });
        const ready = index.get(doc.resources.find((x) => x.name === `${node}-ready`)?.urn ?? "");
        if (ready !== undefined) {
            steps[ready].deps = steps[ready].deps.map((d) => (d === i ? (rebootOf.get(node) as number) : d));
        }
    });
    const pull = kind === "prebuilt" ? BACKGROUND_PULL.prebuilt : { spread: BACKGROUND_PULL.stock, basis: BACKGROUND_PULL.basis };
    const pulls: number[] = [];
    doc.resources.forEach((r, i) => {
        if (r.type === "command:remote:Command" && /-prepare-runtime$/.test(r.name)) {
            const node = r.name.replace(/-prepare-runtime$/, "");
            pulls.push(steps.length);
            // a provisioned node pulls from its boot task, right after the reboot; otherwise from the end of prepare-runtime
            const from = rebootOf.get(node) ?? i;
            steps.push({ name: pullName(r.name), type: "model:background-pull", deps: [from], spread: pull.spread, basis: pull.basis, slot: false, ssh: false, buckets: [] });
        }
    });
    steps.forEach((st) => {
        if (/apps\/v1:Deployment$/.test(st.type)) {
            st.deps.push(...pulls);
        }
    });
    return { kind, steps, buckets };
}

/** A small, fast, seeded generator (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const Z90 = 1.2815515655446004;

/** One draw from a lognormal given by median and p90 (Box-Muller). */
export function sampleSpread(sp: Spread, rand: () => number): number {
    if (sp.median <= 0 || sp.p90 <= sp.median) {
        return sp.median;
    }
    const sigma = Math.log(sp.p90 / sp.median) / Z90;
    const u = 1 - rand();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
    return sp.median * Math.exp(sigma * z);
}

export interface RunOptions {
    /** Pulumi's --parallel (Infinity: no cap). */
    cap: number;
    /** The master's sshd MaxStartups; null: no limit modeled. */
    maxStartups?: MaxStartups | null;
    /** Apply the token buckets (Azure API throttling). Defaults to true. */
    throttling?: boolean;
}

export interface RunResult {
    makespan: number;
    start: Float64Array;
    finish: Float64Array;
    /** Steps on the critical path, first to last. */
    criticalPath: number[];
    /** Minutes steps spent waiting for a Pulumi slot, for API tokens, for sshd (summed over steps). */
    waits: { slot: number; throttle: number; ssh: number };
    /** Most slot-holding steps running at once. */
    peakSlots: number;
}

/** A binary min-heap of step indices keyed by a number (ties: lower index first). */
class Heap {
    private readonly items: number[] = [];
    constructor(private readonly key: Float64Array) {}
    get size(): number {
        return this.items.length;
    }
    private less(a: number, b: number): boolean {
        const ka = this.key[a];
        const kb = this.key[b];
        return ka < kb || (ka === kb && a < b);
    }
    push(v: number): void {
        const it = this.items;
        it.push(v);
        let i = it.length - 1;
        while (i > 0) {
            const p = (i - 1) >> 1;
            if (!this.less(it[i], it[p])) {
                break;
            }
            [it[i], it[p]] = [it[p], it[i]];
            i = p;
        }
    }
    pop(): number | undefined {
        const it = this.items;
        if (!it.length) {
            return undefined;
        }
        const top = it[0];
        const last = it.pop() as number;
        if (it.length) {
            it[0] = last;
            let i = 0;
            for (;;) {
                const l = 2 * i + 1;
                const r = l + 1;
                let m = i;
                if (l < it.length && this.less(it[l], it[m])) {
                    m = l;
                }
                if (r < it.length && this.less(it[r], it[m])) {
                    m = r;
                }
                if (m === i) {
                    break;
                }
                [it[i], it[m]] = [it[m], it[i]];
                i = m;
            }
        }
        return top;
    }
}

const dependentsCache = new WeakMap<Model, number[][]>();

/** For each step, the steps that wait on it (computed once per model). */
function dependentsOf(model: Model): number[][] {
    let out = dependentsCache.get(model);
    if (!out) {
        const ds: number[][] = model.steps.map(() => []);
        model.steps.forEach((st, i) => st.deps.forEach((d) => ds[d].push(i)));
        dependentsCache.set(model, ds);
        out = ds;
    }
    return out;
}

/**
 * One run of `pulumi up` with the given step durations. A step is ready when everything it waits
 * on has finished; ready steps take free slots first come, first served (Pulumi's step executor:
 * a pool of --parallel workers reading one channel), ties in plan order. A starting step draws its
 * API tokens (waiting for them in its slot, as the SDK retries on 429) and, for remote commands,
 * gets past the master's sshd MaxStartups (a refused connection is dialled again). `rand` drives
 * sshd's random refusals only.
 */
export function runOnce(model: Model, durations: Float64Array, opts: RunOptions, rand: () => number = seededRandom(1)): RunResult {
    const n = model.steps.length;
    const dependents = dependentsOf(model);
    const waiting = Int32Array.from(model.steps, (st) => st.deps.length);
    const start = new Float64Array(n);
    const finish = new Float64Array(n);
    const readyAt = new Float64Array(n);
    const pred = new Int32Array(n).fill(-1);
    const buckets = opts.throttling === false ? [] : model.buckets.map((b) => new TokenBucket(b));
    const maxStartups = opts.maxStartups === undefined ? MASTER_MAX_STARTUPS : opts.maxStartups;
    const handshakes: number[] = [];
    const running = new Heap(finish);
    const fifo: number[] = [];
    let head = 0;
    const free: number[] = [];
    let slotsInUse = 0;
    let peakSlots = 0;
    let now = 0;
    let done = 0;
    const waits = { slot: 0, throttle: 0, ssh: 0 };

    const begin = (i: number) => {
        const st = model.steps[i];
        start[i] = now;
        waits.slot += now - readyAt[i];
        let t = now;
        for (const b of st.buckets) {
            if (b < buckets.length) {
                t += buckets[b].take(t);
            }
        }
        waits.throttle += t - now;
        if (st.ssh && maxStartups) {
            const before = t;
            for (;;) {
                while (handshakes.length && handshakes[0] <= t) {
                    handshakes.shift();
                }
                if (rand() >= maxStartupsDropChance(handshakes.length, maxStartups)) {
                    break;
                }
                t += SSH_RETRY_MINUTES;
            }
            // kept in order of their end, so the ones past are at the front
            const end = t + SSH_HANDSHAKE_MINUTES;
            let lo = 0;
            let hi = handshakes.length;
            while (lo < hi) {
                const mid = (lo + hi) >> 1;
                if (handshakes[mid] <= end) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            handshakes.splice(lo, 0, end);
            waits.ssh += t - before;
        }
        finish[i] = t + durations[i];
        if (st.slot) {
            slotsInUse++;
            peakSlots = Math.max(peakSlots, slotsInUse);
        }
        running.push(i);
    };
    const makeReady = (i: number) => {
        readyAt[i] = now;
        (model.steps[i].slot ? fifo : free).push(i);
    };
    for (let i = 0; i < n; i++) {
        if (waiting[i] === 0) {
            makeReady(i);
        }
    }
    while (done < n) {
        while (free.length) {
            begin(free.shift() as number);
        }
        while (head < fifo.length && slotsInUse < opts.cap) {
            begin(fifo[head++]);
        }
        const next = running.pop();
        if (next === undefined) {
            throw new Error("the plan's graph has a cycle");
        }
        now = finish[next];
        done++;
        if (model.steps[next].slot) {
            slotsInUse--;
        }
        for (const d of dependents[next]) {
            if (pred[d] === -1 || finish[next] > finish[pred[d]]) {
                pred[d] = next;
            }
            if (--waiting[d] === 0) {
                makeReady(d);
            }
        }
    }
    let last = 0;
    for (let i = 1; i < n; i++) {
        if (finish[i] > finish[last]) {
            last = i;
        }
    }
    const criticalPath: number[] = [];
    for (let i = last; i !== -1; i = pred[i]) {
        criticalPath.unshift(i);
    }
    return { makespan: n ? finish[last] : 0, start, finish, criticalPath, waits, peakSlots };
}

/** Every step at its median: the model's typical run, reproducible without sampling. */
export function medianDurations(model: Model): Float64Array {
    return Float64Array.from(model.steps.map((s) => (s.lanes ? Math.max(...s.lanes.map((lane) => lane.reduce((a, p) => a + p.median, 0))) : s.spread.median)));
}

/** Nearest-rank percentile of ascending `sorted` (p in (0, 1]). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
    if (!sorted.length) {
        return NaN;
    }
    const k = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
    return sorted[k - 1];
}

export interface MonteCarloResult {
    runs: number;
    p50: number;
    p90: number;
    mean: number;
    /** Mean minutes per run that steps waited for slots, API tokens and sshd. */
    meanWaits: { slot: number; throttle: number; ssh: number };
    /** Mean of the most slot-holding steps at once. */
    meanPeakSlots: number;
}

/** `runs` runs with durations drawn from each step's distribution; the same seed gives the same result. */
export function monteCarlo(model: Model, opts: RunOptions, runs: number, seed: number): MonteCarloResult {
    const rand = seededRandom(seed);
    const makespans = new Float64Array(runs);
    const waits = { slot: 0, throttle: 0, ssh: 0 };
    let peak = 0;
    const d = new Float64Array(model.steps.length);
    for (let r = 0; r < runs; r++) {
        model.steps.forEach((st, i) => {
            d[i] = st.lanes ? Math.max(...st.lanes.map((lane) => lane.reduce((a, p) => a + sampleSpread(p, rand), 0))) : sampleSpread(st.spread, rand);
        });
        const res = runOnce(model, d, opts, rand);
        makespans[r] = res.makespan;
        waits.slot += res.waits.slot;
        waits.throttle += res.waits.throttle;
        waits.ssh += res.waits.ssh;
        peak += res.peakSlots;
    }
    makespans.sort();
    const mean = makespans.reduce((a, b) => a + b, 0) / Math.max(1, runs);
    return {
        runs,
        p50: percentile(makespans, 0.5),
        p90: percentile(makespans, 0.9),
        mean,
        meanWaits: { slot: waits.slot / runs, throttle: waits.throttle / runs, ssh: waits.ssh / runs },
        meanPeakSlots: peak / runs,
    };
}

export interface CriticalStep {
    name: string;
    type: string;
    start: number;
    minutes: number;
    sourced: boolean;
    basis: Basis;
}

/** The critical path of the median run, and the share of its minutes that rest on sourced figures. */
export function criticalPath(model: Model, opts: RunOptions): { makespan: number; steps: CriticalStep[]; sourcedMinutes: number; pathMinutes: number; sourcedShare: number } {
    const d = medianDurations(model);
    const run = runOnce(model, d, opts);
    const steps = run.criticalPath
        .map((i) => ({ name: model.steps[i].name, type: model.steps[i].type, start: run.start[i], minutes: d[i], sourced: isSourced(model.steps[i].basis), basis: model.steps[i].basis }))
        .filter((st) => st.minutes > 0);
    const pathMinutes = steps.reduce((a, st) => a + st.minutes, 0);
    const sourcedMinutes = steps.filter((st) => st.sourced).reduce((a, st) => a + st.minutes, 0);
    return { makespan: run.makespan, steps, sourcedMinutes, pathMinutes, sourcedShare: pathMinutes ? sourcedMinutes / pathMinutes : 0 };
}
