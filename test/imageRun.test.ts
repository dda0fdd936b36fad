// The image build run by PowerShell against a stubbed Windows (test/pwsh), then a node made from
// the result: its boot task takes the key from the custom data and starts sshd, and the node's own
// steps take their second-run path (nothing downloaded, installed or rebooted).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { windowsCniConf } from "../components/manifests/cni";
import { imageSteps } from "../components/scripts/image";
import * as win from "../components/scripts/windows";
import { topologySpec } from "../components/topology";
import { defaultAddresses, hostileSshKey, VERSIONS } from "./fixtures";
import { calls, changes, ok, StubWindows } from "./pwsh/machine";

const plan = defaultAddresses(1);
const node = plan.windows[0];
const spec = topologySpec("vxlan");
const SAMPLE = "mcr.microsoft.com/windows/servercore:ltsc2022";
const cidrs = { podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, vnetCidr: plan.vnetCidr };


describe("the image build and a node made from it, under PowerShell against a stubbed Windows", function () {
    this.timeout(300000);

    it("builds, then a node boots with its key from the custom data and its steps change nothing", () => {
        // a stock 2022 VM: no sshd, the Containers feature available
        const m = new StubWindows(spec.windowsNetworkName, { services: { hns: { status: "Running", start: "Automatic", deps: [] } } });
        for (const step of imageSteps({ spec, versions: VERSIONS, prePull: [SAMPLE], buildNode: node, cidrs })) {
            if (step.kind === "WindowsRestart") {
                // Image Builder's WindowsRestart customizer restarts the VM and waits for it
                assert.ok(!m.state.rebootPending, "the features step left the reboot to the restart step (no race with it)");
                assert.strictEqual(m.state.features.Containers, "InstallPending");
                m.boot();
                continue;
            }
            const run = m.run(step.script);
            ok(run, step.name);
            if (step.name === "image-setup") {
                assert.deepStrictEqual(calls(run, "Add-WindowsCapability"), [["OpenSSH.Server~~~~0.0.1.0"]]);
                assert.ok(calls(run, "Add-MpPreference").flat().some((p) => p.endsWith("containerd")), "Defender excludes containerd's folders");
                assert.strictEqual(m.state.services.sshd.status, "Stopped");
            }
        }
        const built = m.state;
        assert.strictEqual(built.features.Containers, "Installed");
        assert.strictEqual(built.services.sshd.start, "Manual", "sshd does not start before a node's key is there");
        assert.strictEqual(built.services.sshd.status, "Stopped");
        assert.ok(built.images.some((i: string) => i === SAMPLE), "the sample's image is in the image");
        assert.strictEqual(m.file("C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf"), undefined, "no build CNI config");
        assert.strictEqual(m.file("C:\\ProgramData\\ssh\\administrators_authorized_keys"), undefined);

        // a node from the image: Azure writes its custom data, then it boots
        const customData = path.join(m.dir, "c", "AzureData", "CustomData.bin");
        fs.mkdirSync(path.dirname(customData), { recursive: true });
        fs.writeFileSync(customData, `${hostileSshKey()}\nnot a key; Write-Output pwned\n`);
        const boot = m.boot();
        ok(boot, "boot");
        assert.strictEqual(m.file("C:\\ProgramData\\ssh\\administrators_authorized_keys"), `${hostileSshKey()}\n`);
        assert.deepStrictEqual(calls(boot, "icacls.exe")[0]?.[0], "C:\\ProgramData\\ssh\\administrators_authorized_keys");
        assert.strictEqual(m.state.services.sshd.status, "Running");
        assert.ok(!boot.stdout.includes("pwned"));

        // the node's own steps, as the cluster renders them for it
        const cniConfig = windowsCniConf({ spec, node, ...cidrs });
        const features = m.run(win.renderPrepareFeatures({ spec }));
        ok(features, "prepare-features");
        assert.deepStrictEqual(changes(features), [], "no feature install, no reboot");
        assert.ok(!m.state.rebootPending);
        ok(m.run(win.renderFeaturesReady()), "features-ready");
        const runtime = m.run(win.renderPrepareRuntime({ spec, node, versions: VERSIONS, cniConfig, prePull: [SAMPLE] }));
        ok(runtime, "prepare-runtime");
        assert.deepStrictEqual(changes(runtime), [], "nothing downloaded, installed, restarted or pulled");
        assert.strictEqual(m.file("C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf"), cniConfig, "the node writes its own CNI config");
    });
});
