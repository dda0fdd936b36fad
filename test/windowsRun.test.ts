// Every Windows step run by PowerShell against a stubbed Windows (test/pwsh): the first run does
// what the step promises, a second run on the result changes nothing, and a failure half way
// fails the step naming what failed and leaves nothing behind that blocks the retry.
import * as assert from "assert";
import * as win from "../components/scripts/windows";
import { topologySpec } from "../components/topology";
import { hostileSshKey, VERSIONS } from "./fixtures";
import { calls, changes, ok, StubWindows } from "./pwsh/machine";
import { HASH, JOIN, node, nodeUpTo, plan, scripts, stdin } from "./pwsh/nodes";

describe("Windows steps run under PowerShell against a stubbed Windows", function () {
    this.timeout(120000);

    it("openssh: installs sshd with PowerShell as its shell and the key as data, restricted before written; a re-run changes nothing", () => {
        const s = scripts("vxlan");
        const m = new StubWindows(s.spec.windowsNetworkName, { services: {} });
        const first = m.run(s.openssh);
        ok(first, "openssh");
        assert.deepStrictEqual(calls(first, "Add-WindowsCapability"), [["OpenSSH.Server~~~~0.0.1.0"]]);
        assert.strictEqual(m.file("C:\\ProgramData\\ssh\\administrators_authorized_keys"), `${hostileSshKey()}\n`);
        assert.deepStrictEqual(calls(first, "icacls.exe"), [["C:\\ProgramData\\ssh\\administrators_authorized_keys", "0"]], "the ACL is set while the file is empty");
        assert.match(m.state.registry["HKLM:\\SOFTWARE\\OpenSSH\\DefaultShell"], /WindowsPowerShell\\v1\.0\\powershell\.exe$/);
        assert.strictEqual(m.state.services.sshd.status, "Running");
        const order = first.calls.map((c) => c.cmd).filter((c) => c === "service-started" || c === "icacls.exe");
        assert.deepStrictEqual(order, ["service-started", "icacls.exe"], "sshd starts (and makes its folder) before the key file exists");
        assert.ok(!first.stdout.includes("pwned"), "nothing in the key comment ran");
        const second = m.run(s.openssh);
        ok(second, "openssh again");
        assert.deepStrictEqual(changes(second), []);
    });

    it("prepare-features → reboot → features-ready: the reboot is proven, and the External network comes from the boot task", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "features");
        const first = m.run(s.features);
        ok(first, "prepare-features");
        assert.deepStrictEqual(calls(first, "Install-WindowsFeature"), [["Containers"]]);
        assert.strictEqual(m.state.services.sshd.status, "Stopped", "sshd is down before the step returns: no poll reaches the old boot");
        assert.ok(m.state.rebootPending);
        assert.ok(m.state.firewall.includes("hybrid-k8s-vxlan") && m.state.routes.includes("169.254.169.254/32"));
        assert.deepStrictEqual(calls(first, "New-HnsNetwork"), [], "no HNS network while a session depends on the NIC");

        const early = m.run(s.featuresReady);
        assert.strictEqual(early.code, 1);
        assert.match(early.stderr, /the Containers feature is InstallPending: the node has not rebooted yet/);

        const boot = m.boot();
        assert.deepStrictEqual(calls(boot, "New-HnsNetwork")[0].slice(0, 2), ["Overlay", "External"]);
        ok(m.run(s.featuresReady), "features-ready");

        const again = m.run(s.features);
        ok(again, "prepare-features again");
        assert.deepStrictEqual(changes(again), []);
        assert.ok(!m.state.rebootPending);
    });

    it("the boot task waits out an HNS that is still starting", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "features");
        ok(m.run(s.features), "prepare-features");
        m.set((st) => (st.fail["New-HnsNetwork"] = 2));
        const boot = m.boot();
        assert.strictEqual(calls(boot, "New-HnsNetwork").length, 3);
        ok(m.run(s.featuresReady), "features-ready");
    });

    it("features-ready refuses a node whose boot time did not change (a poll that slipped in before the reboot)", () => {
        const s = scripts("host-gw");
        const m = nodeUpTo("host-gw", "features");
        ok(m.run(s.features), "prepare-features");
        m.set((st) => {
            st.features.Containers = "Installed";
        });
        const run = m.run(s.featuresReady);
        assert.strictEqual(run.code, 1);
        assert.match(run.stderr, /has not rebooted yet \(its boot time is the one recorded/);
    });

    it("prepare-features: a download that fails once is tried again within the step", () => {
        const s = scripts("tor");
        const m = nodeUpTo("tor", "features");
        m.set((st) => (st.fail.curl = 1));
        const run = m.run(s.features);
        ok(run, "prepare-features");
        assert.strictEqual(calls(run, "curl.exe").filter((a) => a[0].endsWith("hns.psm1")).length, 2);
    });

    it("prepare-features: a failed download of hns.psm1 fails naming it and the retry succeeds", () => {
        const s = scripts("tor");
        const m = nodeUpTo("tor", "features");
        m.set((st) => st.failUrls.push("hns.psm1"));
        const failed = m.run(s.features);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /download of https:\/\/raw\.githubusercontent\.com\/microsoft\/SDN\/[0-9a-f]+\/Kubernetes\/windows\/hns\.psm1 failed/);
        assert.strictEqual(m.file("C:\\k\\hns.psm1"), undefined);
        m.set((st) => (st.failUrls = []));
        ok(m.run(s.features), "retry");
        assert.ok(m.file("C:\\k\\hns.psm1")!.includes("function New-HnsNetwork"), "the pinned module, checked against its SHA-256");
    });

    it("prepare-runtime: installs and starts containerd; a re-run downloads, installs and restarts nothing", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "runtime");
        const first = m.run(s.runtime);
        ok(first, "prepare-runtime");
        const restricted = calls(first, "icacls.exe").map((a) => a[0]);
        for (const d of ["C:\\k", "C:\\opt", "C:\\etc", "C:\\var\\lib", "C:\\run"]) {
            assert.ok(restricted.includes(d), `${d} is restricted to Administrators and SYSTEM`);
        }
        assert.ok(calls(first, "curl.exe").length >= 10);
        assert.strictEqual(m.state.services.containerd.status, "Running");
        assert.strictEqual(m.state.services.containerd.start, "Automatic");
        for (const f of ["C:\\k\\kubelet.exe", "C:\\k\\kubeadm.exe", "C:\\Program Files\\containerd\\containerd.exe", "C:\\opt\\cni\\bin\\flannel.exe", "C:\\opt\\cni\\bin\\sdnoverlay.exe", "C:\\Program Files\\nssm\\nssm.exe"]) {
            assert.ok(m.file(f), `${f} installed`);
        }
        assert.ok(m.state.images.includes(win.PAUSE_IMAGE));
        assert.ok(m.state.images.includes("mcr.microsoft.com/windows/servercore:ltsc2022"), "the background pull ran");
        assert.match(m.file("C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf")!, /"sdnoverlay"/);
        const second = m.run(s.runtime);
        ok(second, "prepare-runtime again");
        assert.deepStrictEqual(changes(second), []);
    });

    it("prepare-runtime: a failing download fails the step naming it, installs nothing, and the retry succeeds", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "runtime");
        m.set((st) => st.failUrls.push("kube-proxy.exe"));
        const failed = m.run(s.runtime);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /download of https:\/\/dl\.k8s\.io\/v1\.35\.4\/bin\/windows\/amd64\/kube-proxy\.exe failed/);
        assert.deepStrictEqual(calls(failed, "install"), [], "nothing installed from a partial download set");
        assert.strictEqual(m.file("C:\\k\\versions.json"), undefined);
        m.set((st) => (st.failUrls = []));
        ok(m.run(s.runtime), "retry");
        assert.ok(m.file("C:\\k\\versions.json"));
    });

    it("join: kubeadm gets a JoinConfiguration file (no token on its command line), its stderr warnings do not stop the step; a re-run changes nothing", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "join");
        const first = m.run(s.join, stdin());
        ok(first, "join");
        const kubeadm = calls(first, "kubeadm.exe");
        assert.deepStrictEqual(kubeadm, [["join", "--config", "C:\\k\\kubeadm-join.yaml"]]);
        assert.match(m.state.joinConfig!, /token: 'abcdef\.0123456789abcdef'/);
        assert.match(m.state.joinConfig!, /name: 'k8s-win-1'/);
        assert.strictEqual(m.file("C:\\k\\kubeadm-join.yaml"), undefined, "the file with the token is removed");
        assert.ok(calls(first, "icacls.exe").some((a) => a[0] === "C:\\k\\kubeadm-join.yaml" && a[1] === "0"), "restricted while empty");
        for (const svc of ["containerd", "flanneld", "kubelet", "kube-proxy"]) {
            assert.strictEqual(m.state.services[svc].status, "Running", svc);
        }
        assert.deepStrictEqual(m.state.services.kubelet.deps, ["containerd", "flanneld"]);
        const second = m.run(s.join, stdin());
        ok(second, "join again");
        assert.deepStrictEqual(changes(second), []);
    });

    it("join: a join that failed half way is reset and retried", () => {
        const s = scripts("host-gw");
        const m = nodeUpTo("host-gw", "join");
        m.set((st) => (st.fail["kubeadm-join"] = 1));
        const failed = m.run(s.join, stdin());
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /kubeadm join \(see C:\\var\\log\\kubernetes\\kubeadm-join\.log on k8s-win-1\) failed with exit code 1/);
        assert.strictEqual(m.file("C:\\k\\kubeadm-join.yaml"), undefined);
        const retry = m.run(s.join, stdin());
        ok(retry, "retry");
        assert.deepStrictEqual(calls(retry, "kubeadm.exe").map((a) => a[0]), ["reset", "join"]);
    });

    it("join on L2Bridge: the host endpoint's address is reserved in host-local's store before kubelet starts", () => {
        const m = nodeUpTo("host-gw", "done");
        assert.strictEqual(m.file("C:\\var\\lib\\cni\\networks\\cbr0\\10.244.1.2")?.trim(), "hybrid-k8s-host-endpoint");
    });

    it("join: a new control plane (another CA hash) makes the node join again", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "done");
        const rejoin = m.run(s.join, stdin(JOIN.replace(HASH, `sha256:${"cd".repeat(32)}`)));
        ok(rejoin, "rejoin");
        assert.deepStrictEqual(calls(rejoin, "kubeadm.exe").map((a) => a[0]), ["reset", "join"]);
    });

    it("join: a changed start script restarts exactly that service", () => {
        const m = nodeUpTo("vxlan", "done");
        const newer = scripts("vxlan", { ...VERSIONS, kubernetesVersion: "1.35.5" });
        const run = m.run(newer.join, stdin());
        ok(run, "join with new flags");
        assert.deepStrictEqual(calls(run, "Restart-Service"), [], "the kubelet flags did not change");
        // 1.34 kubelets still take --pod-infra-container-image: only kubelet's start script changes
        const changed = scripts("vxlan", { ...VERSIONS, kubernetesVersion: "1.34.2" }).join;
        const restart = m.run(changed, stdin());
        ok(restart, "join with a new kubelet flag");
        assert.deepStrictEqual(calls(restart, "Restart-Service"), [["kubelet"]]);
        assert.strictEqual(m.state.services["kube-proxy"].status, "Running", "its dependent runs again");
    });

    it("prepare-runtime on a joined node: a new containerd waits staged for the node's upgrade window; nothing restarts", () => {
        const m = nodeUpTo("vxlan", "done");
        const containerd = m.file("C:\\Program Files\\containerd\\containerd.exe");
        const upgrade = scripts("vxlan", { ...VERSIONS, containerdVersion: "2.1.5" });
        const run = m.run(upgrade.runtime);
        ok(run, "upgrade");
        assert.deepStrictEqual(calls(run, "Restart-Service"), []);
        assert.strictEqual(m.file("C:\\Program Files\\containerd\\containerd.exe"), containerd);
        assert.match(run.stdout, /^staged: containerd-shim-runhcs-v1\.exe containerd\.exe ctr\.exe$/m);
        for (const svc of ["containerd", "flanneld", "kubelet", "kube-proxy"]) {
            assert.strictEqual(m.state.services[svc].status, "Running", `${svc} runs`);
        }
    });

    it("tor: the L2Bridge service creates the network and host endpoint, and attaches it again after a reboot", () => {
        const s = scripts("tor");
        const m = nodeUpTo("tor", "runtime");
        const first = m.run(s.l2bridge);
        ok(first, "l2bridge");
        assert.deepStrictEqual(calls(first, "New-HnsNetwork"), [["L2Bridge", "cbr0", "10.244.1.0/24", "10.244.1.1"]]);
        assert.deepStrictEqual(calls(first, "New-HnsEndpoint"), [["cbr0_ep", "10.244.1.2"]]);
        assert.strictEqual(calls(first, "Attach-HnsHostEndpoint").length, 1);
        assert.ok(calls(first, "netsh.exe")[0].includes("forwarding=enabled"));
        assert.deepStrictEqual(calls(first, "Set-NetIPInterface"), [["vEthernet (Ethernet)", "Enabled"]], "forwarding on the node's own interface");
        const again = m.run(s.l2bridge);
        ok(again, "l2bridge, endpoint already attached");
        m.boot();
        const afterBoot = m.run(s.l2bridge);
        ok(afterBoot, "l2bridge after reboot");
        assert.ok(m.state.hns.endpoints[0].Attached);
        m.set((st) => (st.fail.netsh = 1));
        const netsh = m.run(s.l2bridge);
        assert.strictEqual(netsh.code, 1);
        assert.match(netsh.stderr, /netsh could not enable forwarding/);
    });

    it("check: reports each check as JSON; a node without the sample's pods fails them in enforce mode", () => {
        const s = scripts("host-gw");
        const m = nodeUpTo("host-gw", "done");
        m.set((st) => {
            st.pods = ["sandbox1"];
            st.podIp = "10.244.1.3";
        });
        const good = m.run(s.check);
        ok(good, "check");
        const results = good.stdout.trim().split("\n").map((l) => JSON.parse(l) as { check: string; pass: boolean; informational?: boolean });
        assert.deepStrictEqual(results.map((r) => [r.check, r.pass]), [["node-ping", true], ["pod-gateway", true], ["windows-pods", true], ["windows-node-to-service", false]]);
        assert.ok(results[3].informational, "the host-to-service limitation is measured, not enforced");
        m.set((st) => (st.pods = []));
        const bad = m.run(s.check);
        assert.strictEqual(bad.code, 1);
        assert.match(bad.stderr, /check pod-gateway failed on k8s-win-1: local pod  from the host \(l2bridge\): no local sample pod; check windows-pods failed/);
    });

    it("kube-proxy on overlay: a failed source-VIP reservation is never saved; the next start reserves one", () => {
        const spec = topologySpec("vxlan");
        const start = win.renderKubeProxyStart({ spec, node, kubernetesVersion: "1.35.4", podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, dnsServiceIp: plan.dnsServiceIp });
        const m = nodeUpTo("vxlan", "done");
        m.set((st) => (st.fail["host-local"] = 1));
        const failed = m.run(start);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /host-local could not reserve the source VIP \(exit 1\)/);
        assert.strictEqual(m.file("C:\\k\\source-vip.json"), undefined);
        const next = m.run(start);
        ok(next, "kube-proxy start");
        assert.ok(calls(next, "agent")[0].includes("--source-vip=10.244.1.5"));
        const again = m.run(start);
        assert.deepStrictEqual(calls(again, "host-local.exe"), [], "the reservation is kept across restarts");
    });
});
