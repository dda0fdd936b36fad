// The prebuilt Linux master image (images/, components/scripts/masterImage.ts): its template runs
// the master's own prepare step and the pulls as Shell steps; its scripts run in the bash sandbox
// (first run, second run, a failure half way and a retry); the cluster takes its version id as
// linuxImage and refuses the images mixed up.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseConfig, ConfigError } from "../components/config";
import { masterImageSteps, renderMasterImageCleanup, renderMasterImagePull } from "../components/scripts/masterImage";
import { imageVersionName } from "../components/scripts/image";
import { customizer } from "../images/nodeImage";
import { parseImageConfig } from "../images/config";
import { cachedPlan, imagesPlan } from "./planRun";
import { sandbox, shellcheck } from "./shell";

const INPUT = { kubernetesVersion: "1.35.4", containerdVersion: "2.1.4", flannelVersion: "0.27.4", flannelCniPluginVersion: "1.8.0-flannel1" };
const MASTER_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images-rg/providers/Microsoft.Compute/galleries/hybridk8s_images/images/linux-master/versions/1.2.3";
const WINDOWS_ID = MASTER_ID.replace("linux-master", "windows-node-2022");

describe("prebuilt master image", () => {
    it("npm run plan:images: a Linux template of Shell steps (prepare, pull, cleanup) into the same gallery, its version named by hash", () => {
        const out = imagesPlan().out;
        const t = JSON.parse(fs.readFileSync(path.join(out, "master-template.json"), "utf8")) as { source: Record<string, string>; customize: Array<{ type: string; name: string }>; distribute: Array<{ galleryImageId: string }> };
        assert.deepStrictEqual(t.source, { type: "PlatformImage", publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" });
        assert.deepStrictEqual(t.customize.map((c) => [c.type, c.name]), [["Shell", "prepare"], ["Shell", "pull"], ["Shell", "cleanup"]]);
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as { outputs: Record<string, string>; resources: Array<{ type: string; name: string; inputs: Record<string, unknown> }> };
        assert.strictEqual(t.distribute[0].galleryImageId, plan.outputs.masterImageVersionId);
        assert.match(plan.outputs.masterImageVersionId, /\/images\/linux-master\/versions\/1\.\d+\.\d+$/);
        const definition = plan.resources.find((r) => r.name === "masterimg-definition")!;
        assert.strictEqual(definition.inputs.osType, "Linux");
        // one gallery for both images
        assert.strictEqual(plan.resources.filter((r) => /compute:Gallery$/.test(r.type)).length, 1);
    });

    it("runs the master's own prepare step: byte-identical to the cluster's k8s-master-prepare", () => {
        const image = fs.readFileSync(path.join(imagesPlan().out, "scripts", "master", "01-prepare.sh"), "utf8");
        const cluster = cachedPlan([]);
        assert.strictEqual(cluster.code, 0, cluster.stderr);
        assert.strictEqual(image, fs.readFileSync(path.join(cluster.out, "scripts", "k8s-master-prepare.sh"), "utf8"));
    });

    it("a Shell step carries its script as base64 data and runs it under sudo", () => {
        const c = customizer({ name: "pull", kind: "Shell", script: "echo 'it''s'\n$(rm -rf /)\n" }) as { type: string; inline: string[] };
        assert.strictEqual(c.type, "Shell");
        const m = /^echo '([A-Za-z0-9+/=]+)' \| base64 -d > \/tmp\/hybrid-k8s-pull\.sh$/.exec(c.inline[0]);
        assert.ok(m, c.inline[0]);
        assert.strictEqual(Buffer.from(m[1], "base64").toString("utf8"), "echo 'it''s'\n$(rm -rf /)\n");
        assert.deepStrictEqual(c.inline.slice(1), ["sudo bash /tmp/hybrid-k8s-pull.sh", "rm -f /tmp/hybrid-k8s-pull.sh"]);
    });

    it("names a new version when a version or a script changes; masterImage false builds none", () => {
        const v = (input: typeof INPUT) => imageVersionName("Canonical:ubuntu-24_04-lts:server:latest", masterImageSteps(input));
        assert.strictEqual(v(INPUT), v({ ...INPUT }));
        assert.notStrictEqual(v(INPUT), v({ ...INPUT, containerdVersion: "2.1.5" }));
        assert.notStrictEqual(v(INPUT), v({ ...INPUT, flannelVersion: "0.27.5" }));
        assert.strictEqual(parseImageConfig({ masterImage: "false" }).master, undefined);
        assert.deepStrictEqual(parseImageConfig({}).master?.source, { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" });
        assert.throws(() => parseImageConfig({ linuxImage: "ubuntu", containerdVersion: "1.7.20" }), (e: unknown) => e instanceof ConfigError && ["linuxImage", "containerdVersion"].every((k) => e.issues.some((i) => i.key === k)));
        assert.throws(() => parseImageConfig({ masterImage: "maybe" }), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.key === "masterImage"));
    });

    it("its scripts pass shellcheck", () => {
        assert.strictEqual(shellcheck(renderMasterImagePull(INPUT)), "");
        assert.strictEqual(shellcheck(renderMasterImageCleanup()), "");
    });

    it("pull: first run pulls the control plane's and flannel's images; a second run is harmless; a registry that fails once is retried", function () {
        this.timeout(120000);
        const sb = sandbox();
        sb.fake("kubeadm", `echo "[config/images] Pulled registry.k8s.io/kube-apiserver:v1.35.4"`);
        sb.fake("sleep", "true");
        // ctr fails its first call (a registry hiccup), then succeeds
        sb.fake("ctr", `n=$(wc -l < "$SANDBOX/calls/ctr"); [ "$n" -gt 1 ] || { echo "ctr: failed to resolve reference" >&2; exit 1; }`);
        const script = renderMasterImagePull(INPUT);
        const first = sb.run(script);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.deepStrictEqual(sb.calls("kubeadm"), ["config images pull --kubernetes-version v1.35.4 --cri-socket unix:///run/containerd/containerd.sock"]);
        assert.deepStrictEqual(sb.calls("ctr"), [
            "-n k8s.io images pull ghcr.io/flannel-io/flannel:v0.27.4",
            "-n k8s.io images pull ghcr.io/flannel-io/flannel:v0.27.4",
            "-n k8s.io images pull ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1",
        ]);
        const second = sb.run(script);
        assert.strictEqual(second.code, 0, second.stderr);
    });

    it("pull: a registry that stays down fails the step naming the image; the retry succeeds", function () {
        this.timeout(120000);
        const sb = sandbox();
        sb.fake("kubeadm", "true");
        sb.fake("sleep", "true");
        sb.fake("ctr", `[ -e "$SANDBOX/registry-up" ] || { echo "ctr: failed to resolve reference" >&2; exit 1; }`);
        const failed = sb.run(renderMasterImagePull(INPUT));
        assert.notStrictEqual(failed.code, 0);
        assert.match(failed.stderr, /failed after 5 tries: ctr -n k8s.io images pull ghcr.io\/flannel-io\/flannel:v0\.27\.4/);
        fs.writeFileSync(path.join(sb.dir, "registry-up"), "");
        const retry = sb.run(renderMasterImagePull(INPUT));
        assert.strictEqual(retry.code, 0, retry.stderr);
        assert.match(retry.stdout, /pulled ghcr.io\/flannel-io\/flannel-cni-plugin:v1\.8\.0-flannel1/);
    });

    it("cleanup: empties the machine id (and dbus's copy, which systemd would take first); a second run is harmless; a failed apt-get clean stops it and the retry finishes", () => {
        const sb = sandbox();
        fs.mkdirSync(path.join(sb.dir, "etc"), { recursive: true });
        fs.mkdirSync(path.join(sb.dir, "var/lib/dbus"), { recursive: true });
        fs.writeFileSync(path.join(sb.dir, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
        fs.writeFileSync(path.join(sb.dir, "var/lib/dbus/machine-id"), "0123456789abcdef0123456789abcdef\n");
        // apt-get fails on its first call (a held lock), then works
        sb.fake("apt-get", `[ "$(wc -l < "$SANDBOX/calls/apt-get")" -gt 1 ] || { echo "E: Could not get lock" >&2; exit 100; }`);
        const script = renderMasterImageCleanup();
        const failed = sb.run(script);
        assert.notStrictEqual(failed.code, 0);
        assert.strictEqual(sb.file("etc/machine-id"), "0123456789abcdef0123456789abcdef\n", "nothing changed after the failure");
        for (const run of [sb.run(script), sb.run(script)]) {
            assert.strictEqual(run.code, 0, run.stderr);
            assert.strictEqual(sb.file("etc/machine-id"), "");
            assert.ok(!sb.exists("var/lib/dbus/machine-id"));
        }
    });

    it("the cluster takes the master image as linuxImage and refuses the two images mixed up, naming the key", () => {
        const base = { "hybrid-k8s:adminCidr": "203.0.113.7/32" };
        assert.deepStrictEqual(parseConfig({ ...base, "hybrid-k8s:linuxImage": MASTER_ID }, { mode: "plan" }).linuxImage, { id: MASTER_ID });
        const refused = (values: Record<string, string>, key: string, message: RegExp) =>
            assert.throws(() => parseConfig({ ...base, ...values }, { mode: "plan" }), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.key === key && message.test(i.message)));
        refused({ "hybrid-k8s:linuxImage": WINDOWS_ID }, "linuxImage", /is a Windows node image/);
        refused({ "hybrid-k8s:windowsImage": MASTER_ID }, "windowsImage", /is the Linux master image/);
    });

    it("a cluster plan with the master image: the master VM is made from it, its steps unchanged", () => {
        const stock = cachedPlan([]);
        const prebuilt = cachedPlan(["--config", `linuxImage=${MASTER_ID}`]);
        assert.strictEqual(prebuilt.code, 0, prebuilt.stderr);
        const vm = prebuilt.graph!.one("k8s-master-vm");
        assert.deepStrictEqual((vm.inputs.storageProfile as { imageReference: unknown }).imageReference, { id: MASTER_ID });
        for (const step of ["k8s-master-prepare.sh", "k8s-master-init.sh"]) {
            assert.strictEqual(fs.readFileSync(path.join(prebuilt.out, "scripts", step), "utf8"), fs.readFileSync(path.join(stock.out, "scripts", step), "utf8"), step);
        }
    });
});
