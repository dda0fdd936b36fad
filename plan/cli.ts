// `npm run plan`: evaluates the real program offline (Pulumi's mock runtime) and shows what
// `pulumi up` would create. Options: --stack NAME, --config key=value, --secret key=value,
// --out DIR, --quiet (no tree on stdout). Invalid config: errors on stderr, exit 1, nothing written.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigError, PROJECT, SECRET_KEYS } from "../components/config";
import { evaluate } from "./evaluate";
import { recommendedParallelism } from "./graph";
import { manifestArtifacts, renderDot, renderMermaid, renderTree, scriptArtifacts } from "./writers";

const ROOT = path.resolve(__dirname, "..");

/**
 * Stand-ins for required values a plan does not need to know. They never leave the mock
 * runtime: secrets are written as "[secret]", and the output lists which ones were used.
 */
export const PLACEHOLDERS: Record<string, { value: string; secret: boolean }> = {
    adminCidr: { value: "198.51.100.0/24", secret: false },
    sshPublicKey: { value: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlanPlaceholderPlanPlaceholderPlanPlace plan-placeholder", secret: false },
    sshPrivateKey: { value: "-----BEGIN OPENSSH PRIVATE KEY-----\nplan-placeholder\n-----END OPENSSH PRIVATE KEY-----\n", secret: true },
    adminPassword: { value: "Plan-Placeholder-Only-1", secret: true },
};

interface CliOptions {
    stack: string;
    out: string;
    quiet: boolean;
    config: Record<string, string>;
    secrets: Record<string, string>;
}

class UsageError extends Error {}

function fullKey(key: string): string {
    return key.includes(":") ? key : `${PROJECT}:${key}`;
}

function keyValue(arg: string | undefined, flag: string): [string, string] {
    const i = arg?.indexOf("=") ?? -1;
    if (!arg || i <= 0) {
        throw new UsageError(`${flag} takes key=value, e.g. ${flag} ${PROJECT}:topology=host-gw`);
    }
    return [fullKey(arg.slice(0, i)), arg.slice(i + 1)];
}

export function parseArgs(argv: string[]): CliOptions {
    const opts: CliOptions = { stack: "dev", out: path.join(ROOT, "out"), quiet: false, config: {}, secrets: {} };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const next = () => {
            const v = argv[++i];
            if (v === undefined) {
                throw new UsageError(`${arg} needs a value`);
            }
            return v;
        };
        switch (arg) {
            case "--stack":
                opts.stack = next();
                break;
            case "--out":
                opts.out = path.resolve(next());
                break;
            case "--config": {
                const [k, v] = keyValue(next(), "--config");
                opts.config[k] = v;
                break;
            }
            case "--secret": {
                const [k, v] = keyValue(next(), "--secret");
                opts.secrets[k] = v;
                break;
            }
            case "--quiet":
                opts.quiet = true;
                break;
            default:
                throw new UsageError(`unknown option ${arg}; options: --stack NAME, --config key=value, --secret key=value, --out DIR, --quiet`);
        }
    }
    return opts;
}

interface StackConfig {
    values: Record<string, string>;
    /** Keys stored encrypted in the stack file: their values cannot be read offline. */
    encrypted: string[];
}

/** Reads Pulumi.<stack>.yaml's `config:` map (values as text, as the CLI passes them). */
export function readStackFile(stack: string, dir = ROOT): StackConfig {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new UsageError(`no stack file ${path.basename(file)}; create it with \`pulumi stack init ${stack}\` or pick --stack dev`);
    }
    const doc = (yaml.load(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, string> = {};
    const encrypted: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in value) {
            encrypted.push(fullKey(key));
        } else if (value !== null && typeof value === "object") {
            values[fullKey(key)] = JSON.stringify(value);
        } else {
            values[fullKey(key)] = String(value);
        }
    }
    return { values, encrypted };
}

async function main(): Promise<number> {
    let opts: CliOptions;
    let stackConfig: StackConfig;
    try {
        opts = parseArgs(process.argv.slice(2));
        stackConfig = readStackFile(opts.stack);
    } catch (e) {
        if (e instanceof UsageError) {
            process.stderr.write(`plan: ${e.message}\n`);
            return 2;
        }
        throw e;
    }
    const config = { ...stackConfig.values, ...opts.config, ...opts.secrets };
    const secretKeys = new Set(Object.keys(opts.secrets));
    for (const key of SECRET_KEYS.map(fullKey)) {
        if (key in opts.config) {
            process.stderr.write(`plan: ${key} is a secret; pass it with --secret, not --config\n`);
            return 2;
        }
    }
    const placeholders: string[] = [];
    for (const [key, p] of Object.entries(PLACEHOLDERS)) {
        const k = fullKey(key);
        if (!(k in config)) {
            config[k] = p.value;
            placeholders.push(stackConfig.encrypted.includes(k) ? `${k} (encrypted in the stack file)` : k);
        }
        if (p.secret) {
            secretKeys.add(k);
        }
    }

    let evaluation;
    try {
        evaluation = await evaluate({ project: PROJECT, stack: opts.stack, config, secretKeys: [...secretKeys] });
    } catch (e) {
        // index.ts reports invalid config as a RunError (the CLI prints just its message)
        if (e instanceof ConfigError || e instanceof pulumi.RunError) {
            process.stderr.write(`${e.message}\nNo plan written.\n`);
            return 1;
        }
        throw e;
    }
    const doc = evaluation.document;
    const artifacts = [...scriptArtifacts(doc), ...manifestArtifacts(doc)];
    fs.mkdirSync(opts.out, { recursive: true });
    for (const dir of ["scripts", "manifests"]) {
        fs.rmSync(path.join(opts.out, dir), { recursive: true, force: true });
        fs.mkdirSync(path.join(opts.out, dir), { recursive: true });
    }
    fs.writeFileSync(path.join(opts.out, "plan.json"), JSON.stringify(doc, null, 2) + "\n");
    fs.writeFileSync(path.join(opts.out, "graph.mmd"), renderMermaid(doc));
    fs.writeFileSync(path.join(opts.out, "graph.dot"), renderDot(doc));
    for (const a of artifacts) {
        fs.writeFileSync(path.join(opts.out, a.path), a.content);
    }
    const parallel = recommendedParallelism(doc);
    if (!opts.quiet) {
        process.stdout.write(renderTree(doc));
    }
    const relative = path.relative(process.cwd(), opts.out) || ".";
    const rel = relative.startsWith("..") ? opts.out : relative;
    process.stdout.write(
        [
            "",
            `Wrote ${rel}/plan.json, graph.mmd, graph.dot, ${artifacts.filter((a) => a.path.startsWith("scripts/")).length} scripts and ${artifacts.filter((a) => a.path.startsWith("manifests/")).length} manifests.`,
            `Parallelism: up to ${parallel.width} steps can run at once; run \`pulumi up --parallel ${parallel.recommended}\` (Pulumi's default is 4 x CPUs).`,
            Array.isArray(doc.outputs.torRoutes) && doc.outputs.torRoutes.length
                ? `ToR routes (Azure's route table carries them; program the same on a top-of-rack switch for machines outside Azure):\n${doc.outputs.torRoutes.map((r) => `  ${String(r)}`).join("\n")}`
                : "",
            placeholders.length ? `Placeholders (not set in stack ${opts.stack}; \`pulumi up\` requires real values): ${placeholders.join(", ")}` : "",
        ]
            .filter((l) => l !== "")
            .join("\n") + "\n",
    );
    return 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e: unknown) => {
            process.stderr.write(`plan failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exit(1);
        },
    );
}
