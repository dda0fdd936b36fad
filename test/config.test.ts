import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigError, KEYS, parseConfig } from "../components/config";

const GOOD: Record<string, string> = {
    "hybrid-k8s:adminCidr": "203.0.113.7/32",
    "hybrid-k8s:adminPassword": "Correct-Horse-9",
    "hybrid-k8s:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk me@laptop",
    "hybrid-k8s:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n",
    "azure-native:location": "westeurope",
};

function errorsOf(overrides: Record<string, string | undefined>, mode: "up" | "plan" = "up"): ConfigError {
    const raw: Record<string, string> = { ...GOOD };
    for (const [k, v] of Object.entries(overrides)) {
        const key = `hybrid-k8s:${k}`;
        if (v === undefined) {
            delete raw[key];
        } else {
            raw[key] = v;
        }
    }
    try {
        parseConfig(raw, { mode });
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
        return e;
    }
    throw new assert.AssertionError({ message: `config ${JSON.stringify(overrides)} was accepted` });
}

describe("config", () => {
    it("applies every documented default", () => {
        const cfg = parseConfig(GOOD, { mode: "up" });
        assert.strictEqual(cfg.topology, "vxlan");
        assert.strictEqual(cfg.windowsNodeCount, 2);
        assert.strictEqual(cfg.podCidr, "10.244.0.0/16");
        assert.strictEqual(cfg.serviceCidr, "10.96.0.0/12");
        assert.strictEqual(cfg.vnetCidr, "10.240.0.0/16");
        assert.strictEqual(cfg.adminUsername, "azureuser");
        assert.strictEqual(cfg.validation, "enforce");
        assert.strictEqual(cfg.sampleService, true);
        assert.deepStrictEqual(cfg.windowsImage, { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest" });
    });

    it("reads typed values the way the Pulumi CLI passes them (text)", () => {
        const cfg = parseConfig({ ...GOOD, "hybrid-k8s:windowsNodeCount": "7", "hybrid-k8s:exposeNodePorts": "true", "hybrid-k8s:topology": "tor" }, { mode: "up" });
        assert.strictEqual(cfg.windowsNodeCount, 7);
        assert.strictEqual(cfg.exposeNodePorts, true);
        assert.strictEqual(cfg.topology, "tor");
    });

    it("accepts keys without the namespace and ignores other namespaces", () => {
        const cfg = parseConfig({ ...GOOD, topology: "host-gw", "azure-native:location": "eastus" }, { mode: "up" });
        assert.strictEqual(cfg.topology, "host-gw");
    });

    it("plan mode does not require deployment credentials", () => {
        const cfg = parseConfig({}, { mode: "plan" });
        assert.strictEqual(cfg.adminPassword, undefined);
    });

    it("0 Windows nodes need no admin password", () => {
        const raw = { ...GOOD, "hybrid-k8s:windowsNodeCount": "0" };
        delete (raw as Record<string, string>)["hybrid-k8s:adminPassword"];
        assert.strictEqual(parseConfig(raw, { mode: "up" }).windowsNodeCount, 0);
    });

    it("allows adminCidr 0.0.0.0/0 only when said explicitly", () => {
        const cfg = parseConfig({ ...GOOD, "hybrid-k8s:adminCidr": "0.0.0.0/0", "hybrid-k8s:allowAdminFromInternet": "true" }, { mode: "up" });
        assert.strictEqual(cfg.adminCidr, "0.0.0.0/0");
    });

    // Each case: the overrides, the key the message must name, and a fragment of the fix.
    const BAD: Array<[string, Record<string, string | undefined>, string, RegExp]> = [
        ["unknown topology", { topology: "overlay" }, "topology", /vxlan, host-gw, tor/],
        ["topology in capitals", { topology: "VXLAN" }, "topology", /one of/],
        ["negative node count", { windowsNodeCount: "-1" }, "windowsNodeCount", /0 to 100/],
        ["too many nodes", { windowsNodeCount: "101" }, "windowsNodeCount", /0 to 100/],
        ["node count not a number", { windowsNodeCount: "two" }, "windowsNodeCount", /whole number/],
        ["fractional node count", { windowsNodeCount: "1.5" }, "windowsNodeCount", /whole number/],
        ["pod CIDR not a CIDR", { podCidr: "10.244.0.0" }, "podCidr", /IPv4 CIDR/],
        ["pod CIDR with a bad octet", { podCidr: "10.300.0.0/16" }, "podCidr", /IPv4 CIDR/],
        ["pod CIDR with host bits", { podCidr: "10.244.1.0/16" }, "podCidr", /10\.244\.0\.0\/16/],
        ["pod CIDR too small for the nodes", { podCidr: "10.244.0.0/24" }, "podCidr", /one per node/],
        ["pod CIDR smaller than a /24", { podCidr: "10.244.0.0/25" }, "podCidr", /one per node/],
        ["pod CIDR just too small for 5 nodes", { podCidr: "10.244.0.0/22", windowsNodeCount: "4" }, "podCidr", /one per node \(5\)/],
        ["service CIDR not a CIDR", { serviceCidr: "ten.96/12" }, "serviceCidr", /IPv4 CIDR/],
        ["service CIDR prefix 33", { serviceCidr: "10.96.0.0/33" }, "serviceCidr", /IPv4 CIDR/],
        ["service CIDR too small", { serviceCidr: "10.96.0.0/28" }, "serviceCidr", /\/24 or larger/],
        ["VNet CIDR not a CIDR", { vnetCidr: "10.240.0.0/" }, "vnetCidr", /IPv4 CIDR/],
        ["VNet smaller than a /24", { vnetCidr: "10.240.0.0/26" }, "vnetCidr", /\/24 or larger/],
        ["pod overlaps service", { podCidr: "10.96.0.0/16" }, "podCidr", /overlaps serviceCidr/],
        ["pod overlaps VNet", { podCidr: "10.240.0.0/16" }, "podCidr", /overlaps vnetCidr/],
        ["service overlaps VNet", { serviceCidr: "10.240.0.0/16" }, "serviceCidr", /overlaps vnetCidr/],
        ["VNet inside the pod range", { vnetCidr: "10.244.128.0/24" }, "podCidr", /overlaps vnetCidr/],
        ["admin CIDR missing", { adminCidr: undefined }, "adminCidr", /is required/],
        ["admin CIDR is the internet", { adminCidr: "0.0.0.0/0" }, "adminCidr", /allowAdminFromInternet/],
        ["admin CIDR not a CIDR", { adminCidr: "my-ip" }, "adminCidr", /IPv4 CIDR/],
        ["admin CIDR inside the pod range", { adminCidr: "10.244.3.0/24" }, "adminCidr", /inside podCidr/],
        ["Kubernetes version with v", { kubernetesVersion: "v1.35.4" }, "kubernetesVersion", /no leading v/],
        ["Kubernetes version without patch", { kubernetesVersion: "1.35" }, "kubernetesVersion", /all three parts/],
        ["Kubernetes version out of support", { kubernetesVersion: "1.9.0" }, "kubernetesVersion", /out of support/],
        ["Kubernetes major 2", { kubernetesVersion: "2.0.0" }, "kubernetesVersion", /out of support/],
        ["containerd version garbage", { containerdVersion: "latest" }, "containerdVersion", /not a version/],
        ["Windows containerd version with v", { windowsContainerdVersion: "v2.1.4" }, "windowsContainerdVersion", /no leading v/],
        ["flannel version with v", { flannelVersion: "v0.27.4" }, "flannelVersion", /no leading v/],
        ["flannel CNI plugin tag garbage", { flannelCniPluginVersion: "latest" }, "flannelCniPluginVersion", /1\.8\.0-flannel1/],
        ["CNI plugins version garbage", { cniPluginsVersion: "1.x" }, "cniPluginsVersion", /not a version/],
        ["SDN plugins version garbage", { sdnPluginsVersion: "" }, "sdnPluginsVersion", /not a version/],
        ["password too short", { adminPassword: "Ab1!" }, "adminPassword", /8 to 123/],
        ["password too simple", { adminPassword: "alllowercase" }, "adminPassword", /3 of/],
        ["password on Azure's deny list", { adminPassword: "P@ssw0rd" }, "adminPassword", /disallowed/],
        ["password contains the user name", { adminPassword: "Azureuser-123" }, "adminPassword", /user name/],
        ["password missing with Windows nodes", { adminPassword: undefined }, "adminPassword", /--secret/],
        ["reserved user name", { adminUsername: "administrator" }, "adminUsername", /reserved/],
        ["user name with a space", { adminUsername: "my user" }, "adminUsername", /not a valid user name/],
        ["user name too long", { adminUsername: "a-very-long-admin-user-name" }, "adminUsername", /1-20/],
        ["public key not OpenSSH", { sshPublicKey: "AAAAB3NzaC1yc2E" }, "sshPublicKey", /\.pub/],
        ["public key missing", { sshPublicKey: undefined }, "sshPublicKey", /is required/],
        ["private key not PEM", { sshPrivateKey: "hunter2" }, "sshPrivateKey", /--secret/],
        ["private key missing", { sshPrivateKey: undefined }, "sshPrivateKey", /is required/],
        ["VM size not a size", { linuxVmSize: "large" }, "linuxVmSize", /Standard_D2s_v5/],
        ["Windows VM size not a size", { windowsVmSize: "D4s_v5" }, "windowsVmSize", /Standard_D4s_v5/],
        ["image not a URN", { windowsImage: "WindowsServer2022" }, "windowsImage", /publisher:offer:sku:version/],
        ["Windows image of another build", { windowsImage: "MicrosoftWindowsServer:WindowsServer:2019-datacenter:latest" }, "windowsImage", /ltsc2022/],
        ["Linux image not a URN", { linuxImage: "ubuntu" }, "linuxImage", /publisher:offer:sku:version/],
        ["boolean not a boolean", { sampleService: "yes" }, "sampleService", /true or false/],
        ["validation mode unknown", { validation: "strict" }, "validation", /enforce or report/],
        ["unknown key", { nodeCount: "3" }, "nodeCount", /pulumi config rm/],
        ["misspelled key in another case", { windowsnodecount: "3" }, "windowsnodecount", /did you mean hybrid-k8s:windowsNodeCount/],
    ];

    for (const [title, overrides, key, fix] of BAD) {
        it(`rejects ${title}, naming ${key}`, () => {
            const err = errorsOf(overrides);
            const issue = err.issues.find((i) => i.key === key);
            assert.ok(issue, `no issue for ${key}: ${err.message}`);
            assert.match(err.message, new RegExp(`hybrid-k8s:${key}:`));
            assert.match(issue.message, fix);
        });
    }

    it("has at least 30 distinct bad configurations", () => {
        assert.ok(new Set(BAD.map((b) => JSON.stringify(b[1]))).size >= 30);
    });

    it("reports several problems together", () => {
        const err = errorsOf({ topology: "mesh", windowsNodeCount: "500", podCidr: "10.240.0.0/16" });
        assert.deepStrictEqual(new Set(err.issues.map((i) => i.key)), new Set(["topology", "windowsNodeCount", "podCidr"]));
    });

    it("never echoes secret values in errors", () => {
        const err = errorsOf({ adminPassword: "weakweakweak", sshPrivateKey: "not-a-key-SENTINEL" });
        assert.doesNotMatch(err.message, /weakweakweak|SENTINEL/);
    });

    it("Pulumi.yaml declares every key with the same type and default", () => {
        const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
            name: string;
            config: Record<string, { type: string; default?: unknown; secret?: boolean }>;
        };
        assert.strictEqual(project.name, "hybrid-k8s");
        assert.deepStrictEqual(Object.keys(project.config).sort(), Object.keys(KEYS).sort());
        for (const [key, spec] of Object.entries(KEYS)) {
            assert.strictEqual(project.config[key].type, spec.kind, key);
            assert.deepStrictEqual(project.config[key].default, spec.default, key);
            assert.strictEqual(project.config[key].secret ?? false, spec.secret ?? false, key);
        }
    });

    it("the dev stack is valid once its secrets are set", () => {
        const stack = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, string> };
        const raw = { ...GOOD, ...Object.fromEntries(Object.entries(stack.config).map(([k, v]) => [k, String(v)])) };
        const cfg = parseConfig(raw, { mode: "up" });
        assert.strictEqual(cfg.topology, "vxlan");
        assert.strictEqual(cfg.windowsNodeCount, 2);
    });
});
