// `npm run plan`: evaluates the real program offline (Pulumi's mock runtime) and shows what
// `pulumi up` would create. See USAGE below for options and exit codes. The config is validated
// here first, with the same rules index.ts applies, so bad input costs no evaluation, prints no
// trace, and writes nothing.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigError, parseConfig, PROJECT, SECRET_KEYS } from "../components/config";
import { MOCK_LOCATION } from "./mocks";
import { ed25519PublicKey, openSshPrivateKey } from "../components/sshKeys";
import type { PlanDocument } from "./evaluate";
import { planQuotaWarnings } from "./limits";
import { renderEnableOpenSsh } from "../components/scripts/existing";
import { embeddedFiles } from "../components/scripts/shell";

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_OUT = path.join(ROOT, "out");

export const USAGE = `Usage: npm run plan -- [options]

Evaluates the stack offline (no Azure account, no Pulumi CLI) and writes what \`pulumi up\` would
create: plan.json, graph.dot, graph.svg, graph.mmd, scripts/ and manifests/.

Options (each also as --name=value):
  --stack NAME         read Pulumi.NAME.yaml (default dev); a stack without a file plans the defaults
  --config key=value   set a config value (repeatable; the ${PROJECT}: prefix is optional)
  --secret key=value   set a secret config value (repeatable)
  --out DIR            where to write (default out/); a folder the plan did not write must be empty
  --quiet              do not print the resource tree
  -h, --help           show this help

Exit codes:
  0  plan written
  1  invalid configuration (stack file or values): every problem is listed, nothing is written,
     and a previous plan in the folder is removed
  2  usage error (unknown option, missing value, bad stack name, unusable --out folder)
  3  the program failed while being evaluated (a bug; PLAN_STACK_TRACES=1 shows the trace)
`;

/**
 * Stand-ins for required values a plan does not need to know. They never leave the mock
 * runtime: secrets are written as "[secret]", and the output lists which ones were used. Each
 * passes the same validation as a real value.
 */
export const PLACEHOLDERS: Record<string, { value: string; secret: boolean }> = {
    [`${PROJECT}:adminCidr`]: { value: "198.51.100.0/24", secret: false },
    [`${PROJECT}:sshPublicKey`]: { value: ed25519PublicKey(Buffer.alloc(32, 0x50), "plan-placeholder"), secret: false },
    [`${PROJECT}:sshPrivateKey`]: { value: openSshPrivateKey("plan-placeholder"), secret: true },
    [`${PROJECT}:adminPassword`]: { value: "Plan-Placeholder-Only-1", secret: true },
    "azure-native:location": { value: MOCK_LOCATION, secret: false },
};
/** The placeholders only Azure machines need. */
const AZURE_PLACEHOLDERS = [`${PROJECT}:adminCidr`, `${PROJECT}:adminPassword`, "azure-native:location"];

export interface CliOptions {
    stack: string;
    out: string;
    quiet: boolean;
    help: boolean;
    config: Record<string, string>;
    secrets: Record<string, string>;
}

/** A usage error: exit code 2. */
export class UsageError extends Error {}

function fullKey(key: string, project = PROJECT): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** `key=value` of --config/--secret, the key with `project:` unless it names its namespace. */
export function keyValue(arg: string, flag: string, project = PROJECT): [string, string] {
    const i = arg.indexOf("=");
    if (i <= 0) {
        throw new UsageError(`${flag} takes key=value, e.g. ${flag} ${project}:topology=host-gw`);
    }
    return [fullKey(arg.slice(0, i), project), arg.slice(i + 1)];
}

/**
 * The flags of a command line, in order, as every plan command reads them: `--flag value` or
 * `--flag=value` for flags that take a value (a value never starts with `--`), nothing for
 * switches. `known` maps each flag to the name of its value (as help shows it), or null for a
 * switch. An unknown flag is a usage error naming the options.
 */
