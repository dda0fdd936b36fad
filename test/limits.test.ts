import * as assert from "assert";
import { familyOfSize, pulumiDefaultParallel, vcpuQuotaWarnings, vcpusOfSize } from "../plan/limits";

describe("limits outside the graph", () => {
    it("vCPUs and quota family from an Azure size name", () => {
        assert.strictEqual(vcpusOfSize("Standard_D4s_v5"), 4);
        assert.strictEqual(vcpusOfSize("Standard_D2s_v5"), 2);
        assert.strictEqual(vcpusOfSize("Standard_E16ads_v5"), 16);
        assert.strictEqual(vcpusOfSize("Standard_B2ms"), 2);
        assert.strictEqual(vcpusOfSize("custom"), undefined);
        assert.strictEqual(familyOfSize("Standard_D4s_v5"), "Dsv5");
        assert.strictEqual(familyOfSize("Standard_B2ms"), "Bms");
    });

    it("warns when the nodes' vCPUs exceed a typical quota, and not when they fit", () => {
        const base = { windowsVmSize: "Standard_D4s_v5", linuxVmSize: "Standard_D2s_v5" };
        // 2 + 2 x 4 = 10 vCPUs of Dsv5: fits 20 regional and 10 per family
        assert.deepStrictEqual(vcpuQuotaWarnings({ ...base, windowsNodeCount: 2 }), []);
        // 2 + 3 x 4 = 14 > 10 per family, < 20 regional
        const three = vcpuQuotaWarnings({ ...base, windowsNodeCount: 3 });
        assert.strictEqual(three.length, 1);
        assert.match(three[0], /14 vCPUs of the Dsv5 family exceed a typical per-family quota of 10/);
        // 50 nodes: 202 vCPUs, over both
        const fifty = vcpuQuotaWarnings({ ...base, windowsNodeCount: 50 });
        assert.strictEqual(fifty.length, 2);
        assert.match(fifty[0], /^202 vCPUs \(master 2 \+ 50 x 4\) exceed a typical regional quota of 20/);
        // a raised quota silences it
        assert.deepStrictEqual(vcpuQuotaWarnings({ ...base, windowsNodeCount: 50, quota: { regionalVcpus: 250, familyVcpus: 250 } }), []);
        // families are counted apart
        assert.strictEqual(vcpuQuotaWarnings({ windowsVmSize: "Standard_E4s_v5", linuxVmSize: "Standard_D2s_v5", windowsNodeCount: 2, quota: { regionalVcpus: 100, familyVcpus: 8 } }).length, 0);
    });

    it("Pulumi's default --parallel is 4 x CPUs unless PULUMI_PARALLEL says otherwise", () => {
        assert.strictEqual(pulumiDefaultParallel(2), 8);
        assert.strictEqual(pulumiDefaultParallel(16), 64);
        assert.strictEqual(pulumiDefaultParallel(2, { PULUMI_PARALLEL: "40" }), 40);
        assert.strictEqual(pulumiDefaultParallel(2, { PULUMI_PARALLEL: "x" }), 8);
    });
});
