// Machines that already exist, reached by SSH: no Azure resource at all. The master is reached
// at its address; Windows hosts directly or, with sshProxy master, through the master.
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan } from "../../components/addressing";
import { ClusterConfig } from "../../components/config";
import { Connection, MachineLayer, proxiedConnection, WindowsHost } from "../host";
import { renderMasterUndo, renderWindowsUndo } from "../../components/scripts/existing";
import { powershellCommand } from "../../components/scripts/shell";
import { ExistingHost } from "./existingHost";

export function existingMachines(cfg: ClusterConfig, addresses: AddressPlan, sshPrivateKey: pulumi.Output<string>): MachineLayer {
    const m = addresses.master;
    const ssh: Connection = { host: m.privateIp, user: cfg.masterUser, privateKey: sshPrivateKey };
    // a control plane the stack initialised is reset on destroy; an existing cluster's is left alone
    const master = new ExistingHost(m.name, { os: "linux", connection: ssh, address: m.privateIp, undo: cfg.existingCluster ? undefined : renderMasterUndo() });
    const proxy = { host: m.privateIp, user: cfg.masterUser, privateKey: sshPrivateKey };
    // prepared over SSH by the node's own steps: nothing to provision, nothing to wait for
    const windows = (): WindowsHost[] => addresses.windows.map((node, i) => {
        const user = cfg.windowsHosts[i].user;
        const connection = cfg.sshProxy === "master" ? proxiedConnection(node.privateIp, user, sshPrivateKey, proxy) : { host: node.privateIp, user, privateKey: sshPrivateKey };
        const host = new ExistingHost(node.name, { os: "windows", connection, address: node.privateIp, undo: powershellCommand(renderWindowsUndo({ nodeName: node.name })) });
        return {
            name: node.name,
            privateIp: node.privateIp,
            connection,
            machine: host.identity,
            identity: host.identity.stdout,
            kind: "existing" as const,
            sshReady: host.identity,
        };
    });
    return {
        master: {
            name: m.name,
            privateIp: m.privateIp,
            connection: ssh,
            proxy,
            publicAddress: pulumi.output(m.privateIp),
            machine: master.identity,
            identity: master.identity.stdout,
            slowToAnswer: false,
        },
        windows,
    };
}
