// Pure address planning: CIDR parsing, overlap checks, per-node pod /24s and static node IPs.
// No Pulumi here: the network, the master, the Windows nodes and the plan all read one
// AddressPlan, so every route and every CNI config agrees before anything runs.
import { Address4 } from "ip-address";

/** A parsed IPv4 CIDR block: its canonical text and its first/last address as integers. */
export interface Cidr {
    readonly text: string;
    readonly prefix: number;
    readonly first: bigint;
    readonly last: bigint;
}

/** Parses "a.b.c.d/n". Returns undefined when the text is not a CIDR block. */
export function parseCidr(text: string): Cidr | undefined {
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text) || !Address4.isValid(text)) {
        return undefined;
    }
    const addr = new Address4(text);
    if (addr.subnetMask > 32) {
        return undefined;
    }
    return {
        text,
        prefix: addr.subnetMask,
        first: addr.startAddress().bigInt(),
        last: addr.endAddress().bigInt(),
    };
}

/** True when the text is a CIDR whose address is its network address (no host bits set). */
export function isNetworkAddress(c: Cidr): boolean {
    return c.text.split("/")[0] === ipOf(c.first);
}

/** The canonical network form of a CIDR ("10.1.2.3/16" → "10.1.0.0/16"). */
export function networkForm(c: Cidr): string {
    return `${ipOf(c.first)}/${c.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.first <= b.last && b.first <= a.last;
}

export function contains(outer: Cidr, inner: Cidr): boolean {
    return outer.first <= inner.first && inner.last <= outer.last;
}

export function ipOf(n: bigint): string {
    return Address4.fromBigInt(n).correctForm();
}

/** Host `offset` of a block: `hostAt(10.0.0.0/24, 4)` is 10.0.0.4. */
export function hostAt(c: Cidr, offset: number): string {
    const n = c.first + BigInt(offset);
    if (n > c.last) {
        throw new RangeError(`offset ${offset} is outside ${c.text}`);
    }
    return ipOf(n);
}

/** The `index`-th subnet of size /`prefix` inside `c`. */
export function subnetAt(c: Cidr, prefix: number, index: number): string {
    const size = 1n << BigInt(32 - prefix);
    const start = c.first + size * BigInt(index);
    if (prefix < c.prefix || start + size - 1n > c.last) {
        throw new RangeError(`subnet ${index} of size /${prefix} does not fit in ${c.text}`);
    }
    return `${ipOf(start)}/${prefix}`;
}

/** How many /`prefix` subnets fit in `c`. */
export function subnetCount(c: Cidr, prefix: number): number {
    return prefix < c.prefix ? 0 : 2 ** (prefix - c.prefix);
}

/** Pod subnets are one /24 per node. */
export const NODE_POD_PREFIX = 24;
/** Nodes live in one /24 of the VNet (host-gw needs every node on one L2 segment). */
export const NODE_SUBNET_PREFIX = 24;
/** Azure keeps .0-.3 and the last address of every subnet; the master takes the first free one. */
export const MASTER_HOST_OFFSET = 4;
/** Windows node i (1-based) gets host WINDOWS_HOST_BASE + i: .11, .12, ... */
export const WINDOWS_HOST_BASE = 10;
export const MAX_WINDOWS_NODES = 100;

export type NodeRole = "linux-master" | "windows";

export interface NodeAddress {
    /** 0 for the master, 1..N for Windows nodes. Stable: node i keeps index i forever. */
    readonly index: number;
    readonly role: NodeRole;
    /** Kubernetes node name (lowercase) and, for Windows, the computer name (≤ 15 chars). */
    readonly name: string;
    readonly privateIp: string;
    /** This node's pod subnet: the index-th /24 of the pod CIDR. */
    readonly podCidr: string;
    /** First usable address of the pod subnet: the bridge/gateway address. */
    readonly podGateway: string;
    /** The l2bridge host endpoint (.2) on Windows; kube-proxy's source VIP on vxlan. */
    readonly podHostEndpoint: string;
}

export interface AddressPlan {
    readonly vnetCidr: string;
    readonly nodeSubnetCidr: string;
    readonly podCidr: string;
    readonly serviceCidr: string;
    /** The API server's address inside the cluster: the first host of the service CIDR. */
    readonly kubernetesServiceIp: string;
    /** CoreDNS's address: the tenth host of the service CIDR, as kubeadm sets it. */
    readonly dnsServiceIp: string;
    readonly master: NodeAddress;
    readonly windows: readonly NodeAddress[];
}

export interface AddressInput {
    /** The Azure VNet; for existing machines, the network the hosts share (nodeSubnet). */
    vnetCidr: string;
    podCidr: string;
    serviceCidr: string;
    windowsNodeCount: number;
    /**
     * Existing machines: their given addresses and names (Windows host i is node i, 1-based, in
     * list order). Absent: the Azure layout (master `.4`, Windows node i `.10+i` of the first /24).
     */
    hosts?: { master: string; windows: ReadonlyArray<{ name: string; address: string; podSubnet?: string }> };
    /**
     * An existing cluster allocates pod /24s to its own nodes from the bottom of the pod CIDR
     * (kubernetes/kubernetes pkg/controller/nodeipam/ipam/cidrset/cidr_set.go: the lowest free
     * block from nextCandidate). Windows hosts then take theirs counted from the top (hostPodSlot),
     * which the allocator accepts as preset (range_allocator.go occupyCIDRs) and reaches last.
     */
    podCidrsFromTop?: boolean;
}

/**
 * An existing host's pod /24, by its place in the pod CIDR: derived from the host's own address
 * (its host number in the node network), never from its place in the windowsHosts list, so
 * removing or reordering hosts leaves every other host's /24 as it is (a node's podCIDR never
 * changes once set). Host number h takes /24 number h (the master keeps number 0, a network
 * address no host has), or, counted from the top for an existing cluster, number count − 1 − h.
 * Undefined when the pod CIDR has no such /24 (a node network wider than the pod CIDR's /24
 * count): such a host needs its podSubnet given.
 */
export function hostPodSlot(nodeNetwork: Cidr, pods: Cidr, address: string, fromTop: boolean): number | undefined {
    const ip = parseCidr(`${address}/32`);
    if (!ip || !contains(nodeNetwork, ip)) {
        return undefined;
    }
    const h = Number(ip.first - nodeNetwork.first);
    const count = subnetCount(pods, NODE_POD_PREFIX);
    const slot = fromTop ? count - 1 - h : h;
    return slot >= 1 && slot < count ? slot : undefined;
}

/** The index of a /24 inside the pod CIDR, or undefined when it is not one of its /24s. */
export function podSlotOf(pods: Cidr, subnet: string): number | undefined {
    const c = parseCidr(subnet);
    if (!c || c.prefix !== NODE_POD_PREFIX || !isNetworkAddress(c) || !contains(pods, c)) {
        return undefined;
    }
    return Number((c.first - pods.first) >> BigInt(32 - NODE_POD_PREFIX));
}

/** An existing Windows host's pod /24 number: its podSubnet's, or the one its address gives (hostPodSlot). */
export function existingHostPodSlot(host: { address: string; podSubnet?: string }, nodeNetwork: Cidr, pods: Cidr, fromTop: boolean): number | undefined {
    return host.podSubnet !== undefined ? podSlotOf(pods, host.podSubnet) : hostPodSlot(nodeNetwork, pods, host.address, fromTop);
}

/** Node names, derived once: Windows computer names are at most 15 characters. */
export function windowsNodeName(index: number): string {
    return `k8s-win-${index}`;
}
export const MASTER_NAME = "k8s-master";

function must(text: string, key: string): Cidr {
    const c = parseCidr(text);
    if (!c) {
        throw new Error(`${key}: '${text}' is not an IPv4 CIDR block`);
    }
    return c;
}

function node(index: number, role: NodeRole, name: string, ip: string, pods: Cidr, podIndex = index): NodeAddress {
    const podCidr = subnetAt(pods, NODE_POD_PREFIX, podIndex);
    const block = must(podCidr, "podCidr");
    return {
        index,
        role,
        name,
        privateIp: ip,
        podCidr,
        podGateway: hostAt(block, 1),
        podHostEndpoint: hostAt(block, 2),
    };
}

/**
 * Lays out every node of the cluster. Deterministic: the same input gives the same plan, and
 * growing windowsNodeCount only appends nodes. Assumes validated config (see config.ts).
 */
export function planAddresses(input: AddressInput): AddressPlan {
    const vnet = must(input.vnetCidr, "vnetCidr");
    const pods = must(input.podCidr, "podCidr");
    const services = must(input.serviceCidr, "serviceCidr");
    const hosts = input.hosts;
    // existing hosts share one given network; Azure nodes live in the VNet's first /24
    const nodeSubnetCidr = hosts ? networkForm(vnet) : subnetAt(vnet, Math.max(NODE_SUBNET_PREFIX, vnet.prefix), 0);
    const nodeSubnet = must(nodeSubnetCidr, "vnetCidr");
    const windows: NodeAddress[] = hosts
        ? hosts.windows.map((h, i) => {
              const slot = existingHostPodSlot(h, nodeSubnet, pods, input.podCidrsFromTop ?? false);
              if (slot === undefined) {
                  throw new RangeError(`windowsHosts[${i}] (${h.name}): no pod /24 for ${h.podSubnet ?? h.address} in ${pods.text}`);
              }
              return node(i + 1, "windows", h.name, h.address, pods, slot);
          })
        : Array.from({ length: input.windowsNodeCount }, (_, i) => node(i + 1, "windows", windowsNodeName(i + 1), hostAt(nodeSubnet, WINDOWS_HOST_BASE + i + 1), pods));
    return {
        vnetCidr: networkForm(vnet),
        nodeSubnetCidr,
        podCidr: networkForm(pods),
        serviceCidr: networkForm(services),
        kubernetesServiceIp: hostAt(services, 1),
        dnsServiceIp: hostAt(services, 10),
        master: node(0, "linux-master", MASTER_NAME, hosts ? hosts.master : hostAt(nodeSubnet, MASTER_HOST_OFFSET), pods),
        windows,
    };
}

/** Every node, master first. */
export function allNodes(plan: AddressPlan): NodeAddress[] {
    return [plan.master, ...plan.windows];
}
