// `npm run drift -- --stack NAME`: the scheduled drift check, runnable locally.
// 1. `pulumi preview --refresh --expect-no-changes` (exit 7: drift; other non-zero: the check broke);
// 2. the cluster check, with the stack's kubeconfig: expected nodes Ready, the sample answering
//    through the API server, and the validation results of the last `pulumi up` all passing.
// Prints a summary (also to $GITHUB_STEP_SUMMARY) and exits 0, 7 (drift), 3 (cluster unreachable),
// 1 (cluster unhealthy), 2 (broken) or 4 (pulumi or kubectl answered something that is not the
// JSON asked for). `--azure-only` previews the Azure resources alone and skips the cluster: it
// runs anywhere, while the rest needs a runner inside adminCidr. See USAGE.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AZURE_TARGET, classifyPreview, clusterUnreachable, DriftReport, driftedLines, exitCode, failedChecks, nodeReadiness, summary, ValidationResults } from "./drift";
import { SAMPLE_NAME, SAMPLE_NAMESPACE } from "../components/manifests/sample";

export const USAGE = `Usage: npm run drift -- --stack NAME [--azure-only]   (or set PULUMI_STACK)

Runs \`pulumi preview --refresh --expect-no-changes\`, then checks the cluster with the stack's
kubeconfig (nodes Ready, the sample answering, the last validation results). Needs the Pulumi CLI,
kubectl and access to the stack's backend; the cluster part needs a machine inside adminCidr.
--azure-only previews the Azure resources alone and skips the cluster (runs anywhere).
Options also take the form --stack=NAME.

Exit codes:
  0  no drift, cluster healthy
  7  drift: the Azure resources or Kubernetes objects differ from the code
  1  the cluster check failed (a node not Ready, the sample not answering, a failed check)
  3  the cluster could not be reached (run it where adminCidr allows, or use --azure-only)
  2  the check itself broke (usage, credentials, backend, program, tools missing)
  4  pulumi or kubectl answered something that is not the JSON asked for
`;

/** Exit code when pulumi or kubectl answered with something that is not JSON. */
export const UNREADABLE_ANSWER_EXIT_CODE = 4;

/** A tool answered, but not with the JSON asked for. */
export class UnreadableAnswer extends Error {}

/**
 * Parses a tool's JSON answer. Not JSON: UnreadableAnswer naming the tool and the command, with
 * the start of the answer only when `showable` (pulumi's --show-secrets output never is).
 */
export function parseJsonAnswer<T>(tool: string, text: string, showable: boolean): T {
    try {
        return JSON.parse(text) as T;
    } catch {
        const start = text.trim().slice(0, 120).replace(/\s+/g, " ");
        const shown = showable ? `: ${JSON.stringify(start)}` : ` (${text.length} bytes, not shown: it may hold secrets)`;
        throw new UnreadableAnswer(`${tool} did not answer JSON${text.trim() === "" ? " (empty answer)" : shown}; run it by hand to see why (an old version, a proxy or login page, a warning printed before the JSON).`);
    }
}

export interface Tools {
    has(cmd: string): boolean;
    run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string };
}

