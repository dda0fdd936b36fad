// Component arguments the component tests share: one valid set, which each test varies.
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, planAddresses } from "../components/addressing";
import { LinuxMaster, LinuxMasterArgs } from "../components/linuxMaster";
import { NodeNetworking } from "../components/network";
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

export function masterArgs(network: NodeNetworking, addresses: AddressPlan): LinuxMasterArgs {
    return {
        network,
        addresses,
        spec: topologySpec("vxlan"),
        kubernetesVersion: VERSIONS.kubernetesVersion,
        containerdVersion: "2.1.4",
        vmSize: "Standard_D2s_v5",
        image: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
        adminUsername: "azureuser",
        sshPublicKey: "ssh-ed25519 AAAA test",
        sshPrivateKey: pulumi.secret(SSH_PRIVATE_KEY),
    };
}

/** A vxlan Windows node: the first Windows node of `addresses`. */
export function windowsNodeArgs(network: NodeNetworking, master: LinuxMaster, addresses: AddressPlan, agentKubeconfigs: WindowsNodeArgs["agentKubeconfigs"]): WindowsNodeArgs {
    return {
        network,
        master,
        node: addresses.windows[0],
        addresses,
        spec: topologySpec("vxlan"),
        versions: VERSIONS,
        vmSize: "Standard_D4s_v5",
        image: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" },
        adminUsername: "azureuser",
        adminPassword: pulumi.secret("Correct-Horse-9"),
        sshPublicKey: "ssh-ed25519 AAAA test",
        sshPrivateKey: pulumi.secret(SSH_PRIVATE_KEY),
        agentKubeconfigs,
    };
}

/** An ed25519 public key whose comment is made of everything PowerShell could take as code. */
export function hostileSshKey(): string {
    const type = Buffer.from("ssh-ed25519");
    const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
    return `ssh-ed25519 ${blob.toString("base64")} John\u2019s \u2018laptop\u2019 '$(Write-Output pwned)' \`whoami\`; exit 7 \u201a\u201b "$env:PATH"`;
}

