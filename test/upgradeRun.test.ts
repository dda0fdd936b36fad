// A Windows node's part of an upgrade, run by PowerShell against a stubbed Windows (test/pwsh):
// prepare-runtime on a node that has joined stages the new agent binaries instead of swapping
// them; the node's `-upgrade` step swaps them (files locked by running agents), runs `kubeadm
// upgrade node` with the new kubeadm and restarts the agents. First run, second run (changes
// nothing), a failure half way and a retry; what prepare-runtime stages is what the drain reads.
import * as assert from "assert";
import { windowsCniConf } from "../components/manifests/cni";
import { parseStaged, renderNodeUpgrade, stagedStdin } from "../components/scripts/upgrade";
import * as win from "../components/scripts/windows";
import { topologySpec } from "../components/topology";
import { defaultAddresses, VERSIONS } from "./fixtures";
import { calls, changes, ok, StubWindows } from "./pwsh/machine";
import { parseScripts } from "./pwsh/pwsh";
import { NATIVE_PROGRAMS, WINDOWS_51_COMMANDS } from "./pwsh/windows51";

const plan = defaultAddresses(2);
const node = plan.windows[0];
const spec = topologySpec("vxlan");
const HASH = `sha256:${"ab".repeat(32)}`;
const stdin = JSON.stringify({ joinCommand: `kubeadm join 10.240.0.4:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${HASH}`, kubeProxy: "kube-proxy-kubeconfig", flannel: "flannel-kubeconfig" });
const NEWER: win.WindowsVersions = { ...VERSIONS, kubernetesVersion: "1.35.5", containerdVersion: "2.1.5", flannelVersion: "0.27.5" };
const AGENTS = ["containerd", "flanneld", "kubelet", "kube-proxy"];

function runtime(versions: win.WindowsVersions): string {
    const cniConfig = windowsCniConf({ spec, node, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, vnetCidr: plan.vnetCidr });
    return win.renderPrepareRuntime({ spec, node, versions, cniConfig, prePull: [] });
}
function join(versions: win.WindowsVersions): string {
    return win.renderJoin({ spec, node, kubernetesVersion: versions.kubernetesVersion, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, dnsServiceIp: plan.dnsServiceIp, flannelNetConf: "{}" });
}
const nodeUpgrade = (versions: win.WindowsVersions) => renderNodeUpgrade({ node: node.name, versions });

let base: { fresh: StubWindows; joined: StubWindows } | undefined;
/** A node ready for its runtime step (fresh), and one that has joined at VERSIONS (copies). */
function machines(): { fresh: StubWindows; joined: StubWindows } {
    if (!base) {
        const m = new StubWindows(spec.windowsNetworkName);
        ok(m.run(win.renderOpenSshSetup("ssh-ed25519 AAAA test")), "openssh");
        ok(m.run(win.renderPrepareFeatures({ spec })), "features");
        m.boot();
        ok(m.run(win.renderFeaturesReady()), "features-ready");
        const fresh = m.clone();
        ok(m.run(runtime(VERSIONS)), "prepare-runtime");
        ok(m.run(join(VERSIONS), stdin), "join");
        base = { fresh, joined: m };
    }
    return { fresh: base.fresh.clone(), joined: base.joined.clone() };
}
const exe = (m: StubWindows, f: string) => m.file(f) ?? "";
const running = (m: StubWindows) => AGENTS.filter((s) => m.state.services[s]?.status === "Running");

