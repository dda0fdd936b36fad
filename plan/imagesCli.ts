// `npm run plan:images`: evaluates the image program (images/index.ts) offline, as `npm run plan`
// does the cluster, and writes what `pulumi up` in images/ would create: plan.json, the image
// template's inputs (template.json) and the scripts its customizers run, decoded, one file per
// step in build order (scripts/NN-<step>.ps1), with the scripts they carry beside them.
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../components/config";
import { decodePowerShell, embeddedFiles } from "../components/scripts/shell";
import { IMAGE_PROJECT, parseImageConfig } from "../images/config";
import { checkOutDir, Io, keyValue, readFlags, removePreviousPlan, UsageError, writeFiles } from "./cli";
import type { PlanDocument } from "./evaluate";
import { MOCK_LOCATION } from "./mocks";

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_OUT = path.join(ROOT, "out", "images");
export const TEMPLATE_TYPE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate";

export const IMAGES_USAGE = `Usage: npm run plan:images -- [options]

Evaluates the image program (images/) offline and writes what \`pulumi up\` there would create:
plan.json, template.json (the image template) and scripts/ (each build step's script, decoded).

Options (each also as --name=value):
  --config key=value   set a config value (repeatable; the ${IMAGE_PROJECT}: prefix is optional)
  --out DIR            where to write (default out/images/); a folder the plan did not write must be empty
  --quiet              print only the summary line
  -h, --help           show this help

Exit codes: 0 plan written; 1 invalid configuration; 2 usage error; 3 the program failed.
`;

export interface ImagesCliOptions {
    out: string;
    quiet: boolean;
    help: boolean;
    config: Record<string, string>;
}

export function parseImagesArgs(argv: string[], cwd = process.cwd()): ImagesCliOptions {
    const opts: ImagesCliOptions = { out: DEFAULT_OUT, quiet: false, help: false, config: {} };
    for (const [flag, value] of readFlags(argv, { "--config": "key=value", "--out": "DIR", "--quiet": null, "-h": null, "--help": null })) {
        if (flag === "--config") {
            const [k, v] = keyValue(value, "--config", IMAGE_PROJECT);
            opts.config[k] = v;
        } else if (flag === "--out") {
            opts.out = path.resolve(cwd, value);
        } else if (flag === "--quiet") {
            opts.quiet = true;
        } else {
            opts.help = true;
        }
    }
    return opts;
}

type Inputs = Record<string, unknown>;

/** A Shell customizer's script: its first line writes it from base64 (images/nodeImage.ts customizer). */
function decodeShellStep(inline: string[]): string | undefined {
    const m = /^echo '([A-Za-z0-9+/=]*)' \| base64 -d > /.exec(inline[0] ?? "");
    return m ? Buffer.from(m[1], "base64").toString("utf8") : undefined;
}

/**
 * Each template and its step scripts: the Windows node image's as template.json and
 * scripts/NN-<step>.ps1, the Linux master image's as master-template.json and
 * scripts/master/NN-<step>.sh.
 */
export function imageArtifacts(doc: PlanDocument): Array<{ path: string; content: string }> {
    const files: Array<{ path: string; content: string }> = [];
    for (const template of doc.resources.filter((r) => r.type === TEMPLATE_TYPE)) {
        const master = template.name.startsWith("masterimg");
        files.push({ path: master ? "master-template.json" : "template.json", content: JSON.stringify(template.inputs, null, 2) + "\n" });
        const steps = (template.inputs.customize ?? []) as Inputs[];
        steps.forEach((step, i) => {
            const base = `scripts/${master ? "master/" : ""}${String(i + 1).padStart(2, "0")}-${String(step.name)}`;
            const inline = (step.inline ?? []) as string[];
            if (step.type === "Shell") {
                const script = decodeShellStep(inline);
                if (script !== undefined) {
                    files.push({ path: `${base}.sh`, content: script });
                }
                return;
            }
            const script = inline.length === 1 ? decodePowerShell(inline[0]) : undefined;
            if (script !== undefined) {
                files.push({ path: `${base}.ps1`, content: script });
                files.push(...embeddedFiles(base, script));
            }
        });
    }
    return files;
}

export async function runImagesCli(argv: string[], io: Io): Promise<number> {
    let opts: ImagesCliOptions;
    try {
        opts = parseImagesArgs(argv);
        if (opts.help) {
            io.out(IMAGES_USAGE);
            return 0;
        }
        checkOutDir(opts.out);
    } catch (e) {
        if (e instanceof UsageError) {
            io.err(`plan:images: ${e.message}\n`);
            return 2;
        }
        throw e;
    }
    const config: Record<string, string> = { "azure-native:location": MOCK_LOCATION, ...opts.config };
    const ours: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        if (key.startsWith(`${IMAGE_PROJECT}:`)) {
            ours[key.slice(IMAGE_PROJECT.length + 1)] = value;
        }
    }
    try {
        parseImageConfig(ours);
    } catch (e) {
        if (e instanceof ConfigError) {
            const removed = fs.existsSync(opts.out) ? removePreviousPlan(opts.out) : 0;
            io.err(`${e.message}\nNo plan written.${removed ? ` Removed the previous plan's ${removed} files from ${opts.out}.` : ""}\n`);
            return 1;
        }
        throw e;
    }
    const { evaluate } = await import("./evaluate");
    let doc: PlanDocument;
    try {
        doc = (await evaluate({ project: IMAGE_PROJECT, stack: "images", config, secretKeys: [], program: path.join(ROOT, "images", "index") })).document;
    } catch (e) {
        io.err(`plan:images: the program failed: ${e instanceof Error ? e.message : String(e)}\nNo plan written.\n`);
        return 3;
    }
    doc.config = config;
    const files = [{ path: "plan.json", content: JSON.stringify(doc, null, 2) + "\n" }, ...imageArtifacts(doc)];
    writeFiles(opts.out, files);
    if (!opts.quiet) {
        for (const r of doc.resources) {
            io.out(`${r.type}  ${r.name}\n`);
        }
    }
    const out = doc.outputs as Record<string, unknown>;
    io.out(`image version ${String(out.imageVersion)}: ${files.length} files in ${path.relative(process.cwd(), opts.out) || "."}; the cluster takes it as hybrid-k8s:windowsImage=${String(out.imageVersionId)}\n`);
    if (out.masterImageVersionId) {
        io.out(`master image version ${String(out.masterImageVersion)}: the cluster takes it as hybrid-k8s:linuxImage=${String(out.masterImageVersionId)}\n`);
    }
    return 0;
}

if (require.main === module) {
    runImagesCli(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
        (code) => process.exit(code),
        (e: unknown) => {
            process.stderr.write(`plan:images: failed: ${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(3);
        },
    );
}