export function readFlags(argv: string[], known: Record<string, string | null>): Array<[string, string]> {
    const flags: Array<[string, string]> = [];
    for (let i = 0; i < argv.length; i++) {
        const raw = argv[i];
        const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
        const flag = eq > 0 ? raw.slice(0, eq) : raw;
        const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
        if (!(flag in known)) {
            const options = Object.entries(known).filter(([f]) => f !== "-h").map(([f, v]) => (v === null ? f : `${f} ${v}`));
            throw new UsageError(`unknown option ${flag}; options: ${options.join(", ")}`);
        }
        if (known[flag] === null) {
            if (inline !== undefined) {
                throw new UsageError(`${flag} takes no value`);
            }
            flags.push([flag, ""]);
            continue;
        }
        const v = inline ?? argv[++i];
        if (v === undefined || (inline === undefined && v.startsWith("--") && v !== "--")) {
            throw new UsageError(`${flag} needs a value`);
        }
        flags.push([flag, v]);
    }
    return flags;
}

/**
 * Stack names as the Pulumi CLI accepts them: 1-100 of A-Z a-z 0-9 _ . -
 * (pulumi/pulumi sdk/go/common/tokens/stack_name.go, ParseStackName). So no path can hide in one.
 */
export function stackNameProblem(name: string): string | undefined {
    if (name === "") {
        return "a stack name may not be empty";
    }
    if (name.length > 100) {
        return "a stack name cannot exceed 100 characters";
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
        return `${JSON.stringify(name)} is not a stack name: it may only contain alphanumeric, hyphens, underscores, or periods`;
    }
    return undefined;
}

export function parseArgs(argv: string[], cwd = process.cwd()): CliOptions {
    const opts: CliOptions = { stack: "dev", out: DEFAULT_OUT, quiet: false, help: false, config: {}, secrets: {} };
    const known = { "--stack": "NAME", "--config": "key=value", "--secret": "key=value", "--out": "DIR", "--quiet": null, "-h": null, "--help": null };
    for (const [flag, value] of readFlags(argv, known)) {
        switch (flag) {
            case "--stack":
                opts.stack = value;
                break;
            case "--out":
                opts.out = path.resolve(cwd, value);
                break;
            case "--config": {
                const [k, v] = keyValue(value, "--config");
                opts.config[k] = v;
                break;
            }
            case "--secret": {
                const [k, v] = keyValue(value, "--secret");
                opts.secrets[k] = v;
                break;
            }
            case "--quiet":
                opts.quiet = true;
                break;
            default:
                opts.help = true;
        }
    }
    const problem = stackNameProblem(opts.stack);
    if (problem) {
        throw new UsageError(`--stack: ${problem}`);
    }
    return opts;
}

export interface StackConfig {
    values: Record<string, string>;
    /** Keys stored encrypted in the stack file: their values cannot be read offline. */
    encrypted: string[];
    /** False when the stack has no file (Pulumi then uses the project's defaults). */
    exists: boolean;
}

/** A stack file that Pulumi would not read: exit code 1, like invalid config. */
export class StackFileError extends Error {}

/**
 * One config value as the Pulumi CLI passes it to the program (pulumi/pulumi
 * sdk/go/common/resource/config/object.go, unmarshalObject + MarshalString): strings as they
 * are, numbers and booleans as their JSON text, maps and lists as JSON. The file is read with
 * YAML's core schema, as gopkg.in/yaml.v3 does when decoding into an interface: a date-like
 * value stays the text it is.
 */
function configText(value: unknown): string {
    if (typeof value === "string") {
        return value;
    }
    return JSON.stringify(value);
}

