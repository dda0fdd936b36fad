// Replacement, deletion and await behaviour of the planned stack, read from plan.json's resource
// options and graph: the promises the README makes about what `pulumi up` and `pulumi destroy` do.
import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { durationOf } from "../plan/durations";
import { PlanResource } from "../plan/evaluate";
import { PlanGraph } from "../plan/graph";
import { VM_REPLACE_ON_CHANGES } from "../machines/azure/network";
import { LinuxMaster } from "../components/linuxMaster";
import { Network } from "../machines/azure/network";
import { isInternetSource, internetAdminPorts } from "../policy/rules";
import { sandbox } from "./shell";
import * as linux from "../components/scripts/linux";
import { defaultAddresses, masterArgs } from "./fixtures";
import { byName, mockRuntime, settle } from "./harness";
import { cachedPlan } from "./planRun";

/** Earliest finish time of every step with nothing capping concurrency (minutes, from the duration table). */
function finishTimes(g: PlanGraph): Map<string, number> {
    const finish = new Map<string, number>();
    const of = (urn: string): number => {
        const known = finish.get(urn);
        if (known !== undefined) {
            return known;
        }
        const r = g.byUrn.get(urn) as PlanResource;
        const start = Math.max(0, ...r.dependsOn.filter((d) => g.byUrn.has(d)).map(of));
        const f = start + durationOf(r);
        finish.set(urn, f);
        return f;
    };
    g.doc.resources.forEach((r) => of(r.urn));
    return finish;
}
const startOf = (g: PlanGraph, f: Map<string, number>, r: PlanResource) => (f.get(r.urn) as number) - durationOf(r);
const minutes = (t: string) => (t.endsWith("m") ? Number(t.slice(0, -1)) : t.endsWith("h") ? Number(t.slice(0, -1)) * 60 : Number(t.slice(0, -1)) / 60);

