import * as assert from "assert";
import fc from "fast-check";
import { allNodes, contains, overlaps, parseCidr, planAddresses } from "../components/addressing";
import { podRoutes } from "../components/topology";

const DEFAULTS = { vnetCidr: "10.240.0.0/16", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12" };

describe("addressing", () => {
    it("parses CIDRs and rejects malformed ones", () => {
        assert.strictEqual(parseCidr("10.244.0.0/16")?.prefix, 16);
        for (const bad of ["10.244.0.0", "10.244.0.0/33", "256.1.1.1/8", "a.b.c.d/8", "10.0.0.0/8 ", "::1/128"]) {
            assert.strictEqual(parseCidr(bad), undefined, bad);
        }
    });

    it("gives the master the first pod /24 and each Windows node the next", () => {
        const plan = planAddresses({ ...DEFAULTS, windowsNodeCount: 3 });
        assert.strictEqual(plan.master.podCidr, "10.244.0.0/24");
        assert.strictEqual(plan.master.privateIp, "10.240.0.4");
        assert.deepStrictEqual(
            plan.windows.map((n) => [n.name, n.privateIp, n.podCidr, n.podGateway, n.podHostEndpoint]),
            [
                ["k8s-win-1", "10.240.0.11", "10.244.1.0/24", "10.244.1.1", "10.244.1.2"],
                ["k8s-win-2", "10.240.0.12", "10.244.2.0/24", "10.244.2.1", "10.244.2.2"],
                ["k8s-win-3", "10.240.0.13", "10.244.3.0/24", "10.244.3.1", "10.244.3.2"],
            ],
        );
        assert.strictEqual(plan.nodeSubnetCidr, "10.240.0.0/24");
        assert.strictEqual(plan.kubernetesServiceIp, "10.96.0.1");
        assert.strictEqual(plan.dnsServiceIp, "10.96.0.10");
    });

    it("Windows computer names fit in 15 characters and node names are lowercase", () => {
        for (const n of planAddresses({ ...DEFAULTS, windowsNodeCount: 100 }).windows) {
            assert.ok(n.name.length <= 15, n.name);
            assert.strictEqual(n.name, n.name.toLowerCase());
        }
    });

    it("growing the node count only appends nodes (existing nodes keep their addresses)", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 100 }), (a, extra) => {
                const b = Math.min(100, a + extra);
                const small = planAddresses({ ...DEFAULTS, windowsNodeCount: a });
                const large = planAddresses({ ...DEFAULTS, windowsNodeCount: b });
                assert.deepStrictEqual(large.windows.slice(0, a), small.windows);
                assert.deepStrictEqual(large.master, small.master);
            }),
        );
    });

    it("for any valid layout, pod subnets are disjoint, inside the pod CIDR, and node IPs inside the node subnet", () => {
        const layouts = fc.record({
            offset: fc.integer({ min: 0, max: 0xffffff }),
            podPrefix: fc.integer({ min: 8, max: 17 }),
            nodes: fc.integer({ min: 0, max: 100 }),
        });
        fc.assert(
            fc.property(layouts, ({ offset, podPrefix, nodes }) => {
                // any network of size /podPrefix inside 10.0.0.0/8
                const size = 2 ** (32 - podPrefix);
                const start = Math.floor((10 * 2 ** 24 + offset) / size) * size;
                const podCidr = `${[24, 16, 8, 0].map((s) => Math.floor(start / 2 ** s) % 256).join(".")}/${podPrefix}`;
                const vnetCidr = "172.16.0.0/16";
                const plan = planAddresses({ podCidr, vnetCidr, serviceCidr: "192.168.0.0/16", windowsNodeCount: nodes });
                const pods = parseCidr(podCidr)!;
                const subnet = parseCidr(plan.nodeSubnetCidr)!;
                const blocks = allNodes(plan).map((n) => parseCidr(n.podCidr)!);
                blocks.forEach((b, i) => {
                    assert.ok(contains(pods, b));
                    for (const other of blocks.slice(i + 1)) {
                        assert.ok(!overlaps(b, other));
                    }
                });
                for (const n of allNodes(plan)) {
                    assert.ok(contains(subnet, parseCidr(`${n.privateIp}/32`)!));
                }
                assert.strictEqual(new Set(allNodes(plan).map((n) => n.privateIp)).size, nodes + 1);
            }),
        );
    });

    it("routes each node's pod /24 to that node (the host-gw next hop is the node IP)", () => {
        const plan = planAddresses({ ...DEFAULTS, windowsNodeCount: 2 });
        assert.deepStrictEqual(
            podRoutes(plan).map((r) => [r.addressPrefix, r.nextHopIpAddress, r.nextHopType]),
            [
                ["10.244.0.0/24", "10.240.0.4", "VirtualAppliance"],
                ["10.244.1.0/24", "10.240.0.11", "VirtualAppliance"],
                ["10.244.2.0/24", "10.240.0.12", "VirtualAppliance"],
            ],
        );
    });
});
