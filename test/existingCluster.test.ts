// An existing kubeadm cluster read by the compatibility step against stubbed kubectl answers (what
// kubeadm, kube-controller-manager and flannel leave in a cluster), the facts parser, the pod /24s
// taken beside the cluster's, the master's undo run in the bash sandbox, and the top-of-rack routes.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { torBridgeConf, torMasqueradeScript } from "../components/manifests/cni";
import * as ex from "../components/scripts/existing";
import * as linux from "../components/scripts/linux";
import { podRoutes, topologySpec } from "../components/topology";
import { Topology } from "../components/config";
import { controlPlaneFakes, kubeadmCalls } from "./controlPlaneFakes";
import { defaultAddresses } from "./fixtures";
import { sandbox, Sandbox, shellcheck } from "./shell";

/** What a stubbed cluster answers. */
interface FakeCluster {
    /** gitVersion of /version; undefined: the API server does not answer. */
    version?: string;
    /** kube-system/kubeadm-config's ClusterConfiguration; undefined: no such ConfigMap. */
    clusterConfiguration?: string;
    /** kube-controller-manager's command line from its mirror pod; undefined: no such pod. */
    controllerManager?: string[];
    /** flannel's DaemonSet namespace and name, and its net-conf.json; undefined: no flannel. */
    flannel?: { namespace: string; daemonSet: string; netConf: string };
    /** Other DaemonSets, namespace/name. */
    daemonSets?: string[];
    /** name → spec.podCIDR ("" for none). */
    nodes: Record<string, string>;
    /** name → its InternalIP addresses, space-separated as kubectl's jsonpath prints a list; defaults to none. */
    addresses?: Record<string, string>;
    /** Raw lines of `kubectl get nodes` (name|podCIDR|InternalIPs), instead of nodes and addresses. */
    nodeLines?: string;
}

/** The ClusterConfiguration kubeadm uploads (kubeadm.k8s.io/v1beta4, keys sorted as kubeadm writes them). */
function clusterConfiguration(podSubnet: string | undefined, serviceSubnet = "10.96.0.0/12", version = "v1.35.4"): string {
    return `apiServer: {}
apiVersion: kubeadm.k8s.io/v1beta4
certificatesDir: /etc/kubernetes/pki
clusterName: kubernetes
controllerManager: {}
dns: {}
etcd:
  local:
    dataDir: /var/lib/etcd
imageRepository: registry.k8s.io
kind: ClusterConfiguration
kubernetesVersion: ${version}
networking:
  dnsDomain: cluster.local
${podSubnet ? `  podSubnet: ${podSubnet}\n` : ""}  serviceSubnet: ${serviceSubnet}
proxy: {}
scheduler: {}
`;
}

/** kube-controller-manager's command as kubeadm writes it (allocation on whenever podSubnet is set). */
function controllerManager(podSubnet: string | undefined, extra: string[] = []): string[] {
    return [
        "kube-controller-manager",
        ...(podSubnet ? ["--allocate-node-cidrs=true"] : []),
        "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
        ...(podSubnet ? [`--cluster-cidr=${podSubnet}`] : []),
        "--cluster-name=kubernetes",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--leader-elect=true",
        "--service-cluster-ip-range=10.96.0.0/12",
        "--use-service-account-credentials=true",
        ...extra,
    ];
}

/** flannel's upstream net-conf.json (Documentation/kube-flannel.yml), with a backend. */
function netConf(network: string, backend: Record<string, unknown>): string {
    return JSON.stringify({ Network: network, EnableNFTables: false, Backend: backend }, null, 2);
}

const VXLAN_OK = { Type: "vxlan", VNI: 4096, Port: 4789 };

/** A cluster a vxlan stack can join: kubeadm with podSubnet 10.244.0.0/16, flannel vxlan 4096/4789. */
function goodCluster(): FakeCluster {
    return {
        version: "v1.35.4",
        clusterConfiguration: clusterConfiguration("10.244.0.0/16"),
        controllerManager: controllerManager("10.244.0.0/16"),
        flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", netConf: netConf("10.244.0.0/16", VXLAN_OK) },
        daemonSets: ["kube-system/kube-proxy"],
        nodes: { "cp-1": "10.244.0.0/24", "worker-1": "10.244.1.0/24" },
    };
}