const system: Tools = {
    has(cmd) {
        return spawnSync(cmd, ["version"], { encoding: "utf8" }).error === undefined;
    },
    run(cmd, args, env = process.env) {
        const r = spawnSync(cmd, args, { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
        return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    },
};
let tools: Tools = system;
const has = (cmd: string) => tools.has(cmd);
const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => tools.run(cmd, args, env);

interface StackOutputs {
    kubeconfig?: string;
    nodes?: Array<{ name: string }>;
    validationResults?: ValidationResults;
}

function clusterCheck(report: DriftReport, stack: string): void {
    if (!has("kubectl")) {
        report.clusterError = "kubectl is not installed (https://kubernetes.io/docs/tasks/tools/)";
        return;
    }
    const out = run("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack]);
    if (out.code !== 0) {
        report.clusterError = `pulumi stack output failed: ${out.stderr.trim()}`;
        return;
    }
    const outputs = parseJsonAnswer<StackOutputs>("pulumi stack output --json", out.stdout, false);
    if (!outputs.kubeconfig) {
        report.clusterError = "the stack has no kubeconfig output (was it deployed?)";
        return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drift-"));
    const kubeconfig = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfig, outputs.kubeconfig, { mode: 0o600 });
    try {
        const env = { ...process.env, KUBECONFIG: kubeconfig };
        const nodes = run("kubectl", ["get", "nodes", "-o", "json", "--request-timeout=30s"], env);
        if (nodes.code !== 0) {
            report.clusterError = `kubectl get nodes failed: ${nodes.stderr.trim()}`;
            report.clusterUnreachable = clusterUnreachable(nodes.stderr);
            return;
        }
        report.nodes = nodeReadiness(parseJsonAnswer("kubectl get nodes -o json", nodes.stdout, true), (outputs.nodes ?? []).map((n) => n.name));
        if (outputs.validationResults && Object.keys(outputs.validationResults).length) {
            // the sample, through the API server's service proxy: master → service → Windows pod
            const sample = run("kubectl", ["get", "--raw", `/api/v1/namespaces/${SAMPLE_NAMESPACE}/services/http:${SAMPLE_NAME}:80/proxy/`, "--request-timeout=30s"], env);
            report.sample = { ok: sample.code === 0, detail: sample.code === 0 ? "answers" : `no answer: ${sample.stderr.trim().slice(0, 200)}` };
            report.checks = failedChecks(outputs.validationResults);
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface Io {
    out(text: string): void;
    err(text: string): void;
}

/** Options: --stack NAME (or --stack=NAME), --azure-only, --help. */
function parseDriftArgs(args: string[]): { stack?: string; help: boolean; azureOnly: boolean; error?: string } {
    let stack: string | undefined;
    let azureOnly = false;
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--help" || a === "-h") {
            return { help: true, azureOnly };
        } else if (a === "--azure-only") {
            azureOnly = true;
        } else if (a === "--stack") {
            stack = args[++i];
            if (stack === undefined || stack.startsWith("--")) {
                return { help: false, azureOnly, error: "--stack needs a value" };
            }
        } else if (a.startsWith("--stack=")) {
            stack = a.slice("--stack=".length);
        } else {
            return { help: false, azureOnly, error: `unknown option ${a}` };
        }
    }
    return { stack, help: false, azureOnly };
}

/** The whole command; returns the exit code. `t` replaces the system's pulumi and kubectl in tests. */
export function main(args: string[], io: Io, t: Tools = system, env: NodeJS.ProcessEnv = process.env): number {
    tools = t;
    const parsed = parseDriftArgs(args);
    if (parsed.help) {
        io.out(USAGE);
        return 0;
    }
    if (parsed.error) {
        io.err(`drift: ${parsed.error}\n${USAGE}`);
        return 2;
    }
    const stack = parsed.stack ?? env.PULUMI_STACK;
    if (!stack) {
        io.err("drift: which stack? npm run drift -- --stack dev\n");
        return 2;
    }
    if (!has("pulumi")) {
        io.err("drift: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/). `npm run plan` works without it; a drift check needs it and access to the stack's backend.\n");
        return 2;
    }
    const azureOnly = parsed.azureOnly;
    // --azure-only: only the Azure resources (URN globs: pulumi/pulumi pkg/resource/deploy/deployment.go UrnTargets)
    const target = azureOnly ? ["--target", AZURE_TARGET] : [];
    const preview = run("pulumi", ["preview", "--refresh", "--expect-no-changes", "--diff", "--non-interactive", "--stack", stack, ...target]);
    io.out(preview.stdout);
    io.err(preview.stderr);
    const report: DriftReport = {
        stack,
        azureOnly,
        preview: classifyPreview(preview.code, preview.stdout + preview.stderr),
        previewExitCode: preview.code,
        drifted: driftedLines(preview.stdout),
    };
    let unreadable: string | undefined;
    if (!azureOnly && report.preview !== "broken" && report.preview !== "unreachable") {
        try {
            clusterCheck(report, stack);
        } catch (e) {
            if (!(e instanceof UnreadableAnswer)) {
                throw e;
            }
            unreadable = e.message;
            report.clusterError = e.message;
        }
    }
    const text = summary(report);
    io.out(`\n${text}`);
    if (env.GITHUB_STEP_SUMMARY) {
        fs.appendFileSync(env.GITHUB_STEP_SUMMARY, text);
    }
    if (unreadable && report.preview === "no-drift") {
        io.err(`drift: ${unreadable}\n`);
        return UNREADABLE_ANSWER_EXIT_CODE;
    }
    return exitCode(report);
}

if (require.main === module) {
    process.exit(main(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }));
}
