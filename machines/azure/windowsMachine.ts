// A Windows Server worker machine on Azure: a VM with a static private IP and no public IP. A
// marketplace image is provisioned by an extension (sshd, the Containers feature, the runtime,
// one reboot: components/scripts/provision.ts); a prebuilt image (images/) has all that and a
// boot task that takes the admin's key from the VM's custom data.
import * as compute from "@pulumi/azure-native/compute";
import * as pulumi from "@pulumi/pulumi";
import { NodeAddress } from "../../components/addressing";
import { ImageRef } from "../../components/config";
import { imageCustomData } from "../../components/scripts/image";
import { provisionCommand, ProvisionInput, userDataDigest } from "../../components/scripts/provision";
import { check } from "../../components/validate";
import { Connection, WindowsHost } from "../host";
import { nodeNic, NodeNetworking, nodeVmArgs, nodeVmOptions } from "./network";

export interface AzureWindowsMachineArgs {
    network: NodeNetworking;
    /** This node's name (its computer name) and static private IP. */
    address: NodeAddress;
    /** VM size; needs nested virtualization (Dv5/Dsv5 and newer). */
    vmSize: string;
    image: ImageRef;
    adminUsername: string;
    /** Windows admin password (secret). */
    adminPassword: pulumi.Input<string>;
    sshPublicKey: string;
    /** SSH to this machine (through the master: no public IP here). */
    connection: Connection;
    /**
     * A marketplace image: what its provisioning extension installs (the node's own scripts).
     * Not used for a prebuilt image. Required for a marketplace image.
     */
    provision?: ProvisionInput;
    /**
     * What the provisioning extension waits for: it installs kubelet, so only after the master's
     * version check. Defaults to none.
     */
    provisionAfter?: pulumi.Input<pulumi.Resource>[];
}

/** Before the machines were their own components, these resources were children of WindowsNode. */
const FORMER_PARENT = "hybrid-k8s:index:WindowsNode";

export class AzureWindowsMachine extends pulumi.ComponentResource {
    readonly vm: compute.VirtualMachine;
    readonly host: WindowsHost;

    constructor(name: string, args: AzureWindowsMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        const node = args.address;
        check(node.name.length <= 15 && node.name === node.name.toLowerCase(), "address.name", `"${node.name}" must be lowercase and at most 15 characters (a Windows computer name)`);
        super("hybrid-k8s:index:AzureWindowsMachine", name, {}, opts);
        const net = args.network;
        // the same resources keep their state: they were created under WindowsNode `name`
        const parent = { parent: this, aliases: [{ parent: pulumi.createUrn(name, FORMER_PARENT) }] };

        const nic = nodeNic(`${name}-nic`, net, node.privateIp, undefined, parent);
        const prebuilt = "id" in args.image;
        check(prebuilt || args.provision !== undefined, "provision", "a marketplace image needs what its provisioning extension installs");
        const provisioning = prebuilt ? undefined : provisionCommand(args.provision as ProvisionInput);
        this.vm = new compute.VirtualMachine(
            `${name}-vm`,
            {
                ...nodeVmArgs(net, nic, { size: args.vmSize, image: args.image, diskSizeGB: 128 }),
                osProfile: {
                    computerName: node.name,
                    adminUsername: args.adminUsername,
                    adminPassword: args.adminPassword,
                    // No automatic updates: a node must not reboot at an arbitrary time. Azure requires
                    // patch mode Manual with automatic updates off.
                    windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: false, patchSettings: { patchMode: "Manual" } },
                    customData: prebuilt ? Buffer.from(imageCustomData(args.sshPublicKey)).toString("base64") : undefined,
                },
                // the provisioning script, read by the extension's command from the metadata service
                // (learn.microsoft.com/azure/virtual-machines/user-data: up to 64 KB, changed in place)
                userData: provisioning?.userData,
            },
            {
                ...nodeVmOptions(this),
                aliases: parent.aliases,
                // Azure refuses a new osProfile.adminPassword in place ("Changing property 'adminPassword'
                // is not allowed": hashicorp/terraform#6528) and a new password is no reason to rebuild a
                // node: it applies to new VMs; rotate existing ones with `az vm user update` (README).
                ignoreChanges: ["osProfile.adminPassword"],
            },
        );
        // Windows ships without sshd and never runs custom data: the extension installs it, the
        // Containers feature and the runtime, and reboots once (components/scripts/provision.ts).
        const sshReady = provisioning
            ? new compute.VirtualMachineExtension(
                  `${name}-provision`,
                  {
                      resourceGroupName: net.resourceGroupName,
                      location: net.location,
                      vmName: this.vm.name,
                      publisher: "Microsoft.Compute",
                      type: "CustomScriptExtension",
                      typeHandlerVersion: "1.10",
                      autoUpgradeMinorVersion: true,
                      // through cmd.exe: at most 8191 characters (provisionCommand checks)
                      settings: { commandToExecute: provisioning.commandToExecute },
                  },
                  {
                      ...parent,
                      // one CustomScriptExtension per VM: the former OpenSSH-only extension becomes this one
                      aliases: [{ name: `${name}-openssh`, parent: pulumi.createUrn(name, FORMER_PARENT) }],
                      dependsOn: args.provisionAfter ?? [],
                      // the extension's own limit for a script (custom-script-windows.md: 90 minutes)
                      customTimeouts: { create: "90m", update: "90m" },
                  },
              )
            : this.vm;
        this.host = {
            name: node.name,
            privateIp: node.privateIp,
            connection: args.connection,
            machine: this.vm,
            identity: this.vm.id,
            deletedWith: this.vm,
            kind: prebuilt ? "prebuilt" : "stock",
            sshReady,
            provisioned: provisioning ? userDataDigest(provisioning.userData) : undefined,
        };
        this.registerOutputs({ privateIp: node.privateIp });
    }
}
