import * as assert from "assert";
import { validateWorkflow } from "@action-validator/core";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { AZURE_TARGET, classifyPreview, clusterHealthy, clusterUnreachable, DriftReport, driftedLines, exitCode, failedChecks, nodeReadiness, summary, UNREACHABLE_EXIT_CODE } from "../ops/drift";
import { main as drift, Tools, UNREADABLE_ANSWER_EXIT_CODE } from "../ops/driftCli";

/** pulumi and kubectl stand-ins: each command's answer, by how its command line starts. */
function fakeTools(answers: Record<string, { code?: number; stdout: string }>, installed = ["pulumi", "kubectl"]): Tools {
    return {
        has: (cmd) => installed.includes(cmd),
        run: (cmd, args) => {
            const line = `${cmd} ${args.join(" ")}`;
            const a = Object.entries(answers).find(([k]) => line.startsWith(k))?.[1] ?? { code: 0, stdout: "" };
            return { code: a.code ?? 0, stdout: a.stdout, stderr: "" };
        },
    };
}

function runDrift(args: string[], t: Tools): { code: number; out: string; err: string } {
    let out = "";
    let err = "";
    const code = drift(args, { out: (x) => (out += x), err: (x) => (err += x) }, t, {});
    return { code, out, err };
}

const KUBECONFIG_SECRET = "client-key-data: SECRETKEYBYTES";

const ROOT = path.resolve(__dirname, "..");

const node = (name: string, ready: string) => ({ metadata: { name }, status: { conditions: [{ type: "Ready", status: ready }] } });

