import * as assert from "assert";
import { WINDOWS_SERVER } from "../components/versions";
import { sampleObjects, sampleReplicas } from "../components/manifests/sample";
import { CHECKS, mergeResults, renderMasterChecks, renderWindowsChecks } from "../components/scripts/checks";
import { topologySpec } from "../components/topology";
import { validateObject } from "./k8sSchema";
import { defaultAddresses } from "./fixtures";
import { cachedPlan } from "./planRun";
import { parseScripts } from "./pwsh/pwsh";
import { sandbox, shellcheck } from "./shell";

const plan = defaultAddresses(2);
const base = { master: plan.master, windows: plan.windows, clusterIp: "10.96.0.200", spec: topologySpec("vxlan") };

/** kubectl fakes: two sample pods on two nodes; exec answers 200. */
function clusterFakes(sb: ReturnType<typeof sandbox>, curlExit: number) {
    sb.fake(
        "kubectl",
        `case "$*" in
  *"get pods"*) printf 'win-webserver-a k8s-win-1 10.244.1.5\\nwin-webserver-b k8s-win-2 10.244.2.5\\n' ;;
  *exec*) printf '200\\r\\n' ;;
esac`,
    );
    sb.fake("curl", `exit ${curlExit}`);
    sb.fake("ping", "exit 0");
}

describe("sample service", () => {
    it("its Deployment and Service are valid against the Kubernetes API schema", () => {
        for (const release of Object.values(WINDOWS_SERVER)) {
            const o = sampleObjects({ windowsNodeCount: 3, clusterIp: "10.96.0.200", windowsServer: release });
            validateObject(o.deployment);
            validateObject(o.service);
        }
    });

    it("runs on Windows nodes of the host's build: ltsc2022 on 2022, ltsc2025 on 2025", () => {
        for (const [version, tag, build] of [["2022", "ltsc2022", "10.0.20348"], ["2025", "ltsc2025", "10.0.26100"]] as const) {
            const d = sampleObjects({ windowsNodeCount: 1, clusterIp: "10.96.0.200", windowsServer: WINDOWS_SERVER[version] }).deployment as unknown as {
                spec: { template: { spec: { nodeSelector: Record<string, string>; containers: Array<{ image: string }> } } };
            };
            assert.deepStrictEqual(d.spec.template.spec.nodeSelector, { "kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": build });
            assert.strictEqual(d.spec.template.spec.containers[0].image, `mcr.microsoft.com/windows/servercore:${tag}`);
        }
    });

    it("runs on Windows nodes, ltsc2022, port 80 with host port 4444, a replica per node", () => {
        const d = sampleObjects({ windowsNodeCount: 3, clusterIp: "10.96.0.200", windowsServer: WINDOWS_SERVER["2022"] }).deployment as unknown as {
            spec: { replicas: number; template: { spec: { nodeSelector: Record<string, string>; containers: Array<{ image: string; ports: Array<{ containerPort: number; hostPort: number }> }> } } };
        };
        assert.deepStrictEqual(d.spec.template.spec.nodeSelector, { "kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": "10.0.20348" });
        assert.match(d.spec.template.spec.containers[0].image, /ltsc2022$/);
        assert.deepStrictEqual(d.spec.template.spec.containers[0].ports.map((p) => [p.containerPort, p.hostPort]), [[80, 4444]]);
        assert.strictEqual(d.spec.replicas, 3);
        assert.strictEqual(sampleReplicas(2), 2);
        assert.strictEqual(sampleReplicas(1), 1, "the host port allows one pod per node");
    });

    it("the web server's $ survive Kubernetes' $(VAR) expansion", () => {
        const d = JSON.stringify(sampleObjects({ windowsNodeCount: 2, clusterIp: "10.96.0.200", windowsServer: WINDOWS_SERVER["2022"] }).deployment);
        assert.match(d, /\$\$listener = New-Object System\.Net\.HttpListener/);
        assert.doesNotMatch(d, /[^$]\$listener/);
    });
});

