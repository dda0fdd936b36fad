// Plans for the tests. A plan is one evaluation of the program in a child process (the Pulumi
// runtime is global), so the test files share them: every plan a test asks for is listed in
// SHARED_PLANS, and the root hook (test/rootHooks.ts) renders them all once, several at a time,
// before any test runs. A plan that is not listed is rendered on first use.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanDocument } from "../plan/evaluate";
import { PlanGraph } from "../plan/graph";
import { runCli } from "../plan/cli";

export interface PlanRun {
    code: number;
    stdout: string;
    stderr: string;
    out: string;
    doc?: PlanDocument;
    graph?: PlanGraph;
}

const ROOT = path.resolve(__dirname, "..");

export const SENTINEL_PASSWORD = "Sentinel-Pa55word-4711";
export const SENTINEL_KEY_MATERIAL = "SENTINELKEYMATERIAL";

/** A gallery image version id (a prebuilt node image). */
export const GALLERY_IMAGE_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images-rg/providers/Microsoft.Compute/galleries/hybridk8s_images/images/windows-node-2022/versions/1.2.3";

/** An Azure plan and an existing-machines plan whose one Windows node has the same name and addresses. */
export const AZURE_LIKE = ["--config", "vnetCidr=10.240.0.0/24", "--config", "windowsNodeCount=1"];
/** The same from a prebuilt image (images/): the same SSH steps as existing machines. */
export const AZURE_PREBUILT_LIKE = [...AZURE_LIKE, "--config", `windowsImage=${GALLERY_IMAGE_ID}`];
export const EXISTING_LIKE = [
    "--stack", "existing",
    "--config", "existingCluster=false",
    "--config", "masterAddress=10.240.0.4",
    "--config", "nodeSubnet=10.240.0.0/24",
    "--config", "adminUsername=azureuser",
    "--config", "masterUser=azureuser",
    // the Azure path's k8s-win-1: its address, and its pod /24 (given: an existing host's comes from its address)
    "--config", `windowsHosts=${JSON.stringify([{ name: "k8s-win-1", address: "10.240.0.11", podSubnet: "10.244.1.0/24" }])}`,
];
/** The example stack as it is, and each topology on existing machines with and without an existing cluster. */
export const EXISTING_PLANS: string[][] = [
    ["--stack", "existing"],
    ...["vxlan", "host-gw", "tor"].flatMap((t) => ["true", "false"].map((c) => ["--stack", "existing", "--config", `topology=${t}`, "--config", `existingCluster=${c}`])),
];

/**
 * Existing machines reached through the master (sshProxy master), one host with a user of its
 * own, and a sentinel private key that must appear nowhere: an existing cluster, and a master the
 * stack initialises for tor.
 */
export const EXISTING_PROXY_PLANS: string[][] = [[], ["--config", "topology=tor", "--config", "existingCluster=false"]].map((extra) => [
    "--stack", "existing",
    "--config", "sshProxy=master",
    "--config", `windowsHosts=${JSON.stringify([{ name: "win-a", address: "192.0.2.21" }, { name: "win-b", address: "192.0.2.22", user: "winops" }])}`,
    "--secret", `sshPrivateKey=${sentinelPrivateKey()}`,
    ...extra,
]);

/** Every plan the test files read (argument lists, without --out). */
export const SHARED_PLANS: string[][] = [
    [],
    ["--config", "topology=host-gw"],
    ["--config", "topology=tor"],
    ["--config", "windowsNodeCount=1"],
    ["--config", "windowsNodeCount=3"],
    ["--config", "sampleService=false"],
    ["--config", "validation=enforce"],
    ["--config", "validationRun=again"],
    ["--config", "kubernetesVersion=1.35.3"],
    ["--config", "windowsServerVersion=2025"],
    // secrets that must appear nowhere, and a region that must reach every Azure resource
    ["--secret", `adminPassword=${SENTINEL_PASSWORD}`, "--secret", `sshPrivateKey=${sentinelPrivateKey()}`, "--config", "azure-native:location=eastus"],
    // a prebuilt node image (images/): a gallery image version id
    ["--config", `windowsImage=${GALLERY_IMAGE_ID}`, "--config", "windowsNodeCount=1"],
    // every topology with 1 and 3 nodes and a hostile SSH key comment: PowerShell parses all their scripts
    ...hostilePlans(),
    // upgrade waves (test/upgradeGraph.test.ts)
    ["--config", "windowsNodeCount=3", "--config", "maxUnavailable=1"],
    ["--config", "windowsNodeCount=3", "--config", "maxUnavailable=2"],
    // existing machines (test/existing.test.ts)
    AZURE_LIKE,
    AZURE_PREBUILT_LIKE,
    EXISTING_LIKE,
    ...EXISTING_PLANS,
    ...EXISTING_PROXY_PLANS,
];

