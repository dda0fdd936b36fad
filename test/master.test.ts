import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { LinuxMaster } from "../components/linuxMaster";
import { Network } from "../machines/azure/network";
import { defaultAddresses, masterArgs } from "./fixtures";
import { mockRuntime, recorded, settle } from "./harness";
import { cachedPlan } from "./planRun";

describe("LinuxMaster (mock runtime)", () => {
    it("the graph runs ready → prepare → init → kubeconfig → provider → flannel", () => {
        const g = cachedPlan([]).graph!;
        const chain = ["k8s-master-vm", "k8s-master-ready", "k8s-master-prepare", "k8s-master-init", "k8s-master-kubeconfig", "k8s-master-k8s", "flannel-ds"];
        for (let i = 1; i < chain.length; i++) {
            assert.ok(g.waitsOn(g.one(chain[i]), g.one(chain[i - 1])), `${chain[i]} waits on ${chain[i - 1]}`);
        }
        for (const r of g.doc.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
            assert.ok(r.dependsOn.includes(g.one("k8s-master-k8s").urn), `${r.name} uses the cluster's provider`);
        }
        // flannel's pods wait for the master's podCIDR (flannel never allocates)
        assert.ok(g.waitsOn(g.one("flannel-ds"), g.one("k8s-master-podcidr")));
    });

    it("the kubeconfig output is secret in the plan, and its command never logs", () => {
        const run = cachedPlan([]);
        assert.strictEqual(run.doc!.outputs.kubeconfig, "[secret]");
        const g = run.graph!;
        for (const name of ["k8s-master-kubeconfig", "cluster-agent-kubeconfigs"]) {
            assert.strictEqual(g.one(name).inputs.logging, "none", name);
            assert.strictEqual(g.one(name).inputs.addPreviousOutputInEnv, false, name);
        }
        // pulumi-command marks the whole connection secret: the private key never appears in plain text
        for (const r of g.doc.resources.filter((x) => x.type === "command:remote:Command")) {
            assert.strictEqual(r.inputs.connection, "[secret]", r.name);
        }
    });

    it("tor: no flannel objects; the master's init carries the bridge CNI config", () => {
        const run = cachedPlan(["--config", "topology=tor"]);
        assert.strictEqual(run.code, 0, run.stderr);
        const g = run.graph!;
        assert.strictEqual(g.doc.resources.filter((r) => r.type === "hybrid-k8s:index:Flannel").length, 0);
        assert.match(String(g.one("k8s-master-init").inputs.create), /10-tor-bridge\.conflist/);
        assert.deepStrictEqual(run.doc!.outputs.torRoutes, ["10.244.0.0/24 via 10.240.0.4", "10.244.1.0/24 via 10.240.0.11", "10.244.2.0/24 via 10.240.0.12"]);
        assert.match(run.stdout, /ToR routes[^\n]*\n  10\.244\.0\.0\/24 via 10\.240\.0\.4\n/);
    });

    it("kubeconfig, join tokens and agent kubeconfigs are secrets from the moment they exist", async () => {
        mockRuntime();
        const addresses = defaultAddresses(1);
        const net = new Network("secrets-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
        const master = new LinuxMaster("secrets-master", masterArgs(net, addresses, "secrets-master"));
        const token = master.joinToken("secrets-node", "abc", { parent: master });
        const agents = master.agentKubeconfigs("secrets-agent-kubeconfigs", [{ key: "kubeProxy", namespace: "kube-system", serviceAccount: "kube-proxy", secret: "t" }], { parent: master });
        assert.strictEqual(await pulumi.isSecret(master.kubeconfig), true);
        assert.strictEqual(await pulumi.isSecret(token), true);
        assert.strictEqual(await pulumi.isSecret(agents), true);
        await settle();
        const tokenCmd = recorded("secrets-node").find((r) => r.name === "secrets-node-token")!;
        assert.strictEqual(tokenCmd.inputs.logging, "none");
        assert.ok(tokenCmd.dependsOn.some((u) => u.endsWith("::secrets-master-init")), "tokens are minted after init");
    });
});