describe("drift check", () => {
    it("exit 0 is no drift, 7 is drift, anything else is a broken check", () => {
        assert.strictEqual(classifyPreview(0), "no-drift");
        assert.strictEqual(classifyPreview(7), "drift");
        assert.strictEqual(classifyPreview(1), "broken");
        assert.strictEqual(classifyPreview(255), "broken");
    });

    it("picks the changed resources out of a preview", () => {
        const out = ["Previewing update (dev)", "     Type                                  Name        Plan", "  ~   azure-native:network:NetworkSecurityGroup  cluster-nsg  update", "  +-  azure-native:compute:VirtualMachine k8s-win-1-vm replace", "Resources:"].join("\n");
        assert.deepStrictEqual(driftedLines(out).map((l) => l.trim().split(/\s+/)[1]), ["azure-native:network:NetworkSecurityGroup", "azure-native:compute:VirtualMachine"]);
    });

    it("finds expected nodes that are NotReady or missing", () => {
        const r = nodeReadiness({ items: [node("k8s-master", "True"), node("k8s-win-1", "False")] }, ["k8s-master", "k8s-win-1", "k8s-win-2"]);
        assert.deepStrictEqual(r, { ready: ["k8s-master"], notReady: ["k8s-win-1"], missing: ["k8s-win-2"] });
    });

    it("informational measurements never fail the check", () => {
        assert.deepStrictEqual(
            failedChecks({ "host-port": { pass: false, detail: "no answer" }, "windows-node-to-service": { pass: false, detail: "timeout", informational: true }, "node-ping": { pass: true, detail: "ok" } }),
            ["host-port: no answer"],
        );
    });

    it("exit codes and summary: drift, unhealthy cluster, broken check, all good", () => {
        const good: DriftReport = { stack: "dev", preview: "no-drift", previewExitCode: 0, drifted: [], nodes: { ready: ["a"], notReady: [], missing: [] }, checks: [] };
        assert.strictEqual(exitCode(good), 0);
        assert.match(summary(good), /no drift/);
        const drift: DriftReport = { ...good, preview: "drift", previewExitCode: 7, drifted: ["~ azure-native:network:NetworkSecurityGroup cluster-nsg update"] };
        assert.strictEqual(exitCode(drift), 7);
        assert.match(summary(drift), /cluster-nsg/);
        assert.match(summary(drift), /pulumi refresh/);
        const sick: DriftReport = { ...good, nodes: { ready: ["a"], notReady: ["k8s-win-1"], missing: [] } };
        assert.strictEqual(clusterHealthy(sick), false);
        assert.strictEqual(exitCode(sick), 1);
        assert.match(summary(sick), /k8s-win-1 \(NotReady\)/);
        const broken: DriftReport = { stack: "dev", preview: "broken", previewExitCode: 255, drifted: [] };
        assert.strictEqual(exitCode(broken), 2);
        assert.match(summary(broken), /not drift/);
    });

    it("npm run drift says clearly when the Pulumi CLI is missing", () => {
        const r = runDrift(["--stack", "dev"], fakeTools({}, []));
        assert.strictEqual(r.code, 2);
        assert.match(r.err, /the Pulumi CLI is not installed/);
    });

    it("pulumi answering something that is not JSON is a message with its own exit code, showing none of the answer", () => {
        const r = runDrift(["--stack=dev"], fakeTools({ "pulumi stack output": { stdout: `warning: upgrade available\n{"kubeconfig": "${KUBECONFIG_SECRET}"}` } }));
        assert.strictEqual(r.code, UNREADABLE_ANSWER_EXIT_CODE);
        assert.match(r.err, /pulumi stack output --json did not answer JSON \(\d+ bytes, not shown/);
        assert.doesNotMatch(r.out + r.err, /SECRETKEYBYTES/);
        assert.doesNotMatch(r.err, /\n\s+at /);
    });

    it("kubectl answering something that is not JSON (a proxy page) is a message with its own exit code", () => {
        const outputs = JSON.stringify({ kubeconfig: "apiVersion: v1", nodes: [{ name: "k8s-master" }] });
        const r = runDrift(["--stack", "dev"], fakeTools({ "pulumi stack output": { stdout: outputs }, "kubectl get nodes": { stdout: "<html>502 Bad Gateway</html>" } }));
        assert.strictEqual(r.code, UNREADABLE_ANSWER_EXIT_CODE);
        assert.match(r.err, /kubectl get nodes -o json did not answer JSON: "<html>502 Bad Gateway<\/html>"/);
        assert.match(r.out, /Cluster: \*\*could not be checked\*\*/);
    });

    it("drift still wins over an unreadable cluster answer (exit 7), and --help / bad options have their codes", () => {
        const r = runDrift(["--stack", "dev"], fakeTools({ "pulumi preview": { code: 7, stdout: "" }, "pulumi stack output": { stdout: "oops" } }));
        assert.strictEqual(r.code, 7);
        assert.strictEqual(runDrift(["--help"], fakeTools({})).code, 0);
        assert.match(runDrift(["--help"], fakeTools({})).out, /Exit codes:[\s\S]*4 {2}pulumi or kubectl answered/);
        assert.strictEqual(runDrift(["--frobnicate"], fakeTools({})).code, 2);
        assert.strictEqual(runDrift(["--stack"], fakeTools({})).code, 2);
    });

    for (const file of ["drift.yml", "test.yml"]) {
        it(`${file} is a valid GitHub workflow`, () => {
            const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8");
            assert.deepStrictEqual(validateWorkflow(text).errors, []);
        });
    }

    it("the drift workflow runs on a schedule and on demand: the Azure part on GitHub's runners, the cluster part on a self-hosted runner inside adminCidr", () => {
        type Job = { "runs-on": string | string[]; if?: string; steps: Array<{ run?: string }> };
        const wf = yaml.load(fs.readFileSync(path.join(ROOT, ".github", "workflows", "drift.yml"), "utf8")) as { on: Record<string, unknown>; jobs: Record<string, Job> };
        assert.ok(wf.on.schedule && "workflow_dispatch" in wf.on);
        const azure = wf.jobs.azure;
        assert.strictEqual(azure["runs-on"], "ubuntu-latest");
        assert.ok(azure.steps.some((s) => /npm run drift -- --stack "\$STACK" --azure-only$/.test(s.run ?? "")));
        const cluster = wf.jobs.cluster;
        assert.deepStrictEqual(cluster["runs-on"], ["self-hosted", "hybrid-k8s-admin"]);
        assert.ok(cluster.steps.some((s) => /npm run drift -- --stack "\$STACK"$/.test(s.run ?? "")), "the full check, cluster included");
        assert.match(cluster.if ?? "", /vars\.HYBRID_K8S_CLUSTER_RUNNER == 'true'/, "skipped, not queued forever, until the runner exists");
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        for (const text of ["hybrid-k8s-admin", "HYBRID_K8S_CLUSTER_RUNNER", "--azure-only"]) {
            assert.ok(readme.includes(text), `README documents ${text}`);
        }
    });

    it("a cluster that cannot be reached is its own outcome (exit 3), neither drift, nor broken, nor unhealthy", () => {
        const k8sDown = "error: configured Kubernetes cluster is unreachable: unable to load schema information from the API server: Get \"https://20.1.2.3:6443/openapi/v2?timeout=32s\": dial tcp 20.1.2.3:6443: i/o timeout";
        assert.strictEqual(classifyPreview(255, k8sDown), "unreachable");
        assert.strictEqual(classifyPreview(255, "error: failed to load checkpoint: 403 Forbidden"), "broken");
        assert.strictEqual(classifyPreview(7, k8sDown), "drift");
        assert.ok(clusterUnreachable("Unable to connect to the server: dial tcp 20.1.2.3:6443: connect: connection refused"));
        assert.ok(!clusterUnreachable("Error from server (Forbidden): nodes is forbidden"));
        const base: DriftReport = { stack: "dev", preview: "unreachable", previewExitCode: 255, drifted: [] };
        assert.strictEqual(UNREACHABLE_EXIT_CODE, 3);
        assert.strictEqual(exitCode(base), 3);
        assert.match(summary(base), /could not be reached/);
        assert.doesNotMatch(summary(base), /not drift\)|The check itself failed/);
        const kubectlDown: DriftReport = { ...base, preview: "no-drift", previewExitCode: 0, clusterUnreachable: true, clusterError: "kubectl get nodes failed: Unable to connect to the server" };
        assert.strictEqual(exitCode(kubectlDown), 3);
        assert.match(summary(kubectlDown), /Cluster: \*\*could not be reached\*\*/);
        const unhealthy: DriftReport = { ...base, preview: "no-drift", previewExitCode: 0, nodes: { ready: [], notReady: ["k8s-win-1"], missing: [] } };
        assert.strictEqual(exitCode(unhealthy), 1);
        const kubectlOtherError: DriftReport = { ...base, preview: "no-drift", previewExitCode: 0, clusterError: "kubectl get nodes failed: forbidden" };
        assert.strictEqual(exitCode(kubectlOtherError), 1, "other cluster errors stay 'unhealthy'");
    });

    it("--azure-only previews the Azure resources alone (a URN glob) and needs no cluster", () => {
        assert.strictEqual(AZURE_TARGET, "**azure-native:**");
        // the glob as the engine turns it into a regexp (pulumi pkg/resource/deploy/deployment.go getMatcher)
        const re = new RegExp("^" + AZURE_TARGET.split("**").map((seg) => seg.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")).join("[^:]*")).join(".*") + "$");
        assert.ok(re.test("urn:pulumi:dev::hybrid-k8s::hybrid-k8s:index:Network$azure-native:network:VirtualNetwork::cluster-vnet"));
        assert.ok(!re.test("urn:pulumi:dev::hybrid-k8s::hybrid-k8s:index:Flannel$kubernetes:apps/v1:DaemonSet::flannel-ds"));
        const clean: DriftReport = { stack: "dev", azureOnly: true, preview: "no-drift", previewExitCode: 0, drifted: [] };
        assert.strictEqual(exitCode(clean), 0, "no cluster check, no cluster verdict");
        assert.match(summary(clean), /Azure resources only/);
        assert.strictEqual(exitCode({ ...clean, preview: "drift", previewExitCode: 7 }), 7);
    });

    it("an invalid workflow is caught (the validator is not a no-op)", () => {
        assert.ok(validateWorkflow("on: push\njobs:\n  a:\n    runs-onn: x\n    steps: []\n").errors.length > 0);
    });
});
