// The stock path folded into the provisioning extension, run by PowerShell against a stubbed
// Windows (test/pwsh): the extension's command reads the script from the VM's user data, installs
// sshd, the Containers feature and the runtime's binaries, and schedules one reboot; the boot task
// finishes the runtime and starts sshd; a run after the reboot changes nothing; a failure half way
// leaves the node reachable and a retry finishes; the SSH steps that follow change nothing.
import * as assert from "assert";
import { windowsCniConf } from "../components/manifests/cni";
import * as prov from "../components/scripts/provision";
import { decodePowerShell } from "../components/scripts/shell";
import * as win from "../components/scripts/windows";
import { topologySpec } from "../components/topology";
import { defaultAddresses, hostileSshKey, VERSIONS } from "./fixtures";
import { calls, changes, ok, StubWindows } from "./pwsh/machine";

const plan = defaultAddresses(3);
const node = plan.windows[0];
const SAMPLE = "mcr.microsoft.com/windows/servercore:ltsc2022";
const HASH = `sha256:${"ab".repeat(32)}`;
const JOIN = `kubeadm join 10.240.0.4:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash ${HASH}`;

function inputs(topology: "vxlan" | "host-gw" | "tor") {
    const spec = topologySpec(topology);
    const cniConfig = windowsCniConf({ spec, node, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, vnetCidr: plan.vnetCidr });
    const runtime: win.RuntimeInput = { spec, node, versions: VERSIONS, cniConfig, prePull: [SAMPLE] };
    const provision = prov.provisionCommand({ publicKey: hostileSshKey(), runtime });
    const runner = decodePowerShell(provision.commandToExecute)!;
    const join = win.renderJoin({
        spec,
        node,
        kubernetesVersion: VERSIONS.kubernetesVersion,
        podCidr: plan.podCidr,
        serviceCidr: plan.serviceCidr,
        dnsServiceIp: plan.dnsServiceIp,
        flannelNetConf: "{}",
        l2bridgeScript: topology === "tor" ? win.renderL2BridgeService(node, spec.windowsNetworkName) : undefined,
    });
    return { spec, runtime, provision, runner, cniConfig, join, runtimeScript: win.renderPrepareRuntime(runtime) };
}

/** A stock Windows Server 2022 VM as Azure hands it over: no sshd, the Containers feature available, the user data set. */
function stockVm(i: ReturnType<typeof inputs>): StubWindows {
    return new StubWindows(i.spec.windowsNetworkName, { services: { hns: { status: "Running", start: "Automatic", deps: [] } }, userData: i.provision.userData });
}

