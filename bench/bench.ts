// `npm run bench`: how the plan scales with the number of Windows nodes, and the modeled time to
// a working cluster. For windowsNodeCount 1, 10, 50 and 100 it runs `npm run plan` (the whole
// command, as a user runs it: start-up, evaluation, graphs, files) and reports its wall time and
// peak memory against the goal below. It then models `pulumi up` on each plan's graph by Monte
// Carlo (plan/montecarlo.ts): every step's duration drawn from its distribution in
// plan/durations.ts, for two image kinds (stock, prebuilt: each kind's own plan, the prebuilt one with
// a gallery image id; the stock one runs the provisioning extension), at the recommended --parallel and at
// Pulumi's default (4 x CPUs), with Azure's API throttling and the master's sshd limits
// (plan/limits.ts); a fixed seed, so the figures are the same on every run. Prints the p50/p90
// table and the critical path of the typical one-node run, and writes out/bench.json.
// It also models an upgrade by config (plan/upgradeModel.ts): the time a Kubernetes patch upgrade
// of N Windows nodes takes and the share of nodes out of service, for maxUnavailable 1 and 5, and
// what the upgrade steps add to a first `pulumi up`, where they run nothing (no `create`).
// Exit 1 when two evaluations of one stack differ. Options: --help, --quick (1 and 10 only), --runs N.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeBasis, durationOf, IMAGE_KINDS, ImageKind } from "../plan/durations";
import { PlanDocument, PlanResource } from "../plan/evaluate";
import { recommendedParallelism } from "../plan/graph";
import { AZURE_BUCKETS, MASTER_MAX_STARTUPS, planQuotaWarnings, pulumiDefaultParallel, TYPICAL_QUOTA } from "../plan/limits";
import { buildModel, criticalPath, monteCarlo, MonteCarloResult } from "../plan/montecarlo";
import { sequentialTime } from "../plan/schedule";
import { addedCost, buildUpgradeModel, simulateUpgrade, UPGRADE_DURATIONS, UPGRADE_STEP, UpgradeFigures, withoutUpgradeCost, withUpgradeSteps } from "../plan/upgradeModel";

const USAGE = `Usage: npm run bench [-- --quick] [-- --runs N]

Plans the dev stack with 1, 10, 50 and 100 Windows nodes (--quick: 1 and 10), reports the plan
command's wall time and peak memory against the goal (N=50 under ${5} s, N=100 under ${10} s and
1 GiB), and models the time to a working cluster by Monte Carlo (--runs per figure, default
${1000}; fixed seed): p50 and p90 for stock and prebuilt Windows images, at the recommended
--parallel and at Pulumi's default (4 x CPUs). Prints the critical path; models an upgrade by
config (time, share of nodes out of service) and what the upgrade steps add to a first pulumi up;
writes out/bench.json.
Exit codes: 0 done, 1 a plan failed or two plans of one stack differ, 2 usage error.
`;

/** The speed goal for `npm run plan` on the project's machine (wall seconds; memory at 100 nodes). */
export const GOAL = { seconds: { 50: 5, 100: 10 } as Record<number, number>, maxRssMbAt100: 1024 };

const ROOT = path.resolve(__dirname, "..");
/** The speed goal for `pulumi up` in the model (minutes; p90 at 50 nodes over p50 at 1, prebuilt). */
export const MODEL_GOAL = { prebuiltP50: 9, stockP50: 17, ratio: 1.2 };
const SEED = 20261125;
// Pulumi's default on this machine (PULUMI_PARALLEL is not consulted: the figures must not depend on the shell)
const defaultCap = pulumiDefaultParallel(os.cpus().length);

type Figure = Pick<MonteCarloResult, "p50" | "p90"> & { meanWaitMinutes: { slot: number; throttle: number; ssh: number } };

