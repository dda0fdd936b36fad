import * as assert from "assert";
import { flannelCniConf, flannelNetConf } from "../components/manifests/cni";
import { flannelObjects, K8sObject } from "../components/manifests/flannel";
import { FlannelBackend, topologySpec } from "../components/topology";
import { validateObject } from "./k8sSchema";

function objects(topology: "vxlan" | "host-gw") {
    const spec = topologySpec(topology);
    return flannelObjects({ spec: { ...spec, flannelBackend: spec.flannelBackend as FlannelBackend }, podCidr: "10.244.0.0/16", flannelVersion: "0.27.4", cniPluginVersion: "1.8.0-flannel1" });
}

describe("flannel manifests", () => {
    for (const topology of ["vxlan", "host-gw"] as const) {
        it(`${topology}: every object is valid against the Kubernetes API schema`, () => {
            for (const obj of Object.values(objects(topology))) {
                validateObject(obj);
            }
        });

        it(`${topology}: the DaemonSet runs on Linux nodes only, in kube-flannel, as kube-flannel-ds`, () => {
            const ds = objects(topology).daemonSet as K8sObject & { spec: { template: { spec: { nodeSelector: Record<string, string> } } } };
            assert.strictEqual(ds.metadata.name, "kube-flannel-ds");
            assert.strictEqual(ds.metadata.namespace, "kube-flannel");
            assert.deepStrictEqual(ds.spec.template.spec.nodeSelector, { "kubernetes.io/os": "linux" });
        });

        it(`${topology}: net-conf.json's Network is the cluster's pod CIDR (one value for kubeadm and flannel)`, () => {
            const cm = objects(topology).configMap as K8sObject & { data: Record<string, string> };
            assert.strictEqual(JSON.parse(cm.data["net-conf.json"]).Network, "10.244.0.0/16");
        });
    }

    it("vxlan: VNI 4096 and port 4789 (required for Windows interop)", () => {
        const cm = objects("vxlan").configMap as K8sObject & { data: Record<string, string> };
        assert.deepStrictEqual(JSON.parse(cm.data["net-conf.json"]).Backend, { Type: "vxlan", VNI: 4096, Port: 4789 });
    });

    it("vxlan: cni-conf is the seed's (vxlan0, flannel delegate hairpinMode/isDefaultGateway, portmap)", () => {
        const conf = JSON.parse(flannelCniConf(topologySpec("vxlan")));
        const { cniVersion, ...rest } = conf;
        assert.ok(cniVersion);
        assert.deepStrictEqual(rest, {
            name: "vxlan0",
            plugins: [
                { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
                { type: "portmap", capabilities: { portMappings: true } },
            ],
        });
    });

    it("host-gw: backend type host-gw, cni name cbr0", () => {
        assert.deepStrictEqual(JSON.parse(flannelNetConf("10.244.0.0/16", { Type: "host-gw" })).Backend, { Type: "host-gw" });
        assert.strictEqual(JSON.parse(flannelCniConf(topologySpec("host-gw"))).name, "cbr0");
    });

    it("tor runs no flannel", () => {
        assert.strictEqual(topologySpec("tor").flannelBackend, undefined);
    });

    it("images are pinned to the configured versions", () => {
        const text = JSON.stringify(objects("vxlan").daemonSet);
        assert.match(text, /ghcr\.io\/flannel-io\/flannel:v0\.27\.4/);
        assert.match(text, /ghcr\.io\/flannel-io\/flannel-cni-plugin:v1\.8\.0-flannel1/);
        assert.doesNotMatch(text, /:latest/);
    });
});