describe("the provisioning extension (stock image) under PowerShell against a stubbed Windows", function () {
    this.timeout(300000);

    it("first run: sshd with the key, the feature, the binaries; containerd left for after the one reboot, sshd stopped until then", () => {
        const i = inputs("vxlan");
        const m = stockVm(i);
        const run = m.run(i.runner);
        ok(run, "provision");
        assert.deepStrictEqual(calls(run, "Invoke-RestMethod"), [[prov.IMDS_USER_DATA]]);
        assert.deepStrictEqual(calls(run, "Add-WindowsCapability"), [["OpenSSH.Server~~~~0.0.1.0"]]);
        assert.deepStrictEqual(calls(run, "Install-WindowsFeature"), [["Containers"]]);
        assert.ok(calls(run, "curl.exe").some(([u]) => u.endsWith("/kubelet.exe")), "the runtime's downloads");
        assert.ok(m.file("C:\\k\\versions.json"), "binaries installed and stamped");
        assert.deepStrictEqual(calls(run, "containerd.exe"), [], "containerd is not registered before the feature is active");
        assert.deepStrictEqual(calls(run, "crictl.exe"), [], "nothing pulled before the reboot");
        assert.strictEqual(m.file("C:\\ProgramData\\ssh\\administrators_authorized_keys"), `${hostileSshKey()}\n`);
        assert.ok(!run.stdout.includes("pwned"));
        // one reboot, scheduled by a task after the script's end (the extension reports success first)
        assert.deepStrictEqual(calls(run, "Restart-Computer"), [[]]);
        assert.ok(m.state.rebootPending);
        assert.deepStrictEqual(calls(run, "Start-ScheduledTask").map(([t]) => t), ["hybrid-k8s-reboot"]);
        assert.strictEqual(m.state.services.sshd.status, "Stopped", "no SSH step reaches the node before the reboot");
        assert.strictEqual(m.state.services.sshd.start, "Manual");
        assert.ok(m.file(prov.RUNTIME_PENDING), "the boot task finishes the runtime");
        assert.strictEqual(m.file("C:\\k\\provision\\prepare-runtime.ps1"), i.runtimeScript, "the node's own runtime script");
        assert.match(run.stdout, /rebooting in 10 s/);

        // the SSH ready step, should it reach the node before the reboot, refuses
        const early = m.run(prov.renderProvisionedReady());
        assert.notStrictEqual(early.code, 0);
        assert.match(early.stderr, /has not rebooted yet/);

        // the reboot: the boot task waits for the External network, finishes the runtime, starts sshd
        const boot = m.boot();
        ok(boot, "boot");
        const s = m.state;
        assert.strictEqual(s.features.Containers, "Installed");
        assert.ok(s.hns.networks.some((n) => n.Name === "External"));
        assert.strictEqual(s.services.containerd.status, "Running");
        assert.deepStrictEqual([...s.images].sort(), [SAMPLE, win.PAUSE_IMAGE].sort(), "the sandbox image and the sample's pull, at boot");
        assert.strictEqual(m.file("C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf"), i.cniConfig);
        assert.strictEqual(s.services.sshd.status, "Running");
        assert.strictEqual(s.services.sshd.start, "Automatic");
        assert.strictEqual(m.file(prov.RUNTIME_PENDING), undefined);
        const started = boot.calls.filter((c) => c.cmd === "service-started").map((c) => c.args[0]);
        assert.ok(started.indexOf("sshd") > started.indexOf("containerd"), "sshd starts after the runtime is done: no SSH step runs beside the boot task");
    });

    for (const topology of ["vxlan", "tor"] as const) {
        it(`${topology}: a run after the reboot changes nothing; then ready, prepare-runtime (its second run) and join`, () => {
            const i = inputs(topology);
            const m = stockVm(i);
            ok(m.run(i.runner), "provision");
            ok(m.boot(), "boot");
            // the extension may run an unfinished script again after the reboot
            const again = m.run(i.runner);
            ok(again, "provision again");
            assert.deepStrictEqual(changes(again), []);
            assert.deepStrictEqual(calls(again, "Start-ScheduledTask"), [], "no second reboot, no second pull");
            assert.match(again.stdout, /no reboot needed/);
            assert.strictEqual(m.state.services.sshd.status, "Running");

            const ready = m.run(prov.renderProvisionedReady());
            ok(ready, "ready");
            assert.match(ready.stdout, /ready: K8S-WIN-1/);
            assert.doesNotMatch(ready.stdout, /did not finish/);
            const runtime = m.run(i.runtimeScript);
            ok(runtime, "prepare-runtime");
            assert.deepStrictEqual(changes(runtime), [], "prepare-runtime over SSH only verifies");
            const stdin = JSON.stringify({ joinCommand: JOIN, kubeProxy: "kube-proxy-kubeconfig", flannel: "flannel-kubeconfig" });
            ok(m.run(i.join, stdin), "join");
            assert.strictEqual(m.state.services.kubelet.status, "Running");
            // and the ready step again (a later pulumi up) passes
            ok(m.run(prov.renderProvisionedReady()), "ready again");
        });
    }

    it("a run after the reboot, before the boot task has ended: no second reboot, no runtime step beside it, sshd left to it; then the boot task finishes", () => {
        const i = inputs("vxlan");
        const m = stockVm(i);
        ok(m.run(i.runner), "provision");
        // the reboot; the boot tasks have not got far (HNS still creating the External network)
        ok(m.boot(["hybrid-k8s-external-network", prov.PROVISION_BOOT_TASK]), "boot");
        assert.strictEqual(m.state.features.Containers, "Installed");
        const again = m.run(i.runner);
        ok(again, "provision again");
        assert.deepStrictEqual(changes(again), [], "no reboot, no containerd, no pull, no network");
        assert.deepStrictEqual(calls(again, "Start-ScheduledTask"), []);
        assert.deepStrictEqual(calls(again, "Start-Job"), [], "no second prepare-runtime");
        assert.ok(!calls(again, "service-started").length, "sshd is not started before the boot task is done");
        assert.strictEqual(m.state.services.sshd.status, "Stopped");
        assert.ok(!m.state.rebootPending);
        assert.match(again.stdout, /the boot task still finishes the runtime/);
        assert.ok(m.file(prov.RUNTIME_PENDING), "still the boot task's");

        // the boot tasks go on: the External network, then the runtime, then sshd
        ok(m.runTask("hybrid-k8s-external-network"), "external network");
        const finish = m.runTask(prov.PROVISION_BOOT_TASK);
        ok(finish, "boot task");
        const s = m.state;
        assert.strictEqual(s.services.containerd.status, "Running");
        assert.deepStrictEqual([...s.images].sort(), [SAMPLE, win.PAUSE_IMAGE].sort());
        assert.strictEqual(m.file("C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf"), i.cniConfig);
        assert.strictEqual(s.services.sshd.status, "Running");
        assert.strictEqual(m.file(prov.RUNTIME_PENDING), undefined);
        assert.deepStrictEqual(calls(finish, "containerd.exe").length, 1, "containerd registered once, by the boot task");
        ok(m.run(prov.renderProvisionedReady()), "ready");
        assert.deepStrictEqual(changes(m.run(i.runtimeScript)), [], "prepare-runtime over SSH only verifies");
        // and a run in the same boot, once the boot task has ended, changes nothing
        const third = m.run(i.runner);
        ok(third, "provision a third time");
        assert.deepStrictEqual(changes(third), []);
        assert.match(third.stdout, /no reboot needed/);
    });

    it("a run after an unexpected reboot half way (the feature active, the External network not there yet) reboots no more", () => {
        const i = inputs("host-gw");
        const m = stockVm(i);
        m.set((s) => {
            s.failUrls = ["/kubelet.exe"];
        });
        assert.notStrictEqual(m.run(i.runner).code, 0, "the first run stops half way");
        m.set((s) => {
            s.failUrls = [];
        });
        ok(m.boot(["hybrid-k8s-external-network"]), "an unexpected reboot");
        assert.strictEqual(m.state.features.Containers, "Installed");
        const again = m.run(i.runner);
        ok(again, "provision again");
        assert.deepStrictEqual(calls(again, "Restart-Computer"), [], "no reboot: the feature is active");
        assert.match(again.stdout, /the External network is left to its boot task/);
        assert.match(again.stdout, /no reboot needed/);
        assert.strictEqual(m.state.services.containerd.status, "Running", "the feature is active: the runtime is set up at once");
        ok(m.runTask("hybrid-k8s-external-network"), "external network");
        ok(m.run(prov.renderProvisionedReady()), "ready");
        assert.deepStrictEqual(changes(m.run(i.runtimeScript)), []);
    });

    it("a download that fails half way fails the extension, leaves sshd up and no reboot; the retry finishes", () => {
        const i = inputs("vxlan");
        const m = stockVm(i);
        m.set((s) => {
            s.failUrls = ["/kube-proxy.exe"];
        });
        const failed = m.run(i.runner);
        assert.notStrictEqual(failed.code, 0);
        assert.match(failed.stderr, /kube-proxy\.exe/);
        let s = m.state;
        assert.ok(!s.rebootPending, "no reboot after a failure");
        assert.strictEqual(s.services.sshd.status, "Running", "the node stays reachable for a look");
        assert.strictEqual(m.file("C:\\k\\versions.json"), undefined, "nothing stamped");
        assert.strictEqual(m.file(prov.RUNTIME_PENDING), undefined);
        assert.ok(!calls(failed, "install").length, "nothing installed from a partial download");
        assert.match(failed.stderr, /prepare-runtime failed/);

        m.set((st) => {
            st.failUrls = [];
        });
        const retry = m.run(i.runner);
        ok(retry, "retry");
        assert.deepStrictEqual(calls(retry, "Install-WindowsFeature"), [], "the feature is pending already");
        assert.deepStrictEqual(calls(retry, "Restart-Computer"), [[]]);
        ok(m.boot(), "boot");
        s = m.state;
        assert.strictEqual(s.services.containerd.status, "Running");
        assert.strictEqual(s.services.sshd.status, "Running");
        ok(m.run(prov.renderProvisionedReady()), "ready");
        assert.deepStrictEqual(changes(m.run(i.runtimeScript)), []);
    });

    it("a failure beside the runtime's job (hns.psm1 in the features part) waits for the job, fails naming it, and the retry finishes", () => {
        const i = inputs("vxlan");
        const m = stockVm(i);
        m.set((s) => {
            s.failUrls = ["hns.psm1"];
        });
        const failed = m.run(i.runner);
        assert.notStrictEqual(failed.code, 0);
        assert.match(failed.stderr, /hns\.psm1/);
        assert.ok(m.file("C:\\k\\versions.json"), "the runtime's job ran to its end before the script failed");
        assert.match(failed.stdout, /== prepare-runtime/);
        assert.ok(!m.state.rebootPending);
        m.set((s) => {
            s.failUrls = [];
        });
        const retry = m.run(i.runner);
        ok(retry, "retry");
        assert.deepStrictEqual(calls(retry, "curl.exe").map(([u]) => u), [win.HNS_MODULE.url], "only what failed is downloaded again");
        assert.deepStrictEqual(calls(retry, "Restart-Computer"), [[]]);
    });

    it("the command waits for the metadata service, and refuses user data that is not its script", () => {
        const i = inputs("vxlan");
        const m = stockVm(i);
        m.set((s) => {
            s.fail = { imds: 2 };
        });
        const slow = m.run(i.runner);
        ok(slow, "provision after two metadata failures");
        assert.strictEqual(calls(slow, "Invoke-RestMethod").length, 3);

        const stale = stockVm(i);
        const other = prov.provisionCommand({ publicKey: hostileSshKey(), runtime: { ...i.runtime, versions: { ...VERSIONS, kubernetesVersion: "1.34.2" } } });
        stale.set((s) => {
            s.userData = other.userData;
        });
        const refused = stale.run(i.runner);
        assert.notStrictEqual(refused.code, 0);
        assert.match(refused.stderr, /is not the provisioning script this extension runs/);
        assert.deepStrictEqual(refused.calls.filter((c) => c.cmd !== "Invoke-RestMethod"), [], "nothing of the other script ran");
    });

    it("the runtime step refuses to set up containerd before the feature's reboot unless its caller reboots", () => {
        const i = inputs("vxlan");
        const m = stockVm(i);
        m.set((s) => {
            s.features.Containers = "InstallPending";
        });
        const run = m.run(i.runtimeScript);
        assert.notStrictEqual(run.code, 0);
        assert.match(run.stderr, /the Containers feature is InstallPending: the node must reboot/);
    });
});