interface Row {
    windowsNodes: number;
    planSeconds: number;
    maxRssMb: number;
    resources: number;
    recommendedParallel: number;
    /** Minutes to a working cluster, per image kind, at the recommended --parallel and at Pulumi's default. */
    model: Record<ImageKind, { recommended: Figure; defaultCap: Figure; parallel: number }>;
    /** Every step one after another at its median (stock), as the seed's manual procedure runs. */
    sequential: number;
    quotaWarnings: string[];
    planInputsDigest: string;
    /**
     * What the upgrade steps (the master's upgrade, each node's drain, upgrade and uncordon, at
     * maxUnavailable 1) add to a first `pulumi up`, where they run nothing (no `create`), per image kind: p50
     * minutes to the end of `pulumi up` without and with them (recommended --parallel; "without":
     * the same plan with those steps taking no time).
     */
    firstUpUpgradeSteps: Record<ImageKind, { p50Without: number; p50With: number; addedMinutes: number; addedMinutesP90: number; steps: number }>;
}

/** The maxUnavailable values the upgrade model is run for. */
const UPGRADE_MAX_UNAVAILABLE = [1, 5];

const r2 = (x: number) => +x.toFixed(2);

function figure(m: MonteCarloResult): Figure {
    return { p50: r2(m.p50), p90: r2(m.p90), meanWaitMinutes: { slot: r2(m.meanWaits.slot), throttle: r2(m.meanWaits.throttle), ssh: r2(m.meanWaits.ssh) } };
}

/** Gallery image version ids (images/): the cluster plans the prebuilt images' chains for them. */
export const PREBUILT_IMAGE_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hybrid-k8s-images/providers/Microsoft.Compute/galleries/hybridk8s/images/windows-node-2022/versions/1.0.0";
export const PREBUILT_MASTER_IMAGE_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hybrid-k8s-images/providers/Microsoft.Compute/galleries/hybridk8s/images/linux-master/versions/1.0.0";

/** One `npm run plan` (the same node flags as the npm script), timed, with its peak memory. */
function planOnce(count: number, config: string[] = []): { seconds: number; maxRssMb: number; doc: PlanDocument } {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const script = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.plan as string;
    const nodeFlags = script.match(/--max-semi-space-size=\d+/) ?? [];
    const start = process.hrtime.bigint();
    const res = spawnSync(
        process.execPath,
        [...nodeFlags, require.resolve("ts-node/dist/bin.js"), path.join(ROOT, "plan", "cli.ts"), "--quiet", "--out", out, "--config", `windowsNodeCount=${count}`, ...config.flatMap((c) => ["--config", c])],
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, PLAN_BENCH_STATS: "1" } },
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (res.error || res.status !== 0) {
        throw new Error(`plan with ${count} nodes failed:\n${res.error?.message ?? res.stderr}`);
    }
    const stats = /plan-stats (\{.*\})/.exec(res.stderr);
    const maxRssMb = stats ? (JSON.parse(stats[1]) as { maxRssMb: number }).maxRssMb : NaN;
    const doc = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as PlanDocument;
    fs.rmSync(out, { recursive: true, force: true });
    return { seconds, maxRssMb, doc };
}

function inputsDigest(doc: PlanDocument): string {
    return crypto.createHash("sha256").update(JSON.stringify(doc.resources.map((r) => [r.urn, r.inputs, r.dependsOn]))).digest("hex");
}

