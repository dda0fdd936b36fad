// The Windows node steps as the plan renders them for one node, and stubbed machines taken through
// them up to a step (shared by the run tests of the steps and of their undo).
import * as assert from "assert";
import { windowsCniConf } from "../../components/manifests/cni";
import { renderWindowsChecks } from "../../components/scripts/checks";
import * as win from "../../components/scripts/windows";
import { topologySpec } from "../../components/topology";
import { defaultAddresses, hostileSshKey, VERSIONS } from "../fixtures";
import { ok, StubWindows } from "./machine";

export type TestTopology = "vxlan" | "host-gw" | "tor";

export const plan = defaultAddresses(100);
export const node = plan.windows[0];
export const HASH = `sha256:${"ab".repeat(32)}`;
export const JOIN = `kubeadm join 10.240.0.4:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${HASH}`;
export const stdin = (joinCommand = JOIN) => JSON.stringify({ joinCommand, kubeProxy: "kube-proxy-kubeconfig", flannel: "flannel-kubeconfig" });

export function scripts(topology: TestTopology, versions = VERSIONS) {
    const spec = topologySpec(topology);
    const cniConfig = windowsCniConf({ spec, node, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, vnetCidr: plan.vnetCidr });
    return {
        spec,
        openssh: win.renderOpenSshSetup(hostileSshKey()),
        ready: win.renderWindowsReady(),
        features: win.renderPrepareFeatures({ spec }),
        featuresReady: win.renderFeaturesReady(),
        runtime: win.renderPrepareRuntime({ spec, node, versions, cniConfig, prePull: ["mcr.microsoft.com/windows/servercore:ltsc2022"] }),
        join: win.renderJoin({
            spec,
            node,
            kubernetesVersion: versions.kubernetesVersion,
            podCidr: plan.podCidr,
            serviceCidr: plan.serviceCidr,
            dnsServiceIp: plan.dnsServiceIp,
            flannelNetConf: "{}",
            l2bridgeScript: topology === "tor" ? win.renderL2BridgeService(node, spec.windowsNetworkName) : undefined,
        }),
        l2bridge: win.renderL2BridgeService(node, spec.windowsNetworkName),
        check: renderWindowsChecks({ mode: "enforce", node, master: plan.master, clusterIp: "10.96.0.200", spec }),
    };
}

const prepared = new Map<string, StubWindows>();
/** A node taken through the steps up to (not including) `until` (a copy of a shared one). */
export function nodeUpTo(topology: TestTopology, until: "features" | "runtime" | "join" | "done"): StubWindows {
    const key = `${topology}/${until}`;
    if (!prepared.has(key)) {
        prepared.set(key, prepare(topology, until));
    }
    return prepared.get(key)!.clone();
}

function prepare(topology: TestTopology, until: "features" | "runtime" | "join" | "done"): StubWindows {
    const s = scripts(topology);
    const m = new StubWindows(s.spec.windowsNetworkName);
    ok(m.run(s.openssh), "openssh");
    const ready = m.run(s.ready);
    ok(ready, "ready");
    assert.match(ready.stdout, /^ready: K8S-WIN-1/);
    if (until === "features") return m;
    ok(m.run(s.features), "prepare-features");
    m.boot();
    ok(m.run(s.featuresReady), "features-ready");
    if (until === "runtime") return m;
    ok(m.run(s.runtime), "prepare-runtime");
    if (until === "join") return m;
    ok(m.run(s.join, stdin()), "join");
    return m;
}
