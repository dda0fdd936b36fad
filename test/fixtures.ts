// Component arguments the component tests share: one valid set, which each test varies.
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, NodeAddress, planAddresses } from "../components/addressing";
import { ImageRef } from "../components/config";
import { LinuxMaster, LinuxMasterArgs } from "../components/linuxMaster";
import { AzureLinuxMachine } from "../machines/azure/linuxMachine";
import { NodeNetworking } from "../machines/azure/network";
import { AzureWindowsMachine } from "../machines/azure/windowsMachine";
import { proxiedConnection } from "../machines/host";
import { nodeRuntimeInput } from "../components/scripts/provision";
import { WindowsVersions } from "../components/scripts/windows";
import { topologySpec } from "../components/topology";
import { WindowsNodeArgs } from "../components/windowsNode";

/** The default address layout (the config's default CIDRs) with `windowsNodeCount` nodes. */
export function defaultAddresses(windowsNodeCount: number): AddressPlan {
    return planAddresses({ vnetCidr: "10.240.0.0/16", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", windowsNodeCount });
}

export const VERSIONS: WindowsVersions = {
    kubernetesVersion: "1.35.4",
    containerdVersion: "2.1.4",
    flannelVersion: "0.27.4",
    flannelCniPluginVersion: "1.8.0-flannel1",
    cniPluginsVersion: "1.8.0",
    sdnPluginsVersion: "0.3.1",
};

export const SSH_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----";

export const MARKETPLACE_WINDOWS: ImageRef = { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" };

/** A master on an Azure VM: the machine is named like the LinuxMaster the caller creates. */
export function masterArgs(network: NodeNetworking, addresses: AddressPlan, name = "k8s-master"): LinuxMasterArgs {
    const machine = new AzureLinuxMachine(name, {
        network,
        address: addresses.master,
        vmSize: "Standard_D2s_v5",
        image: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
        adminUsername: "azureuser",
        sshPublicKey: "ssh-ed25519 AAAA test",
        sshPrivateKey: pulumi.secret(SSH_PRIVATE_KEY),
    });
    return {
        host: machine.host,
        addresses,
        spec: topologySpec("vxlan"),
        kubernetesVersion: VERSIONS.kubernetesVersion,
        containerdVersion: "2.1.4",
    };
}

/**
 * A vxlan Windows node on an Azure VM: `node` defaults to the first Windows node of `addresses`;
 * the machine is named `name` (the WindowsNode's name), from `image` (a marketplace image by default).
 */
export function windowsNodeArgs(
    network: NodeNetworking,
    master: LinuxMaster,
    addresses: AddressPlan,
    agentKubeconfigs: WindowsNodeArgs["agentKubeconfigs"],
    opts: { name?: string; node?: NodeAddress; image?: ImageRef } = {},
): WindowsNodeArgs {
    const node = opts.node ?? addresses.windows[0];
    const machine = new AzureWindowsMachine(opts.name ?? node.name, {
        network,
        address: node,
        vmSize: "Standard_D4s_v5",
        image: opts.image ?? MARKETPLACE_WINDOWS,
        adminUsername: "azureuser",
        adminPassword: pulumi.secret("Correct-Horse-9"),
        sshPublicKey: "ssh-ed25519 AAAA test",
        connection: proxiedConnection(node.privateIp, "azureuser", pulumi.secret(SSH_PRIVATE_KEY), master.proxy),
        provision: { publicKey: "ssh-ed25519 AAAA test", runtime: nodeRuntimeInput({ spec: topologySpec("vxlan"), node, addresses, versions: VERSIONS, prePull: [] }) },
        provisionAfter: [master.versionCheck],
    });
    return {
        host: machine.host,
        master,
        node,
        addresses,
        spec: topologySpec("vxlan"),
        versions: VERSIONS,
        agentKubeconfigs,
    };
}

/** An ed25519 public key whose comment is made of everything PowerShell could take as code. */
export function hostileSshKey(): string {
    const type = Buffer.from("ssh-ed25519");
    const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
    return `ssh-ed25519 ${blob.toString("base64")} John\u2019s \u2018laptop\u2019 '$(Write-Output pwned)' \`whoami\`; exit 7 \u201a\u201b "$env:PATH"`;
}