describe("a Windows node's upgrade under PowerShell against a stubbed Windows", function () {
    this.timeout(300000);

    it("the node's upgrade script parses, with only Windows PowerShell 5.1 syntax and commands", () => {
        const report = parseScripts({ "node-upgrade": nodeUpgrade(NEWER), "prepare-runtime": runtime(NEWER) });
        assert.deepStrictEqual(report.errors, []);
        assert.deepStrictEqual(report.syntax, []);
        const unknown = report.commands
            .filter((c) => !c.defined && !NATIVE_PROGRAMS.has(c.name))
            .flatMap((c) => {
                const known = WINDOWS_51_COMMANDS[c.name]?.parameters;
                if (!known) return c.name.startsWith("Get-Hns") || c.name.startsWith("New-Hns") ? [] : [`${c.name}`];
                return c.parameters.filter((p) => !known.some((k) => k.toLowerCase() === p.toLowerCase())).map((p) => `${c.name} -${p}`);
            });
        assert.deepStrictEqual(unknown, []);
    });

    it("prepare-runtime on a joined node stages the changed agent binaries and says so; nothing running changes; a second run downloads nothing", () => {
        const { joined: m } = machines();
        const kubelet = exe(m, "C:\\k\\kubelet.exe");
        const first = m.run(runtime(NEWER));
        ok(first, "prepare-runtime (new versions)");
        assert.deepStrictEqual(calls(first, "Restart-Service"), [], "no agent restarts");
        assert.deepStrictEqual(calls(first, "service-stopped"), []);
        assert.strictEqual(exe(m, "C:\\k\\kubelet.exe"), kubelet, "kubelet.exe unchanged");
        assert.match(exe(m, "C:\\Program Files\\containerd\\containerd.exe"), /v2\.1\.4/);
        const names = parseStaged(first.stdout);
        assert.deepStrictEqual(new Set(names), new Set(["kubelet.exe", "kubeadm.exe", "kube-proxy.exe", "containerd.exe", "ctr.exe", "containerd-shim-runhcs-v1.exe", "flanneld.exe"]));
        assert.match(first.stdout, /runtime ready; staged for k8s-win-1-upgrade \(containerd 2\.1\.5, kubernetes 1\.35\.5\): /);
        assert.strictEqual(stagedStdin(first.stdout), `${names.join(" ")}\n`);
        assert.match(m.file("C:\\k\\versions.json")!, /"kubernetesVersion":"1\.35\.4"/, "the installed versions stay recorded");
        assert.ok(m.file(win.STAGING_PLAN));
        for (const s of AGENTS) assert.strictEqual(m.state.services[s].status, "Running", s);

        const second = m.run(runtime(NEWER));
        ok(second, "prepare-runtime again");
        assert.deepStrictEqual(changes(second), []);
        assert.match(second.stdout, /binaries already staged/);
        assert.deepStrictEqual(parseStaged(second.stdout), names, "the drain reads the same list");
    });

    it("prepare-runtime on a fresh node installs the new versions directly: nothing staged", () => {
        const { fresh: m } = machines();
        const r = m.run(runtime(NEWER));
        ok(r, "prepare-runtime");
        assert.deepStrictEqual(parseStaged(r.stdout), []);
        assert.match(r.stdout, /staged: none/);
        assert.match(exe(m, "C:\\k\\kubelet.exe"), /v1\.35\.5/);
        assert.strictEqual(m.file(win.STAGING_PLAN), undefined);
        const up = m.run(nodeUpgrade(NEWER));
        ok(up, "node upgrade");
        assert.match(up.stdout, /nothing staged on k8s-win-1: no upgrade/);
        assert.deepStrictEqual(changes(up), []);
    });

    it("staging cut short by a failed download leaves no plan; the retry stages everything", () => {
        const { joined: m } = machines();
        m.set((st) => st.failUrls.push("flanneld.exe"));
        const failed = m.run(runtime(NEWER));
        assert.strictEqual(failed.code, 1);
        assert.strictEqual(m.file(win.STAGING_PLAN), undefined);
        assert.strictEqual(m.file("C:\\k\\staged\\0-kubelet.exe"), undefined, "nothing is staged before every download is checked");
        m.set((st) => (st.failUrls = []));
        const retry = m.run(runtime(NEWER));
        ok(retry, "retry");
        assert.strictEqual(parseStaged(retry.stdout).length, 7);
    });

    it("the node's upgrade: kubeadm first and `kubeadm upgrade node` with it, the locked binaries swapped under the running agents, the agents restarted; a second run changes nothing", () => {
        const { joined: m } = machines();
        ok(m.run(runtime(NEWER)), "stage");
        const first = m.run(nodeUpgrade(NEWER));
        ok(first, "node upgrade");
        // kubeadm upgrade node ran with the new kubeadm, before any agent binary changed
        assert.match(m.state.kubeadmUpgradeBy ?? "", /dl\.k8s\.io\/v1\.35\.5\/bin\/windows\/amd64\/kubeadm\.exe/);
        const order = first.calls.filter((c) => c.cmd === "install" || c.cmd === "kubeadm.exe").map((c) => (c.cmd === "install" ? c.args[0].split("\\").pop() : `kubeadm ${c.args.join(" ")}`));
        assert.deepStrictEqual(order.slice(0, 2), ["kubeadm.exe", "kubeadm upgrade node"]);
        assert.strictEqual(order.length, 8);
        // every agent binary was swapped while its agent ran (a copy over a running binary fails in the stub)
        const firstRestart = first.calls.findIndex((c) => c.cmd === "Restart-Service" || c.cmd === "service-stopped");
        const lastInstall = first.calls.map((c) => c.cmd).lastIndexOf("install");
        assert.ok(lastInstall < firstRestart, "every file is in place before any agent restarts");
        assert.deepStrictEqual(new Set(calls(first, "Restart-Service").map((a) => a[0])), new Set(["containerd", "flanneld", "kubelet", "kube-proxy"]));
        assert.deepStrictEqual(running(m), AGENTS, "every agent runs again");
        assert.match(exe(m, "C:\\k\\kubelet.exe"), /v1\.35\.5/);
        assert.match(exe(m, "C:\\k\\kube-proxy.exe"), /v1\.35\.5/);
        assert.match(exe(m, "C:\\k\\flanneld.exe"), /v0\.27\.5/);
        assert.match(exe(m, "C:\\Program Files\\containerd\\containerd.exe"), /v2\.1\.5/);
        assert.match(m.file("C:\\var\\lib\\kubelet\\config.yaml")!, /v1\.35\.5/);
        assert.strictEqual(m.file("C:\\k\\versions.json")!.trim(), win.versionsStamp(NEWER));
        assert.strictEqual(m.file(win.STAGING_PLAN), undefined);
        assert.match(first.stdout, /k8s-win-1 upgraded: /);

        const second = m.run(nodeUpgrade(NEWER));
        ok(second, "node upgrade again");
        assert.deepStrictEqual(changes(second), []);
        const again = m.run(runtime(NEWER));
        ok(again, "prepare-runtime after the upgrade");
        assert.deepStrictEqual(changes(again), []);
        assert.deepStrictEqual(parseStaged(again.stdout), [], "nothing staged any more: the next drain is a no-op");
    });

    it("a copy that fails half way puts the old file back, leaves every agent running on its old binary, keeps the plan; the retry finishes", () => {
        const { joined: m } = machines();
        ok(m.run(runtime(NEWER)), "stage");
        const plan = JSON.parse(m.file(win.STAGING_PLAN)!) as { items: Array<{ name: string; target: string }> };
        const second = plan.items.find((i) => i.name !== "kubeadm.exe")!;
        const before = exe(m, second.target);
        // the stub fails the first copy after kubeadm's (the failure is set where the agent binaries' swap starts)
        const withFailure = nodeUpgrade(NEWER).replace("foreach ($i in @($items | Where-Object name -NE 'kubeadm.exe'))", "$W.fail | Add-Member -Force copy 1\nforeach ($i in @($items | Where-Object name -NE 'kubeadm.exe'))");
        assert.notStrictEqual(withFailure, nodeUpgrade(NEWER));
        const failed = m.run(withFailure);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /There is not enough space on the disk/);
        assert.strictEqual(exe(m, second.target), before, `${second.name} is the old one again`);
        assert.deepStrictEqual(calls(failed, "Restart-Service"), [], "nothing restarted on a half-swapped set");
        assert.deepStrictEqual(running(m), AGENTS);
        assert.ok(m.file(win.STAGING_PLAN), "the plan stays for the retry");
        assert.match(m.file("C:\\k\\versions.json")!, /1\.35\.4/);

        const retry = m.run(nodeUpgrade(NEWER));
        ok(retry, "retry");
        assert.deepStrictEqual(calls(retry, "install").map((a) => a[0].split("\\").pop()).includes("kubeadm.exe"), false, "kubeadm.exe is in place already");
        assert.deepStrictEqual(new Set(calls(retry, "Restart-Service").map((a) => a[0])), new Set(["containerd", "flanneld", "kubelet", "kube-proxy"]));
        assert.match(exe(m, "C:\\k\\kubelet.exe"), /v1\.35\.5/);
        assert.strictEqual(m.file(win.STAGING_PLAN), undefined);
        assert.deepStrictEqual(running(m), AGENTS);
    });

    it("`kubeadm upgrade node` failing stops the upgrade before any agent binary changes; the retry runs it again and finishes", () => {
        const { joined: m } = machines();
        ok(m.run(runtime(NEWER)), "stage");
        const kubelet = exe(m, "C:\\k\\kubelet.exe");
        m.set((st) => (st.fail["kubeadm-upgrade"] = 1));
        const failed = m.run(nodeUpgrade(NEWER));
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /kubeadm upgrade node \(see C:\\var\\log\\kubernetes\\kubeadm-upgrade\.log on k8s-win-1\) failed with exit code 1/);
        assert.strictEqual(exe(m, "C:\\k\\kubelet.exe"), kubelet);
        assert.deepStrictEqual(running(m), AGENTS);
        const retry = m.run(nodeUpgrade(NEWER));
        ok(retry, "retry");
        assert.deepStrictEqual(calls(retry, "kubeadm.exe"), [["upgrade", "node"]]);
        assert.match(exe(m, "C:\\k\\kubelet.exe"), /v1\.35\.5/);
    });

    it("a containerd minor with a new config format: the config is staged too and swapped in the window; a flannel-only change does not run kubeadm upgrade node", () => {
        const { joined: m } = machines();
        const older = { ...VERSIONS, containerdVersion: "2.0.6" };
        const mo = m.clone();
        // a node that runs containerd 2.0 (its config says bin_dir), moving to 2.1 (bin_dirs)
        ok(mo.run(runtime(older)), "stage 2.0");
        ok(mo.run(nodeUpgrade(older)), "window to 2.0");
        assert.match(mo.file("C:\\Program Files\\containerd\\config.toml")!, /bin_dir = /);
        const staged = mo.run(runtime(VERSIONS));
        ok(staged, "stage 2.1");
        assert.ok(parseStaged(staged.stdout).includes("config.toml"));
        assert.match(mo.file("C:\\Program Files\\containerd\\config.toml")!, /bin_dir = /, "the running containerd keeps its config");
        const up = mo.run(nodeUpgrade(VERSIONS));
        ok(up, "window to 2.1");
        assert.match(mo.file("C:\\Program Files\\containerd\\config.toml")!, /bin_dirs = /);
        assert.deepStrictEqual(calls(up, "kubeadm.exe"), [], "the Kubernetes version did not change");

        const flannel = { ...VERSIONS, flannelVersion: "0.27.5" };
        const st = m.run(runtime(flannel));
        ok(st, "stage flannel");
        assert.deepStrictEqual(parseStaged(st.stdout), ["flanneld.exe"]);
        const fl = m.run(nodeUpgrade(flannel));
        ok(fl, "flannel window");
        assert.deepStrictEqual(calls(fl, "kubeadm.exe"), []);
        assert.deepStrictEqual(calls(fl, "Restart-Service").map((a) => a[0]), ["flanneld"]);
        assert.deepStrictEqual(running(m), AGENTS, "its dependents run again");
    });

    it("a version set changed again before the window: the old staging is dropped and the new one staged; an upgrade step for another set refuses", () => {
        const { joined: m } = machines();
        ok(m.run(runtime(NEWER)), "stage 1.35.5");
        const refused = m.run(nodeUpgrade({ ...NEWER, kubernetesVersion: "1.35.6" }));
        assert.strictEqual(refused.code, 1);
        assert.match(refused.stderr, /what is staged on k8s-win-1 is for another version set/);
        const newest = { ...NEWER, kubernetesVersion: "1.35.6" };
        const restage = m.run(runtime(newest));
        ok(restage, "stage 1.35.6");
        assert.match(restage.stdout, /dropped what was staged for an earlier version set/);
        ok(m.run(nodeUpgrade(newest)), "window");
        assert.match(exe(m, "C:\\k\\kubelet.exe"), /v1\.35\.6/);
    });
});
