import * as assert from "assert";
import { Topology } from "../components/config";
import { Network } from "../machines/azure/network";
import { byName, mockRuntime, recorded, settle } from "./harness";
import { defaultAddresses } from "./fixtures";

interface Rule {
    name: string;
    protocol: string;
    sourceAddressPrefix: string;
    destinationPortRange: string;
    access: string;
    direction: string;
}

const INTERNET = new Set(["*", "0.0.0.0/0", "Internet", "any"]);

function portsOf(range: string): [number, number] {
    if (range === "*") {
        return [0, 65535];
    }
    const [a, b] = range.split("-").map(Number);
    return [a, b ?? a];
}

async function build(prefix: string, topology: Topology, exposeNodePorts = false) {
    mockRuntime();
    const addresses = defaultAddresses(2);
    new Network(prefix, { topology, addresses, adminCidr: "203.0.113.7/32", exposeNodePorts });
    await settle();
    const rules = byName(prefix, `${prefix}-nsg`).inputs.securityRules as unknown as Rule[];
    return { rules, addresses };
}

describe("Network component", () => {
    for (const topology of ["vxlan", "host-gw", "tor"] as Topology[]) {
        it(`${topology}: no rule opens SSH, RDP or the API server to the internet`, async () => {
            const { rules } = await build(`net-open-${topology}`, topology, true);
            for (const r of rules) {
                const [lo, hi] = portsOf(r.destinationPortRange);
                for (const port of [22, 3389, 6443, 5985, 5986]) {
                    if (lo <= port && port <= hi && r.access === "Allow" && r.direction === "Inbound") {
                        assert.ok(!INTERNET.has(r.sourceAddressPrefix), `${r.name} opens ${port} to ${r.sourceAddressPrefix}`);
                    }
                }
            }
            const ssh = rules.find((r) => r.destinationPortRange === "22");
            assert.strictEqual(ssh?.sourceAddressPrefix, "203.0.113.7/32");
            assert.strictEqual(rules.find((r) => r.destinationPortRange === "6443")?.sourceAddressPrefix, "203.0.113.7/32");
        });
    }

    it("vxlan: UDP 4789 between nodes, no route table, no IP forwarding", async () => {
        const { rules } = await build("net-vxlan", "vxlan");
        const vx = rules.find((r) => r.destinationPortRange === "4789");
        assert.ok(vx);
        assert.strictEqual(vx.protocol, "Udp");
        assert.strictEqual(vx.sourceAddressPrefix, "VirtualNetwork");
        assert.strictEqual(recorded("net-vxlan").filter((r) => r.type === "azure-native:network:RouteTable").length, 0);
        assert.strictEqual(byName("net-vxlan", "net-vxlan-nodes").inputs.routeTable, undefined);
    });

    for (const topology of ["host-gw", "tor"] as Topology[]) {
        it(`${topology}: a route per node sends its pod /24 to its IP, and the subnet uses the table`, async () => {
            const prefix = `net-routes-${topology}`;
            const { addresses } = await build(prefix, topology);
            const table = byName(prefix, `${prefix}-routes`);
            const routes = table.inputs.routes as Array<Record<string, string>>;
            const nodes = [addresses.master, ...addresses.windows];
            assert.strictEqual(routes.length, nodes.length);
            for (const n of nodes) {
                const r = routes.find((x) => x.addressPrefix === n.podCidr);
                assert.ok(r, n.name);
                assert.strictEqual(r.nextHopIpAddress, n.privateIp);
                assert.strictEqual(r.nextHopType, "VirtualAppliance");
            }
            const subnet = byName(prefix, `${prefix}-nodes`);
            assert.ok(subnet.dependsOn.includes(table.urn), "the subnet waits on the route table");
            assert.ok(!(await build(`${prefix}-rules`, topology)).rules.some((r) => r.destinationPortRange === "4789"), "no VXLAN port without vxlan");
        });
    }

    it("the subnet gets a NAT gateway with a Standard public IP for egress", async () => {
        await build("net-nat", "vxlan");
        const ip = byName("net-nat", "net-nat-nat-ip");
        assert.deepStrictEqual(ip.inputs.sku, { name: "Standard" });
        const nat = byName("net-nat", "net-nat-nat");
        assert.ok(nat.dependsOn.includes(ip.urn));
        const subnet = byName("net-nat", "net-nat-nodes");
        assert.ok(subnet.dependsOn.includes(nat.urn));
        assert.strictEqual(subnet.inputs.defaultOutboundAccess, false);
        assert.strictEqual(subnet.inputs.addressPrefix, "10.240.0.0/24");
    });

    it("NodePorts open to adminCidr only when asked", async () => {
        const closed = await build("net-np-off", "vxlan", false);
        assert.ok(!closed.rules.some((r) => r.destinationPortRange === "30000-32767"));
        const open = await build("net-np-on", "vxlan", true);
        assert.strictEqual(open.rules.find((r) => r.destinationPortRange === "30000-32767")?.sourceAddressPrefix, "203.0.113.7/32");
    });
});
