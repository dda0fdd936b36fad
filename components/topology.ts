// The topology table of DESIGN.md as data, and the Azure network rules and routes it implies.
// Pure: config and the address plan in, plain objects out.
import { AddressPlan, allNodes } from "./addressing";
import { Topology } from "./config";

/** flannel's Backend section (net-conf.json). Windows flannel accepts only VNI >= 4096 and port 4789. */
export type FlannelBackend = { Type: "vxlan"; VNI: 4096; Port: 4789 } | { Type: "host-gw" };

export interface TopologySpec {
    topology: Topology;
    /** flannel's backend, or undefined when flannel does not run (tor). */
    flannelBackend?: FlannelBackend;
    /** The Linux CNI network name (cni-conf.json `name`). */
    linuxCniName: string;
    /**
     * The one name used three times on Windows: the HNS network, the Windows CNI config `name`,
     * and kube-proxy's --network-name. flannel names its vxlan network `flannel.<VNI>` and its
     * host-gw network `cbr0` (flannel pkg/backend/{vxlan,hostgw}/*_windows.go).
     */
    windowsNetworkName: string;
    /** HNS network type on Windows. */
    windowsNetworkType: "Overlay" | "L2Bridge";
    /** The Windows CNI plugin binary. */
    windowsCniPlugin: "sdnoverlay" | "sdnbridge";
    /** Azure routes each node's pod /24 to the node (UDR) and NICs forward. */
    routeTable: boolean;
    /** UDP 4789 between nodes. */
    vxlanPort?: number;
}

export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;

export function topologySpec(topology: Topology): TopologySpec {
    switch (topology) {
        case "vxlan":
            return {
                topology,
                flannelBackend: { Type: "vxlan", VNI: VXLAN_VNI, Port: VXLAN_PORT },
                linuxCniName: "vxlan0",
                windowsNetworkName: `flannel.${VXLAN_VNI}`,
                windowsNetworkType: "Overlay",
                windowsCniPlugin: "sdnoverlay",
                routeTable: false,
                vxlanPort: VXLAN_PORT,
            };
        case "host-gw":
            return {
                topology,
                flannelBackend: { Type: "host-gw" },
                linuxCniName: "cbr0",
                windowsNetworkName: "cbr0",
                windowsNetworkType: "L2Bridge",
                windowsCniPlugin: "sdnbridge",
                routeTable: true,
            };
        case "tor":
            return {
                topology,
                linuxCniName: "cbr0",
                windowsNetworkName: "cbr0",
                windowsNetworkType: "L2Bridge",
                windowsCniPlugin: "sdnbridge",
                routeTable: true,
            };
    }
}

/** One NSG rule, in the shape of azure-native's SecurityRule args. */
export interface SecurityRule {
    name: string;
    priority: number;
    direction: "Inbound";
    access: "Allow";
    protocol: "Tcp" | "Udp" | "Icmp" | "*";
    sourceAddressPrefix: string;
    sourcePortRange: "*";
    destinationAddressPrefix: string;
    destinationPortRange: string;
    description: string;
}

export interface RuleInput {
    topology: Topology;
    adminCidr: string;
    exposeNodePorts: boolean;
}

/**
 * The subnet NSG's rules. SSH and the API server are open to adminCidr only, and only on the
 * master; Windows nodes have no public address at all. Azure's default rules (AllowVnetInBound,
 * DenyAllInBound) stay beneath these; the explicit VNet rules document what the cluster needs.
 */
export function securityRules(input: RuleInput, plan: AddressPlan): SecurityRule[] {
    const master = `${plan.master.privateIp}/32`;
    const rule = (r: Omit<SecurityRule, "direction" | "access" | "sourcePortRange">): SecurityRule => ({
        direction: "Inbound",
        access: "Allow",
        sourcePortRange: "*",
        ...r,
    });
    const rules: SecurityRule[] = [
        rule({ name: "ssh-from-admin", priority: 100, protocol: "Tcp", sourceAddressPrefix: input.adminCidr, destinationAddressPrefix: master, destinationPortRange: "22", description: "SSH to the master (also the SSH proxy for Windows nodes), from adminCidr only" }),
        rule({ name: "apiserver-from-admin", priority: 110, protocol: "Tcp", sourceAddressPrefix: input.adminCidr, destinationAddressPrefix: master, destinationPortRange: "6443", description: "Kubernetes API server, from adminCidr only" }),
        rule({ name: "kubelet-in-vnet", priority: 200, protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", destinationAddressPrefix: "VirtualNetwork", destinationPortRange: "10250", description: "kubelet API between nodes" }),
        rule({ name: "icmp-in-vnet", priority: 210, protocol: "Icmp", sourceAddressPrefix: "VirtualNetwork", destinationAddressPrefix: "VirtualNetwork", destinationPortRange: "*", description: "node <-> node ping (validation checks)" }),
    ];
    if (input.topology === "vxlan") {
        rules.push(rule({ name: "vxlan-in-vnet", priority: 220, protocol: "Udp", sourceAddressPrefix: "VirtualNetwork", destinationAddressPrefix: "VirtualNetwork", destinationPortRange: String(VXLAN_PORT), description: "flannel VXLAN (VNI 4096, port 4789) between nodes" }));
    } else {
        rules.push(rule({ name: "pods-routed", priority: 220, protocol: "*", sourceAddressPrefix: plan.podCidr, destinationAddressPrefix: "*", destinationPortRange: "*", description: "routed pod traffic (pod CIDR is routed by the route table, not encapsulated)" }));
    }
    if (input.exposeNodePorts) {
        rules.push(rule({ name: "nodeports-from-admin", priority: 300, protocol: "Tcp", sourceAddressPrefix: input.adminCidr, destinationAddressPrefix: "*", destinationPortRange: "30000-32767", description: "Kubernetes NodePort services, from adminCidr only" }));
    }
    return rules;
}

/** One UDR route: a node's pod /24 to that node's private IP. */
export interface PodRoute {
    name: string;
    addressPrefix: string;
    nextHopType: "VirtualAppliance";
    nextHopIpAddress: string;
}

/**
 * The route table for host-gw and tor: Azure routes by destination and drops private-range
 * traffic it has no route for, so each node's pod subnet needs a route to that node.
 * The same list is what a ToR switch outside Azure would be programmed with.
 */
export function podRoutes(plan: AddressPlan): PodRoute[] {
    return allNodes(plan).map((n) => ({
        name: `pods-${n.name}`,
        addressPrefix: n.podCidr,
        nextHopType: "VirtualAppliance",
        nextHopIpAddress: n.privateIp,
    }));
}
