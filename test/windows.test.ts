import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { windowsCniConf } from "../components/manifests/cni";
import { decodePowerShell, MAX_WINDOWS_COMMAND, powershellCommand } from "../components/scripts/shell";
import * as win from "../components/scripts/windows";
import { Topology, TOPOLOGIES } from "../components/config";
import { topologySpec } from "../components/topology";
import { cachedPlan } from "./planRun";
import { defaultAddresses, VERSIONS } from "./fixtures";

const plan = defaultAddresses(100);
const versions = VERSIONS;

function scriptsFor(topology: Topology, node = plan.windows[0]) {
    const spec = topologySpec(topology);
    const cniConfig = windowsCniConf({ spec, node, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, vnetCidr: plan.vnetCidr });
    const join = win.renderJoin({
        spec,
        node,
        kubernetesVersion: "1.35.4",
        podCidr: plan.podCidr,
        serviceCidr: plan.serviceCidr,
        dnsServiceIp: plan.dnsServiceIp,
        flannelNetConf: "{}",
        l2bridgeScript: topology === "tor" ? win.renderL2BridgeService(node, spec.windowsNetworkName) : undefined,
    });
    return {
        spec,
        cniConfig,
        scripts: {
            openssh: win.renderOpenSshSetup("ssh-ed25519 AAAA me"),
            ready: win.renderWindowsReady(),
            "features-ready": win.renderFeaturesReady(),
            "prepare-features": win.renderPrepareFeatures({ spec }),
            "prepare-runtime": win.renderPrepareRuntime({ spec, node, versions, cniConfig, prePull: ["mcr.microsoft.com/windows/servercore:ltsc2022"] }),
            join,
            ...(topology === "tor" ? { l2bridge: win.renderL2BridgeService(node, spec.windowsNetworkName) } : {}),
        } as Record<string, string>,
    };
}

