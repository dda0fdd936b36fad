// The prebuilt Windows node image (images/): its build runs the nodes' own scripts, its version is a
// hash of its inputs, npm run plan:images renders it, and a cluster node made from a gallery image
// version takes its key in custom data instead of the OpenSSH extension.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseConfig, parseImage } from "../components/config";
import { LinuxMaster } from "../components/linuxMaster";
import { Network } from "../machines/azure/network";
import { CUSTOM_DATA_FILE, IMAGE_REBOOTS, imageCustomData, imageSteps, ImageStep, imageVersionName, renderFirstBootTask } from "../components/scripts/image";
import * as win from "../components/scripts/windows";
import { userDataDigest } from "../components/scripts/provision";
import { decodePowerShell } from "../components/scripts/shell";
import { gunzipSync } from "zlib";
import { topologySpec } from "../components/topology";
import { WindowsNode } from "../components/windowsNode";
import { parseImageConfig } from "../images/config";
import { uuidFrom } from "../images/gallery";
import { defaultAddresses, masterArgs, VERSIONS, windowsNodeArgs } from "./fixtures";
import { byName, mockRuntime, recorded, settle } from "./harness";
import { cachedPlan, imagesPlan } from "./planRun";

const GALLERY_VERSION = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images-rg/providers/Microsoft.Compute/galleries/hybridk8s_images/images/windows-node-2022/versions/1.2.3";
const addresses = defaultAddresses(1);
const SOURCE = "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest";

function steps(overrides: Partial<typeof VERSIONS> = {}, prePull = ["mcr.microsoft.com/windows/servercore:ltsc2022"]): ImageStep[] {
    const cidrs = { podCidr: addresses.podCidr, serviceCidr: addresses.serviceCidr, vnetCidr: addresses.vnetCidr };
    return imageSteps({ spec: topologySpec("vxlan"), versions: { ...VERSIONS, ...overrides }, prePull, buildNode: addresses.windows[0], cidrs });
}

const script = (all: ImageStep[], name: string): string => {
    const s = all.find((x) => x.name === name);
    assert.ok(s && s.kind === "PowerShell", name);
    return s.script;
};

