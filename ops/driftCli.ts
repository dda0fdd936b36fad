// `npm run drift -- --stack NAME`: the scheduled drift check, runnable locally.
// 1. `pulumi preview --refresh --expect-no-changes` (exit 7: drift; other non-zero: the check broke);
// 2. the cluster check, with the stack's kubeconfig: expected nodes Ready, the sample answering
//    through the API server, and the validation results of the last `pulumi up` all passing.
// Prints a summary (also to $GITHUB_STEP_SUMMARY) and exits 0, 7 (drift), 3 (cluster unreachable),
// 1 (cluster unhealthy) or 2 (broken). `--azure-only` previews the Azure resources alone and skips
// the cluster: it runs anywhere, while the rest needs a runner inside adminCidr.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AZURE_TARGET, classifyPreview, clusterUnreachable, DriftReport, driftedLines, exitCode, failedChecks, nodeReadiness, summary, ValidationResults } from "./drift";
import { SAMPLE_NAME, SAMPLE_NAMESPACE } from "../components/manifests/sample";

function has(cmd: string): boolean {
    return spawnSync(cmd, ["version"], { encoding: "utf8" }).error === undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
    return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

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
    const outputs = JSON.parse(out.stdout) as StackOutputs;
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
        report.nodes = nodeReadiness(JSON.parse(nodes.stdout), (outputs.nodes ?? []).map((n) => n.name));
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

function main(): number {
    const args = process.argv.slice(2);
    const i = args.indexOf("--stack");
    const stack = i >= 0 ? args[i + 1] : process.env.PULUMI_STACK;
    if (!stack) {
        process.stderr.write("drift: which stack? npm run drift -- --stack dev\n");
        return 2;
    }
    if (!has("pulumi")) {
        process.stderr.write("drift: the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/). `npm run plan` works without it; a drift check needs it and access to the stack's backend.\n");
        return 2;
    }
    const azureOnly = args.includes("--azure-only");
    // --azure-only: only the Azure resources (URN globs: pulumi/pulumi pkg/resource/deploy/deployment.go UrnTargets)
    const target = azureOnly ? ["--target", AZURE_TARGET] : [];
    const preview = run("pulumi", ["preview", "--refresh", "--expect-no-changes", "--diff", "--non-interactive", "--stack", stack, ...target]);
    process.stdout.write(preview.stdout);
    process.stderr.write(preview.stderr);
    const report: DriftReport = {
        stack,
        azureOnly,
        preview: classifyPreview(preview.code, preview.stdout + preview.stderr),
        previewExitCode: preview.code,
        drifted: driftedLines(preview.stdout),
    };
    if (!azureOnly && report.preview !== "broken" && report.preview !== "unreachable") {
        clusterCheck(report, stack);
    }
    const text = summary(report);
    process.stdout.write(`\n${text}`);
    if (process.env.GITHUB_STEP_SUMMARY) {
        fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, text);
    }
    return exitCode(report);
}

process.exit(main());
