// Runs `npm run plan`'s entry point in a child process (one evaluation per process) and reads
// what it wrote.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanDocument } from "../plan/evaluate";
import { PlanGraph } from "../plan/graph";

export interface PlanRun {
    code: number;
    stdout: string;
    stderr: string;
    out: string;
    doc?: PlanDocument;
    graph?: PlanGraph;
}

const ROOT = path.resolve(__dirname, "..");

export function runPlan(args: string[], out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"))): PlanRun {
    const res = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(ROOT, "plan", "cli.ts"), "--out", out, ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PULUMI_CONFIG: "", PULUMI_CONFIG_SECRET_KEYS: "" },
    });
    const file = path.join(out, "plan.json");
    const doc = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PlanDocument) : undefined;
    return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr, out, doc, graph: doc ? new PlanGraph(doc) : undefined };
}

/** Plans are cached per argument list: several tests read the same evaluation. */
const cache = new Map<string, PlanRun>();
export function cachedPlan(args: string[]): PlanRun {
    const key = JSON.stringify(args);
    let run = cache.get(key);
    if (!run) {
        run = runPlan(args);
        cache.set(key, run);
    }
    return run;
}