describe("prebuilt image: the build", () => {
    it("runs the nodes' own features step, a restart, features-ready and the runtime step, in that order", () => {
        const all = steps();
        assert.deepStrictEqual(
            all.map((s) => `${s.kind}:${s.name}`),
            ["PowerShell:image-setup", "PowerShell:prepare-features", "WindowsRestart:features-restart", "PowerShell:features-ready", "PowerShell:prepare-runtime", "PowerShell:prepull", "PowerShell:image-cleanup"],
        );
        // the node's own script, told that the build's restart step reboots
        assert.strictEqual(script(all, "prepare-features"), `${IMAGE_REBOOTS}${win.renderPrepareFeatures({ spec: topologySpec("vxlan") })}`);
        assert.strictEqual(script(all, "features-ready"), win.renderFeaturesReady());
    });

    it("records the versions as the cluster's runtime step does, so a node from the image downloads nothing", () => {
        const stamp = (text: string) => text.split("\n").find((l) => l.startsWith("$stamp = "));
        const plan = cachedPlan([]);
        assert.strictEqual(plan.code, 0, plan.stderr);
        const cluster = fs.readFileSync(path.join(plan.out, "scripts", "k8s-win-1-prepare-runtime.ps1"), "utf8");
        const image = fs.readFileSync(path.join(imagesPlan().out, "scripts", "05-prepare-runtime.ps1"), "utf8");
        assert.ok(stamp(cluster));
        assert.strictEqual(stamp(image), stamp(cluster));
    });

    it("names the version after its inputs: equal inputs, equal name; a changed version or script, a new one", () => {
        const v = imageVersionName(SOURCE, steps());
        assert.match(v, /^1\.\d+\.\d+$/);
        for (const part of v.split(".")) {
            assert.ok(Number(part) < 2 ** 31, "each part a 32-bit integer");
        }
        assert.strictEqual(imageVersionName(SOURCE, steps()), v);
        assert.notStrictEqual(imageVersionName(SOURCE, steps({ kubernetesVersion: "1.35.3" })), v);
        assert.notStrictEqual(imageVersionName(SOURCE, steps({}, [])), v);
        assert.notStrictEqual(imageVersionName(SOURCE.replace("latest", "20348.1.1"), steps()), v);
    });

    it("the boot task takes only key lines from the custom data, and starts sshd after the External network", () => {
        const task = renderFirstBootTask();
        assert.ok(task.includes(CUSTOM_DATA_FILE));
        assert.ok(task.indexOf("Get-HnsNetwork") < task.indexOf("Start-Service sshd"));
        assert.strictEqual(imageCustomData("ssh-ed25519 AAAA me  \n"), "ssh-ed25519 AAAA me\n");
    });

    it("leaves no host key, authorized key or build CNI config in the image, and sshd stopped", () => {
        const cleanup = script(steps(), "image-cleanup");
        for (const what of ["ssh_host_*", "administrators_authorized_keys", "10-hybrid-k8s.conf", "Set-Service sshd -StartupType Manual"]) {
            assert.ok(cleanup.includes(what), what);
        }
    });

    it("config: defaults are the cluster's; a wrong source, topology or version is refused by key", () => {
        const cfg = parseImageConfig({});
        assert.deepStrictEqual(cfg.versions, VERSIONS);
        assert.strictEqual(cfg.topology, "vxlan");
        assert.throws(
            () => parseImageConfig({ windowsImage: "MicrosoftWindowsServer:WindowsServer:2019-datacenter:latest", topology: "mesh", kubernetesVersion: "v1", nope: "x" }),
            (e: unknown) => e instanceof ConfigError && ["windowsImage", "topology", "kubernetesVersion", "nope"].every((k) => e.issues.some((i) => i.key === k)),
        );
    });

    it("checks versions as the cluster does: a Kubernetes minor the scripts were not written for, containerd 1.x", () => {
        assert.throws(
            () => parseImageConfig({ kubernetesVersion: "1.99.0", windowsContainerdVersion: "1.7.20" }),
            (e: unknown) =>
                e instanceof ConfigError &&
                e.issues.some((i) => i.key === "kubernetesVersion" && /out of support/.test(i.message)) &&
                e.issues.some((i) => i.key === "windowsContainerdVersion" && /too old/.test(i.message)),
        );
    });

    it("role GUIDs are stable and well-formed", () => {
        assert.strictEqual(uuidFrom("a", "b"), uuidFrom("a", "b"));
        assert.notStrictEqual(uuidFrom("a", "b"), uuidFrom("a", "c"));
        assert.match(uuidFrom("a"), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
});

describe("npm run plan:images", () => {
    const template = () => JSON.parse(fs.readFileSync(path.join(imagesPlan().out, "template.json"), "utf8")) as Record<string, unknown> & {
        customize: Array<Record<string, unknown>>;
        distribute: Array<Record<string, unknown>>;
    };

    it("renders an AIB template: platform source, PowerShell and WindowsRestart customizers, a gallery version named by hash, autoRun", () => {
        const t = template();
        assert.deepStrictEqual(t.source, { type: "PlatformImage", publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" });
        assert.deepStrictEqual(t.autoRun, { state: "Enabled" });
        assert.strictEqual((t.identity as { type: string }).type, "UserAssigned");
        assert.deepStrictEqual(t.customize.map((c) => c.type), ["PowerShell", "PowerShell", "WindowsRestart", "PowerShell", "PowerShell", "PowerShell", "PowerShell"]);
        assert.ok(t.customize.filter((c) => c.type === "PowerShell").every((c) => c.runElevated === true));
        const [d] = t.distribute;
        assert.strictEqual(d.type, "SharedImage");
        const plan = JSON.parse(fs.readFileSync(path.join(imagesPlan().out, "plan.json"), "utf8")) as { outputs: Record<string, string> };
        assert.strictEqual(d.galleryImageId, plan.outputs.imageVersionId);
        assert.ok(String(d.galleryImageId).endsWith(`/versions/${plan.outputs.imageVersion}`));
        assert.ok(parseImage(plan.outputs.imageVersionId), "the output is a windowsImage the cluster accepts");
        assert.ok(typeof d.runOutputName === "string" && d.runOutputName.length > 0);
    });

    it("writes each step's script, decoded, and what they carry", () => {
        const files = fs.readdirSync(path.join(imagesPlan().out, "scripts"));
        for (const f of ["01-image-setup.ps1", "01-image-setup.hybrid-k8s-authorized-key.ps1", "02-prepare-features.ps1", "04-features-ready.ps1", "05-prepare-runtime.ps1", "06-prepull.ps1", "07-image-cleanup.ps1"]) {
            assert.ok(files.includes(f), f);
        }
    });

    it("the role the identity gets is scoped to the image's resource group", () => {
        const plan = JSON.parse(fs.readFileSync(path.join(imagesPlan().out, "plan.json"), "utf8")) as { resources: Array<{ type: string; inputs: Record<string, unknown> }> };
        const rg = plan.resources.find((r) => r.type === "azure-native:resources:ResourceGroup");
        const role = plan.resources.find((r) => r.type === "azure-native:authorization:RoleDefinition");
        const assignment = plan.resources.find((r) => r.type === "azure-native:authorization:RoleAssignment");
        assert.ok(rg && role && assignment);
        assert.deepStrictEqual(role.inputs.assignableScopes, [role.inputs.scope]);
        assert.strictEqual(assignment.inputs.scope, role.inputs.scope);
        assert.match(String(assignment.inputs.principalId), /principal id/);
    });
});

describe("cluster on a prebuilt image", () => {
    it("config: windowsImage takes a gallery image version id, and refuses a malformed one", () => {
        assert.deepStrictEqual(parseImage(GALLERY_VERSION), { id: GALLERY_VERSION });
        assert.strictEqual(parseImage(GALLERY_VERSION.replace("/versions/1.2.3", "")), undefined);
        assert.strictEqual(parseImage(GALLERY_VERSION.replace("1.2.3", "latest")), undefined);
        const base = { "hybrid-k8s:adminCidr": "203.0.113.7/32" };
        assert.deepStrictEqual(parseConfig({ ...base, "hybrid-k8s:windowsImage": GALLERY_VERSION }, { mode: "plan" }).windowsImage, { id: GALLERY_VERSION });
        assert.throws(() => parseConfig({ ...base, "hybrid-k8s:windowsImage": "/subscriptions/x/images/y" }, { mode: "plan" }), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.key === "windowsImage"));
        // an image of images/ carries its release in its definition's name: another release is refused
        const w25 = GALLERY_VERSION.replace(/windows-node-2022/, "windows-node-2025");
        assert.notStrictEqual(w25, GALLERY_VERSION);
        assert.deepStrictEqual(parseConfig({ ...base, "hybrid-k8s:windowsImage": w25, "hybrid-k8s:windowsServerVersion": "2025" }, { mode: "plan" }).windowsImage, { id: w25 });
        assert.throws(
            () => parseConfig({ ...base, "hybrid-k8s:windowsImage": GALLERY_VERSION, "hybrid-k8s:windowsServerVersion": "2025" }, { mode: "plan" }),
            (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.key === "windowsImage" && /Windows Server 2022 node image .* windowsServerVersion is 2025/.test(i.message)),
        );
    });

    it("the VM is made from the gallery version and carries the admin key in custom data; no OpenSSH extension", async () => {
        mockRuntime();
        const net = new Network("img-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
        const master = new LinuxMaster("img-master", masterArgs(net, addresses, "img-master"));
        const args = windowsNodeArgs(net, master, addresses, {}, { name: "img-win", image: { id: GALLERY_VERSION } });
        new WindowsNode("img-win", args);
        await settle();
        const vm = byName("img-win", "img-win-vm");
        const storage = vm.inputs.storageProfile as { imageReference: Record<string, unknown> };
        assert.deepStrictEqual(storage.imageReference, { id: GALLERY_VERSION });
        const os = vm.inputs.osProfile as { customData: string };
        assert.strictEqual(Buffer.from(os.customData, "base64").toString("utf8"), "ssh-ed25519 AAAA test\n");
        assert.strictEqual(recorded("img-win").filter((r) => r.type === "azure-native:compute:VirtualMachineExtension").length, 0);
        // the first poll waits for the VM itself (its boot task starts sshd)
        assert.ok(byName("img-win", "img-win-ready").dependsOn.includes(vm.urn));
    });

    it("a marketplace image is provisioned by one extension: its script in the VM's user data, no custom data", async () => {
        mockRuntime();
        const net = new Network("mkt-net", { topology: "vxlan", addresses, adminCidr: "203.0.113.7/32" });
        const master = new LinuxMaster("mkt-master", masterArgs(net, addresses, "mkt-master"));
        new WindowsNode("mkt-win", windowsNodeArgs(net, master, addresses, {}, { name: "mkt-win" }));
        await settle();
        const vm = byName("mkt-win", "mkt-win-vm");
        assert.strictEqual((vm.inputs.osProfile as Record<string, unknown>).customData, undefined);
        const script = gunzipSync(Buffer.from(String(vm.inputs.userData), "base64")).toString("utf8");
        const ext = byName("mkt-win", "mkt-win-provision");
        // the extension's command checks the user data by its digest before it runs it
        const command = decodePowerShell(String((ext.inputs.settings as { commandToExecute: string }).commandToExecute)) ?? "";
        assert.ok(command.includes(userDataDigest(String(vm.inputs.userData))));
        assert.match(script, /Invoke-Part openssh/);
        // the first SSH step proves the provisioning's reboot
        assert.ok(byName("mkt-win", "mkt-win-ready").dependsOn.includes(ext.urn));
        assert.ok(!recorded("mkt-win").some((r) => /-(prepare-features|features-ready|openssh)$/.test(r.name)));
    });

    it("the plan with a gallery image version: no extension, the key written as the VM's custom data", () => {
        const run = cachedPlan(["--config", `windowsImage=${GALLERY_VERSION}`, "--config", "windowsNodeCount=1"]);
        assert.strictEqual(run.code, 0, run.stderr);
        const vm = run.doc!.resources.find((r) => r.name === "k8s-win-1-vm")!;
        assert.deepStrictEqual((vm.inputs.storageProfile as { imageReference: unknown }).imageReference, { id: GALLERY_VERSION });
        assert.ok(!run.doc!.resources.some((r) => r.type === "azure-native:compute:VirtualMachineExtension"));
        assert.match(fs.readFileSync(path.join(run.out, "scripts", "k8s-win-1-vm.custom-data.txt"), "utf8"), /^ssh-(ed25519|rsa) /);
    });
});

describe("npm run plan:images: options and exit codes", () => {
    const run = (args: string[]) => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "plan-images-"));
        const res = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), path.join(__dirname, "..", "plan", "imagesCli.ts"), "--out", out, "--quiet", ...args], { encoding: "utf8" });
        return { code: res.status, stdout: res.stdout, stderr: res.stderr, out };
    };

    it("a bad value exits 1 naming its key and writes nothing; an unknown option exits 2", function () {
        this.timeout(60000);
        const bad = run(["--config", "topology=mesh"]);
        assert.strictEqual(bad.code, 1, bad.stderr);
        assert.match(bad.stderr, /hybrid-k8s-images:topology/);
        assert.deepStrictEqual(fs.readdirSync(bad.out), []);
        assert.strictEqual(run(["--frobnicate"]).code, 2);
    });

    it("a Windows Server 2025 image: its Azure Edition source, ltsc2025 images held, definition windows-node-2025, another version", function () {
        this.timeout(60000);
        const w25 = run(["--config", "windowsServerVersion=2025"]);
        assert.strictEqual(w25.code, 0, w25.stderr);
        const doc = JSON.parse(fs.readFileSync(path.join(w25.out, "plan.json"), "utf8")) as { outputs: Record<string, string>; resources: Array<{ type: string; name: string; inputs: Record<string, unknown> }> };
        const template = doc.resources.find((r) => /VirtualMachineImageTemplate$/.test(r.type) && r.name === "winimg-template")!;
        assert.strictEqual((template.inputs.source as { sku: string }).sku, "2025-datacenter-azure-edition");
        assert.strictEqual(doc.resources.find((r) => r.name === "winimg-definition")!.inputs.galleryImageName, "windows-node-2025");
        assert.match(doc.outputs.imageVersionId, /\/images\/windows-node-2025\/versions\//);
        const prepull = fs.readFileSync(path.join(w25.out, "scripts", "06-prepull.ps1"), "utf8");
        assert.match(prepull, /servercore:ltsc2025/);
        assert.doesNotMatch(prepull, /ltsc2022/);
        const version = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as { outputs: Record<string, string> }).outputs.imageVersion;
        assert.notStrictEqual(version(w25.out), version(imagesPlan().out));
        // a source of another release is refused, naming the key
        const mixed = run(["--config", "windowsServerVersion=2025", "--config", "windowsImage=MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest"]);
        assert.strictEqual(mixed.code, 1);
        assert.match(mixed.stderr, /hybrid-k8s-images:windowsImage.*not a Windows Server 2025 marketplace image/);
    });

    it("another topology bakes another External network and so another version", function () {
        this.timeout(60000);
        const hostGw = run(["--config", "topology=host-gw"]);
        assert.strictEqual(hostGw.code, 0, hostGw.stderr);
        const version = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")) as { outputs: Record<string, string> }).outputs.imageVersion;
        assert.notStrictEqual(version(hostGw.out), version(imagesPlan().out));
        assert.match(fs.readFileSync(path.join(hostGw.out, "scripts", "02-prepare-features.external-network.ps1"), "utf8"), /-Type L2Bridge/);
    });
});
