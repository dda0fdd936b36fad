import * as assert from "assert";
import { validateWorkflow } from "@action-validator/core";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { classifyPreview, clusterHealthy, DriftReport, driftedLines, exitCode, failedChecks, nodeReadiness, summary } from "../ops/drift";
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
        assert.match(runDrift(["--help"], fakeTools({})).out, /Exit codes:[\s\S]*3 {2}pulumi or kubectl answered/);
        assert.strictEqual(runDrift(["--frobnicate"], fakeTools({})).code, 2);
        assert.strictEqual(runDrift(["--stack"], fakeTools({})).code, 2);
    });

    for (const file of ["drift.yml", "test.yml"]) {
        it(`${file} is a valid GitHub workflow`, () => {
            const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8");
            assert.deepStrictEqual(validateWorkflow(text).errors, []);
        });
    }

    it("the drift workflow runs on a schedule and on demand, and runs npm run drift", () => {
        const wf = yaml.load(fs.readFileSync(path.join(ROOT, ".github", "workflows", "drift.yml"), "utf8")) as { on: Record<string, unknown>; jobs: { drift: { steps: Array<{ run?: string }> } } };
        assert.ok(wf.on.schedule && "workflow_dispatch" in wf.on);
        assert.ok(wf.jobs.drift.steps.some((s) => s.run?.includes("npm run drift -- --stack")));
    });

    it("an invalid workflow is caught (the validator is not a no-op)", () => {
        assert.ok(validateWorkflow("on: push\njobs:\n  a:\n    runs-onn: x\n    steps: []\n").errors.length > 0);
    });
});