/** Reads Pulumi.<stack>.yaml's `config:` map (values as text, as the CLI passes them). */
export function readStackFile(stack: string, dir = ROOT): StackConfig {
    const problem = stackNameProblem(stack);
    if (problem) {
        throw new UsageError(problem);
    }
    const name = `Pulumi.${stack}.yaml`;
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
        return { values: {}, encrypted: [], exists: false };
    }
    let doc: unknown;
    try {
        doc = yaml.load(fs.readFileSync(file, "utf8"), { schema: yaml.CORE_SCHEMA, filename: name });
    } catch (e) {
        if (e instanceof yaml.YAMLException) {
            // the reason and position only: js-yaml's message quotes the line, which may hold a secret
            throw new StackFileError(`${name} is not valid YAML: ${e.reason} (line ${e.mark.line + 1}, column ${e.mark.column + 1}); fix the file or recreate its values with \`pulumi config set\`.`);
        }
        throw e;
    }
    if (doc === null || doc === undefined) {
        return { values: {}, encrypted: [], exists: true };
    }
    if (typeof doc !== "object" || Array.isArray(doc)) {
        throw new StackFileError(`${name} must be a YAML map with a \`config:\` key.`);
    }
    const config = (doc as Record<string, unknown>).config ?? {};
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
        throw new StackFileError(`${name}: \`config:\` must be a map of key: value.`);
    }
    const values: Record<string, string> = {};
    const encrypted: string[] = [];
    for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
        if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            encrypted.push(fullKey(key));
        } else if (value === null) {
            throw new StackFileError(`${name}: ${fullKey(key)} has no value; give it one or remove the line.`);
        } else {
            values[fullKey(key)] = configText(value);
        }
    }
    return { values, encrypted, exists: true };
}

export interface Io {
    out(text: string): void;
    err(text: string): void;
}

const MANIFEST = ".plan-files.json";

/** What the previous plan wrote into `dir` (relative paths), or undefined when it holds none. */
function previousFiles(dir: string): string[] | undefined {
    const file = path.join(dir, MANIFEST);
    if (!fs.existsSync(file)) {
        return undefined;
    }
    try {
        const list = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
        return Array.isArray(list) ? list.filter((f): f is string => typeof f === "string" && !f.includes("..") && !path.isAbsolute(f)) : [];
    } catch {
        return [];
    }
}

/**
 * Checks that the plan may write into `dir`: a new folder, an empty one, one holding a previous
 * plan (its manifest), or the project's own out/. Anything else is refused: the plan never
 * deletes or overwrites what it did not write.
 */
export function checkOutDir(dir: string): void {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
        throw new UsageError(`--out ${dir} is a file, not a folder; give a folder (it is created if missing).`);
    }
    if (!fs.existsSync(dir) || previousFiles(dir) !== undefined || path.resolve(dir) === DEFAULT_OUT) {
        return;
    }
    const present = fs.readdirSync(dir);
    if (present.length > 0) {
        throw new UsageError(`--out ${dir} is not empty and holds no plan written by npm run plan (${present.length} entr${present.length === 1 ? "y" : "ies"}); give a new or empty folder, nothing was changed.`);
    }
}

/** Removes exactly the files the previous plan wrote (and folders it left empty). Returns how many. */
export function removePreviousPlan(dir: string): number {
    const files = previousFiles(dir);
    if (files === undefined) {
        return 0;
    }
    let removed = 0;
    for (const f of files) {
        const p = path.join(dir, f);
        if (fs.existsSync(p) && fs.statSync(p).isFile()) {
            fs.rmSync(p);
            removed++;
        }
    }
    for (const sub of ["scripts", "manifests"]) {
        const p = path.join(dir, sub);
        if (fs.existsSync(p) && fs.statSync(p).isDirectory() && fs.readdirSync(p).length === 0) {
            fs.rmdirSync(p);
        }
    }
    fs.rmSync(path.join(dir, MANIFEST), { force: true });
    return removed;
}

export function writeFiles(dir: string, files: Array<{ path: string; content: string }>): void {
    fs.mkdirSync(dir, { recursive: true });
    removePreviousPlan(dir);
    for (const f of files) {
        const p = path.join(dir, f.path);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, f.content);
    }
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(files.map((f) => f.path).sort(), null, 1) + "\n");
}

export interface PreparedPlan {
    opts: CliOptions;
    config: Record<string, string>;
    secretKeys: string[];
    placeholders: string[];
    notes: string[];
}

/**
 * Everything before evaluation: options, stack file, placeholders, validation. Throws
 * UsageError (exit 2), StackFileError or ConfigError (exit 1).
 */