describe("Windows scripts", () => {
    for (const topology of TOPOLOGIES) {
        const { scripts, cniConfig, spec } = scriptsFor(topology);
        it(`${topology}: every step fits one Windows command line and round-trips through it`, () => {
            for (const script of Object.values(scripts)) {
                assert.ok(powershellCommand(script).length <= MAX_WINDOWS_COMMAND);
                assert.strictEqual(decodePowerShell(powershellCommand(script)), script);
            }
        });

        it(`${topology}: the HNS network, the CNI config name and kube-proxy's network name are one name`, () => {
            const name = JSON.parse(cniConfig).name;
            assert.strictEqual(name, spec.windowsNetworkName);
            assert.strictEqual(name, topology === "vxlan" ? "flannel.4096" : "cbr0");
            const proxy = win.renderKubeProxyStart({ spec, node: plan.windows[0], kubernetesVersion: "1.35.4", podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, dnsServiceIp: plan.dnsServiceIp });
            assert.ok(proxy.includes(`--network-name=${name}`), "kube-proxy --network-name");
            assert.ok(proxy.includes(`$env:KUBE_NETWORK = '${name}'`), "KUBE_NETWORK");
            if (topology === "tor") {
                assert.ok(scripts.l2bridge.includes(`-Name '${name}'`), "the L2Bridge network our service creates");
            }
        });

        it(`${topology}: the Windows CNI config declares dns and portMappings`, () => {
            assert.deepStrictEqual(JSON.parse(cniConfig).capabilities, { portMappings: true, dns: true });
        });

        it(`${topology}: every script stops on errors, and no Windows path lost its backslash`, () => {
            for (const [name, script] of Object.entries(scripts)) {
                assert.match(script, /\$ErrorActionPreference = 'Stop'/, name);
                assert.doesNotMatch(script, /\b[A-Z]:[A-Za-z]/, name);
            }
        });
    }

    it("vxlan: sdnoverlay, no NAT to pod and service CIDRs, service CIDR encapsulated, node IP as provider address", () => {
        const conf = JSON.parse(scriptsFor("vxlan").cniConfig);
        assert.strictEqual(conf.type, "flannel");
        assert.strictEqual(conf.delegate.type, "sdnoverlay");
        assert.strictEqual(conf.delegate.optionalFlags, undefined, "overlay keeps its own gateway");
        const [nat, route, pa] = conf.delegate.AdditionalArgs.map((a: { Value: unknown }) => a.Value);
        assert.deepStrictEqual(nat, { Type: "OutBoundNAT", Settings: { Exceptions: ["10.244.0.0/16", "10.96.0.0/12"] } });
        assert.deepStrictEqual(route, { Type: "SDNRoute", Settings: { DestinationPrefix: "10.96.0.0/12", NeedEncap: true } });
        assert.deepStrictEqual(pa, { Type: "ProviderAddress", Settings: { ProviderAddress: "10.240.0.11" } });
    });

    it("host-gw and tor: pods on L2Bridge take the host endpoint .2 as gateway (forceBridgeGateway)", () => {
        assert.deepStrictEqual(JSON.parse(scriptsFor("host-gw").cniConfig).delegate.optionalFlags, { forceBridgeGateway: true });
        assert.deepStrictEqual(JSON.parse(scriptsFor("tor").cniConfig).optionalFlags, { forceBridgeGateway: true });
    });

    it("tor: sdnbridge with host-local IPAM in the flat form sdnbridge passes on; the join reserves the host endpoint .2", () => {
        const conf = JSON.parse(scriptsFor("tor").cniConfig);
        assert.strictEqual(conf.type, "sdnbridge");
        assert.deepStrictEqual(conf.ipam, { type: "host-local", subnet: "10.244.1.0/24", routes: [{ dst: "0.0.0.0/0" }] });
        assert.strictEqual(conf.ipam.ranges, undefined, "sdnbridge drops ranges");
        const routes = conf.AdditionalArgs.filter((a: { Value: { Type: string } }) => a.Value.Type === "SDNRoute").map((a: { Value: { Settings: { DestinationPrefix: string } } }) => a.Value.Settings.DestinationPrefix);
        assert.deepStrictEqual(routes, ["10.96.0.0/12", "10.240.0.11/32"]);
        assert.match(scriptsFor("tor").scripts.l2bridge, /-IPAddress '10\.244\.1\.2'/);
        for (const t of ["tor", "host-gw"] as const) {
            assert.ok(scriptsFor(t).scripts.join.includes("$reserved = 'C:\\var\\lib\\cni\\networks\\cbr0\\10.244.1.2'"), t);
        }
        assert.ok(!scriptsFor("vxlan").scripts.join.includes("$reserved"));
    });

    it("kubelet flags follow the Kubernetes version (--pod-infra-container-image only before 1.35)", () => {
        assert.ok(win.kubeletFlags(plan.windows[0], "1.34.2").some((f) => f.startsWith("--pod-infra-container-image=")));
        assert.ok(!win.kubeletFlags(plan.windows[0], "1.35.4").some((f) => f.startsWith("--pod-infra-container-image=")));
        const spec = topologySpec("vxlan");
        assert.ok(win.kubeProxyFlags({ node: plan.windows[0], spec, podCidr: plan.podCidr, kubernetesVersion: "1.33.5" }).includes("--feature-gates=WinOverlay=true"));
        assert.ok(!win.kubeProxyFlags({ node: plan.windows[0], spec, podCidr: plan.podCidr, kubernetesVersion: "1.35.4" }).some((f) => f.includes("WinOverlay")));
        assert.ok(win.kubeProxyFlags({ node: plan.windows[0], spec, podCidr: plan.podCidr, kubernetesVersion: "1.35.4" }).includes("--proxy-mode=kernelspace"));
    });

    it("overlay kube-proxy gets a source VIP reserved once from the node's pod subnet", () => {
        const input = { node: plan.windows[0], kubernetesVersion: "1.35.4", podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, dnsServiceIp: plan.dnsServiceIp };
        const proxy = win.renderKubeProxyStart({ ...input, spec: topologySpec("vxlan") });
        assert.match(proxy, /--source-vip=\$vip/);
        assert.match(proxy, /host-local\.exe/);
        assert.match(proxy, /10\.244\.1\.0\/24/);
        assert.doesNotMatch(win.renderKubeProxyStart({ ...input, spec: topologySpec("host-gw") }), /--source-vip/);
    });

    it("every download is pinned to the configured version, and checked where upstream publishes a checksum", () => {
        const d = win.windowsDownloads(versions, topologySpec("vxlan"));
        assert.match(d["kubelet.exe"].url, /\/v1\.35\.4\/bin\/windows\/amd64\/kubelet\.exe$/);
        assert.match(d["flanneld.exe"].url, /\/v0\.27\.4\/flanneld\.exe$/);
        assert.match(d["containerd.tar.gz"].url, /containerd-2\.1\.4-windows-amd64\.tar\.gz$/);
        for (const k of ["kubelet.exe", "kubeadm.exe", "kube-proxy.exe", "containerd.tar.gz", "cni-plugins.tgz", "flannel-cni.tgz", "crictl.tar.gz", "sdn-plugins.zip"]) {
            assert.ok(d[k].checksumUrl, `${k} is verified against upstream's checksum file`);
        }
        assert.strictEqual(d["sdn-plugins.zip"].checksumAlgorithm, "SHA512");
        assert.match(scriptsFor("vxlan").scripts["prepare-features"], new RegExp(win.HNS_MODULE.sha256));
        assert.strictEqual(win.windowsDownloads(versions, topologySpec("tor"))["flanneld.exe"], undefined, "tor runs no flannel");
    });

    it("containerd's config pins the sandbox image and the CNI folders", () => {
        assert.match(win.containerdConfig("2.1.4"), /sandbox = 'registry\.k8s\.io\/pause:3\.10\.2'/);
        assert.match(win.containerdConfig("2.1.4"), /bin_dirs = \['C:\\opt\\cni\\bin'\]/);
        assert.match(win.containerdConfig("2.0.6"), /bin_dir = 'C:\\opt\\cni\\bin'/);
    });

    it("boot order: containerd → flanneld → kubelet → kube-proxy", () => {
        const join = scriptsFor("vxlan").scripts.join;
        assert.match(join, /Install-AgentService 'flanneld' C:\\k\\start-flanneld\.ps1 @\('containerd'\)/);
        assert.match(join, /Install-AgentService 'kubelet' C:\\k\\start-kubelet\.ps1 @\('containerd', 'flanneld'\)/);
        assert.match(join, /Install-AgentService 'kube-proxy' C:\\k\\start-kube-proxy\.ps1 @\('kubelet'\)/);
    });

    it("the join reads the token only from stdin and never puts it on a command line", () => {
        const join = scriptsFor("vxlan").scripts.join;
        assert.match(join, /\[Console\]::In\.ReadToEnd\(\)/);
        assert.match(join, /kubeadm\.exe join --config \$config/);
        assert.doesNotMatch(join, /--token \$token/);
    });
});