describe("the provisioning's command, user data and chains", () => {
    for (const topology of ["vxlan", "host-gw", "tor"] as const) {
        it(`${topology}: the command fits cmd.exe, the user data 64 KB, and the parts are the node's own scripts`, () => {
            const i = inputs(topology);
            assert.ok(i.provision.commandToExecute.length <= prov.CMD_EXE_MAX, `${i.provision.commandToExecute.length}`);
            assert.ok(i.provision.userData.length <= prov.USER_DATA_MAX);
            assert.strictEqual(i.runner, prov.renderProvisionRunner(prov.userDataDigest(i.provision.userData)));
            const parts = prov.provisionParts({ publicKey: hostileSshKey(), runtime: i.runtime });
            assert.deepStrictEqual(parts.map((p) => p.name), ["openssh", "prepare-features", "prepare-runtime"]);
            assert.strictEqual(parts[1].script, win.renderPrepareFeatures({ spec: i.spec }));
            assert.strictEqual(parts[2].script, i.runtimeScript);
            assert.ok(!i.provision.script.includes("laptop"), "the key travels as data");
        });
    }

    it("changes with the script and only with it", () => {
        const a = inputs("vxlan").provision;
        assert.deepStrictEqual(inputs("vxlan").provision, a);
        assert.notStrictEqual(inputs("host-gw").provision.commandToExecute, a.commandToExecute);
    });

    it("lists each image kind's chain: stock without the SSH features steps, prebuilt as before", () => {
        const chain = (k: prov.WindowsImageKind) => prov.windowsSteps(k).map((s) => `${s.step}<-${s.dependsOn.join(",")}`);
        assert.deepStrictEqual(chain("stock"), [
            "vm<-nic",
            "provision<-vm,master.versionCheck",
            "ready<-provision,master.ready",
            "prepare-runtime<-ready,master.versionCheck",
            "join<-prepare-runtime,podcidr,clusterReady",
        ]);
        assert.deepStrictEqual(chain("prebuilt"), [
            "vm<-nic",
            "ready<-vm,master.ready",
            "prepare-features<-ready",
            "features-ready<-prepare-features",
            "prepare-runtime<-features-ready,master.versionCheck",
            "join<-prepare-runtime,podcidr,clusterReady",
        ]);
    });
});