export function prepare(argv: string[], dir = ROOT): PreparedPlan {
    const opts = parseArgs(argv);
    if (opts.help) {
        return { opts, config: {}, secretKeys: [], placeholders: [], notes: [] };
    }
    for (const key of Object.keys(opts.config)) {
        if (SECRET_KEYS.map((k) => fullKey(k)).includes(key)) {
            throw new UsageError(`${key} is a secret; pass it with --secret, not --config (its value is not shown).`);
        }
    }
    checkOutDir(opts.out);
    const notes: string[] = [];
    const stackConfig = readStackFile(opts.stack, dir);
    if (!stackConfig.exists) {
        notes.push(`No Pulumi.${opts.stack}.yaml: planned with the project's defaults (as \`pulumi up\` would for a stack with no config set).`);
    }
    const config = { ...stackConfig.values, ...opts.config, ...opts.secrets };
    const secretKeys = new Set(Object.keys(opts.secrets));
    const placeholders: string[] = [];
    // existing machines: no Azure values at all (adminCidr, adminPassword, location)
    const existing = config[`${PROJECT}:machines`] === "existing";
    for (const [key, p] of Object.entries(PLACEHOLDERS)) {
        if (existing && AZURE_PLACEHOLDERS.includes(key)) {
            continue;
        }
        const encrypted = stackConfig.encrypted.includes(key);
        const unset = !(key in config) || (config[key] === "" && key.endsWith(":adminPassword"));
        if (unset) {
            config[key] = p.value;
            placeholders.push(encrypted ? `${key} (encrypted in the stack file)` : key);
        }
        if (p.secret && (unset || encrypted)) {
            secretKeys.add(key);
        }
    }
    for (const key of stackConfig.encrypted) {
        secretKeys.add(key);
        if (!(key in config)) {
            // an encrypted value of a key this plan has no placeholder for: validated as unset
            notes.push(`${key} is encrypted in the stack file; the plan cannot read it.`);
        }
    }
    // the same validation index.ts runs under `pulumi up`
    parseConfig(config, { mode: "up", secretKeys: [...secretKeys] });
    return { opts, config, secretKeys: [...secretKeys], placeholders, notes };
}

/**
 * The order a version change runs in, read from the graph: the control plane's upgrade, then the
 * Windows nodes' windows (drain → upgrade → uncordon) in the waves their drains wait in.
 */
export function upgradeOrder(doc: PlanDocument): string {
    const byUrn = new Map(doc.resources.map((r) => [r.urn, r]));
    const drains = doc.resources.filter((r) => r.type === "command:remote:Command" && /-drain$/.test(r.name));
    if (drains.length === 0) {
        return "";
    }
    const wave = new Map<string, number>();
    const waveOf = (name: string): number => {
        const known = wave.get(name);
        if (known !== undefined) {
            return known;
        }
        const drain = drains.find((d) => d.name === name) as PlanDocument["resources"][number];
        const before = drain.dependsOn.map((u) => byUrn.get(u)?.name ?? "").filter((n) => n.endsWith("-uncordon"));
        const w = before.length === 0 ? 0 : 1 + Math.max(...before.map((n) => waveOf(n.replace(/-uncordon$/, "-drain"))));
        wave.set(name, w);
        return w;
    };
    const waves: string[][] = [];
    for (const d of drains) {
        (waves[waveOf(d.name)] ??= []).push(d.name.replace(/-drain$/, ""));
    }
    const master = doc.resources.some((r) => /-master-upgrade$/.test(r.name)) ? "k8s-master-upgrade (control plane), then " : "";
    return `Upgrade order when a version changes: ${master}each Windows node's window (drain → upgrade → uncordon) in ${waves.length} wave(s): ${waves.map((w) => w.join(" + ")).join(" → ")}.`;
}

/** The top-of-rack routes as switch (IOS-style) and Linux router commands, from the torRouteCommands output. */
function torCommands(doc: PlanDocument): string {
    const c = doc.outputs.torRouteCommands as { ios?: string; linux?: string } | null | undefined;
    return c && typeof c.ios === "string" && typeof c.linux === "string" ? `${torIncomplete(doc)}! a switch (IOS-style)\n${c.ios.trimEnd()}\n# a Linux router\n${c.linux.trimEnd()}\n` : "";
}