/** kubectl answering from files in the sandbox, as the real one would (exit 1 where it finds nothing). */
function fakeCluster(sb: Sandbox, c: FakeCluster): void {
    const files: Record<string, string> = {
        version: c.version ? JSON.stringify({ major: "1", minor: c.version.split(".")[1], gitVersion: c.version }, null, 2) : "",
        cc: c.clusterConfiguration ?? "",
        kcm: c.controllerManager ? c.controllerManager.join("\n") + "\n" : "",
        "flannel-ns": c.flannel?.namespace ?? "",
        "flannel-ds": c.flannel?.daemonSet ?? "",
        netconf: c.flannel?.netConf ?? "",
        ds: [...(c.daemonSets ?? []), ...(c.flannel ? [`${c.flannel.namespace}/${c.flannel.daemonSet}`] : [])].join("\n") + "\n",
        nodes: c.nodeLines ?? Object.entries(c.nodes).map(([n, cidr]) => `${n}|${cidr}|${c.addresses?.[n] ?? ""}\n`).join(""),
    };
    sb.run(`mkdir -p "$SANDBOX/cluster" /etc/kubernetes && touch /etc/kubernetes/admin.conf`);
    for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(sb.dir, "cluster", name), content);
    }
    if (!c.version) {
        sb.run(`touch "$SANDBOX/cluster/down"`);
    }
    sb.fake(
        "kubectl",
        `C="$SANDBOX/cluster"
[ -f "$C/down" ] && { echo "The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?" >&2; exit 1; }
nonempty() { [ -s "$1" ] && cat "$1" || { echo 'error: array index out of bounds: index 0, length 0' >&2; exit 1; }; }
case "$*" in
  *"get --raw /version"*) cat "$C/version" ;;
  *"configmap kubeadm-config"*) [ -s "$C/cc" ] && cat "$C/cc" || { echo 'Error from server (NotFound): configmaps "kubeadm-config" not found' >&2; exit 1; } ;;
  *"component=kube-controller-manager"*) nonempty "$C/kcm" ;;
  *"daemonsets -l app=flannel"*) [ -s "$C/flannel-ns" ] && [[ "$*" == *"-n $(cat "$C/flannel-ns") "* ]] && cat "$C/flannel-ds" || { echo 'error: array index out of bounds: index 0, length 0' >&2; exit 1; } ;;
  *"configmap kube-flannel-cfg"*) [[ "$*" == *"-n $(cat "$C/flannel-ns") "* ]] && cat "$C/netconf" || exit 1 ;;
  *"get daemonsets -A"*) cat "$C/ds" ;;
  # the stub's lines are name|podCIDR|InternalIPs: only that query gets them
  *"get nodes"*) q='jsonpath={range .items[*]}{.metadata.name}{"|"}{.spec.podCIDR}{"|"}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'
    [[ "$*" == *"$q"* ]] && cat "$C/nodes" || { echo "unexpected kubectl $*" >&2; exit 2; } ;;
  *) echo "unexpected kubectl $*" >&2; exit 2 ;;
esac`,
    );
}

interface Case {
    topology?: Topology;
    podCidr?: string;
    serviceCidr?: string;
    kubernetesVersion?: string;
    windowsNodes?: Array<{ name: string; podCidr: string; address?: string }>;
}

function check(c: FakeCluster, input: Case = {}) {
    const sb = sandbox();
    fakeCluster(sb, c);
    const script = ex.renderClusterCompatibility({
        spec: topologySpec(input.topology ?? "vxlan"),
        podCidr: input.podCidr ?? "10.244.0.0/16",
        serviceCidr: input.serviceCidr ?? "10.96.0.0/12",
        kubernetesVersion: input.kubernetesVersion ?? "1.35.4",
        windowsNodes: input.windowsNodes,
    });
    return { sb, script, res: sb.run(script) };
}

/** Asserts a refusal: exit 1, no facts, the header, and each pattern in stderr. */
function refused(res: { code: number; stdout: string; stderr: string }, ...patterns: RegExp[]): void {
    assert.strictEqual(res.code, 1, res.stdout + res.stderr);
    assert.ok(!res.stdout.includes(ex.CLUSTER_FACTS_PREFIX), "no facts on a refusal");
    assert.match(res.stderr, /cannot take Windows nodes of the \S+ topology as configured; nothing was changed on any host/);
    for (const p of patterns) {
        assert.match(res.stderr, p);
    }
}