describe("lifecycle: awaits, replacement and deletion (plan.json options)", () => {
    const run = () => cachedPlan([]);

    it("plan.json records each resource's options (only those set)", () => {
        const g = run().graph!;
        for (const r of g.doc.resources) {
            assert.ok(r.options && typeof r.options === "object", r.name);
            for (const k of Object.keys(r.options)) {
                assert.ok(["deleteBeforeReplace", "replaceOnChanges", "deletedWith", "customTimeouts", "ignoreChanges", "retainOnDelete", "additionalSecretOutputs"].includes(k), `${r.name}: ${k}`);
            }
        }
        // pulumi-command's SDK adds "connection" itself (the connection holds the private key)
        assert.deepStrictEqual(g.one("k8s-master-kubeconfig").options.additionalSecretOutputs, ["stdout", "stderr", "connection"]);
        assert.deepStrictEqual(g.one("k8s-master-ready").options.customTimeouts, { create: "20m" });
        assert.deepStrictEqual(g.one("cluster-rg").options, {});
    });

    it("the recorder also records ignoreChanges and retainOnDelete (the stack ignores only the Windows admin password)", async () => {
        mockRuntime();
        const addresses = defaultAddresses(0);
        new Network("opts-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" }, { ignoreChanges: ["tags"], retainOnDelete: true });
        // options of a component reach no child; set them on a custom resource
        new k8s.core.v1.Namespace("opts-ns", { metadata: { name: "x" } }, { ignoreChanges: ["metadata.labels"], retainOnDelete: false });
        await settle();
        assert.deepStrictEqual(byName("opts-ns", "opts-ns").options, { ignoreChanges: ["metadata.labels"], retainOnDelete: false });
        const resources = run().graph!.doc.resources;
        assert.ok(!resources.some((r) => r.options.retainOnDelete), "the stack retains nothing");
        assert.deepStrictEqual(
            resources.filter((r) => r.options.ignoreChanges).map((r) => [r.name, r.options.ignoreChanges]),
            [["k8s-win-1-vm", ["osProfile.adminPassword"]], ["k8s-win-2-vm", ["osProfile.adminPassword"]]],
        );
    });

    it("the sample Service is created only after its Deployment is ready, never while its pods cannot exist", () => {
        const g = run().graph!;
        const f = finishTimes(g);
        const service = g.one("sample-service");
        const deployment = g.one("sample-deployment");
        assert.ok(g.waitsOn(service, deployment), "the Service waits on the Deployment");
        // pulumi-kubernetes waits 10 minutes for a Service's endpoints (provider/pkg/await/service.go)
        assert.ok(startOf(g, f, service) >= (f.get(deployment.urn) as number), "the Service starts when its pods are ready");
        for (const join of g.find(/^k8s-win-\d+-join$/)) {
            assert.ok(g.waitsOn(deployment, join), `the Deployment waits on ${join.name}`);
        }
        // a first pull of servercore can take long: the rollout may take more than the default 10 minutes
        const t = deployment.options.customTimeouts;
        assert.ok(t?.create && minutes(t.create) >= 20 && t.update && minutes(t.update) >= 20, JSON.stringify(t));
    });

    it("every awaited workload starts only once the nodes its pods need exist", () => {
        const g = run().graph!;
        const ds = g.one("flannel-ds");
        assert.ok(g.waitsOn(ds, g.one("k8s-master-podcidr")), "flannel's DaemonSet (Linux nodes: the master) waits for the master's pod CIDR");
        for (const svc of g.doc.resources.filter((r) => r.type === "kubernetes:core/v1:Service")) {
            const selector = JSON.stringify((svc.inputs.spec as { selector?: unknown }).selector);
            const workload = g.doc.resources.find((r) => /apps\/v1:(Deployment|DaemonSet)$/.test(r.type) && JSON.stringify(((r.inputs.spec as { selector: { matchLabels: unknown } }).selector).matchLabels) === selector);
            assert.ok(workload && g.waitsOn(svc, workload), `${svc.name} waits on the workload behind its selector`);
        }
    });

    it("VM NICs are detached, not deleted, with their VM; the OS disk goes with it", () => {
        const g = run().graph!;
        const vms = g.doc.resources.filter((r) => r.type === "azure-native:compute:VirtualMachine");
        assert.strictEqual(vms.length, 3);
        for (const vm of vms) {
            const nics = (vm.inputs.networkProfile as { networkInterfaces: Array<{ deleteOption: string }> }).networkInterfaces;
            assert.deepStrictEqual(nics.map((n) => n.deleteOption), ["Detach"], vm.name);
            assert.strictEqual((vm.inputs.storageProfile as { osDisk: { deleteOption: string } }).osDisk.deleteOption, "Delete", vm.name);
        }
    });

    it("a VM is replaced (deleted first) when its image, custom data, computer name, admin user or SSH key changes", () => {
        const g = run().graph!;
        for (const vm of g.doc.resources.filter((r) => r.type === "azure-native:compute:VirtualMachine")) {
            assert.strictEqual(vm.options.deleteBeforeReplace, true, vm.name);
            for (const p of ["storageProfile.imageReference", "osProfile.customData", "osProfile.adminUsername", "osProfile.linuxConfiguration.ssh.publicKeys", "osProfile.computerName"]) {
                assert.ok(vm.options.replaceOnChanges?.includes(p), `${vm.name} replaces on ${p}`);
            }
            assert.ok(!vm.options.replaceOnChanges?.some((p) => p.startsWith("hardwareProfile")), "a new size resizes in place");
        }
        assert.ok(VM_REPLACE_ON_CHANGES.length >= 5);
    });

    it("every remote command dies with its VM; every Kubernetes object dies with the master VM", () => {
        const g = run().graph!;
        const masterVm = g.one("k8s-master-vm").urn;
        for (const r of g.doc.resources.filter((x) => x.type === "command:remote:Command")) {
            assert.ok(r.options.deletedWith && g.byUrn.get(r.options.deletedWith)?.type === "azure-native:compute:VirtualMachine", r.name);
        }
        const objects = g.doc.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"));
        assert.ok(objects.length >= 8);
        for (const r of objects) {
            assert.strictEqual(r.options.deletedWith, masterVm, `${r.name}: a destroy needs no reachable API server`);
        }
    });

    it("drain and token cleanup run before a replacement is created (deleteBeforeReplace), and secret steps keep stdout secret", () => {
        const g = run().graph!;
        for (const r of g.find(/^k8s-win-\d+-(podcidr|new-token)$/)) {
            assert.strictEqual(r.options.deleteBeforeReplace, true, r.name);
        }
        for (const r of g.find(/-(kubeconfig|kubeconfigs|token|join)$/, "command:remote:Command")) {
            assert.ok(["stdout", "stderr"].every((o) => r.options.additionalSecretOutputs?.includes(o)), r.name);
        }
    });

    it("no step that can fail after producing a secret prints it: producers write root-only files, a one-line step prints them", () => {
        const g = run().graph!;
        for (const [producer, printer] of [["k8s-win-1-new-token", "k8s-win-1-token"], ["cluster-agent-kubeconfigs-create", "cluster-agent-kubeconfigs"]]) {
            const p = g.one(printer);
            assert.ok(g.waitsOn(p, g.one(producer)), `${printer} waits on ${producer}`);
            const body = String(p.inputs.create).split("\n").filter((l) => l && !l.startsWith("#!") && !/^(if \[|set -|export |retry\(\))/.test(l));
            assert.deepStrictEqual(body.map((l) => l.split(" ")[0]), ["[", "cat"], printer);
        }
        // a run of each: first, again on the result, and a producer failing half way then retried
        const sb = sandbox();
        sb.fake("kubeadm", `if [ -f "$SANDBOX/fail" ]; then echo "timed out waiting for the condition" >&2; exit 1; fi; echo "kubeadm join 10.240.0.4:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00"`);
        sb.fake("mktemp", 'f="$1"; f="${f%.XXXXXX}.tmp$RANDOM"; : > "$f"; echo "$f"');
        sb.run('touch "$SANDBOX/fail"');
        const failed = sb.run(linux.renderJoinToken("k8s-win-1"));
        assert.notStrictEqual(failed.code, 0);
        assert.ok(!sb.exists("etc/kubernetes/hybrid-k8s/secrets/join-k8s-win-1"), "no half-written file");
        sb.run('rm -f "$SANDBOX/fail"');
        for (const attempt of ["retry", "again"]) {
            const made = sb.run(linux.renderJoinToken("k8s-win-1"));
            assert.strictEqual(made.code, 0, `${attempt}: ${made.stderr}`);
            assert.doesNotMatch(made.stdout + made.stderr, /0123456789abcdef/, "the producer prints no token");
        }
        const printed = sb.run(linux.renderPrintSecret(linux.joinCommandFile("k8s-win-1")));
        assert.match(printed.stdout, /^kubeadm join .*--token abcdef\.0123456789abcdef/);
        assert.strictEqual(fs.statSync(`${sb.dir}/etc/kubernetes/hybrid-k8s/secrets/join-k8s-win-1`).mode & 0o777, 0o600);
        assert.strictEqual(fs.statSync(`${sb.dir}/etc/kubernetes/hybrid-k8s/secrets`).mode & 0o777, 0o700);
    });

    it("long remote steps and readiness polls carry their timeouts", () => {
        const g = run().graph!;
        const expect: Record<string, string> = { "k8s-master-ready": "20m", "k8s-master-prepare": "30m", "k8s-master-init": "20m", "k8s-win-1-ready": "30m", "k8s-win-1-prepare-runtime": "60m", "k8s-win-1-join": "30m" };
        for (const [name, create] of Object.entries(expect)) {
            assert.strictEqual(g.one(name).options.customTimeouts?.create, create, name);
        }
    });

    it("every step that installs Kubernetes binaries waits on the master's version check, which re-runs when kubernetesVersion changes", () => {
        const g = run().graph!;
        const check = g.one("k8s-master-version-check");
        for (const step of [g.one("k8s-master-prepare"), ...g.find(/^k8s-win-\d+-(prepare-runtime|join)$/)]) {
            assert.ok(g.waitsOn(step, check), step.name);
        }
        assert.match(String(check.inputs.create), /^want='1\.35\.4'$/m);
        const other = cachedPlan(["--config", "kubernetesVersion=1.35.3"]).graph!;
        assert.match(String(other.one("k8s-master-version-check").inputs.create), /^want='1\.35\.3'$/m);
    });

    it("a removed node's bootstrap tokens are deleted with it (and only its own)", () => {
        const g = run().graph!;
        assert.match(String(g.one("k8s-win-1-new-token").inputs.delete), /bootstrap\.kubernetes\.io\/token/);
        const sb = sandbox();
        const desc = (s: string) => Buffer.from(s).toString("base64");
        sb.fake("kubectl", `case "$*" in
  *"get secrets"*) printf 'bootstrap-token-aaaaaa ${desc("join k8s-win-1")}\\nbootstrap-token-bbbbbb ${desc("join k8s-win-2")}\\nbootstrap-token-cccccc ${desc("join k8s-win-1")}\\n' ;;
esac`);
        const script = linux.renderDeleteJoinTokens("k8s-win-1");
        for (const n of [1, 2]) {
            const r = sb.run(script);
            assert.strictEqual(r.code, 0, `run ${n}: ${r.stderr}`);
        }
        const deletes = sb.calls("kubectl").filter((c) => c.includes("delete secret")).map((c) => c.split(" ").find((w) => w.startsWith("bootstrap-token-")));
        assert.deepStrictEqual(deletes, ["bootstrap-token-aaaaaa", "bootstrap-token-cccccc", "bootstrap-token-aaaaaa", "bootstrap-token-cccccc"]);
    });

    it("steps through the master as proxy survive a busy sshd: a dial budget on both hops; Windows polls start after the master's sshd has its limits", async () => {
        const g = run().graph!;
        for (const r of g.find(/^k8s-win-\d+-ready$/)) {
            assert.ok(g.waitsOn(r, g.one("k8s-master-ready")), r.name);
        }
        // the connection is a secret in the plan: read it from the component
        const { PROXIED_DIAL_BUDGET } = await import("../machines/host");
        assert.ok(PROXIED_DIAL_BUDGET.dialErrorLimit >= 60);
        mockRuntime();
        const addresses = defaultAddresses(1);
        const net = new Network("dial-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
        const master = new LinuxMaster("dial-master", masterArgs(net, addresses, "dial-master"));
        const { WindowsNode } = await import("../components/windowsNode");
        const { windowsNodeArgs } = await import("./fixtures");
        const node = new WindowsNode("dial-win", windowsNodeArgs(net, master, addresses, {}, { name: "dial-win" }));
        const c = node.connection as { dialErrorLimit?: number; proxy?: { dialErrorLimit?: number } };
        assert.strictEqual(c.dialErrorLimit, 60);
        assert.strictEqual(c.proxy?.dialErrorLimit, 60);
    });

    it("the Kubernetes provider's cluster identity is the control plane's CA, read from the init step", async () => {
        mockRuntime();
        const addresses = defaultAddresses(0);
        const net = new Network("ident-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
        const master = new LinuxMaster("ident-master", masterArgs(net, addresses, "ident-master"));
        await settle();
        const provider = byName("ident-master", "ident-master-k8s");
        const init = byName("ident-master", "ident-master-init");
        assert.ok(provider.propertyDependencies.clusterIdentifier?.includes(init.urn), "clusterIdentifier comes from the init step");
        assert.match(String(provider.inputs.clusterIdentifier), /^sha256:<after-apply:cluster CA public-key hash>$/);
        assert.strictEqual(await new Promise((resolve) => master.clusterId.apply(resolve)), "sha256:<after-apply:cluster CA public-key hash>");
        assert.strictEqual(await pulumi.isSecret(master.clusterId), false);
    });
});

describe("policy: internet sources", () => {
    it("::/0, Internet and ranges wider than /8 that add up to the internet count as the internet; private and narrow ranges do not", () => {
        for (const s of ["::/0", "*", "Internet", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "2000::/3", "::"]) {
            assert.ok(isInternetSource(s), s);
        }
        for (const s of ["203.0.113.7/32", "10.0.0.0/8", "VirtualNetwork", "fd00::/8", "fc00::/7", "2001:db8::/32"]) {
            assert.ok(!isInternetSource(s), s);
        }
        const rule = { name: "split", access: "Allow", direction: "Inbound", sourceAddressPrefixes: ["0.0.0.0/1", "128.0.0.0/1"], destinationPortRange: "22" };
        assert.deepStrictEqual(internetAdminPorts(rule), [22]);
        assert.deepStrictEqual(internetAdminPorts({ ...rule, sourceAddressPrefixes: ["::/0"], destinationPortRange: "6443" }), [6443]);
    });
});
