// The Linux control-plane machine on Azure: an Ubuntu VM (SSH keys only, static private IP, a
// Standard public IP reachable from adminCidr only) whose cloud-init lets sshd proxy many nodes.
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { NodeAddress } from "../../components/addressing";
import { ImageRef } from "../../components/config";
import { masterCloudInit } from "../../components/scripts/linux";
import { check } from "../../components/validate";
import { MasterHost } from "../host";
import { nodeNic, NodeNetworking, nodeVmArgs, nodeVmOptions } from "./network";

export interface AzureLinuxMachineArgs {
    network: NodeNetworking;
    /** The master's name and static private IP. */
    address: NodeAddress;
    /** VM size. */
    vmSize: string;
    image: ImageRef;
    adminUsername: string;
    /** OpenSSH public key; the only way in (password authentication is off). */
    sshPublicKey: string;
    /** The matching private key, used by every remote command (secret). */
    sshPrivateKey: pulumi.Input<string>;
}

/** Before the machines were their own components, these resources were children of LinuxMaster. */
const FORMER_PARENT = "hybrid-k8s:index:LinuxMaster";

export class AzureLinuxMachine extends pulumi.ComponentResource {
    readonly vm: compute.VirtualMachine;
    readonly publicIp: pulumi.Output<string>;
    readonly host: MasterHost;

    constructor(name: string, args: AzureLinuxMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        check(/^(ssh-rsa|ssh-ed25519) \S+/.test(args.sshPublicKey), "sshPublicKey", "needs an OpenSSH public key (ssh-ed25519 ... or ssh-rsa ...)");
        check(args.adminUsername.length > 0, "adminUsername", "needs a user name, e.g. azureuser");
        super("hybrid-k8s:index:AzureLinuxMachine", name, {}, opts);
        const net = args.network;
        const m = args.address;
        // the same resources keep their state: they were created under LinuxMaster `name`
        const parent = { parent: this, aliases: [{ parent: pulumi.createUrn(name, FORMER_PARENT) }] };

        const pip = new network.PublicIPAddress(
            `${name}-ip`,
            {
                resourceGroupName: net.resourceGroupName,
                location: net.location,
                tags: net.tags,
                sku: { name: "Standard" }, // Basic public IPs are retired
                publicIPAllocationMethod: "Static",
                publicIPAddressVersion: "IPv4",
            },
            parent,
        );
        this.publicIp = pip.ipAddress.apply((ip) => ip ?? "");
        const nic = nodeNic(`${name}-nic`, net, m.privateIp, pip.id, parent);

        this.vm = new compute.VirtualMachine(
            `${name}-vm`,
            {
                ...nodeVmArgs(net, nic, { size: args.vmSize, image: args.image, diskSizeGB: 64 }),
                osProfile: {
                    computerName: m.name,
                    adminUsername: args.adminUsername,
                    customData: Buffer.from(masterCloudInit()).toString("base64"),
                    linuxConfiguration: {
                        disablePasswordAuthentication: true,
                        provisionVMAgent: true,
                        ssh: { publicKeys: [{ path: `/home/${args.adminUsername}/.ssh/authorized_keys`, keyData: args.sshPublicKey }] },
                    },
                },
            },
            { ...nodeVmOptions(this), aliases: parent.aliases },
        );

        const ssh = { host: this.publicIp, user: args.adminUsername, privateKey: args.sshPrivateKey };
        this.host = {
            name: m.name,
            privateIp: m.privateIp,
            connection: ssh,
            proxy: ssh,
            publicAddress: this.publicIp,
            machine: this.vm,
            identity: this.vm.id,
            deletedWith: this.vm,
            slowToAnswer: true,
        };
        this.registerOutputs({ publicIp: this.publicIp });
    }
}
