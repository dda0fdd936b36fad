// Existing machines (machines: existing): no Azure resource, every step the Azure path runs, on
// the given addresses; an existing cluster is read and checked, never prepared.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as linux from "../components/scripts/linux";
import { decodePowerShell } from "../components/scripts/shell";
import { openSshPrivateKey } from "../components/sshKeys";
import { PlanResource } from "../plan/evaluate";
import { AZURE_LIKE, AZURE_PREBUILT_LIKE, cachedPlan, EXISTING_LIKE, EXISTING_PLANS, EXISTING_PROXY_PLANS, PlanRun, SENTINEL_KEY_MATERIAL, sentinelPrivateKey } from "./planRun";
import { sandbox } from "./shell";

function scripts(run: PlanRun, node: string): Map<string, string> {
    const dir = path.join(run.out, "scripts");
    return new Map(fs.readdirSync(dir).filter((f) => f.startsWith(`${node}-`)).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

describe("existing machines: the plan", () => {
    for (const args of EXISTING_PLANS) {
        it(`${args.slice(2).filter((a) => a !== "--config").join(" ") || "Pulumi.existing.yaml"}: no Azure resource; every step reaches the given addresses`, () => {
            const run = cachedPlan(args);
            assert.strictEqual(run.code, 0, run.stderr);
            const doc = run.doc!;
            assert.deepStrictEqual(doc.resources.filter((r) => r.type.startsWith("azure-native:") || r.type.startsWith("pulumi:providers:azure-native")).map((r) => r.name), []);
            const g = run.graph!;
            const existingCluster = args.includes("existingCluster=true") || args.length === 2;
            // the master: read and checked, or prepared and initialised
            assert.strictEqual(g.find(/^k8s-master-prepare$/).length, existingCluster ? 0 : 1);
            assert.strictEqual(g.find(/^k8s-master-init$/).length, existingCluster ? 0 : 1);
            assert.strictEqual(g.find(/^k8s-master-cluster-ca$/).length, existingCluster ? 1 : 0);
            // an existing cluster runs its own flannel: the stack deploys none
            const topology = args.find((a) => a.startsWith("topology="))?.slice(9) ?? "vxlan";
            assert.strictEqual(g.find(/^flannel-ds$/).length, !existingCluster && topology !== "tor" ? 1 : 0);
            for (const node of ["win-a", "win-b"]) {
                for (const step of ["ready", "prepare-features", "features-ready", "prepare-runtime", "join"]) {
                    assert.ok(g.waitsOn(g.one(`${node}-${step}`), g.one(`${node}-identity`)), `${node}-${step} waits for the host`);
                }
            }
            // an existing cluster is checked before any host changes
            if (existingCluster) {
                for (const node of ["win-a", "win-b"]) {
                    assert.ok(g.waitsOn(g.one(`${node}-ready`), g.one("k8s-master-compatibility")), `${node}-ready waits for the compatibility check`);
                }
                assert.ok(g.waitsOn(g.one("k8s-master-version-check"), g.one("k8s-master-compatibility")));
            }
            // destroy: each host is undone last, after the master drained and deleted its node
            for (const node of ["win-a", "win-b"]) {
                const identity = g.one(`${node}-identity`);
                assert.match(decodePowerShell(String(identity.inputs.delete)) ?? "", /kubeadm(\.exe)? reset/, `${node}: its identity's delete undoes the steps`);
                assert.ok(g.waitsOn(g.one(`${node}-podcidr`), identity), `${node}-podcidr (its delete drains the node) goes before the undo`);
                assert.strictEqual(identity.inputs.deletedWith, undefined);
            }
            // the master: reset on destroy only when the stack initialised it
            assert.strictEqual(typeof g.one("k8s-master-identity").inputs.delete === "string", !existingCluster);
            // what the hosts' owners run or program by hand
            for (const node of ["win-a", "win-b"]) {
                assert.ok(fs.existsSync(path.join(run.out, "scripts", `${node}-enable-openssh.ps1`)), `${node}-enable-openssh.ps1`);
            }
            assert.strictEqual(fs.existsSync(path.join(run.out, "tor-routes.txt")), topology === "tor");
            if (topology === "tor") {
                // an existing cluster's own nodes are the cluster's: the plan says where the whole table comes from
                const routes = fs.readFileSync(path.join(run.out, "tor-routes.txt"), "utf8");
                assert.strictEqual(/printed by the\n! k8s-master-compatibility step at `pulumi up`/.test(routes), existingCluster, routes);
                assert.strictEqual(/ name k8s-master$/m.test(routes), !existingCluster, "the master's route only where the stack gives it its podCIDR");
                assert.match(routes, /^ip route 10\.244\.\d+\.0 255\.255\.255\.0 192\.0\.2\.21 name win-a$/m);
            }
            assert.deepStrictEqual(doc.outputs.resourceGroupName, null);
            assert.deepStrictEqual(
                (doc.outputs.windowsNodes as Array<{ name: string; privateIp: string }>).map((n) => [n.name, n.privateIp]),
                [["win-a", "192.0.2.21"], ["win-b", "192.0.2.22"]],
            );
        });
    }

    /** Does this remote command run PowerShell (a Windows host's step) rather than a shell script (the master's)? */
    function isWindowsStep(r: PlanResource): boolean {
        const script = r.inputs.create ?? r.inputs.update ?? r.inputs.delete;
        assert.strictEqual(typeof script, "string", `${r.name} has a script`);
        return /^powershell(\.exe)? /.test(String(script));
    }

    const label = (args: string[]) => args.filter((a) => a !== "--config" && a !== "--secret" && !a.startsWith("sshPrivateKey=")).slice(2).join(" ") || "Pulumi.existing.yaml";
    for (const [args, proxied] of [...EXISTING_PLANS.map((a) => [a, false] as const), ...EXISTING_PROXY_PLANS.map((a) => [a, true] as const)]) {
        it(`${label(args)}: each step's SSH target is its host's address and user${proxied ? ", through the master" : ""}; the private key is nowhere in plan.json`, () => {
            const run = cachedPlan(args);
            assert.strictEqual(run.code, 0, run.stderr);
            const master = { host: "192.0.2.10", user: "ubuntu", port: 22 };
            const windows: Record<string, { host: string; user: string; port: number }> = {
                "win-a": { host: "192.0.2.21", user: "Administrator", port: 22 },
                // the proxied plans give win-b a user of its own
                "win-b": { host: "192.0.2.22", user: proxied ? "winops" : "Administrator", port: 22 },
            };
            const steps = run.doc!.resources.filter((r) => r.type === "command:remote:Command");
            const perHost = new Map<string, number>();
            for (const r of steps) {
                let want;
                if (isWindowsStep(r)) {
                    const host = Object.keys(windows).find((h) => r.name.startsWith(`${h}-`));
                    assert.ok(host, `${r.name}: a Windows step is named after its host`);
                    want = { ...windows[host], ...(proxied ? { proxy: master } : {}) };
                    perHost.set(host, (perHost.get(host) ?? 0) + 1);
                } else {
                    want = master;
                    perHost.set("master", (perHost.get("master") ?? 0) + 1);
                }
                assert.deepStrictEqual(r.target, want, `${r.name} targets its host`);
                assert.strictEqual(r.inputs.connection, "[secret]", `${r.name}: the connection itself stays secret`);
            }
            // every host's steps: identity, readiness, features, runtime, join, upgrade, check
            assert.ok(perHost.get("win-a")! >= 7 && perHost.get("win-b")! >= 7 && perHost.get("master")! >= 8, JSON.stringify([...perHost]));
            const text = fs.readFileSync(path.join(run.out, "plan.json"), "utf8");
            const key = proxied ? sentinelPrivateKey() : openSshPrivateKey("plan-placeholder");
            for (const line of key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"))) {
                assert.ok(!text.includes(line), "a line of the private key is in plan.json");
            }
            if (proxied) {
                assert.ok(!text.includes(SENTINEL_KEY_MATERIAL));
                assert.ok(!run.stdout.includes(SENTINEL_KEY_MATERIAL) && !run.stderr.includes(SENTINEL_KEY_MATERIAL));
            }
        });
    }

    it("the Windows steps are byte-identical to the Azure path's for the same node: a prebuilt image's SSH steps, a stock image's provisioning parts", () => {
        const prebuilt = cachedPlan(AZURE_PREBUILT_LIKE);
        const stock = cachedPlan(AZURE_LIKE);
        const existing = cachedPlan(EXISTING_LIKE);
        for (const r of [prebuilt, stock, existing]) {
            assert.strictEqual(r.code, 0, r.stderr);
        }
        const a = scripts(prebuilt, "k8s-win-1");
        const e = scripts(existing, "k8s-win-1");
        // what only one side has: the prebuilt VM's custom data (the key); the existing host's identity read and undo
        const onlyExisting = [...e.keys()].filter((f) => !a.has(f));
        const onlyAzure = [...a.keys()].filter((f) => !e.has(f));
        assert.ok(onlyAzure.every((f) => /^k8s-win-1-vm\.custom-data/.test(f)), onlyAzure.join(", "));
        assert.ok(onlyExisting.every((f) => /^k8s-win-1-(identity|enable-openssh)/.test(f)), onlyExisting.join(", "));
        const shared = [...a].filter(([f]) => !onlyAzure.includes(f));
        for (const [file, text] of shared) {
            assert.strictEqual(e.get(file), text, `${file} differs`);
        }
        assert.ok(shared.length >= 10);
        // a stock image's extension runs the very same feature and runtime scripts
        const s = scripts(stock, "k8s-win-1");
        for (const step of ["prepare-features", "prepare-runtime"]) {
            assert.strictEqual(s.get(`k8s-win-1-vm.user-data.${step}.ps1`), e.get(`k8s-win-1-${step}.ps1`), step);
        }
    });
});

describe("existing cluster: master-side scripts", () => {
    it("cluster-ca prints the line init prints, from the running cluster's CA; refuses a host that is no control plane", () => {
        const sb = sandbox();
        sb.fake("openssl", `case "$*" in *x509*) echo PUBKEY ;; *) cat >/dev/null; echo DER ;; esac`);
        sb.fake("sha256sum", `cat >/dev/null; echo "abc123  -"`);
        const script = linux.renderClusterCa().split("/etc/kubernetes/pki").join(`${sb.dir}/pki`);
        const none = sb.run(script);
        assert.notStrictEqual(none.code, 0);
        assert.match(none.stderr, /not a kubeadm control plane; set hybrid-k8s:existingCluster false/);
        fs.mkdirSync(path.join(sb.dir, "pki"));
        fs.writeFileSync(path.join(sb.dir, "pki", "ca.crt"), "CERT");
        const r = sb.run(script);
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(linux.clusterIdFromInit(r.stdout), "sha256:abc123");
    });

    it("the agent token Secrets the stack created are removed on delete, twice without harm; the service accounts stay", () => {
        const sb = sandbox();
        sb.fake("kubectl", "exit 0");
        const accounts = [{ key: "kubeProxy", namespace: "kube-system", serviceAccount: "kube-proxy", secret: "kube-proxy-windows-token" }];
        fs.mkdirSync(path.join(sb.dir, "etc/kubernetes"), { recursive: true });
        fs.writeFileSync(path.join(sb.dir, "etc/kubernetes/admin.conf"), "x");
        for (const n of [1, 2]) {
            const r = sb.run(linux.renderDeleteAgentKubeconfigs(accounts));
            assert.strictEqual(r.code, 0, `run ${n}: ${r.stderr}`);
        }
        const calls = sb.calls("kubectl");
        assert.strictEqual(calls.length, 2);
        assert.ok(calls.every((c) => /-n kube-system delete secret kube-proxy-windows-token --ignore-not-found/.test(c)), calls.join("\n"));
        assert.ok(!calls.some((c) => /serviceaccount/.test(c)));
    });
});
