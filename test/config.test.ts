import * as assert from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import * as crypto from "crypto";
import { addressInput, ConfigError, KEYS, parseConfig, recordableConfigKey } from "../components/config";
import { planAddresses } from "../components/addressing";
import { ed25519PublicKey, openSshPrivateKey } from "../components/sshKeys";
import { KUBERNETES_MINORS } from "../components/versions";

const ED25519 = ed25519PublicKey(crypto.randomBytes(32), "me@laptop");
const PRIVATE_KEY = openSshPrivateKey("key material");

/** An ssh-rsa public key line of `bits` bits (RFC 4253 6.6: string "ssh-rsa", mpint e, mpint n). */
function rsaPublicKey(bits: number, label = "ssh-rsa"): string {
    const { publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: bits });
    const jwk = publicKey.export({ format: "jwk" });
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b]);
    const mpint = (b64: string) => {
        const b = Buffer.from(b64, "base64url");
        return str(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
    };
    return `${label} ${Buffer.concat([str(Buffer.from("ssh-rsa")), mpint(jwk.e as string), mpint(jwk.n as string)]).toString("base64")} me@laptop`;
}

const GOOD: Record<string, string> = {
    "hybrid-k8s:adminCidr": "203.0.113.7/32",
    "hybrid-k8s:adminPassword": "Correct-Horse-9",
    "hybrid-k8s:sshPublicKey": ED25519,
    "hybrid-k8s:sshPrivateKey": PRIVATE_KEY,
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

/** Existing machines: a kubeadm master and two Windows hosts (as Pulumi.existing.yaml). */
const EXISTING: Record<string, string> = {
    "hybrid-k8s:machines": "existing",
    "hybrid-k8s:masterAddress": "192.0.2.10",
    "hybrid-k8s:masterUser": "ubuntu",
    "hybrid-k8s:nodeSubnet": "192.0.2.0/24",
    "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "192.0.2.21" }, { name: "win-b", address: "192.0.2.22", user: "Administrator" }]),
};

interface ProjectFile {
    name: string;
    config: Record<string, { type: "string" | "integer" | "boolean" | "array"; default?: string | number | boolean | unknown[]; secret?: boolean }>;
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

    it("Windows Server 2025: its Azure Edition image by default, or any 2025 SKU", () => {
        const cfg = parseConfig({ ...GOOD, "hybrid-k8s:windowsServerVersion": "2025" }, { mode: "up" });
        assert.strictEqual(cfg.windowsServerVersion, "2025");
        assert.deepStrictEqual(cfg.windowsImage, { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2025-datacenter-azure-edition", version: "latest" });
        const core = parseConfig({ ...GOOD, "hybrid-k8s:windowsServerVersion": "2025", "hybrid-k8s:windowsImage": "MicrosoftWindowsServer:WindowsServer:2025-datacenter-core-g2:latest" }, { mode: "up" });
        assert.deepStrictEqual(core.windowsImage, { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2025-datacenter-core-g2", version: "latest" });
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
        ["service CIDR wider than kubeadm accepts", { serviceCidr: "10.0.0.0/11" }, "serviceCidr", /kubeadm accepts .*\/12/],
        ["empty service CIDR", { serviceCidr: "" }, "serviceCidr", /empty/],
        ["empty pod CIDR", { podCidr: "" }, "podCidr", /empty.*pulumi config rm/],
        ["empty topology", { topology: "" }, "topology", /empty/],
        ["empty node count", { windowsNodeCount: "" }, "windowsNodeCount", /empty/],
        ["empty admin CIDR", { adminCidr: "" }, "adminCidr", /is required/],
        ["loopback pod CIDR", { podCidr: "127.0.0.0/16" }, "podCidr", /loopback/],
        ["multicast service CIDR", { serviceCidr: "224.0.0.0/16" }, "serviceCidr", /multicast/],
        ["link-local VNet (Azure metadata)", { vnetCidr: "169.254.0.0/16" }, "vnetCidr", /link-local.*169\.254\.169\.254/],
        ["VNet holding Azure's 168.63.129.16", { vnetCidr: "168.63.0.0/16" }, "vnetCidr", /168\.63\.129\.16/],
        ["reserved 240/4 pod CIDR", { podCidr: "240.0.0.0/16" }, "podCidr", /reserved/],
        ["\"this network\" 0/8 VNet", { vnetCidr: "0.0.0.0/16" }, "vnetCidr", /not routable/],
        ["VNet larger than Azure allows", { vnetCidr: "0.0.0.0/7" }, "vnetCidr", /not routable|\/8 at most/],
        ["VNet /7 in private space", { vnetCidr: "10.0.0.0/7" }, "vnetCidr", /\/8 at most/],
        ["admin CIDR loopback", { adminCidr: "127.0.0.1/32" }, "adminCidr", /loopback/],
        ["admin CIDR link-local", { adminCidr: "169.254.1.1/32" }, "adminCidr", /link-local/],
        ["admin CIDR multicast", { adminCidr: "224.1.1.1/32" }, "adminCidr", /multicast/],
        ["VNet CIDR not a CIDR", { vnetCidr: "10.240.0.0/" }, "vnetCidr", /IPv4 CIDR/],
        ["VNet smaller than a /24", { vnetCidr: "10.240.0.0/26" }, "vnetCidr", /\/24 or larger/],
        ["pod overlaps service", { podCidr: "10.96.0.0/16" }, "podCidr", /overlaps serviceCidr/],
        ["pod overlaps VNet", { podCidr: "10.240.0.0/16" }, "podCidr", /overlaps vnetCidr/],
        ["service overlaps VNet", { serviceCidr: "10.240.0.0/16" }, "serviceCidr", /overlaps vnetCidr/],
        ["VNet inside the pod range", { vnetCidr: "10.244.128.0/24" }, "podCidr", /overlaps vnetCidr/],
        ["admin CIDR missing", { adminCidr: undefined }, "adminCidr", /is required/],
        ["admin CIDR is the internet", { adminCidr: "0.0.0.0/0" }, "adminCidr", /not routable|allowAdminFromInternet/],
        ["admin CIDR is half the internet", { adminCidr: "128.0.0.0/1" }, "adminCidr", /2,147,483,648 addresses.*allowAdminFromInternet/],
        ["admin CIDR a public /15", { adminCidr: "198.18.0.0/15" }, "adminCidr", /allowAdminFromInternet/],
        ["admin CIDR is IPv6", { adminCidr: "2001:db8::1/128" }, "adminCidr", /IPv6.*curl -4/],
        ["admin CIDR without prefix", { adminCidr: "203.0.113.7" }, "adminCidr", /203\.0\.113\.7\/32/],
        ["admin CIDR covering the VNet", { adminCidr: "10.0.0.0/8" }, "adminCidr", /covers/],
        ["admin CIDR not a CIDR", { adminCidr: "my-ip" }, "adminCidr", /IPv4 CIDR/],
        ["admin CIDR inside the pod range", { adminCidr: "10.244.3.0/24" }, "adminCidr", /inside podCidr/],
        ["Kubernetes version with v", { kubernetesVersion: "v1.35.4" }, "kubernetesVersion", /no leading v/],
        ["Kubernetes version without patch", { kubernetesVersion: "1.35" }, "kubernetesVersion", /all three parts/],
        ["Kubernetes version out of support", { kubernetesVersion: "1.9.0" }, "kubernetesVersion", /out of support/],
        ["Kubernetes major 2", { kubernetesVersion: "2.0.0" }, "kubernetesVersion", /out of support/],
        ["Kubernetes minor never rendered", { kubernetesVersion: "1.36.0" }, "kubernetesVersion", /written for Kubernetes 1\.33, 1\.34, 1\.35/],
        ["Kubernetes minor that does not exist", { kubernetesVersion: "1.99.0" }, "kubernetesVersion", /out of support/],
        ["Kubernetes version with a leading zero", { kubernetesVersion: "1.035.4" }, "kubernetesVersion", /no leading zeros/],
        ["Windows containerd 1.x (config version 3 needs 2.0)", { windowsContainerdVersion: "1.7.22" }, "windowsContainerdVersion", /version 3.*2\.0/],
        ["Linux containerd 1.x", { containerdVersion: "1.7.22" }, "containerdVersion", /too old/],
        ["containerd version garbage", { containerdVersion: "latest" }, "containerdVersion", /not a version/],
        ["Windows containerd version with v", { windowsContainerdVersion: "v2.1.4" }, "windowsContainerdVersion", /no leading v/],
        ["flannel version with v", { flannelVersion: "v0.27.4" }, "flannelVersion", /no leading v/],
        ["flannel CNI plugin tag garbage", { flannelCniPluginVersion: "latest" }, "flannelCniPluginVersion", /1\.8\.0-flannel1/],
        ["CNI plugins version garbage", { cniPluginsVersion: "1.x" }, "cniPluginsVersion", /not a version/],
        ["SDN plugins version garbage", { sdnPluginsVersion: "0.3" }, "sdnPluginsVersion", /not a version/],
        ["SDN plugins version empty", { sdnPluginsVersion: "" }, "sdnPluginsVersion", /empty/],
        ["password too short", { adminPassword: "Ab1!" }, "adminPassword", /8 to 123/],
        ["password too simple", { adminPassword: "alllowercase" }, "adminPassword", /3 of/],
        ["password on Azure's deny list", { adminPassword: "P@ssw0rd" }, "adminPassword", /disallowed/],
        ["password contains the user name", { adminPassword: "Azureuser-123" }, "adminPassword", /user name/],
        ["password missing with Windows nodes", { adminPassword: undefined }, "adminPassword", /--secret/],
        ["reserved user name", { adminUsername: "administrator" }, "adminUsername", /reserved/],
        ["user name with a space", { adminUsername: "my user" }, "adminUsername", /not a valid user name/],
        ["user name too long", { adminUsername: "a-very-long-admin-user-name" }, "adminUsername", /1-20/],
        ["public key not OpenSSH", { sshPublicKey: "AAAAB3NzaC1yc2E" }, "sshPublicKey", /\.pub/],
        ["public key with a blob that is not base64", { sshPublicKey: "ssh-ed25519 not*base64 me" }, "sshPublicKey", /no base64 key data/],
        ["public key whose blob is another type", { sshPublicKey: rsaPublicKey(2048).replace(/^ssh-rsa/, "ssh-ed25519") }, "sshPublicKey", /labelled "ssh-ed25519" but its key data is a "ssh-rsa" key/],
        ["public key of an unknown type", { sshPublicKey: "ssh-dss AAAAB3NzaC1kc3M= me" }, "sshPublicKey", /not a key type/],
        ["public key truncated", { sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk= me" }, "sshPublicKey", /wrong length/],
        ["RSA public key under 2048 bits", { sshPublicKey: rsaPublicKey(1024) }, "sshPublicKey", /1024-bit.*2048/],
        ["two public keys", { sshPublicKey: `${ED25519}\n${ED25519}` }, "sshPublicKey", /one key/],
        ["private key armour without a key", { sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n" }, "sshPrivateKey", /not base64|openssh-key-v1/],
        ["private key encrypted (PKCS#8)", { sshPrivateKey: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n" }, "sshPrivateKey", /passphrase/],
        ["a public key given as the private key", { sshPrivateKey: ED25519 }, "sshPrivateKey", /not a PEM/],
        ["Linux VM size with 1 vCPU (kubeadm preflight)", { linuxVmSize: "Standard_B1s" }, "linuxVmSize", /1 vCPU.*kubeadm/],
        ["Linux VM size constrained to 1 vCPU", { linuxVmSize: "Standard_E4-1ds_v5" }, "linuxVmSize", /1 vCPU/],
        ["Windows image from another publisher", { windowsImage: "SomeVendor:WindowsServer:2022-datacenter:latest" }, "windowsImage", /MicrosoftWindowsServer:WindowsServer/],
        ["Windows image with 2022 elsewhere in the SKU", { windowsImage: "MicrosoftWindowsServer:WindowsServer:datacenter-core-2022x:latest" }, "windowsImage", /Windows Server 2022/],
        ["public key missing", { sshPublicKey: undefined }, "sshPublicKey", /is required/],
        ["private key not PEM", { sshPrivateKey: "hunter2" }, "sshPrivateKey", /--secret/],
        ["private key missing", { sshPrivateKey: undefined }, "sshPrivateKey", /is required/],
        ["VM size not a size", { linuxVmSize: "large" }, "linuxVmSize", /Standard_D2s_v5/],
        ["Windows VM size not a size", { windowsVmSize: "D4s_v5" }, "windowsVmSize", /Standard_D4s_v5/],
        ["image not a URN", { windowsImage: "WindowsServer2022" }, "windowsImage", /publisher:offer:sku:version/],
        ["Windows image of another build", { windowsImage: "MicrosoftWindowsServer:WindowsServer:2019-datacenter:latest" }, "windowsImage", /ltsc2022/],
        ["Windows Server release not supported", { windowsServerVersion: "2019" }, "windowsServerVersion", /2022 or 2025/],
        ["a 2022 image on 2025 nodes", { windowsServerVersion: "2025", windowsImage: "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest" }, "windowsImage", /ltsc2025.*windowsServerVersion/],
        ["a 2025 image on 2022 nodes", { windowsImage: "MicrosoftWindowsServer:WindowsServer:2025-datacenter-azure-edition:latest" }, "windowsImage", /Windows Server 2022/],
        ["Linux image not a URN", { linuxImage: "ubuntu" }, "linuxImage", /publisher:offer:sku:version/],
        ["boolean not a boolean", { sampleService: "yes" }, "sampleService", /true or false/],
        ["validation mode unknown", { validation: "strict" }, "validation", /enforce or report/],
        ["unknown key", { nodeCount: "3" }, "nodeCount", /pulumi config rm/],
        ["mistyped key", { adminPasword: "Secret-Value-1" }, "adminPasword", /did you mean hybrid-k8s:adminPassword/],
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

    // Keys in a namespace that is almost ours would be ignored by the program, silently.
    for (const ns of ["hybrid-k8", "HYBRID-K8S", "hybridk8s", "hybrid_k8s", "hybird-k8s"]) {
        it(`rejects the near-miss namespace ${ns}:, naming it, without echoing the value`, () => {
            let err: unknown;
            try {
                parseConfig({ ...GOOD, [`${ns}:adminPassword`]: "Leaked-Secret-77" }, { mode: "up" });
            } catch (e) {
                err = e;
            }
            assert.ok(err instanceof ConfigError, `${ns}: accepted`);
            assert.match(err.message, new RegExp(`${ns}:adminPassword: namespace "${ns}" is not this project's.*set hybrid-k8s:adminPassword instead`));
            assert.doesNotMatch(err.message, /Leaked-Secret-77/);
        });
    }

    it("keeps the other namespaces (providers) alone", () => {
        assert.strictEqual(parseConfig({ ...GOOD, "azure-native:location": "eastus", "kubernetes:context": "x" }, { mode: "up" }).topology, "vxlan");
    });

    it("plan.json records only keys the program reads, never secrets or unknown keys", () => {
        assert.ok(recordableConfigKey("hybrid-k8s:topology"));
        assert.ok(recordableConfigKey("azure-native:location"));
        for (const k of ["hybrid-k8s:adminPassword", "hybrid-k8s:sshPrivateKey", "hybrid-k8s:adminPasword", "hybrid-k8:adminPassword", "azure-native:clientSecret"]) {
            assert.ok(!recordableConfigKey(k), k);
        }
    });

    it("a public key with surrounding spaces is accepted and returned trimmed", () => {
        assert.strictEqual(parseConfig({ ...GOOD, "hybrid-k8s:sshPublicKey": `  ${ED25519}\n` }, { mode: "up" }).sshPublicKey, ED25519);
        assert.strictEqual(parseConfig({ ...GOOD, "hybrid-k8s:sshPublicKey": rsaPublicKey(2048) }, { mode: "up" }).sshPublicKey?.startsWith("ssh-rsa "), true);
    });

    it("adminCidr: a public /16, a private range outside the cluster, and any range with the opt-in are accepted", () => {
        for (const [cidr, allow] of [["198.51.0.0/16", "false"], ["172.16.0.0/12", "false"], ["128.0.0.0/1", "true"], ["0.0.0.0/0", "true"]]) {
            assert.strictEqual(parseConfig({ ...GOOD, "hybrid-k8s:adminCidr": cidr, "hybrid-k8s:allowAdminFromInternet": allow }, { mode: "up" }).adminCidr, cidr);
        }
    });

    it("a wide admin range is not called \"inside podCidr\"", () => {
        const err = errorsOf({ adminCidr: "0.0.0.0/1" });
        assert.doesNotMatch(err.message, /inside/);
    });

    it("every Kubernetes minor in the version table is accepted, and the default is in it", () => {
        for (const m of KUBERNETES_MINORS) {
            assert.strictEqual(parseConfig({ ...GOOD, "hybrid-k8s:kubernetesVersion": `${m.minor}.0` }, { mode: "up" }).kubernetesVersion, `${m.minor}.0`);
        }
        assert.ok(KUBERNETES_MINORS.some((m) => String(KEYS.kubernetesVersion.default).startsWith(`${m.minor}.`)));
    });

    it("a secret key whose value arrived in plain text is refused, as the Pulumi CLI refuses it", () => {
        const secretKeys = ["hybrid-k8s:sshPrivateKey"];
        let err: unknown;
        try {
            parseConfig(GOOD, { mode: "up", secretKeys });
        } catch (e) {
            err = e;
        }
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /hybrid-k8s:adminPassword: is a secret but its value \(not shown\) is stored in plain text; set it with `pulumi config set --secret/);
        assert.doesNotMatch(err.message, /Correct-Horse-9/);
        assert.strictEqual(parseConfig(GOOD, { mode: "up", secretKeys: [...secretKeys, "hybrid-k8s:adminPassword"] }).adminPassword, "Correct-Horse-9");
    });

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
        const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as ProjectFile;
        assert.strictEqual(project.name, "hybrid-k8s");
        assert.deepStrictEqual(Object.keys(project.config).sort(), Object.keys(KEYS).sort());
        for (const [key, spec] of Object.entries(KEYS)) {
            assert.strictEqual(project.config[key].type, spec.kind, key);
            assert.deepStrictEqual(project.config[key].default, spec.default, key);
        }
    });

    it("README's configuration table documents every key with its default", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
        const table = readme.slice(readme.indexOf("### Configuration"), readme.indexOf("### Outputs"));
        const rows = table.split("\n").filter((l) => l.startsWith("| `"));
        for (const [key, spec] of Object.entries(KEYS)) {
            const row = rows.find((r) => r.split("|")[1].includes(`\`${key}\``));
            assert.ok(row, `${key} has a row`);
            if (typeof spec.default === "number" || typeof spec.default === "boolean") {
                assert.ok(row.split("|")[2].includes(`\`${spec.default}\``), `${key}: default ${spec.default} in ${row}`);
            }
        }
    });

    it("maxUnavailable: 1 by default, a whole number from 1 to 100", () => {
        assert.strictEqual(parseConfig(GOOD, { mode: "up" }).maxUnavailable, 1);
        assert.strictEqual(parseConfig({ ...GOOD, "hybrid-k8s:maxUnavailable": "5" }, { mode: "up" }).maxUnavailable, 5);
        for (const bad of ["0", "101", "-1", "two"]) {
            assert.throws(() => parseConfig({ ...GOOD, "hybrid-k8s:maxUnavailable": bad }, { mode: "up" }), /hybrid-k8s:maxUnavailable: /, bad);
        }
    });

    // What the Pulumi CLI does with Pulumi.yaml's schema before the program runs
    // (pulumi/pulumi pkg/workspace/config.go, mergeConfig and validateStackConfigValue;
    // sdk/go/common/workspace/project.go, Validate and ValidateConfigValue).
    describe("Pulumi.yaml agrees with the rules the Pulumi CLI applies", () => {
        const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as ProjectFile;

        /** The CLI's verdict on a stack: `values` as set (text), `secure` the keys set with --secret. */
        function cli(values: Record<string, string>, secure: string[]): string[] {
            const errors: string[] = [];
            const merged: Record<string, { value: string; secure: boolean }> = {};
            for (const [k, v] of Object.entries(values)) {
                merged[k] = { value: v, secure: secure.includes(k) };
            }
            for (const [key, t] of Object.entries(project.config)) {
                const full = `hybrid-k8s:${key}`;
                if (t.default !== undefined && !(full in merged)) {
                    // the default is applied as a plain value
                    // structured values as JSON (sdk/go/common/resource/config/value.go)
                    merged[full] = { value: typeof t.default === "object" ? JSON.stringify(t.default) : String(t.default), secure: false };
                }
                if (t.default !== undefined && typeof t.default !== { integer: "number", boolean: "boolean", string: "string", array: "object" }[t.type]) {
                    errors.push(`${key}: default of the wrong type`);
                }
                if (!(full in merged)) {
                    errors.push(`missing configuration value '${key}'`);
                    continue;
                }
                const v = merged[full];
                if (t.secret && !v.secure) {
                    errors.push(`'${key}' must be encrypted as it's secret`);
                }
                const ok = t.type === "string" || (t.type === "array" ? Array.isArray(JSON.parse(v.value)) : t.type === "integer" ? /^[+-]?\d+$/.test(v.value) : v.value === "true" || v.value === "false");
                if (!ok) {
                    errors.push(`'${key}' must be of type '${t.type}'`);
                }
            }
            return errors;
        }

        function program(values: Record<string, string>, secure: string[]): string[] {
            try {
                parseConfig(values, { mode: "up", secretKeys: secure });
                return [];
            } catch (e) {
                return e instanceof ConfigError ? e.issues.map((i) => `${i.key}: ${i.message}`) : [String(e)];
            }
        }

        const minimal = { "hybrid-k8s:adminCidr": "203.0.113.7/32", "hybrid-k8s:sshPublicKey": ED25519, "hybrid-k8s:sshPrivateKey": PRIVATE_KEY, "hybrid-k8s:windowsNodeCount": "0" };
        const secure = ["hybrid-k8s:sshPrivateKey", "hybrid-k8s:adminPassword"];
        // [title, values, the CLI accepts, the program accepts]
        const cases: Array<[string, Record<string, string | undefined>, boolean, boolean]> = [
            ["no Windows nodes needs no admin password", minimal, true, true],
            ["Windows nodes with a secret password", { ...minimal, "hybrid-k8s:windowsNodeCount": "2", "hybrid-k8s:adminPassword": "Correct-Horse-9" }, true, true],
            // the CLI lets it through (the key has a default), so the program's own message is what the user sees
            ["Windows nodes without a password", { ...minimal, "hybrid-k8s:windowsNodeCount": "2" }, true, false],
            // adminCidr has a default ("": existing machines need none), so the program refuses it on Azure
            ["no adminCidr", { ...minimal, "hybrid-k8s:adminCidr": undefined }, true, false],
            ["existing machines need no adminCidr", { ...EXISTING, "hybrid-k8s:sshPublicKey": ED25519, "hybrid-k8s:sshPrivateKey": PRIVATE_KEY }, true, true],
            ["no public key", { ...minimal, "hybrid-k8s:sshPublicKey": undefined }, false, false],
            ["no private key", { ...minimal, "hybrid-k8s:sshPrivateKey": undefined }, false, false],
        ];
        for (const [title, values, cliValid, programValid] of cases) {
            it(`${title}: the CLI ${cliValid ? "accepts" : "refuses"} it, the program ${programValid ? "accepts" : "refuses"} it`, () => {
                const v = Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
                const c = cli(v, secure);
                const p = program(v, secure);
                assert.deepStrictEqual(c.length === 0, cliValid, `CLI: ${c.join("; ")}`);
                assert.deepStrictEqual(p.length === 0, programValid, `program: ${p.join("; ")}`);
                if (!programValid) {
                    assert.match(p.join("\n"), /is required/);
                }
            });
        }

        it("a secret key has no default (the CLI would apply it in plain text and then refuse it)", () => {
            for (const [key, t] of Object.entries(project.config)) {
                assert.ok(!(t.secret && t.default !== undefined), key);
            }
        });

        it("a plain-text password is refused by the program, as the CLI refuses a plain secret", () => {
            const v = { ...minimal, "hybrid-k8s:windowsNodeCount": "1", "hybrid-k8s:adminPassword": "Correct-Horse-9" };
            assert.match(program(v, ["hybrid-k8s:sshPrivateKey"]).join("\n"), /adminPassword: is a secret/);
            assert.match(cli(v, []).join("\n"), /sshPrivateKey' must be encrypted/);
        });
    });

    it("the dev stack is valid once its secrets are set", () => {
        const stack = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, string> };
        const raw = { ...GOOD, ...Object.fromEntries(Object.entries(stack.config).map(([k, v]) => [k, String(v)])) };
        const cfg = parseConfig(raw, { mode: "up" });
        assert.strictEqual(cfg.topology, "vxlan");
        assert.strictEqual(cfg.windowsNodeCount, 2);
    });
});

describe("config: existing machines", () => {
    const keys = { "hybrid-k8s:sshPublicKey": ED25519, "hybrid-k8s:sshPrivateKey": PRIVATE_KEY };
    const issuesOf = (values: Record<string, string | undefined>) => {
        const raw = Object.fromEntries(Object.entries({ ...EXISTING, ...keys, ...values }).filter(([, v]) => v !== undefined)) as Record<string, string>;
        try {
            parseConfig(raw, { mode: "up" });
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return e.issues;
        }
        return [];
    };

    it("takes the hosts' addresses and names; no Azure value is needed; user defaults to adminUsername", () => {
        const cfg = parseConfig({ ...EXISTING, ...keys }, { mode: "up" });
        assert.strictEqual(cfg.machines, "existing");
        assert.strictEqual(cfg.windowsNodeCount, 2);
        assert.deepStrictEqual(cfg.windowsHosts, [
            { name: "win-a", address: "192.0.2.21", user: "azureuser" },
            { name: "win-b", address: "192.0.2.22", user: "Administrator" },
        ]);
        const plan = planAddresses(addressInput(cfg));
        assert.strictEqual(plan.master.privateIp, "192.0.2.10");
        // a host's pod /24 follows its address: host number 21 of nodeSubnet takes the 21st /24
        assert.deepStrictEqual(plan.windows.map((n) => [n.name, n.privateIp, n.podCidr]), [["win-a", "192.0.2.21", "10.244.21.0/24"], ["win-b", "192.0.2.22", "10.244.22.0/24"]]);
        assert.strictEqual(plan.master.podCidr, "10.244.0.0/24");
        assert.strictEqual(plan.vnetCidr, "192.0.2.0/24");
    });

    it("an existing cluster: Windows pod /24s counted from the top of the pod CIDR, clear of the cluster's own allocations", () => {
        const cfg = parseConfig({ ...EXISTING, ...keys, "hybrid-k8s:existingCluster": "true" }, { mode: "up" });
        const plan = planAddresses(addressInput(cfg));
        assert.deepStrictEqual(plan.windows.map((n) => n.podCidr), ["10.244.234.0/24", "10.244.233.0/24"]);
    });

    for (const existingCluster of ["false", "true"]) {
        it(`removing or reordering hosts leaves every other host's pod /24 as it is (existingCluster ${existingCluster})`, () => {
            const hosts = [
                { name: "win-a", address: "192.0.2.21" },
                { name: "win-b", address: "192.0.2.22" },
                { name: "win-c", address: "192.0.2.30" },
            ];
            const podsOf = (list: typeof hosts) => {
                const cfg = parseConfig({ ...EXISTING, ...keys, "hybrid-k8s:existingCluster": existingCluster, "hybrid-k8s:windowsHosts": JSON.stringify(list) }, { mode: "up" });
                return new Map(planAddresses(addressInput(cfg)).windows.map((n) => [n.name, n.podCidr]));
            };
            const all = podsOf(hosts);
            for (const list of [hosts.slice(1), [hosts[0], hosts[2]], [...hosts].reverse()]) {
                for (const [name, cidr] of podsOf(list)) {
                    assert.strictEqual(cidr, all.get(name), name);
                }
            }
        });
    }

    it("a host's podSubnet is its pod /24; one outside podCidr, or one another host has, is refused naming windowsHosts", () => {
        const given = JSON.stringify([{ name: "win-a", address: "192.0.2.21", podSubnet: "10.244.7.0/24" }, { name: "win-b", address: "192.0.2.22" }]);
        const cfg = parseConfig({ ...EXISTING, ...keys, "hybrid-k8s:windowsHosts": given }, { mode: "up" });
        assert.deepStrictEqual(planAddresses(addressInput(cfg)).windows.map((n) => n.podCidr), ["10.244.7.0/24", "10.244.22.0/24"]);
        const refused = (list: unknown[], message: RegExp) => {
            const found = issuesOf({ "hybrid-k8s:windowsHosts": JSON.stringify(list) }).filter((i) => i.key === "windowsHosts");
            assert.ok(found.some((i) => message.test(i.message)), JSON.stringify(found));
        };
        refused([{ name: "win-a", address: "192.0.2.21", podSubnet: "10.245.0.0/24" }], /podSubnet "10\.245\.0\.0\/24" is not a \/24 network inside podCidr 10\.244\.0\.0\/16/);
        refused([{ name: "win-a", address: "192.0.2.21", podSubnet: "10.244.7.0/23" }], /is not a \/24 network/);
        refused([{ name: "win-a", address: "192.0.2.21", podSubnet: "10.244.22.0/24" }, { name: "win-b", address: "192.0.2.22" }], /gets pod \/24 10\.244\.22\.0\/24, which windowsHosts\[0\] \(win-a\) has/);
        refused([{ name: "win-a", address: "192.0.2.21", podSubnet: "10.244.0.0/24" }], /which the master has/);
    });

    it("a node network wider than the pod CIDR's /24 count: a host past it needs its podSubnet, and is told so", () => {
        const wide = { "hybrid-k8s:nodeSubnet": "192.0.0.0/22", "hybrid-k8s:masterAddress": "192.0.0.10", "hybrid-k8s:podCidr": "10.244.0.0/16" };
        const found = issuesOf({ ...wide, "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "192.0.1.21" }]) }).filter((i) => i.key === "windowsHosts");
        assert.ok(found.some((i) => /address 192\.0\.1\.21 gives no pod \/24 in podCidr 10\.244\.0\.0\/16 .* give it one with podSubnet/.test(i.message)), JSON.stringify(found));
        assert.deepStrictEqual(issuesOf({ ...wide, "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "192.0.1.21", podSubnet: "10.244.9.0/24" }]) }), []);
    });

    const cases: Array<[string, Record<string, string | undefined>, string, RegExp]> = [
        ["no master address", { "hybrid-k8s:masterAddress": undefined }, "masterAddress", /is required with machines existing/],
        ["a master name, not an address", { "hybrid-k8s:masterAddress": "master.lab" }, "masterAddress", /not an IPv4 address/],
        ["a master outside nodeSubnet", { "hybrid-k8s:masterAddress": "198.51.100.4" }, "masterAddress", /outside nodeSubnet/],
        ["no nodeSubnet", { "hybrid-k8s:nodeSubnet": undefined }, "nodeSubnet", /is required/],
        ["a host outside nodeSubnet (host-gw)", { "hybrid-k8s:topology": "host-gw", "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "198.51.100.21" }]) }, "windowsHosts", /outside nodeSubnet.*one L2 segment/],
        ["two hosts with one address", { "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "192.0.2.21" }, { name: "win-b", address: "192.0.2.21" }]) }, "windowsHosts", /already given to windowsHosts\[0\]/],
        ["a host at the master's address", { "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "192.0.2.10" }]) }, "windowsHosts", /already given to masterAddress/],
        ["two hosts with one name", { "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", address: "192.0.2.21" }, { name: "win-a", address: "192.0.2.22" }]) }, "windowsHosts", /another host already has/],
        ["a name that is no node name", { "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "Win_A", address: "192.0.2.21" }]) }, "windowsHosts", /windowsHosts\[0\]\.name "Win_A" is not a node name/],
        ["an entry with a typo", { "hybrid-k8s:windowsHosts": JSON.stringify([{ name: "win-a", adress: "192.0.2.21" }]) }, "windowsHosts", /unknown field\(s\) adress/],
        ["a list that is not one", { "hybrid-k8s:windowsHosts": "win-a" }, "windowsHosts", /is not a list/],
        ["an Azure key", { "hybrid-k8s:windowsVmSize": "Standard_D8s_v5" }, "windowsVmSize", /applies only with hybrid-k8s:machines azure/],
        ["a node count", { "hybrid-k8s:windowsNodeCount": "3" }, "windowsNodeCount", /applies only with hybrid-k8s:machines azure/],
        ["pods on the hosts' network", { "hybrid-k8s:podCidr": "192.0.0.0/16" }, "podCidr", /overlaps nodeSubnet/],
        ["an unknown proxy", { "hybrid-k8s:sshProxy": "bastion" }, "sshProxy", /none .* or master/],
    ];
    for (const [title, values, key, message] of cases) {
        it(`refuses ${title}, naming ${key}`, () => {
            const found = issuesOf(values).filter((i) => i.key === key);
            assert.ok(found.some((i) => message.test(i.message)), `${key}: ${JSON.stringify(issuesOf(values))}`);
        });
    }

    it("keys for existing machines are refused on Azure, and existingCluster needs existing machines", () => {
        const err = errorsOf({ masterAddress: "192.0.2.10", existingCluster: "true" });
        assert.ok(err.issues.some((i) => i.key === "masterAddress" && /applies only with hybrid-k8s:machines existing/.test(i.message)));
        assert.ok(err.issues.some((i) => i.key === "existingCluster"));
    });
});
