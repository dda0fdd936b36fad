// `npm run bench`: how the program scales with the number of Windows nodes, and the modeled time
// to a working cluster. For windowsNodeCount 1, 10, 50 (and 100 with --full) it evaluates the
// stack under the mock runtime (wall time, peak memory, resource count) and schedules the plan's
// graph with the duration table in plan/durations.ts: the makespan at Pulumi's default cap
// (4 x CPUs) and at the recommended --parallel, and the sequential time (the seed's manual
// procedure: one step after another). Prints a table and writes out/bench.json.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { durationOf } from "../plan/durations";
import { PlanDocument, PlanResource } from "../plan/evaluate";
import { recommendedParallelism } from "../plan/graph";
import { sequentialTime, simulate } from "../plan/schedule";

const ROOT = path.resolve(__dirname, "..");
const full = process.argv.includes("--full");
const counts = full ? [1, 10, 50, 100] : [1, 10, 50];
const defaultCap = 4 * os.cpus().length;

interface Row {
    windowsNodes: number;
    evalMs: number;
    maxRssMb: number;
    resources: number;
    recommendedParallel: number;
    makespanRecommended: number;
    makespanDefaultCap: number;
    sequential: number;
    planInputsDigest: string;
}

function evaluateOnce(count: number): { stats: { ms: number; maxRssMb: number; resources: number }; doc: PlanDocument } {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const res = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(__dirname, "evalOnce.ts"), String(count), out], { cwd: ROOT, encoding: "utf8" });
    if (res.status !== 0) {
        throw new Error(`evaluation with ${count} nodes failed:\n${res.stderr}`);
    }
    const doc = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as PlanDocument;
    fs.rmSync(out, { recursive: true, force: true });
    return { stats: JSON.parse(res.stdout.trim().split("\n").pop() as string), doc };
}

function inputsDigest(doc: PlanDocument): string {
    return require("crypto").createHash("sha256").update(JSON.stringify(doc.resources.map((r) => [r.urn, r.inputs, r.dependsOn]))).digest("hex");
}

function main() {
    const rows: Row[] = [];
    for (const n of counts) {
        const { stats, doc } = evaluateOnce(n);
        const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
        const d = (u: string) => durationOf(byUrn.get(u) as PlanResource);
        const rec = recommendedParallelism(doc).recommended;
        rows.push({
            windowsNodes: n,
            evalMs: Math.round(stats.ms),
            maxRssMb: Math.round(stats.maxRssMb),
            resources: stats.resources,
            recommendedParallel: rec,
            makespanRecommended: +simulate(doc, d, rec).makespan.toFixed(2),
            makespanDefaultCap: +simulate(doc, d, defaultCap).makespan.toFixed(2),
            sequential: +sequentialTime(doc, d).toFixed(1),
            planInputsDigest: inputsDigest(doc),
        });
    }
    // determinism: a second evaluation of the same stack gives byte-identical inputs
    const again = inputsDigest(evaluateOnce(counts[0]).doc);
    const first = rows[0];
    const last = rows[rows.indexOf(rows.find((r) => r.windowsNodes === 50) as Row)];
    const figures = {
        machine: `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`,
        defaultCap,
        makespan1Minutes: first.makespanRecommended,
        makespanRatio: +(last.makespanRecommended / first.makespanRecommended).toFixed(3),
        makespanRatioDefaultCap: +(last.makespanDefaultCap / first.makespanDefaultCap).toFixed(3),
        sequentialOverMakespan50: +(last.sequential / last.makespanRecommended).toFixed(1),
        planTimeRatio50: +(last.evalMs / first.evalMs).toFixed(2),
        deterministic: again === first.planInputsDigest,
    };
    const header = ["nodes", "eval ms", "peak MB", "resources", "--parallel", "makespan (rec.)", `makespan (cap ${defaultCap})`, "sequential"];
    const table = [header, ...rows.map((r) => [r.windowsNodes, r.evalMs, r.maxRssMb, r.resources, r.recommendedParallel, `${r.makespanRecommended} min`, `${r.makespanDefaultCap} min`, `${r.sequential} min`].map(String))];
    const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table) {
        process.stdout.write(row.map((c, i) => c.padStart(widths[i])).join("  ") + "\n");
    }
    process.stdout.write(
        `\nmakespan(1) ${figures.makespan1Minutes} min; makespan(50)/makespan(1) ${figures.makespanRatio} at the recommended --parallel, ${figures.makespanRatioDefaultCap} at the default cap (${defaultCap}); ` +
            `sequential(50)/makespan(50) ${figures.sequentialOverMakespan50}; plan time(50)/plan time(1) ${figures.planTimeRatio50}; deterministic: ${figures.deterministic}\n` +
            `machine: ${figures.machine}\n`,
    );
    fs.mkdirSync(path.join(ROOT, "out"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "out", "bench.json"), JSON.stringify({ ...figures, rows }, null, 2) + "\n");
    process.stdout.write("Wrote out/bench.json\n");
    if (!figures.deterministic) {
        process.exit(1);
    }
}

main();