describe("existing cluster: the compatibility step against stubbed kubectl answers", () => {
    it("passes shellcheck", () => {
        for (const t of ["vxlan", "host-gw", "tor"] as const) {
            assert.strictEqual(shellcheck(ex.renderClusterCompatibility({ spec: topologySpec(t), podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", kubernetesVersion: "1.35.4", windowsNodes: [{ name: "win-a", podCidr: "10.244.2.0/24" }] })), "");
        }
    });

    it("a compatible cluster: one facts line the parser reads; a second run gives the same answer; only reads", () => {
        const { sb, script, res } = check(goodCluster());
        assert.strictEqual(res.code, 0, res.stderr);
        const facts = ex.parseClusterFacts(res.stdout);
        assert.deepStrictEqual(facts, {
            podCidr: "10.244.0.0/16",
            serviceCidr: "10.96.0.0/12",
            version: "1.35.4",
            allocatesNodeCidrs: true,
            nodeCidrMaskSize: 24,
            flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", backend: "vxlan", vni: 4096, port: 4789 },
            nodes: [
                { name: "cp-1", podCidr: "10.244.0.0/24" },
                { name: "worker-1", podCidr: "10.244.1.0/24" },
            ],
        });
        const again = sb.run(script);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.strictEqual(again.stdout, res.stdout);
        for (const call of sb.calls("kubectl")) {
            assert.match(call, /^--kubeconfig \S+admin\.conf (-n \S+ )?get /, `read-only: ${call}`);
        }
    });

    it("flannel vxlan with VNI 1 and port 8472 (upstream's default net-conf) is refused with the exact fix", () => {
        const c = goodCluster();
        c.flannel!.netConf = netConf("10.244.0.0/16", { Type: "vxlan" });
        const { res } = check(c);
        refused(
            res,
            /flannel runs vxlan with VNI 1 and port 8472 \(kube-flannel\/kube-flannel-cfg\)/,
            /flanneld on Windows takes only VNI >= 4096 and port 4789 \(flannel-io\/flannel pkg\/backend\/vxlan\/vxlan_windows\.go\)/,
            /set Backend to \{"Type": "vxlan", "VNI": 4096, "Port": 4789\} in net-conf\.json \(kubectl -n kube-flannel edit configmap kube-flannel-cfg\)/,
            /kubectl -n kube-flannel rollout restart daemonset kube-flannel-ds/,
            /ip link delete flannel\.1/,
            /allow UDP 4789 between all nodes/,
            /pods on different Linux nodes lose connectivity to each other/,
        );
        // VNI right, port left to the Linux default: still refused, naming the port
        c.flannel!.netConf = netConf("10.244.0.0/16", { Type: "vxlan", VNI: 4096 });
        refused(check(c).res, /VNI 4096 and port 8472/);
        // keys in another case are the same keys to flannel (Go's JSON decoding)
        c.flannel!.netConf = JSON.stringify({ network: "10.244.0.0/16", backend: { type: "VXLAN", vni: 4096, port: 4789 } });
        assert.strictEqual(check(c).res.code, 0);
    });

    it("DirectRouting on the vxlan backend is refused (flanneld on Windows rejects it)", () => {
        const c = goodCluster();
        c.flannel!.netConf = netConf("10.244.0.0/16", { ...VXLAN_OK, DirectRouting: true });
        refused(check(c).res, /sets DirectRouting, which flanneld on Windows refuses/);
    });

    it("a pod CIDR other than the config's is refused, naming the value to set", () => {
        const c = goodCluster();
        c.clusterConfiguration = clusterConfiguration("10.32.0.0/16");
        c.controllerManager = controllerManager("10.32.0.0/16");
        c.flannel!.netConf = netConf("10.32.0.0/16", VXLAN_OK);
        refused(check(c).res, /the cluster's pod CIDR is 10\.32\.0\.0\/16 but hybrid-k8s:podCidr is 10\.244\.0\.0\/16; .* Fix: pulumi config set hybrid-k8s:podCidr 10\.32\.0\.0\/16/);
        // and the service CIDR
        const s = goodCluster();
        s.clusterConfiguration = clusterConfiguration("10.244.0.0/16", "10.100.0.0/16");
        refused(check(s).res, /Fix: pulumi config set hybrid-k8s:serviceCidr 10\.100\.0\.0\/16/);
    });

    it("a cluster that disagrees with itself (flannel's Network is not kubeadm's podSubnet) is refused", () => {
        const c = goodCluster();
        c.flannel!.netConf = netConf("10.245.0.0/16", VXLAN_OK);
        refused(check(c).res, /the cluster disagrees with itself: its pod CIDR is 10\.244\.0\.0\/16 but flannel's Network 10\.245\.0\.0\/16/);
    });

    it("no flannel where the topology needs it is refused, naming the network plugin that runs instead", () => {
        const c = goodCluster();
        delete c.flannel;
        c.daemonSets = ["kube-system/kube-proxy", "kube-system/calico-node"];
        refused(
            check(c).res,
            /the vxlan topology needs flannel, and no flannel DaemonSet \(label app=flannel\) runs in kube-flannel or kube-system \(the cluster runs kube-system\/calico-node/,
            /install flannel .* with net-conf\.json \{"Network": "10\.244\.0\.0\/16", "Backend": \{"Type": "vxlan", "VNI": 4096, "Port": 4789\}\}/,
        );
        refused(check(c, { topology: "host-gw" }).res, /"Backend": \{"Type": "host-gw"\}/);
        // tor needs no flannel: a cluster without one (and without another pod network) passes, and the facts say flannel is absent
        c.daemonSets = ["kube-system/kube-proxy"];
        const tor = check(c, { topology: "tor" }).res;
        assert.strictEqual(tor.code, 0, tor.stderr);
        assert.strictEqual(ex.parseClusterFacts(tor.stdout).flannel, null);
    });

    it("a topology other than flannel's backend is refused, naming the backend that runs", () => {
        refused(check(goodCluster(), { topology: "host-gw" }).res, /hybrid-k8s:topology is host-gw but flannel runs the vxlan backend .* Fix: pulumi config set hybrid-k8s:topology vxlan/);
        refused(check(goodCluster(), { topology: "tor" }).res, /the tor topology routes each node's pod \/24 through the switch, with no flannel, but flannel runs .* Fix: pulumi config set hybrid-k8s:topology vxlan/);
        const hg = goodCluster();
        hg.flannel = { namespace: "kube-system", daemonSet: "kube-flannel-ds-amd64", netConf: netConf("10.244.0.0/16", { Type: "host-gw" }) };
        const res = check(hg, { topology: "host-gw" }).res;
        assert.strictEqual(res.code, 0, res.stderr);
        assert.deepStrictEqual(ex.parseClusterFacts(res.stdout).flannel, { namespace: "kube-system", daemonSet: "kube-flannel-ds-amd64", backend: "host-gw", vni: null, port: null });
        const wg = goodCluster();
        wg.flannel!.netConf = netConf("10.244.0.0/16", { Type: "wireguard" });
        refused(check(wg).res, /flannel runs the wireguard backend, which flanneld on Windows does not have/);
    });

    it("a Kubernetes minor the scripts do not support is refused; so is a kubelet newer than the API server", () => {
        const old = goodCluster();
        old.version = "v1.31.2";
        refused(check(old, { kubernetesVersion: "1.33.1" }).res, /the cluster runs Kubernetes v1\.31\.2, but the scripts are written for 1\.33, 1\.34 and 1\.35 \(components\/versions\.ts\)/, /one minor at a time/);
        const newer = goodCluster();
        newer.version = "v1.36.0";
        refused(check(newer).res, /v1\.36\.0, but the scripts are written for/);
        const behind = goodCluster();
        behind.version = "v1.34.3";
        refused(check(behind).res, /hybrid-k8s:kubernetesVersion is 1\.35\.4 but the cluster runs v1\.34\.3: a kubelet must never be newer than the API server\. Fix: pulumi config set hybrid-k8s:kubernetesVersion 1\.34\.3/);
        assert.strictEqual(check(behind, { kubernetesVersion: "1.34.1" }).res.code, 0, "an older patch of the same minor joins");
    });

    it("controller-manager allocating /24s: the facts say so; other sizes are refused; no allocation is reported as such", () => {
        const res = check(goodCluster()).res;
        const facts = ex.parseClusterFacts(res.stdout);
        assert.strictEqual(facts.allocatesNodeCidrs, true);
        assert.strictEqual(facts.nodeCidrMaskSize, 24);
        const small = goodCluster();
        small.controllerManager = controllerManager("10.244.0.0/16", ["--node-cidr-mask-size=26"]);
        refused(check(small).res, /assigns each node a \/26 of the pod CIDR .* the stack lays out one \/24 per node/);
        // the stack's own init turns allocation off (extraArgs allocate-node-cidrs=false, last flag wins)
        const off = goodCluster();
        off.controllerManager = controllerManager("10.244.0.0/16", ["--allocate-node-cidrs=false"]);
        const offRes = check(off).res;
        assert.strictEqual(offRes.code, 0, offRes.stderr);
        assert.strictEqual(ex.parseClusterFacts(offRes.stdout).allocatesNodeCidrs, false);
        // no mirror pod: the flags come from the static pod manifest
        const manifest = goodCluster();
        delete manifest.controllerManager;
        const sb = sandbox();
        fakeCluster(sb, manifest);
        sb.run(`mkdir -p /etc/kubernetes/manifests && printf '    - kube-controller-manager\\n    - --allocate-node-cidrs=true\\n    - --cluster-cidr=10.244.0.0/16\\n    - --node-cidr-mask-size=24\\n' > /etc/kubernetes/manifests/kube-controller-manager.yaml`);
        const m = sb.run(ex.renderClusterCompatibility({ spec: topologySpec("vxlan"), podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", kubernetesVersion: "1.35.4" }));
        assert.strictEqual(m.code, 0, m.stderr);
        assert.strictEqual(ex.parseClusterFacts(m.stdout).allocatesNodeCidrs, true);
    });

    it("a planned Windows node whose /24 another node holds, or whose name has another podCIDR, is refused", () => {
        refused(check(goodCluster(), { windowsNodes: [{ name: "win-a", podCidr: "10.244.1.0/24" }] }).res, /node worker-1 already holds 10\.244\.1\.0\/24, the pod \/24 the stack plans for win-a/);
        const c = goodCluster();
        c.nodes["win-a"] = "10.244.7.0/24";
        refused(check(c, { windowsNodes: [{ name: "win-a", podCidr: "10.244.2.0/24" }] }).res, /node win-a is already in the cluster with podCIDR 10\.244\.7\.0\/24, but the stack plans 10\.244\.2\.0\/24/);
        assert.strictEqual(check(goodCluster(), { windowsNodes: [{ name: "win-a", podCidr: "10.244.2.0/24" }] }).res.code, 0);
    });

    /** A cluster a tor stack can join: kubeadm, no flannel, no other pod network. */
    function torCluster(): FakeCluster {
        const c = goodCluster();
        delete c.flannel;
        c.daemonSets = ["kube-system/kube-proxy"];
        return c;
    }

    /** The route lines of the step's output (what follows its tor heading), and every other line. */
    function torOutput(stdout: string): { table: string; rest: string[] } {
        const lines = stdout.split("\n");
        const at = lines.findIndex((l) => l.startsWith("tor: the routes to program on the top-of-rack switch"));
        assert.ok(at >= 0, stdout);
        const table = lines.slice(at + 1).filter((l) => /^(ip route|! |# )/.test(l));
        return { table: table.join("\n") + "\n", rest: lines.filter((l, i) => i <= at || !table.includes(l)) };
    }

    it("tor: prints the switch's whole route table, the cluster's own nodes (each spec.podCIDR via its InternalIP) and the planned Windows nodes, as torRouteTable writes it", () => {
        const c = torCluster();
        c.nodes = { "cp-1": "10.244.0.0/24", "worker-1": "10.244.1.0/24", "worker-10": "10.244.10.0/24", "win-b": "10.244.233.0/24", joining: "" };
        // dual-stack nodes list an IPv6 InternalIP too, in either order
        c.addresses = { "cp-1": "192.0.2.10", "worker-1": "192.0.2.11 fd00::11", "worker-10": "fd00::12 192.0.2.12", "win-b": "192.0.2.22", joining: "192.0.2.13" };
        // win-b joined on an earlier run: its route comes from its Node, once
        const windowsNodes = [
            { name: "win-a", podCidr: "10.244.234.0/24", address: "192.0.2.21" },
            { name: "win-b", podCidr: "10.244.233.0/24", address: "192.0.2.22" },
        ];
        const { sb, script, res } = check(c, { topology: "tor", windowsNodes });
        assert.strictEqual(res.code, 0, res.stderr);
        const want = ex.torRouteTable([
            { name: "cp-1", address: "192.0.2.10", podCidr: "10.244.0.0/24" },
            { name: "worker-1", address: "192.0.2.11", podCidr: "10.244.1.0/24" },
            { name: "worker-10", address: "192.0.2.12", podCidr: "10.244.10.0/24" },
            { name: "win-b", address: "192.0.2.22", podCidr: "10.244.233.0/24" },
            { name: "win-a", address: "192.0.2.21", podCidr: "10.244.234.0/24" },
        ]);
        // the same lines, under the same headings, as the plan's tor-routes.txt
        assert.strictEqual(torOutput(res.stdout).table, `! a switch (IOS-style)\n${want.ios}# a Linux router\n${want.linux}`);
        assert.match(res.stdout, /^ip route 10\.244\.1\.0 255\.255\.255\.0 192\.0\.2\.11 name worker-1$/m);
        assert.match(res.stdout, /^ip route replace 10\.244\.10\.0\/24 via 192\.0\.2\.12$/m);
        assert.match(res.stdout, /no route for node joining: it has no spec\.podCIDR/);
        // the stack's torRoutes outputs read the same table back from the step's output
        assert.deepStrictEqual(ex.torRoutesFromCheck(res.stdout), want);
        assert.strictEqual(ex.torRoutesFromCheck("ip route 10.0.0.0 255.0.0.0 192.0.2.1 name x; rm -rf /\n"), undefined);
        // the facts line is still there and parses
        assert.strictEqual(ex.parseClusterFacts(res.stdout).nodes.length, 5);
        assert.strictEqual(sb.run(script).stdout, res.stdout, "a second run prints the same");
        // other topologies print no route table
        const vx = check(goodCluster()).res;
        assert.strictEqual(vx.code, 0, vx.stderr);
        assert.doesNotMatch(vx.stdout, /ip route/);
    });

    it("tor: a cluster whose pods are networked by Calico, Cilium, Weave Net, Antrea or Canal is refused with the fix", () => {
        const fix = /Fix: use the topology that matches the cluster's network \(vxlan or host-gw, for a cluster that runs flannel: this stack's Windows nodes join no other network plugin\), or join them to a cluster whose Linux nodes route pods through the switch with the bridge and host-local CNI plugins/;
        for (const ds of ["kube-system/calico-node", "calico-system/calico-node", "kube-system/cilium", "kube-system/weave-net", "kube-system/antrea-agent", "kube-system/canal"]) {
            const c = torCluster();
            c.daemonSets = ["kube-system/kube-proxy", ds];
            refused(
                check(c, { topology: "tor" }).res,
                new RegExp(`the tor topology has the switch route each node's pod /24 to that node, .* this cluster's pods are networked by ${ds.replace(/[/.]/g, "\\$&")} - a network that carries pods its own way`),
                fix,
            );
        }
        // names are matched whole: a DaemonSet that only starts like one is not that network
        const other = torCluster();
        other.daemonSets = ["kube-system/kube-proxy", "monitoring/calico-node-exporter", "kube-system/cilium-envoy-x"];
        assert.strictEqual(check(other, { topology: "tor" }).res.code, 0);
        // kube-router's manifest gives pods the bridge and host-local plugins: not refused
        const kr = torCluster();
        kr.daemonSets = ["kube-system/kube-proxy", "kube-system/kube-router"];
        assert.strictEqual(check(kr, { topology: "tor" }).res.code, 0);
    });

    it("tor: node names, pod CIDRs and addresses from the cluster are checked before they are printed; a hostile one is never printed", () => {
        const c = torCluster();
        const hostile = [
            "evil$(touch${IFS}pwned)|10.244.5.0/24|192.0.2.15",
            "addr-1|10.244.6.0/24|192.0.2.16;reboot",
            "cidr-1|10.244.7.0/24 name x|192.0.2.17",
            "ip route 0.0.0.0 0.0.0.0 6.6.6.6|10.244.8.0/24|192.0.2.18",
            "hostbits|10.244.9.1/24|192.0.2.19",
            "UPPER|10.244.11.0/24|192.0.2.20",
            "`id`|10.244.12.0/24|192.0.2.23",
            "ok-1|10.244.4.0/24|192.0.2.14",
        ];
        c.nodeLines = hostile.join("\n") + "\n";
        const { sb, res } = check(c, { topology: "tor", windowsNodes: [{ name: "win-a", podCidr: "10.244.234.0/24", address: "192.0.2.21" }] });
        assert.strictEqual(res.code, 0, res.stderr);
        const { table, rest } = torOutput(res.stdout);
        assert.strictEqual(
            table,
            "! a switch (IOS-style)\nip route 10.244.4.0 255.255.255.0 192.0.2.14 name ok-1\nip route 10.244.234.0 255.255.255.0 192.0.2.21 name win-a\n# a Linux router\nip route replace 10.244.4.0/24 via 192.0.2.14\nip route replace 10.244.234.0/24 via 192.0.2.21\n",
        );
        // named by place or by its checked name; the rejected value itself never appears
        const said = rest.filter((l) => !l.startsWith(ex.CLUSTER_FACTS_PREFIX)).join("\n");
        for (const n of [1, 4, 6, 7]) {
            assert.match(said, new RegExp(`no route for the cluster's node number ${n}: its name is not a node name \\(not printed\\)`));
        }
        assert.match(said, /no route for node addr-1: it has no IPv4 InternalIP address/);
        assert.match(said, /no route for node cidr-1: its spec\.podCIDR is not an IPv4 network in CIDR form \(not printed\)/);
        assert.match(said, /no route for node hostbits: its spec\.podCIDR is not an IPv4 network in CIDR form \(not printed\)/);
        for (const bad of ["$(", "touch", "pwned", "reboot", "name x", "6.6.6.6", "10.244.9.1", "UPPER", "`"]) {
            assert.ok(!said.includes(bad), `${bad} is printed`);
        }
        assert.ok(!sb.exists("pwned"), "nothing from the cluster ran");
        // and a hostile Node name holding a planned /24 is refused without naming it
        const taken = torCluster();
        taken.nodeLines = "evil$(reboot)|10.244.234.0/24|192.0.2.15\n";
        const r = check(taken, { topology: "tor", windowsNodes: [{ name: "win-a", podCidr: "10.244.234.0/24", address: "192.0.2.21" }] }).res;
        refused(r, /a node whose name is not a node name \(not shown\) already holds 10\.244\.234\.0\/24, the pod \/24 the stack plans for win-a/);
        assert.ok(!r.stderr.includes("reboot"));
    });

    it("every problem is reported at once", () => {
        const c = goodCluster();
        c.version = "v1.34.0";
        c.flannel!.netConf = netConf("10.244.0.0/16", { Type: "vxlan" });
        const res = check(c, { serviceCidr: "10.100.0.0/16" }).res;
        refused(res, /kubernetesVersion is 1\.35\.4/, /service CIDR is 10\.96\.0\.0\/12/, /VNI 1 and port 8472/);
        assert.strictEqual(res.stderr.split("\n").filter((l) => l.startsWith("- ")).length, 3);
    });

    it("not a kubeadm control plane: no admin.conf, or no kubeadm-config, is refused before anything else", () => {
        const sb = sandbox();
        const res = sb.run(ex.renderClusterCompatibility({ spec: topologySpec("vxlan"), podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12", kubernetesVersion: "1.35.4" }));
        assert.strictEqual(res.code, 1);
        assert.match(res.stderr, /\/etc\/kubernetes\/admin\.conf is missing: hybrid-k8s:masterAddress must be a control-plane node/);
        const k3s = goodCluster();
        delete k3s.clusterConfiguration;
        refused(check(k3s).res, /no kube-system\/kubeadm-config ConfigMap: it was not made by kubeadm/);
    });

    it("an API server that does not answer fails the step (nothing read, nothing changed); the retry once it answers succeeds", () => {
        const c = goodCluster();
        const { sb, script } = check({ ...c, version: undefined });
        const down = sb.run(script);
        assert.strictEqual(down.code, 1);
        assert.match(down.stderr, /the cluster's API server does not answer \(kubectl get --raw \/version: The connection to the server .* was refused/);
        sb.run(`rm -f "$SANDBOX/cluster/down"; printf '{"gitVersion": "v1.35.4"}' > "$SANDBOX/cluster/version"`);
        const up = sb.run(script);
        assert.strictEqual(up.code, 0, up.stderr);
        assert.strictEqual(ex.parseClusterFacts(up.stdout).version, "1.35.4");
    });
});

describe("existing cluster: the facts parser and the pod /24s beside the cluster's", () => {
    const facts: ex.ClusterFacts = {
        podCidr: "10.244.0.0/16",
        serviceCidr: "10.96.0.0/12",
        version: "1.35.4",
        allocatesNodeCidrs: true,
        nodeCidrMaskSize: 24,
        flannel: null,
        nodes: [
            { name: "cp-1", podCidr: "10.244.0.0/24" },
            { name: "worker-1", podCidr: "10.244.1.0/24" },
            { name: "worker-3", podCidr: "10.244.3.0/24" },
            { name: "joining", podCidr: null },
        ],
    };

    it("parseClusterFacts refuses output without the facts line, or with malformed facts, naming what is wrong", () => {
        assert.throws(() => ex.parseClusterFacts("cluster v1.35.4: ..."), /has no "cluster-facts" line/);
        assert.throws(() => ex.parseClusterFacts(`${ex.CLUSTER_FACTS_PREFIX}{nope`), /not JSON/);
        assert.throws(() => ex.parseClusterFacts(`${ex.CLUSTER_FACTS_PREFIX}${JSON.stringify({ ...facts, podCidr: "10.244.0.1/16" })}`), /podCidr is not a CIDR block/);
        assert.throws(() => ex.parseClusterFacts(`${ex.CLUSTER_FACTS_PREFIX}${JSON.stringify({ ...facts, flannel: { namespace: "x", daemonSet: "y", backend: "udp", vni: null, port: null } })}`), /flannel\.backend is neither vxlan nor host-gw/);
        assert.deepStrictEqual(ex.parseClusterFacts(`before\n${ex.CLUSTER_FACTS_PREFIX}${JSON.stringify(facts)}\n`), facts);
    });

});

describe("existing master: the undo of a control plane the stack initialised", () => {
    const plan = defaultAddresses(1);
    const init = linux.renderMasterInit({
        kubernetesVersion: "1.35.4",
        master: plan.master,
        podCidr: plan.podCidr,
        serviceCidr: plan.serviceCidr,
        publicIp: "20.0.0.1",
        tor: { cniConfig: torBridgeConf(plan.master, "cbr0"), masqueradeScript: torMasqueradeScript(plan.podCidr, plan.vnetCidr) },
    });
    const undo = ex.renderMasterUndo();
    const USER_RULES = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A FORWARD -o docker0 -j DOCKER\nCOMMIT\n";

    /** A master after init, with what flannel, kube-proxy and the tor bridge leave on it. */
    function setUp(): Sandbox {
        const sb = sandbox();
        controlPlaneFakes(sb);
        assert.strictEqual(sb.run(init).code, 0);
        sb.fake("ip", `case "$1 $2" in
  "link show") [ -e "$SANDBOX/links/$3" ] ;;
  "link delete") rm "$SANDBOX/links/$3" ;;
  *) exit 2 ;;
esac`);
        for (const t of ["iptables", "ip6tables"]) {
            sb.fake(`${t}-save`, `cat "$SANDBOX/${t}.rules"`);
            sb.fake(`${t}-restore`, `echo ${t} >> "$SANDBOX/restores"; cat > "$SANDBOX/${t}.rules"`);
        }
        sb.run(`mkdir -p "$SANDBOX/links" /etc/cni/net.d /run/flannel /var/lib/cni/networks/cbr0 /var/lib/cni/results
touch "$SANDBOX/links/flannel.4096" "$SANDBOX/links/cni0" "$SANDBOX/links/cbr0" "$SANDBOX/links/eth0"
echo '{}' > /etc/cni/net.d/10-flannel.conflist; echo '{}' > /etc/cni/net.d/99-other.conf
echo FLANNEL_SUBNET=10.244.0.1/24 > /run/flannel/subnet.env
echo c1 > /var/lib/cni/networks/cbr0/10.244.0.5; echo '{}' > /var/lib/cni/results/cbr0-c1-eth0; echo '{}' > /var/lib/cni/results/other-c2-eth0
printf '*nat\\n:KUBE-SERVICES - [0:0]\\n:HYBRID-K8S-MASQ - [0:0]\\n-A POSTROUTING -s 10.244.0.0/16 -j HYBRID-K8S-MASQ\\n-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG\\n-A PREROUTING -j KUBE-SERVICES\\nCOMMIT\\n${USER_RULES.replace(/\n/g, "\\n")}' > "$SANDBOX/iptables.rules"
printf '${USER_RULES.replace(/\n/g, "\\n")}' > "$SANDBOX/ip6tables.rules"`);
        return sb;
    }

    it("passes shellcheck", () => {
        assert.strictEqual(shellcheck(undo), "");
    });

    it("on a set-up master: resets, removes the stack's files, CNI state, devices and rules, keeps everything else; a second run changes nothing", () => {
        const sb = setUp();
        const first = sb.run(undo);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset"]);
        for (const gone of ["etc/kubernetes/hybrid-k8s", "etc/kubernetes/kubeadm.yaml", "etc/kubernetes/admin.conf", "etc/cni/net.d/10-tor-bridge.conflist", "etc/cni/net.d/10-flannel.conflist", "usr/local/sbin/hybrid-k8s-masquerade", "etc/systemd/system/hybrid-k8s-masquerade.service", "run/flannel", "var/lib/cni/networks/cbr0", "var/lib/cni/results/cbr0-c1-eth0", "links/flannel.4096", "links/cni0", "links/cbr0"]) {
            assert.ok(!sb.exists(gone), `${gone} is removed`);
        }
        for (const kept of ["etc/cni/net.d/99-other.conf", "var/lib/cni/results/other-c2-eth0", "links/eth0"]) {
            assert.ok(sb.exists(kept), `${kept} is not the stack's and stays`);
        }
        assert.strictEqual(sb.file("iptables.rules"), `*nat\nCOMMIT\n${USER_RULES}`, "only the Kubernetes rules went");
        assert.strictEqual(sb.file("ip6tables.rules"), USER_RULES);
        assert.ok(sb.calls("systemctl").some((c) => c.startsWith("disable --now hybrid-k8s-masquerade.service")));
        const second = sb.run(undo);
        assert.strictEqual(second.code, 0, second.stderr);
        assert.strictEqual(second.stdout.trim(), "nothing to undo on this master");
        assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset"], "no second reset");
        assert.strictEqual(sb.file("restores"), "iptables\n", "the rules are rewritten once, and only where they had Kubernetes rules");
    });

    it("the undone master is usable: kubeadm init runs on it again", () => {
        const sb = setUp();
        assert.strictEqual(sb.run(undo).code, 0);
        const again = sb.run(init);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset", "init"]);
        assert.ok(sb.exists("etc/kubernetes/hybrid-k8s/init-complete"));
    });

    it("a half-initialised master (init failed after its kubeconfig phase) is undone too", () => {
        const sb = sandbox();
        controlPlaneFakes(sb);
        sb.run(`echo kubeconfig > "$SANDBOX/fail-after"`);
        assert.notStrictEqual(sb.run(init).code, 0);
        const res = sb.run(undo);
        assert.strictEqual(res.code, 0, res.stderr);
        assert.deepStrictEqual(kubeadmCalls(sb), ["init", "reset"]);
        assert.ok(!sb.exists("etc/kubernetes/admin.conf") && !sb.exists("etc/kubernetes/kubeadm.yaml"));
        assert.strictEqual(sb.run(undo).stdout.trim(), "nothing to undo on this master");
    });

    it("an undo that fails half way (kubeadm reset fails) fails the step; the retry finishes it", () => {
        const sb = setUp();
        sb.fake("kubeadm", `echo "[reset] could not unmount /var/lib/kubelet" >&2; exit 1`);
        const failed = sb.run(undo);
        assert.notStrictEqual(failed.code, 0);
        assert.ok(sb.exists("etc/kubernetes/hybrid-k8s"), "nothing after the reset ran");
        controlPlaneFakes(sb);
        const retry = sb.run(undo);
        assert.strictEqual(retry.code, 0, retry.stderr);
        assert.ok(!sb.exists("etc/kubernetes/hybrid-k8s") && !sb.exists("etc/kubernetes/admin.conf"));
    });
});

describe("tor: the routes a top-of-rack switch needs", () => {
    const nodes: ex.TorNode[] = [
        { name: "win-b", address: "192.0.2.22", podCidr: "10.244.2.0/24" },
        { name: "master", address: "192.0.2.10", podCidr: "10.244.0.0/24" },
        { name: "win-a", address: "192.0.2.21", podCidr: "10.244.1.0/24" },
    ];

    it("IOS-style and iproute2 lines, one per node, sorted by destination", () => {
        const t = ex.torRouteTable(nodes);
        assert.strictEqual(
            t.ios,
            "ip route 10.244.0.0 255.255.255.0 192.0.2.10 name master\nip route 10.244.1.0 255.255.255.0 192.0.2.21 name win-a\nip route 10.244.2.0 255.255.255.0 192.0.2.22 name win-b\n",
        );
        assert.strictEqual(t.linux, "ip route replace 10.244.0.0/24 via 192.0.2.10\nip route replace 10.244.1.0/24 via 192.0.2.21\nip route replace 10.244.2.0/24 via 192.0.2.22\n");
        assert.deepStrictEqual(t.routes[1], { name: "win-a", prefix: "10.244.1.0/24", network: "10.244.1.0", mask: "255.255.255.0", nextHop: "192.0.2.21" });
        assert.strictEqual(ex.torRouteTable([{ name: "big", address: "192.0.2.9", podCidr: "10.8.0.0/13" }]).routes[0].mask, "255.248.0.0");
    });

    it("the same routes as the Azure route table of the address plan", () => {
        const plan = defaultAddresses(3);
        const t = ex.torRouteTable([plan.master, ...plan.windows].map((n) => ({ name: n.name, address: n.privateIp, podCidr: n.podCidr })));
        assert.deepStrictEqual(
            t.routes.map((r) => [r.prefix, r.nextHop]),
            podRoutes(plan).map((r) => [r.addressPrefix, r.nextHopIpAddress]),
        );
    });

    it("refuses what a switch cannot take, naming the node", () => {
        assert.throws(() => ex.torRouteTable([...nodes, { name: "win-c", address: "192.0.2.23", podCidr: "10.244.1.128/25" }]), /win-a and win-c: their pod subnets 10\.244\.1\.0\/24 and 10\.244\.1\.128\/25 overlap/);
        assert.throws(() => ex.torRouteTable([{ name: "win-a", address: "10.244.0.7", podCidr: "10.244.0.0/24" }]), /win-a: its address 10\.244\.0\.7 is inside the pod subnet 10\.244\.0\.0\/24 of win-a/);
        assert.throws(() => ex.torRouteTable([{ name: "win-a", address: "192.0.2.21", podCidr: "10.244.1.1/24" }]), /win-a: '10\.244\.1\.1\/24' is not a network address/);
        assert.throws(() => ex.torRouteTable([{ name: "win-a", address: "192.0.2.300", podCidr: "10.244.1.0/24" }]), /'192\.0\.2\.300' is not an IPv4 address/);
        assert.throws(() => ex.torRouteTable([nodes[0], nodes[0]]), /win-b: the name appears twice/);
        assert.throws(() => ex.torRouteTable([{ name: "win a", address: "192.0.2.21", podCidr: "10.244.1.0/24" }]), /a route name is letters/);
    });
});
