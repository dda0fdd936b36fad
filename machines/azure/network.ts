// The cluster's Azure network: resource group, VNet and node subnet, NSG (rules per topology),
// NAT gateway for egress, and for host-gw/tor the route table that carries pod subnets.
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan } from "../../components/addressing";
import { ImageRef, Topology, TOPOLOGIES } from "../../components/config";
import { podRoutes, securityRules, topologySpec } from "../../components/topology";
import { check, checkCidr } from "../../components/validate";

export interface NetworkArgs {
    /** Pod network topology; decides NSG rules, the route table and NIC IP forwarding. */
    topology: Topology;
    /** Node IPs, pod /24s and CIDRs, all known before anything runs. */
    addresses: AddressPlan;
    /** The only source allowed to reach SSH (22) and the API server (6443). */
    adminCidr: string;
    /** Open NodePorts 30000-32767 to adminCidr. Defaults to false. */
    exposeNodePorts?: boolean;
    /** Azure region. Defaults to the provider's `azure-native:location`. */
    location?: pulumi.Input<string>;
    /** Tags on every resource. Defaults to none. */
    tags?: Record<string, string>;
}

/** What a node needs from the network to build its NIC. */
export interface NodeNetworking {
    resourceGroupName: pulumi.Output<string>;
    location: pulumi.Output<string>;
    subnetId: pulumi.Output<string>;
    /** host-gw and tor: NICs forward packets for the pod subnets routed to them. */
    ipForwarding: boolean;
    tags: Record<string, string>;
}

export class Network extends pulumi.ComponentResource implements NodeNetworking {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly location: pulumi.Output<string>;
    readonly vnetName: pulumi.Output<string>;
    readonly subnetId: pulumi.Output<string>;
    readonly natPublicIp: pulumi.Output<string>;
    readonly routeTableId?: pulumi.Output<string>;
    readonly ipForwarding: boolean;
    readonly tags: Record<string, string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        check(TOPOLOGIES.includes(args.topology), "topology", `"${args.topology}" is not one of ${TOPOLOGIES.join(", ")}`);
        checkCidr(args.adminCidr, "adminCidr");
        super("hybrid-k8s:index:Network", name, {}, opts);
        const parent = { parent: this };
        const spec = topologySpec(args.topology);
        const plan = args.addresses;
        this.tags = args.tags ?? {};
        const tags = this.tags;

        const rg = new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags }, parent);
        this.resourceGroupName = rg.name;
        this.location = rg.location;
        const common = { resourceGroupName: rg.name, location: rg.location, tags };

        const vnet = new network.VirtualNetwork(
            `${name}-vnet`,
            { ...common, addressSpace: { addressPrefixes: [plan.vnetCidr] } },
            parent,
        );
        this.vnetName = vnet.name;

        const nsg = new network.NetworkSecurityGroup(
            `${name}-nsg`,
            { ...common, securityRules: securityRules({ topology: args.topology, adminCidr: args.adminCidr, exposeNodePorts: args.exposeNodePorts ?? false }, plan) },
            parent,
        );

        // New subnets are private by default (no default outbound access): a NAT gateway with a
        // Standard public IP gives every node egress for packages and images.
        const natIp = new network.PublicIPAddress(
            `${name}-nat-ip`,
            { ...common, sku: { name: "Standard" }, publicIPAllocationMethod: "Static", publicIPAddressVersion: "IPv4" },
            parent,
        );
        this.natPublicIp = natIp.ipAddress.apply((ip) => ip ?? "");
        const nat = new network.NatGateway(
            `${name}-nat`,
            { ...common, sku: { name: "Standard" }, publicIpAddresses: [{ id: natIp.id }], idleTimeoutInMinutes: 10 },
            parent,
        );

        let routeTable: network.RouteTable | undefined;
        if (spec.routeTable) {
            routeTable = new network.RouteTable(
                `${name}-routes`,
                { ...common, disableBgpRoutePropagation: true, routes: podRoutes(plan) },
                parent,
            );
            this.routeTableId = routeTable.id;
        }

        const subnet = new network.Subnet(
            `${name}-nodes`,
            {
                resourceGroupName: rg.name,
                virtualNetworkName: vnet.name,
                addressPrefix: plan.nodeSubnetCidr,
                networkSecurityGroup: { id: nsg.id },
                natGateway: { id: nat.id },
                routeTable: routeTable ? { id: routeTable.id } : undefined,
                defaultOutboundAccess: false,
            },
            parent,
        );
        this.subnetId = subnet.id;
        this.ipForwarding = spec.routeTable;

        this.registerOutputs({
            resourceGroupName: this.resourceGroupName,
            subnetId: this.subnetId,
            natPublicIp: this.natPublicIp,
            routeTableId: this.routeTableId,
        });
    }
}