describe("Windows Server 2025 nodes", () => {
    it("take the 2025 image, pre-pull ltsc2025 and pin the sample to the 2025 build", () => {
        const run = cachedPlan(["--config", "windowsServerVersion=2025"]);
        assert.strictEqual(run.code, 0, run.stderr);
        const g = run.graph!;
        assert.strictEqual((g.one("k8s-win-1-vm").inputs.storageProfile as { imageReference: { sku: string } }).imageReference.sku, "2025-datacenter-azure-edition");
        const runtime = fs.readFileSync(path.join(run.out, "scripts", "k8s-win-1-prepare-runtime.ps1"), "utf8");
        assert.match(runtime, /servercore:ltsc2025/);
        assert.doesNotMatch(runtime, /ltsc2022/);
        const deployment = g.doc.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
        assert.match(JSON.stringify(deployment.inputs), /"node\.kubernetes\.io\/windows-build":"10\.0\.26100"/);
    });
});

describe("Windows nodes in the graph (3 nodes)", () => {
    const run = () => cachedPlan(["--config", "windowsNodeCount=3"]);

    it("plans three Windows nodes", () => {
        assert.strictEqual(run().code, 0, run().stderr);
        assert.strictEqual(run().graph!.doc.resources.filter((r) => r.type === "hybrid-k8s:index:WindowsNode").length, 3);
        assert.ok(fs.existsSync(path.join(run().out, "scripts", "k8s-win-3-join.ps1")));
    });

    it("no Windows VM depends on any master resource", () => {
        const g = run().graph!;
        const masterUrns = new Set(g.doc.resources.filter((r) => r.urn.includes("LinuxMaster")).map((r) => r.urn));
        for (const vm of g.find(/^k8s-win-\d+-vm$/)) {
            for (const a of g.ancestors(vm.urn)) {
                assert.ok(!masterUrns.has(a), `${vm.name} waits on ${a}`);
            }
        }
    });

    it("no prepare step waits on a master command (only on the master VM as SSH proxy)", () => {
        const g = run().graph!;
        for (const step of g.find(/^k8s-win-\d+-(ready|prepare-features|features-ready|prepare-runtime)$/)) {
            // allowed: the master's SSH readiness (sshd has its raised limits) and its version check, never its bootstrap
            const masterCommands = [...g.ancestors(step.urn)].filter((u) => u.includes("LinuxMaster") && u.includes("command:remote:Command") && !/::k8s-master-(ready|version-check)$/.test(u));
            assert.deepStrictEqual(masterCommands, [], step.name);
            assert.ok(g.waitsOn(step, g.one("k8s-master-vm")), `${step.name} waits on the master VM`);
        }
    });

    it("every join waits on the master's init, its pod CIDR and every flannel object", () => {
        const g = run().graph!;
        const flannel = g.doc.resources.filter((r) => r.type.startsWith("kubernetes:") && r.parent?.endsWith("::flannel"));
        assert.ok(flannel.length >= 5);
        for (const join of g.find(/^k8s-win-\d+-join$/)) {
            assert.ok(g.waitsOn(join, g.one("k8s-master-init")));
            assert.ok(g.waitsOn(join, g.one(join.name.replace("-join", "-podcidr"))));
            for (const f of flannel) {
                assert.ok(g.waitsOn(join, f), `${join.name} waits on ${f.name}`);
            }
        }
    });

    it("no node depends on another node, but for the upgrade windows' waves", () => {
        const g = run().graph!;
        // the node's own resources (its component's children); checks belong to Validation and may span nodes
        const windows = /-(drain|upgrade|uncordon)$/;
        for (const r of g.doc.resources.filter((x) => /WindowsNode::k8s-win-\d+$/.test(x.parent ?? "") && !windows.test(x.name))) {
            const own = r.parent!.match(/::(k8s-win-\d+)$/)![1];
            for (const a of g.ancestors(r.urn)) {
                const other = a.match(/::(k8s-win-\d+)-/);
                assert.ok(!other || other[1] === own, `${r.name} waits on ${a}`);
            }
        }
        // a window waits on another node only through that node's uncordon (test/upgradeGraph.test.ts)
        for (const r of g.find(/^k8s-win-\d+-drain$/)) {
            const own = r.name.replace(/-drain$/, "");
            for (const u of r.dependsOn.filter((x) => /::k8s-win-\d+-/.test(x) && !x.includes(`::${own}-`))) {
                assert.match(u, /-uncordon$/, `${r.name} waits on ${u}`);
            }
        }
    });

    it("removing a node drains it before its VM goes (podcidr's delete runs first)", () => {
        const g = run().graph!;
        for (const n of [1, 2, 3]) {
            const podcidr = g.one(`k8s-win-${n}-podcidr`);
            assert.ok(podcidr.dependsOn.includes(g.one(`k8s-win-${n}-vm`).urn));
            assert.match(String(podcidr.inputs.delete), /kubectl --kubeconfig \/etc\/kubernetes\/admin\.conf drain "\$node"/);
        }
    });

    it("a replaced VM is a blank machine: every command on a host re-runs when that host's VM changes", () => {
        const g = run().graph!;
        for (const r of g.doc.resources.filter((x) => x.type === "command:remote:Command" && !x.name.includes("-check-"))) {
            // podcidr, tokens and a window's drain and uncordon run on the master
            const host = /-(podcidr|token|drain|uncordon)$/.test(r.name) || !r.name.startsWith("k8s-win-") ? "k8s-master-vm" : `${r.name.match(/^(k8s-win-\d+)-/)![1]}-vm`;
            const triggers = r.inputs.triggers as string[];
            assert.ok(Array.isArray(triggers) && triggers[0].endsWith(`/${host}`), `${r.name}: ${JSON.stringify(triggers)}`);
        }
    });

    it("a replaced Windows VM or a new control plane mints a fresh token, and a new control plane re-runs the join", () => {
        const g = run().graph!;
        for (const n of [1, 2, 3]) {
            const triggers = g.one(`k8s-win-${n}-new-token`).inputs.triggers as string[];
            assert.ok(triggers.some((t) => t.includes(`/virtualMachines/k8s-win-${n}-vm:`)), JSON.stringify(triggers));
            assert.ok(triggers.some((t) => t.endsWith("cluster CA public-key hash>")), JSON.stringify(triggers));
            assert.match((g.one(`k8s-win-${n}-join`).inputs.triggers as string[])[1], /cluster CA public-key hash/);
        }
    });

    it("the join takes its secrets on stdin, never logs, and the token step is secret too", () => {
        const g = run().graph!;
        const join = g.one("k8s-win-1-join");
        assert.strictEqual(join.inputs.stdin, "[secret]");
        assert.strictEqual(join.inputs.logging, "none");
        assert.strictEqual(join.inputs.addPreviousOutputInEnv, false);
        assert.strictEqual(g.one("k8s-win-1-token").inputs.logging, "none");
    });

    it("going from 2 to 3 nodes leaves nodes 1 and 2 byte-identical", () => {
        const two = cachedPlan([]).graph!;
        const three = run().graph!;
        const nodeInputs = (g: typeof two, n: number) =>
            g.doc.resources.filter((r) => r.name === `k8s-win-${n}` || (r.parent ?? "").endsWith(`WindowsNode::k8s-win-${n}`)).map((r) => JSON.stringify([r.name, r.type, r.inputs, r.dependsOn]));
        for (const n of [1, 2]) {
            assert.ok(nodeInputs(two, n).length > 5);
            assert.deepStrictEqual(nodeInputs(three, n), nodeInputs(two, n));
        }
    });

    it("a new admin password does not touch existing Windows VMs (Azure refuses it in place)", () => {
        const vm = run().graph!.one("k8s-win-1-vm");
        assert.deepStrictEqual((vm as unknown as { options: { ignoreChanges?: string[] } }).options.ignoreChanges, ["osProfile.adminPassword"]);
    });

    it("windowsNodes output: name, private IP and pod /24 per node", () => {
        assert.deepStrictEqual(run().doc!.outputs.windowsNodes, [
            { name: "k8s-win-1", podCidr: "10.244.1.0/24", privateIp: "10.240.0.11" },
            { name: "k8s-win-2", podCidr: "10.244.2.0/24", privateIp: "10.240.0.12" },
            { name: "k8s-win-3", podCidr: "10.244.3.0/24", privateIp: "10.240.0.13" },
        ]);
    });
});
