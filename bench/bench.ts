// `npm run bench`: how the plan scales with the number of Windows nodes, and the modeled time to
// a working cluster. For windowsNodeCount 1, 10, 50 and 100 it runs `npm run plan` (the whole
// command, as a user runs it: start-up, evaluation, graphs, files) and reports its wall time and
// peak memory against the goal below; it also schedules each plan's graph with the duration table
// in plan/durations.ts: the makespan at Pulumi's default cap (4 x CPUs) and at the recommended
// --parallel, and the sequential time (the seed's manual procedure). Prints a table and writes
// out/bench.json. Exit 1 when two evaluations of one stack differ. Options: --help, --quick (1 and 10 only).
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { durationOf } from "../plan/durations";
import { PlanDocument, PlanResource } from "../plan/evaluate";
import { recommendedParallelism } from "../plan/graph";
import { sequentialTime, simulate } from "../plan/schedule";

const USAGE = `Usage: npm run bench [-- --quick]

Plans the dev stack with 1, 10, 50 and 100 Windows nodes (--quick: 1 and 10), reports the plan
command's wall time and peak memory against the goal (N=50 under ${5} s, N=100 under ${10} s and
1 GiB) and the modeled time to a working cluster, and writes out/bench.json.
Exit codes: 0 done, 1 a plan failed or two plans of one stack differ, 2 usage error.
`;

/** The speed goal for `npm run plan` on the project's machine (wall seconds; memory at 100 nodes). */
export const GOAL = { seconds: { 50: 5, 100: 10 } as Record<number, number>, maxRssMbAt100: 1024 };

const ROOT = path.resolve(__dirname, "..");
const defaultCap = 4 * os.cpus().length;

interface Row {
    windowsNodes: number;
    planSeconds: number;
    maxRssMb: number;
    resources: number;
    recommendedParallel: number;
    makespanRecommended: number;
    makespanDefaultCap: number;
    sequential: number;
    planInputsDigest: string;
}

/** One `npm run plan` (the same node flags as the npm script), timed, with its peak memory. */
function planOnce(count: number): { seconds: number; maxRssMb: number; doc: PlanDocument } {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const script = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.plan as string;
    const nodeFlags = script.match(/--max-semi-space-size=\d+/) ?? [];
    const start = process.hrtime.bigint();
    const res = spawnSync(
        process.execPath,
        [...nodeFlags, require.resolve("ts-node/dist/bin.js"), path.join(ROOT, "plan", "cli.ts"), "--quiet", "--out", out, "--config", `windowsNodeCount=${count}`],
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
    const unknown = args.filter((a) => a !== "--quick" && a !== "--full");
    if (unknown.length) {
        process.stderr.write(`bench: unknown option ${unknown[0]}\n${USAGE}`);
        return 2;
    }
    const counts = args.includes("--quick") ? [1, 10] : [1, 10, 50, 100];
    const rows: Row[] = [];
    for (const n of counts) {
        const { seconds, maxRssMb, doc } = planOnce(n);
        const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
        const d = (u: string) => durationOf(byUrn.get(u) as PlanResource);
        const rec = recommendedParallelism(doc).recommended;
        rows.push({
            windowsNodes: n,
            planSeconds: +seconds.toFixed(2),
            maxRssMb: Math.round(maxRssMb),
            resources: doc.resources.length,
            recommendedParallel: rec,
            makespanRecommended: +simulate(doc, d, rec).makespan.toFixed(2),
            makespanDefaultCap: +simulate(doc, d, defaultCap).makespan.toFixed(2),
            sequential: +sequentialTime(doc, d).toFixed(1),
            planInputsDigest: inputsDigest(doc),
        });
    }
    // determinism: a second evaluation of the same stack gives byte-identical inputs
    const again = inputsDigest(planOnce(counts[0]).doc);
    const first = rows[0];
    const last = rows[rows.length - 1];
    const goal = rows
        .filter((r) => GOAL.seconds[r.windowsNodes] !== undefined)
        .map((r) => ({ nodes: r.windowsNodes, seconds: r.planSeconds, goal: GOAL.seconds[r.windowsNodes], met: r.planSeconds < GOAL.seconds[r.windowsNodes] && (r.windowsNodes !== 100 || r.maxRssMb < GOAL.maxRssMbAt100) }));
    const figures = {
        machine: `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`,
        defaultCap,
        makespan1Minutes: first.makespanRecommended,
        makespanRatio: +(last.makespanRecommended / first.makespanRecommended).toFixed(3),
        makespanRatioDefaultCap: +(last.makespanDefaultCap / first.makespanDefaultCap).toFixed(3),
        sequentialOverMakespan: +(last.sequential / last.makespanRecommended).toFixed(1),
        deterministic: again === first.planInputsDigest,
        goal,
    };
    const header = ["nodes", "plan s", "peak MB", "resources", "--parallel", "makespan (rec.)", `makespan (cap ${defaultCap})`, "sequential"];
    const table = [header, ...rows.map((r) => [r.windowsNodes, r.planSeconds, r.maxRssMb, r.resources, r.recommendedParallel, `${r.makespanRecommended} min`, `${r.makespanDefaultCap} min`, `${r.sequential} min`].map(String))];
    const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table) {
        process.stdout.write(row.map((c, i) => c.padStart(widths[i])).join("  ") + "\n");
    }
    process.stdout.write(
        `\nplan-time goal: ${goal.map((g) => `N=${g.nodes} ${g.seconds} s (goal < ${g.goal} s${g.nodes === 100 ? `, < ${GOAL.maxRssMbAt100} MB` : ""}): ${g.met ? "met" : "NOT met"}`).join("; ") || "(run without --quick)"}\n` +
            `makespan(1) ${figures.makespan1Minutes} min; makespan(${last.windowsNodes})/makespan(1) ${figures.makespanRatio} at the recommended --parallel, ${figures.makespanRatioDefaultCap} at the default cap (${defaultCap}); ` +
            `sequential/makespan at ${last.windowsNodes} nodes ${figures.sequentialOverMakespan}; deterministic: ${figures.deterministic}\n` +
            `machine: ${figures.machine}\n`,
    );
    fs.mkdirSync(path.join(ROOT, "out"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "out", "bench.json"), JSON.stringify({ ...figures, rows }, null, 2) + "\n");
    process.stdout.write("Wrote out/bench.json\n");
    return figures.deterministic ? 0 : 1;
}

try {
    process.exit(main());
} catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
}
