import * as assert from "assert";
import { ReportViolation, ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../policy/rules";
import { RecordedResource } from "../plan/monitor";
import { cachedPlan } from "./planRun";
import { LinuxMaster } from "../components/linuxMaster";
import { Network } from "../machines/azure/network";
import { WindowsNode } from "../components/windowsNode";
import { defaultAddresses, masterArgs, windowsNodeArgs } from "./fixtures";
import { mockRuntime, settle } from "./harness";

function policy<T>(name: string): T {
    const p = policies.find((x) => x.name === name);
    assert.ok(p, name);
    return p as unknown as T;
}

function resourceArgs(type: string, name: string, props: Record<string, unknown>, additionalSecretOutputs: string[] = []): ResourceValidationArgs {
    return { type, name, props, urn: `urn:pulumi:s::p::${type}::${name}`, opts: { additionalSecretOutputs } } as unknown as ResourceValidationArgs;
}

async function violations(p: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
    const out: string[] = [];
    await (p.validateResource as ResourceValidation)(args, ((m: string) => out.push(m)) as ReportViolation);
    return out;
}

async function stackViolations(p: StackValidationPolicy, resources: Array<{ type: string; name: string; props: Record<string, unknown> }>): Promise<string[]> {
    const out: string[] = [];
    await p.validateStack({ resources } as unknown as StackValidationArgs, ((m: string) => out.push(m)) as ReportViolation);
    return out;
}

const nsg = (rules: Array<Record<string, unknown>>) => resourceArgs("azure-native:network:NetworkSecurityGroup", "nsg", { securityRules: rules });
const allow = (source: string, port: string) => ({ name: `r-${source}-${port}`, access: "Allow", direction: "Inbound", sourceAddressPrefix: source, destinationPortRange: port });

describe("policy pack", () => {
    describe("no-admin-ports-from-internet", () => {
        const p = policy<ResourceValidationPolicy>("no-admin-ports-from-internet");
        for (const [source, port] of [["*", "22"], ["0.0.0.0/0", "3389"], ["Internet", "6443"], ["*", "5985-5986"], ["Any", "*"]]) {
            it(`fails ${port} from ${source}`, async () => {
                assert.strictEqual((await violations(p, nsg([allow(source, port)]))).length, 1);
            });
        }
        it("passes admin ports from an admin range, other ports from the internet, and deny rules", async () => {
            assert.deepStrictEqual(await violations(p, nsg([allow("203.0.113.7/32", "22"), allow("*", "443"), { ...allow("*", "22"), access: "Deny" }])), []);
        });
        it("checks standalone SecurityRule resources too", async () => {
            assert.strictEqual((await violations(p, resourceArgs("azure-native:network:SecurityRule", "r", allow("*", "22")))).length, 1);
        });
    });

    describe("vxlan-windows-interop", () => {
        const p = policy<StackValidationPolicy>("vxlan-windows-interop");
        const cm = (backend: object) => ({ type: "kubernetes:core/v1:ConfigMap", name: "flannel-cfg", props: { data: { "net-conf.json": JSON.stringify({ Network: "10.244.0.0/16", Backend: backend }) } } });
        const win = { type: "hybrid-k8s:index:WindowsNode", name: "k8s-win-1", props: {} };
        it("fails Linux defaults (VNI 1, port 8472) with Windows nodes", async () => {
            assert.strictEqual((await stackViolations(p, [win, cm({ Type: "vxlan" })])).length, 1);
        });
        it("fails DirectRouting with Windows nodes", async () => {
            assert.strictEqual((await stackViolations(p, [win, cm({ Type: "vxlan", VNI: 4096, Port: 4789, DirectRouting: true })])).length, 1);
        });
        it("passes VNI 4096/port 4789, host-gw, and Linux-only clusters", async () => {
            assert.deepStrictEqual(await stackViolations(p, [win, cm({ Type: "vxlan", VNI: 4096, Port: 4789 })]), []);
            assert.deepStrictEqual(await stackViolations(p, [win, cm({ Type: "host-gw" })]), []);
            assert.deepStrictEqual(await stackViolations(p, [cm({ Type: "vxlan" })]), []);
        });
    });

    describe("secret-commands-stay-secret", () => {
        const p = policy<ResourceValidationPolicy>("secret-commands-stay-secret");
        const cmd = "command:remote:Command";
        it("fails a join that logs, passes previous output, or leaves stdout plain", async () => {
            assert.strictEqual((await violations(p, resourceArgs(cmd, "k8s-win-1-join", { stdin: "x", addPreviousOutputInEnv: false }, ["stdout"]))).length, 1);
            assert.strictEqual((await violations(p, resourceArgs(cmd, "k8s-win-1-join", { stdin: "x", logging: "none" }, ["stdout"]))).length, 1);
            assert.strictEqual((await violations(p, resourceArgs(cmd, "k8s-master-kubeconfig", { logging: "none", addPreviousOutputInEnv: false }))).length, 1);
        });
        it("passes secret-safe commands and ignores commands without secrets", async () => {
            assert.deepStrictEqual(await violations(p, resourceArgs(cmd, "k8s-win-1-join", { stdin: "x", logging: "none", addPreviousOutputInEnv: false }, ["stdout", "stderr"])), []);
            assert.deepStrictEqual(await violations(p, resourceArgs(cmd, "k8s-master-prepare", {})), []);
        });
        it("passes every command this project declares (recorded by the mock runtime)", async () => {
            mockRuntime();
            const addresses = defaultAddresses(1);
            const net = new Network("policy-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
            const master = new LinuxMaster("policy-master", masterArgs(net, addresses, "policy-master"));
            const agents = master.agentKubeconfigs("policy-agent-kubeconfigs", [{ key: "kubeProxy", namespace: "kube-system", serviceAccount: "kube-proxy", secret: "t" }], { parent: master });
            new WindowsNode("policy-win", windowsNodeArgs(net, master, addresses, agents));
            await settle();
            const records: RecordedResource[] = mockRuntime().records.filter((r) => r.type === cmd && /policy-(master|win)|policy-agent/.test(r.urn + r.parent));
            for (const step of ["-token", "-join", "-kubeconfig", "-agent-kubeconfigs"]) {
                assert.ok(records.some((r) => r.name.endsWith(step)), `a ${step} command is recorded`);
            }
            for (const r of records) {
                assert.deepStrictEqual(await violations(p, resourceArgs(cmd, r.name, r.inputs, r.additionalSecretOutputs)), [], r.name);
            }
        });
    });

    describe("vm-managed-disks-and-linux-key-auth", () => {
        const p = policy<ResourceValidationPolicy>("vm-managed-disks-and-linux-key-auth");
        const vm = (props: Record<string, unknown>) => resourceArgs("azure-native:compute:VirtualMachine", "vm", props);
        const managed = { osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } } };
        it("fails an unmanaged disk and a Linux VM with password authentication", async () => {
            assert.strictEqual((await violations(p, vm({ storageProfile: { osDisk: { vhd: { uri: "https://x" } } } }))).length, 1);
            assert.strictEqual((await violations(p, vm({ storageProfile: managed, osProfile: { linuxConfiguration: { disablePasswordAuthentication: false } } }))).length, 1);
        });
        it("passes managed disks, key-only Linux, and Windows with a password", async () => {
            assert.deepStrictEqual(await violations(p, vm({ storageProfile: managed, osProfile: { linuxConfiguration: { disablePasswordAuthentication: true } } })), []);
            assert.deepStrictEqual(await violations(p, vm({ storageProfile: managed, osProfile: { adminPassword: "[secret]", windowsConfiguration: {} } })), []);
        });
    });

    it("the planned stack passes every resource and stack policy, for every topology", async () => {
        for (const args of [[], ["--config", "topology=host-gw"], ["--config", "topology=tor"]]) {
            const doc = cachedPlan(args).doc!;
            const resources = doc.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
            for (const p of policies) {
                if ("validateStack" in p) {
                    assert.deepStrictEqual(await stackViolations(p as StackValidationPolicy, resources), [], p.name);
                } else if (p.name !== "secret-commands-stay-secret") {
                    for (const r of resources) {
                        assert.deepStrictEqual(await violations(p as ResourceValidationPolicy, resourceArgs(r.type, r.name, r.props)), [], `${p.name}: ${r.name}`);
                    }
                }
            }
        }
    });
});