/** The plans whose Windows scripts PowerShell parses (test/powershellParse.test.ts). */
export function hostilePlans(): string[][] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { hostileSshKey } = require("./fixtures") as typeof import("./fixtures");
    return [
        ...["vxlan", "host-gw", "tor"].flatMap((t) => [1, 3].map((n) => ["--config", `topology=${t}`, "--config", `windowsNodeCount=${n}`, "--config", `sshPublicKey=${hostileSshKey()}`])),
        // existing machines: their own scripts (identity, undo, enable-openssh)
        ["--stack", "existing", "--config", "topology=tor", "--config", "existingCluster=false", "--config", `sshPublicKey=${hostileSshKey()}`],
    ];
}

/** A well-formed private key whose body carries SENTINEL_KEY_MATERIAL (base64 of it must not leak either). */
export function sentinelPrivateKey(): string {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openSshPrivateKey } = require("../components/sshKeys") as typeof import("../components/sshKeys");
    return openSshPrivateKey(SENTINEL_KEY_MATERIAL);
}

/** Same plan, same key: the namespace prefix is optional on the command line. */
function cacheKey(args: string[]): string {
    return JSON.stringify(args.map((a) => a.replace(/^hybrid-k8s:/, "")));
}

function childArgs(args: string[], out: string): string[] {
    // as `npm run plan` runs it (tsconfig.json has ts-node use swc)
    return ["--max-semi-space-size=16", require.resolve("ts-node/dist/bin.js"), path.join(ROOT, "plan", "cli.ts"), "--out", out, ...args];
}

const childEnv = { ...process.env, PULUMI_CONFIG: "", PULUMI_CONFIG_SECRET_KEYS: "" };

function result(code: number, stdout: string, stderr: string, out: string): PlanRun {
    const file = path.join(out, "plan.json");
    const doc = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as PlanDocument) : undefined;
    return { code, stdout, stderr, out, doc, graph: doc ? new PlanGraph(doc) : undefined };
}

function tmpOut(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
}

/** Runs `npm run plan`'s entry point in a child process and reads what it wrote. */
export function runPlan(args: string[], out = tmpOut()): PlanRun {
    const res = spawnSync(process.execPath, childArgs(args, out), { cwd: ROOT, encoding: "utf8", env: childEnv });
    return result(res.status ?? -1, res.stdout, res.stderr, out);
}

function runPlanAsync(args: string[], out = tmpOut()): Promise<PlanRun> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, childArgs(args, out), { cwd: ROOT, env: childEnv });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (code) => resolve(result(code ?? -1, stdout, stderr, out)));
    });
}

const cache = new Map<string, PlanRun>();

/** Renders every shared plan, `parallel` at a time (the root hook calls this once). */
export async function renderSharedPlans(parallel = Math.max(2, os.cpus().length)): Promise<void> {
    const todo = SHARED_PLANS.filter((a) => !cache.has(cacheKey(a)));
    const worker = async () => {
        for (let next = todo.shift(); next; next = todo.shift()) {
            cache.set(cacheKey(next), await runPlanAsync(next));
        }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
}

/** The plan for these arguments, rendered once per test run. */
export function cachedPlan(args: string[]): PlanRun {
    const key = cacheKey(args);
    let run = cache.get(key);
    if (!run) {
        run = runPlan(args);
        cache.set(key, run);
    }
    return run;
}

/**
 * Runs the plan command in this process, for the paths that stop before evaluation (usage
 * errors, invalid config, --help): no child process, no Pulumi runtime.
 */
export async function planInProcess(args: string[], out = tmpOut(), dir = ROOT): Promise<PlanRun> {
    let stdout = "";
    let stderr = "";
    const code = await runCli(["--out", out, ...args], { out: (t) => (stdout += t), err: (t) => (stderr += t) }, dir);
    return result(code, stdout, stderr, out);
}

let images: { code: number; stdout: string; stderr: string; out: string } | undefined;

/** `npm run plan:images` with the image program's defaults, once per test run, in a child process. */
export function imagesPlan(): { code: number; stdout: string; stderr: string; out: string } {
    if (!images) {
        const out = tmpOut();
        const res = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), path.join(ROOT, "plan", "imagesCli.ts"), "--out", out, "--quiet"], { encoding: "utf8", env: childEnv, cwd: ROOT });
        images = { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr, out };
        if (images.code !== 0) {
            throw new Error(`npm run plan:images failed (${images.code}): ${images.stderr}`);
        }
    }
    return images;
}