/**
 * VM properties Azure refuses to change in place (`PropertyChangeNotAllowed`: image reference,
 * pulumi/pulumi-azure-native#1117; custom data, Azure/azure-sdk-for-node#2297; the admin account
 * and its SSH keys, which Azure applies only at provisioning). A change to any of them replaces the
 * VM (deleted first: its NIC attaches to one VM at a time). Size and tags change in place.
 */
export const VM_REPLACE_ON_CHANGES = [
    "storageProfile.imageReference",
    "osProfile.computerName",
    "osProfile.customData",
    "osProfile.adminUsername",
    "osProfile.linuxConfiguration.ssh.publicKeys",
];

/**
 * The options every node VM takes: replaced (never updated) when an immutable property changes,
 * and deleted before its replacement is created.
 */
export function nodeVmOptions(parent: pulumi.Resource): pulumi.CustomResourceOptions {
    return {
        parent,
        // the VM's NIC and static IP attach to one VM at a time: a replacement waits for the old VM to go
        deleteBeforeReplace: true,
        replaceOnChanges: VM_REPLACE_ON_CHANGES,
    };
}

/**
 * A node's NIC with its static private IP from the address plan. Used by LinuxMaster and
 * WindowsNode so every NIC follows the topology's IP-forwarding rule.
 */
export function nodeNic(
    name: string,
    net: NodeNetworking,
    privateIp: string,
    publicIpId: pulumi.Input<string> | undefined,
    opts: pulumi.CustomResourceOptions,
): network.NetworkInterface {
    return new network.NetworkInterface(
        name,
        {
            resourceGroupName: net.resourceGroupName,
            location: net.location,
            tags: net.tags,
            enableIPForwarding: net.ipForwarding,
            ipConfigurations: [
                {
                    name: "primary",
                    primary: true,
                    subnet: { id: net.subnetId },
                    privateIPAllocationMethod: "Static",
                    privateIPAddress: privateIp,
                    publicIPAddress: publicIpId ? { id: publicIpId } : undefined,
                },
            ],
        },
        opts,
    );
}

/**
 * What every node VM shares: placement, size, its NIC (a separate resource: detached, never
 * deleted, when the VM goes), a managed Premium OS disk from the image (deleted with the VM).
 * The caller adds the OS profile.
 */
export function nodeVmArgs(
    net: NodeNetworking,
    nic: network.NetworkInterface,
    vm: { size: string; image: ImageRef; diskSizeGB: number },
): Omit<compute.VirtualMachineArgs, "osProfile"> {
    return {
        resourceGroupName: net.resourceGroupName,
        location: net.location,
        tags: net.tags,
        hardwareProfile: { vmSize: vm.size },
        // The NIC is its own Pulumi resource: with "Delete", Azure would delete it with the VM, and a
        // replacement VM would point at a NIC that no longer exists (the state still has it).
        // DeleteOptions "Delete" | "Detach" (@pulumi/azure-native types/enums/compute).
        networkProfile: { networkInterfaces: [{ id: nic.id, primary: true, deleteOption: "Detach" }] },
        storageProfile: {
            imageReference: { ...vm.image },
            // the OS disk is created by the VM from its image: it goes with the VM
            osDisk: { createOption: "FromImage", deleteOption: "Delete", diskSizeGB: vm.diskSizeGB, managedDisk: { storageAccountType: "Premium_LRS" } },
        },
    };
}
