import * as assert from "assert";
import { WINDOWS_SERVER } from "../components/versions";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Flannel } from "../components/flannel";
import { LinuxMaster } from "../components/linuxMaster";
import { Network } from "../machines/azure/network";
import { SampleService } from "../components/sampleService";
import { WindowsNode } from "../components/windowsNode";
import { topologySpec, FlannelBackend } from "../components/topology";
import { Topology } from "../components/config";
import { AzureLinuxMachine } from "../machines/azure/linuxMachine";
import { AzureWindowsMachine } from "../machines/azure/windowsMachine";
import { defaultAddresses, MARKETPLACE_WINDOWS, masterArgs, VERSIONS, windowsNodeArgs } from "./fixtures";
import { mockRuntime, settle } from "./harness";

const addresses = defaultAddresses(1);

/** Runs `create`, expects an InputPropertyError naming `path`, and that nothing was registered. */
async function rejects(path: string, create: () => unknown): Promise<void> {
    const monitor = mockRuntime();
    await settle();
    const before = monitor.records.length;
    assert.throws(create, (e: unknown) => e instanceof pulumi.InputPropertyError && (e as pulumi.InputPropertyError).propertyPath === path, `expected an error naming ${path}`);
    await settle();
    assert.strictEqual(monitor.records.length, before, "no resource was registered");
}

describe("component arguments are checked before anything is created", () => {
    it("Network: an unknown topology, a bad adminCidr", async () => {
        await rejects("topology", () => new Network("args-net-1", { topology: "mesh" as Topology, addresses, adminCidr: "203.0.113.7/32" }));
        await rejects("adminCidr", () => new Network("args-net-2", { topology: "vxlan", addresses, adminCidr: "my laptop" }));
    });

    it("LinuxMaster and its Azure machine: versions and the SSH key", async () => {
        mockRuntime();
        const net = new Network("args-net-ok", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
        const base = masterArgs(net, addresses, "args-master-ok");
        await rejects("kubernetesVersion", () => new LinuxMaster("args-master-1", { ...base, kubernetesVersion: "v1.35" }));
        await rejects("containerdVersion", () => new LinuxMaster("args-master-2", { ...base, containerdVersion: "latest" }));
        await rejects("sshPublicKey", () => new AzureLinuxMachine("args-master-3", { network: net, address: addresses.master, vmSize: "Standard_D2s_v5", image: { publisher: "p", offer: "o", sku: "s", version: "latest" }, adminUsername: "azureuser", sshPublicKey: "", sshPrivateKey: "k" }));

        // WindowsNode: a name that is no node name, a version that is not one; its machine: a computer name over 15 characters
        const master = new LinuxMaster("args-master-ok", base);
        const win = windowsNodeArgs(net, master, addresses, {});
        await rejects("node.name", () => new WindowsNode("args-win-1", { ...win, node: { ...win.node, name: "Not_A_Node" } }));
        await rejects("versions.containerdVersion", () => new WindowsNode("args-win-2", { ...win, versions: { ...VERSIONS, containerdVersion: "2.1" } }));
        await rejects("address.name", () => new AzureWindowsMachine("args-win-3", { network: net, address: { ...win.node, name: "a-windows-node-name-too-long" }, vmSize: "Standard_D4s_v5", image: MARKETPLACE_WINDOWS, adminUsername: "azureuser", adminPassword: "x", sshPublicKey: "ssh-ed25519 AAAA test", connection: win.host.connection }));
    });

    it("Flannel: versions and the pod CIDR", async () => {
        const spec = topologySpec("vxlan");
        const provider = undefined as unknown as k8s.Provider; // never reached: the checks come first
        const args = { provider, spec: { ...spec, flannelBackend: spec.flannelBackend as FlannelBackend }, podCidr: "10.244.0.0/16", flannelVersion: "0.27.4", cniPluginVersion: "1.8.0-flannel1" };
        await rejects("flannelVersion", () => new Flannel("args-flannel-1", { ...args, flannelVersion: "v0.27.4" }));
        await rejects("cniPluginVersion", () => new Flannel("args-flannel-2", { ...args, cniPluginVersion: "latest" }));
        await rejects("podCidr", () => new Flannel("args-flannel-3", { ...args, podCidr: "10.244.0.0" }));
    });

    it("SampleService: needs a Windows node and a valid cluster IP", async () => {
        const provider = undefined as unknown as k8s.Provider; // never reached: the checks come first
        await rejects("windowsNodeCount", () => new SampleService("args-sample-1", { provider, joins: [], windowsNodeCount: 0, clusterIp: "10.96.0.200", windowsServer: WINDOWS_SERVER["2022"] }));
        await rejects("clusterIp", () => new SampleService("args-sample-2", { provider, joins: [], windowsNodeCount: 1, clusterIp: "10.96.0", windowsServer: WINDOWS_SERVER["2022"] }));
    });
});