/**
 * On an existing cluster the plan knows only the planned Windows nodes' routes: the cluster's own
 * nodes and their podCIDRs are the cluster's, and its compatibility step prints the complete table.
 * Says so, as IOS comment lines (!), or "" when the plan's table is complete.
 */
function torIncomplete(doc: PlanDocument): string {
    const step = doc.resources.find((r) => r.type === "command:remote:Command" && r.name.endsWith("-compatibility"));
    return step
        ? `! The cluster exists: these are the routes the plan knows, the planned Windows nodes'. The complete\n` +
              `! table, with the cluster's own nodes (each spec.podCIDR via its InternalIP), is printed by the\n` +
              `! ${step.name} step at \`pulumi up\` (its log and its stdout), from the cluster's Nodes.\n`
        : "";
}

/**
 * Existing machines: what their owners run or program by hand. For each Windows host the one-time
 * script that enables OpenSSH with the admin's key and PowerShell as its shell
 * (scripts/<host>-enable-openssh.ps1, run as administrator on the host), and for tor the switch's
 * routes (tor-routes.txt).
 */
function existingHostArtifacts(doc: PlanDocument, config: Record<string, string>): Array<{ path: string; content: string }> {
    if (doc.outputs.machineSource !== "existing") {
        return [];
    }
    const key = config[`${PROJECT}:sshPublicKey`]?.trim() ?? "";
    const script = renderEnableOpenSsh(key);
    const hosts = (doc.outputs.windowsNodes as Array<{ name: string }> | undefined) ?? [];
    const tor = torCommands(doc);
    return [
        ...hosts.flatMap((h) => [{ path: `scripts/${h.name}-enable-openssh.ps1`, content: script }, ...embeddedFiles(`scripts/${h.name}-enable-openssh`, script)]),
        ...(tor ? [{ path: "tor-routes.txt", content: tor }] : []),
    ];
}

/** A warning when the planned VMs need more vCPUs than a new subscription typically has (plan/limits.ts). */
function quotaLines(doc: PlanDocument): string[] {
    const warnings = planQuotaWarnings(doc);
    return warnings.length
        ? [`vCPU quota: ${warnings.join("; ")}. Check yours with \`az vm list-usage --location <region>\` and request an increase before \`pulumi up\`, or VM creates fail with "exceeding quota limits of Core".`]
        : [];
}

function summaryLines(doc: PlanDocument, p: PreparedPlan, written: string[], parallel: { width: number; recommended: number }, mermaidNote: string | undefined, collapsed: number): string[] {
    const relative = path.relative(process.cwd(), p.opts.out) || ".";
    const rel = relative.startsWith("..") ? p.opts.out : relative;
    const scripts = written.filter((f) => f.startsWith("scripts/")).length;
    const manifests = written.filter((f) => f.startsWith("manifests/")).length;
    const graphs = written.filter((f) => f.startsWith("graph.")).join(", ");
    return [
        "",
        `Wrote ${rel}/plan.json, ${graphs}, ${scripts} scripts and ${manifests} manifests.`,
        collapsed > 1 ? `The drawn graphs show one Windows node for all ${collapsed} (they are identical); plan.json has every resource.` : "",
        mermaidNote ?? "",
        `Parallelism: up to ${parallel.width} steps can run at once; run \`pulumi up --parallel ${parallel.recommended}\` (Pulumi's default is 4 x CPUs).`,
        ...quotaLines(doc),
        upgradeOrder(doc),
        Array.isArray(doc.outputs.torRoutes) && doc.outputs.torRoutes.length
            ? doc.outputs.machineSource === "existing"
                ? `ToR routes to program on the top-of-rack switch (also in out/tor-routes.txt):\n${torCommands(doc).trimEnd().replace(/^/gm, "  ")}`
                : `ToR routes (Azure's route table carries them; program the same on a top-of-rack switch for machines outside Azure):\n${doc.outputs.torRoutes.map((r) => `  ${String(r)}`).join("\n")}`
            : "",
        p.placeholders.length ? `Placeholders (not set in stack ${p.opts.stack}; \`pulumi up\` requires real values): ${p.placeholders.join(", ")}` : "",
        ...p.notes,
    ].filter((l) => l !== "");
}