function main(): number {
    const args = process.argv.slice(2);
    if (args.includes("--help") || args.includes("-h")) {
        process.stdout.write(USAGE);
        return 0;
    }
    let runs = 1000;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        const m = /^--runs(?:=(.*))?$/.exec(a);
        if (m) {
            const v = m[1] ?? args[++i];
            runs = Number(v);
            if (!Number.isInteger(runs) || runs < 10) {
                process.stderr.write(`bench: --runs needs a whole number of at least 10\n${USAGE}`);
                return 2;
            }
        } else {
            rest.push(a);
        }
    }
    const unknown = rest.filter((a) => a !== "--quick" && a !== "--full");
    if (unknown.length) {
        process.stderr.write(`bench: unknown option ${unknown[0]}\n${USAGE}`);
        return 2;
    }
    const counts = rest.includes("--quick") ? [1, 10] : [1, 10, 50, 100];
    const rows: Row[] = [];
    const paths: Partial<Record<ImageKind, ReturnType<typeof criticalPath>>> = {};
    let modelMs = 0;
    for (const n of counts) {
        const { seconds, maxRssMb, doc } = planOnce(n);
        const docs: Record<ImageKind, PlanDocument> = { stock: doc, prebuilt: planOnce(n, [`windowsImage=${PREBUILT_IMAGE_ID}`, `linuxImage=${PREBUILT_MASTER_IMAGE_ID}`]).doc };
        const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
        const rec = recommendedParallelism(docs.stock).recommended;
        const t0 = Date.now();
        const model = {} as Row["model"];
        for (const kind of IMAGE_KINDS) {
            const mm = buildModel(docs[kind], kind);
            const parallel = recommendedParallelism(docs[kind]).recommended;
            model[kind] = {
                recommended: figure(monteCarlo(mm, { cap: parallel }, runs, SEED)),
                defaultCap: figure(monteCarlo(mm, { cap: defaultCap }, runs, SEED)),
                parallel,
            };
            if (n === 1) {
                paths[kind] = criticalPath(mm, { cap: parallel });
            }
        }
        const firstUp = {} as Row["firstUpUpgradeSteps"];
        for (const kind of IMAGE_KINDS) {
            const mm = withUpgradeSteps(buildModel(docs[kind], kind), 1);
            const cost = addedCost(withoutUpgradeCost(mm), mm, { cap: recommendedParallelism(docs[kind]).recommended }, runs, SEED);
            firstUp[kind] = {
                p50Without: r2(cost.p50Without),
                p50With: r2(cost.p50With),
                addedMinutes: r2(cost.addedP50),
                addedMinutesP90: r2(cost.addedP90),
                steps: mm.steps.filter((st) => UPGRADE_STEP.test(st.name)).length,
            };
        }
        modelMs += Date.now() - t0;
        rows.push({
            windowsNodes: n,
            planSeconds: r2(seconds),
            maxRssMb: Math.round(maxRssMb),
            resources: doc.resources.length,
            recommendedParallel: rec,
            model,
            sequential: +sequentialTime(doc, (u: string) => durationOf(byUrn.get(u) as PlanResource)).toFixed(1),
            quotaWarnings: planQuotaWarnings(doc),
            planInputsDigest: inputsDigest(doc),
            firstUpUpgradeSteps: firstUp,
        });
    }
    // an upgrade by config (a Kubernetes patch, every node staged), per node count and maxUnavailable
    const t1 = Date.now();
    const upgrades: Array<{ windowsNodes: number; maxUnavailable: number } & UpgradeFigures> = [];
    for (const n of counts) {
        for (const k of UPGRADE_MAX_UNAVAILABLE.filter((x) => x === 1 || x < n)) {
            const f = simulateUpgrade(buildUpgradeModel(n, k), runs, SEED);
            upgrades.push({
                windowsNodes: n,
                maxUnavailable: k,
                ...f,
                p50: r2(f.p50),
                p90: r2(f.p90),
                nodePhaseP50: r2(f.nodePhaseP50),
                peakShareUnavailable: +f.peakShareUnavailable.toFixed(3),
                meanShareUnavailable: +f.meanShareUnavailable.toFixed(3),
                nodeMinutesOutP50: r2(f.nodeMinutesOutP50),
            });
        }
    }
    modelMs += Date.now() - t1;
    // determinism: a second evaluation of the same stack gives byte-identical inputs
    const again = inputsDigest(planOnce(counts[0]).doc);
    const first = rows[0];
    const at = (n: number) => rows.find((r) => r.windowsNodes === n);
    const ratioRow = at(50) ?? rows[rows.length - 1];
    const goal = rows
        .filter((r) => GOAL.seconds[r.windowsNodes] !== undefined)
        .map((r) => ({ nodes: r.windowsNodes, seconds: r.planSeconds, goal: GOAL.seconds[r.windowsNodes], met: r.planSeconds < GOAL.seconds[r.windowsNodes] && (r.windowsNodes !== 100 || r.maxRssMb < GOAL.maxRssMbAt100) }));
    const makespanP50Minutes = { stock: first.model.stock.recommended.p50, prebuilt: first.model.prebuilt.recommended.p50 };
    const makespanRatio = +(ratioRow.model.prebuilt.recommended.p90 / first.model.prebuilt.recommended.p50).toFixed(3);
    const makespanRatioDefaultCap = +(ratioRow.model.prebuilt.defaultCap.p90 / first.model.prebuilt.defaultCap.p50).toFixed(3);
    const sourced = (k: ImageKind) => {
        const p = paths[k]!;
        return { share: +p.sourcedShare.toFixed(3), sourcedMinutes: r2(p.sourcedMinutes), pathMinutes: r2(p.pathMinutes) };
    };
    const figures = {
        machine: `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`,
        defaultCap,
        runs,
        seed: SEED,
        makespanP50Minutes,
        /** p90 at 50 Windows nodes over p50 at 1, prebuilt image, recommended --parallel (at the largest N run when 50 is not). */
        makespanRatio,
        makespanRatioNodes: ratioRow.windowsNodes,
        makespanRatioDefaultCap,
        sourcedShareOfCriticalPath: { stock: sourced("stock"), prebuilt: sourced("prebuilt") },
        modelGoal: {
            prebuiltP50: { goal: MODEL_GOAL.prebuiltP50, value: makespanP50Minutes.prebuilt, met: makespanP50Minutes.prebuilt <= MODEL_GOAL.prebuiltP50 },
            stockP50: { goal: MODEL_GOAL.stockP50, value: makespanP50Minutes.stock, met: makespanP50Minutes.stock <= MODEL_GOAL.stockP50 },
            ratio: { goal: MODEL_GOAL.ratio, value: makespanRatio, met: makespanRatio <= MODEL_GOAL.ratio },
        },
        limits: {
            azureBuckets: AZURE_BUCKETS.map((b) => ({ name: b.name, capacity: b.capacity, refillPerMinute: b.refillPerMinute, source: b.source })),
            masterMaxStartups: MASTER_MAX_STARTUPS,
            typicalQuota: TYPICAL_QUOTA,
        },
        criticalPath: Object.fromEntries(
            IMAGE_KINDS.map((k) => [k, paths[k]!.steps.map((s) => ({ step: s.name, startMinute: r2(s.start), minutes: s.minutes, basis: describeBasis(s.basis) }))]),
        ),
        upgrade: {
            kind: "a Kubernetes patch version (every Windows node staged; joins do not run again)",
            durations: UPGRADE_DURATIONS.map((d) => ({ step: d.name.source, median: d.spread.median, p90: d.spread.p90, basis: describeBasis(d.basis) })),
            rows: upgrades,
        },
        modelSeconds: r2(modelMs / 1000),
        deterministic: again === first.planInputsDigest,
        goal,
    };
    const out = (s: string) => process.stdout.write(s);
    const table = (header: string[], body: string[][]) => {
        const all = [header, ...body];
        const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
        for (const row of all) {
            out(row.map((c, i) => c.padStart(widths[i])).join("  ") + "\n");
        }
    };
    table(
        ["nodes", "plan s", "peak MB", "resources", "--parallel", "sequential"],
        rows.map((r) => [r.windowsNodes, r.planSeconds, r.maxRssMb, r.resources, r.recommendedParallel, `${r.sequential} min`].map(String)),
    );
    out(`\nTime to a working cluster (minutes, p50 / p90 of ${runs} runs, seed ${SEED}):\n`);
    const pp = (f: Figure) => `${f.p50.toFixed(1)} / ${f.p90.toFixed(1)}`;
    table(
        ["nodes", "stock (rec.)", `stock (cap ${defaultCap})`, "prebuilt (rec.)", `prebuilt (cap ${defaultCap})`, "vCPU quota"],
        rows.map((r) => [
            String(r.windowsNodes),
            pp(r.model.stock.recommended),
            pp(r.model.stock.defaultCap),
            pp(r.model.prebuilt.recommended),
            pp(r.model.prebuilt.defaultCap),
            r.quotaWarnings.length ? "over a typical quota" : "fits",
        ]),
    );
    out("(stock: the provisioning extension's chain, components/scripts/provision.ts; prebuilt: the SSH steps verify what the image has)\n");
    const last = rows[rows.length - 1];
    out(
        `At ${last.windowsNodes} nodes, mean wait per run summed over steps (stock, rec.): slots ${last.model.stock.recommended.meanWaitMinutes.slot} min, ` +
            `Azure API throttling ${last.model.stock.recommended.meanWaitMinutes.throttle} min, master sshd MaxStartups ${last.model.stock.recommended.meanWaitMinutes.ssh} min.\n`,
    );
    for (const k of IMAGE_KINDS) {
        const p = paths[k]!;
        out(`\nCritical path, ${k} image, 1 node, every step at its median (${r2(p.makespan)} min; ${Math.round(p.sourcedShare * 100)}% of its minutes sourced):\n`);
        for (const s of p.steps) {
            out(`  ${s.start.toFixed(2).padStart(6)}  +${String(+s.minutes.toFixed(2)).padEnd(5)} ${s.name.padEnd(28)} ${s.sourced ? "sourced" : "estimate"}\n`);
        }
    }
    out(`\nUpgrade by config (a Kubernetes patch; minutes, p50 / p90 of ${runs} runs; estimates, plan/upgradeModel.ts):\n`);
    table(
        ["nodes", "maxUnavailable", "pulumi up", "node phase p50", "peak share out", "mean share out", "node-minutes out"],
        upgrades.map((u) => [String(u.windowsNodes), String(u.maxUnavailable), `${u.p50.toFixed(1)} / ${u.p90.toFixed(1)}`, u.nodePhaseP50.toFixed(1), `${(u.peakShareUnavailable * 100).toFixed(1)}%`, `${(u.meanShareUnavailable * 100).toFixed(1)}%`, u.nodeMinutesOutP50.toFixed(1)]),
    );
    out(`\nWhat the upgrade steps cost a first pulumi up (no create: each one provider call; the windows chained at maxUnavailable 1; rec. --parallel), minutes to the end of pulumi up (paired runs: the same durations for the other steps):\n`);
    table(
        ["nodes", "image", "upgrade steps", "without", "with", "added p50 / p90"],
        rows.flatMap((r) =>
            IMAGE_KINDS.map((k) => {
                const f = r.firstUpUpgradeSteps[k];
                return [String(r.windowsNodes), k, String(f.steps), f.p50Without.toFixed(1), f.p50With.toFixed(1), `+${f.addedMinutes.toFixed(2)} / +${f.addedMinutesP90.toFixed(2)}`];
            }),
        ),
    );
    const g = figures.modelGoal;
    const yes = (b: boolean) => (b ? "met" : "NOT met");
    out(
        `\nmodel goals: prebuilt p50(1) ${g.prebuiltP50.value} min (goal <= ${g.prebuiltP50.goal}): ${yes(g.prebuiltP50.met)}; ` +
            `stock p50(1) ${g.stockP50.value} min (goal <= ${g.stockP50.goal}): ${yes(g.stockP50.met)}; ` +
            `prebuilt p90(${ratioRow.windowsNodes})/p50(1) ${makespanRatio} (goal <= ${g.ratio.goal}): ${yes(g.ratio.met)}; at the default cap ${makespanRatioDefaultCap}\n` +
            `plan-time goal: ${goal.map((x) => `N=${x.nodes} ${x.seconds} s (goal < ${x.goal} s${x.nodes === 100 ? `, < ${GOAL.maxRssMbAt100} MB` : ""}): ${x.met ? "met" : "NOT met"}`).join("; ") || "(run without --quick)"}\n` +
            `deterministic: ${figures.deterministic}; model ${figures.modelSeconds} s; machine: ${figures.machine}\n`,
    );
    fs.mkdirSync(path.join(ROOT, "out"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "out", "bench.json"), JSON.stringify({ ...figures, rows }, null, 2) + "\n");
    out("Wrote out/bench.json\n");
    return figures.deterministic ? 0 : 1;
}

try {
    process.exit(main());
} catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
}