describe("validation checks", () => {
    const master = renderMasterChecks({ mode: "enforce", ...base });

    it("cover the seed's 8 checks between the master and Windows sides", () => {
        const windows = renderWindowsChecks({ mode: "enforce", node: plan.windows[0], master: plan.master, clusterIp: "10.96.0.200", spec: topologySpec("vxlan") });
        for (const check of CHECKS) {
            assert.ok(check in master || windows.includes(`'${check}'`), check);
        }
    });

    for (const [name, script] of Object.entries(renderMasterChecks({ mode: "enforce", ...base }))) {
        it(`${name}: passes shellcheck`, () => assert.strictEqual(shellcheck(script), ""));
    }

    for (const topology of ["vxlan", "host-gw", "tor"] as const) {
        it(`${topology}: the Windows side parses as PowerShell`, () => {
            const script = renderWindowsChecks({ mode: "enforce", node: plan.windows[0], master: plan.master, clusterIp: "10.96.0.200", spec: topologySpec(topology) });
            assert.deepStrictEqual(parseScripts({ check: script }).errors, []);
        });
    }

    it("every node reaches a local pod from the host (pinging the l2bridge host endpoint .2 pings the node itself)", () => {
        const l2 = renderWindowsChecks({ mode: "enforce", node: plan.windows[0], master: plan.master, clusterIp: "10.96.0.200", spec: topologySpec("host-gw") });
        assert.doesNotMatch(l2, /10\.244\.1\.2/);
        assert.match(l2, /crictl\.exe @crictl inspectp/);
        const overlay = renderWindowsChecks({ mode: "enforce", node: plan.windows[0], master: plan.master, clusterIp: "10.96.0.200", spec: topologySpec("vxlan") });
        assert.match(overlay, /crictl\.exe @crictl inspectp/);
    });

    it("a stubbed curl failure fails host-port by name in enforce mode", () => {
        const sb = sandbox();
        clusterFakes(sb, 7);
        const res = sb.run(master["host-port"]!);
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /check host-port failed: no answer on port 4444 from: 10\.240\.0\.11 10\.240\.0\.12/);
        assert.deepStrictEqual(JSON.parse(res.stdout.trim()), { check: "host-port", pass: false, detail: "no answer on port 4444 from: 10.240.0.11 10.240.0.12" });
    });

    it("report mode reports the same failure and succeeds", () => {
        const sb = sandbox();
        clusterFakes(sb, 7);
        const res = sb.run(renderMasterChecks({ mode: "report", ...base })["pod-from-master"]!);
        assert.strictEqual(res.code, 0, res.stderr);
        const r = JSON.parse(res.stdout.trim());
        assert.strictEqual(r.check, "pod-from-master");
        assert.strictEqual(r.pass, false);
        assert.match(r.detail, /win-webserver-a@k8s-win-1\(10\.244\.1\.5\)/);
    });

    it("passing checks report pass with what was seen", () => {
        const sb = sandbox();
        clusterFakes(sb, 0);
        for (const name of ["host-port", "pod-from-master", "pod-to-pod", "service-ip", "service-dns", "node-ping"] as const) {
            const res = sb.run(master[name]!);
            assert.strictEqual(res.code, 0, `${name}: ${res.stderr}`);
            const r = JSON.parse(res.stdout.trim());
            assert.deepStrictEqual([r.check, r.pass], [name, true], res.stdout);
        }
    });

    it("merges results per check: a check passes only when every part passed", () => {
        const merged = mergeResults([
            '{"check":"node-ping","pass":true,"detail":"master pings all"}',
            'noise\n{"check":"node-ping","pass":false,"detail":"k8s-win-2: ping master: False"}',
            '{"check":"windows-node-to-service","pass":false,"detail":"k8s-win-1: timeout","informational":true}',
        ]);
        assert.deepStrictEqual(merged["node-ping"], { pass: false, detail: "master pings all; k8s-win-2: ping master: False" });
        assert.strictEqual(merged["windows-node-to-service"].informational, true);
    });
});

describe("sample and checks in the graph", () => {
    it("the sample waits on every Windows join, and every check waits on the sample", () => {
        const g = cachedPlan(["--config", "windowsNodeCount=3"]).graph!;
        const deployment = g.one("sample-deployment");
        for (const join of g.find(/^k8s-win-\d+-join$/)) {
            assert.ok(g.waitsOn(deployment, join), join.name);
        }
        const checks = g.find(/-check-/);
        assert.strictEqual(checks.length, 7 + 3);
        for (const c of checks) {
            assert.ok(g.waitsOn(c, deployment), c.name);
            assert.ok(g.waitsOn(c, g.one("sample-service")), c.name);
        }
    });

    it("checks run again when the cluster changes or validationRun changes, and only then", () => {
        const triggers = (args: string[]) => JSON.stringify(cachedPlan(args).graph!.one("cluster-check-node-ping").inputs.triggers);
        const base = triggers([]);
        assert.strictEqual(triggers(["--config", "validation=enforce"]), base, "same cluster, same triggers");
        assert.notStrictEqual(triggers(["--config", "validationRun=again"]), base);
        assert.notStrictEqual(triggers(["--config", "kubernetesVersion=1.35.3"]), base, "new node scripts");
    });

    it("sampleService false plans neither the sample nor the checks", () => {
        const run = cachedPlan(["--config", "sampleService=false"]);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(run.graph!.find(/-check-|^sample/).length, 0);
    });
});