/** The whole command; returns the exit code. Exported so tests can run the fast paths in-process. */
export async function runCli(argv: string[], io: Io, dir = ROOT): Promise<number> {
    let prepared: PreparedPlan;
    try {
        prepared = prepare(argv, dir);
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`plan: ${e.message}\nRun \`npm run plan -- --help\` for the options.\n`);
            return 2;
        }
        if (e instanceof ConfigError || e instanceof StackFileError) {
            let out: string | undefined;
            try {
                out = parseArgs(argv).out;
            } catch {
                out = undefined;
            }
            const removed = out && fs.existsSync(out) ? removePreviousPlan(out) : 0;
            io.err(`${e.message}\nNo plan written.${removed ? ` Removed the previous plan's ${removed} files from ${out}: they no longer match this configuration.` : ""}\n`);
            return 1;
        }
        throw e;
    }
    if (prepared.opts.help) {
        io.out(USAGE);
        return 0;
    }
    const { opts } = prepared;
    // the heavy modules (Pulumi, the providers) load only for a valid configuration
    const { evaluate } = await import("./evaluate");
    const { recommendedParallelism } = await import("./graph");
    const w = await import("./writers");
    let doc: PlanDocument;
    try {
        doc = (await evaluate({ project: PROJECT, stack: opts.stack, config: prepared.config, secretKeys: prepared.secretKeys })).document;
    } catch (e) {
        const removed = fs.existsSync(opts.out) ? removePreviousPlan(opts.out) : 0;
        const message = e instanceof Error ? (process.env.PLAN_STACK_TRACES === "1" ? (e.stack ?? e.message) : e.message) : String(e);
        const isConfig = e instanceof ConfigError || (e instanceof Error && e.name === "RunError");
        io.err(`${isConfig ? "" : "plan: the program failed: "}${message}\nNo plan written.${removed ? ` Removed the previous plan's ${removed} files from ${opts.out}.` : ""}\n`);
        return isConfig ? 1 : 3;
    }
    const drawn = w.collapseWindowsNodes(doc);
    const dot = w.renderDot(drawn.doc);
    const files: Array<{ path: string; content: string }> = [
        { path: "plan.json", content: JSON.stringify(doc, null, 2) + "\n" },
        { path: "graph.dot", content: dot },
        { path: "graph.svg", content: await w.renderSvg(dot) },
    ];
    const mermaid = w.renderableMermaid(drawn.doc);
    let mermaidNote: string | undefined;
    if (mermaid.content !== undefined) {
        files.push({ path: "graph.mmd", content: mermaid.content });
    } else {
        mermaidNote = `graph.mmd not written: its ${mermaid.edges} edges exceed Mermaid's limit of ${w.MERMAID_MAX_EDGES} (it would not render); open graph.svg.`;
    }
    files.push(...w.scriptArtifacts(doc), ...w.manifestArtifacts(doc), ...existingHostArtifacts(doc, prepared.config));
    writeFiles(opts.out, files);
    if (!opts.quiet) {
        io.out(w.renderTree(doc));
    }
    const written = files.map((f) => f.path);
    io.out(summaryLines(doc, prepared, written, recommendedParallelism(doc), mermaidNote, drawn.count).join("\n") + "\n");
    return 0;
}

if (require.main === module) {
    runCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
        (code) => {
            if (process.env.PLAN_BENCH_STATS === "1") {
                // for npm run bench: this process's peak memory (resident set, kB → MB)
                process.stderr.write(`plan-stats ${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
            }
            process.exit(code);
        },
        (e: unknown) => {
            const trace = process.env.PLAN_STACK_TRACES === "1";
            process.stderr.write(`plan: failed: ${e instanceof Error ? (trace ? (e.stack ?? e.message) : e.message) : String(e)}\n`);
            process.exit(3);
        },
    );
}
