// Machines created in Azure: the network, the master VM, and one VM per Windows node (with the
// provisioning extension on a marketplace image).
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, NodeAddress } from "../../components/addressing";
import { ClusterConfig } from "../../components/config";
import { ProvisionInput } from "../../components/scripts/provision";
import { MachineLayer, proxiedConnection, WindowsHostsOptions } from "../host";
import { AzureLinuxMachine } from "./linuxMachine";
import { Network } from "./network";
import { AzureWindowsMachine } from "./windowsMachine";

export interface AzureMachines extends MachineLayer {
    readonly network: Network;
    readonly masterPublicIp: pulumi.Output<string>;
}

export function azureMachines(cfg: ClusterConfig, addresses: AddressPlan, sshPrivateKey: pulumi.Output<string>): AzureMachines {
    const tags = { "hybrid-k8s/stack": pulumi.getStack() };
    const network = new Network("cluster", {
        topology: cfg.topology,
        addresses,
        adminCidr: cfg.adminCidr,
        exposeNodePorts: cfg.exposeNodePorts,
        tags,
    });
    const master = new AzureLinuxMachine("k8s-master", {
        network,
        address: addresses.master,
        vmSize: cfg.linuxVmSize,
        image: cfg.linuxImage,
        adminUsername: cfg.adminUsername,
        sshPublicKey: cfg.sshPublicKey as string,
        sshPrivateKey,
    });
    // Windows nodes have no public IP: every step reaches them through the master.
    const windows = (opts: WindowsHostsOptions) =>
        addresses.windows.map(
            (node: NodeAddress) =>
                new AzureWindowsMachine(node.name, {
                    network,
                    address: node,
                    vmSize: cfg.windowsVmSize,
                    image: cfg.windowsImage,
                    adminUsername: cfg.adminUsername,
                    adminPassword: pulumi.secret(cfg.adminPassword as string),
                    sshPublicKey: cfg.sshPublicKey as string,
                    connection: proxiedConnection(node.privateIp, cfg.adminUsername, sshPrivateKey, master.host.proxy),
                    provision: "id" in cfg.windowsImage ? undefined : ({ publicKey: cfg.sshPublicKey as string, runtime: opts.runtime(node) } satisfies ProvisionInput),
                    provisionAfter: opts.installsAfter,
                }).host,
        );
    return { network, master: master.host, windows, masterPublicIp: master.publicIp };
}
