// Typed stack configuration: every key of the `hybrid-k8s` namespace, its default, and the
// validation that runs before any resource exists. Pure: it takes the raw config map
// (as `pulumi.runtime.allConfig()` returns it) and either returns a typed config or throws a
// ConfigError listing every problem at once, each naming the key, the bad value and the fix.
import {
    AddressInput,
    contains,
    isNetworkAddress,
    networkForm,
    MAX_WINDOWS_NODES,
    NODE_POD_PREFIX,
    NODE_SUBNET_PREFIX,
    overlaps,
    parseCidr,
    subnetCount,
} from "./addressing";

export const PROJECT = "hybrid-k8s";

export const TOPOLOGIES = ["vxlan", "host-gw", "tor"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const VALIDATION_MODES = ["enforce", "report"] as const;
export type ValidationMode = (typeof VALIDATION_MODES)[number];

/** A marketplace image, "publisher:offer:sku:version". */
export interface ImageRef {
    publisher: string;
    offer: string;
    sku: string;
    version: string;
}

/** The typed, validated configuration of one stack. Secrets are plain here; index.ts wraps them. */
export interface ClusterConfig {
    topology: Topology;
    windowsNodeCount: number;
    podCidr: string;
    serviceCidr: string;
    vnetCidr: string;
    kubernetesVersion: string;
    adminCidr: string;
    allowAdminFromInternet: boolean;
    adminUsername: string;
    adminPassword?: string;
    sshPublicKey?: string;
    sshPrivateKey?: string;
    linuxVmSize: string;
    windowsVmSize: string;
    linuxImage: ImageRef;
    windowsImage: ImageRef;
    containerdVersion: string;
    windowsContainerdVersion: string;
    flannelVersion: string;
    flannelCniPluginVersion: string;
    cniPluginsVersion: string;
    sdnPluginsVersion: string;
    exposeNodePorts: boolean;
    sampleService: boolean;
    validation: ValidationMode;
    validationRun: string;
}

type Kind = "string" | "integer" | "boolean";

/** One config key: its type, default (absent = required or optional), and its documentation. */
export interface KeySpec {
    kind: Kind;
    default?: string | number | boolean;
    secret?: boolean;
    description: string;
}

/**
 * Every key this project reads. The single source of defaults: Pulumi.yaml's schema and the
 * README table are checked against it by the tests.
 */
export const KEYS: Record<keyof ClusterConfig, KeySpec> = {
    topology: { kind: "string", default: "vxlan", description: "Pod network topology: vxlan, host-gw or tor." },
    windowsNodeCount: { kind: "integer", default: 2, description: `Number of Windows workers, 0..${MAX_WINDOWS_NODES}.` },
    podCidr: { kind: "string", default: "10.244.0.0/16", description: "Cluster (pod) CIDR, one /24 per node; feeds kubeadm and flannel." },
    serviceCidr: { kind: "string", default: "10.96.0.0/12", description: "Service CIDR (virtual, reached through kube-proxy)." },
    vnetCidr: { kind: "string", default: "10.240.0.0/16", description: "Azure VNet address space; nodes live in its first /24." },
    // 1.35 is supported until 2027-02-28 (kubernetes.io/releases/1.35); 1.35.4 released 2026-04-14.
    kubernetesVersion: { kind: "string", default: "1.35.4", description: "Kubernetes version for master and workers (x.y.z)." },
    adminCidr: { kind: "string", description: "The only source allowed to reach SSH and the API server (required)." },
    allowAdminFromInternet: { kind: "boolean", default: false, description: "Must be true to accept adminCidr 0.0.0.0/0." },
    adminUsername: { kind: "string", default: "azureuser", description: "Admin user on every VM." },
    adminPassword: { kind: "string", secret: true, description: "Windows admin password (secret; Azure's complexity rules)." },
    sshPublicKey: { kind: "string", description: "OpenSSH public key for the admin user (ssh-rsa or ssh-ed25519)." },
    sshPrivateKey: { kind: "string", secret: true, description: "The matching private key, used by remote commands (secret)." },
    linuxVmSize: { kind: "string", default: "Standard_D2s_v5", description: "Size of the Linux master VM." },
    windowsVmSize: { kind: "string", default: "Standard_D4s_v5", description: "Size of Windows VMs (nested virtualization: Dv5/Dsv5 and newer)." },
    linuxImage: { kind: "string", default: "Canonical:ubuntu-24_04-lts:server:latest", description: "Master image, publisher:offer:sku:version." },
    windowsImage: { kind: "string", default: "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest", description: "Windows Server 2022 image, publisher:offer:sku:version." },
    containerdVersion: { kind: "string", default: "2.1.4", description: "containerd on the Linux master (static release)." },
    windowsContainerdVersion: { kind: "string", default: "2.1.4", description: "containerd on Windows nodes." },
    // ghcr.io/flannel-io/flannel:v0.27.4 ships with flannel-cni-plugin v1.8.0-flannel1 (kube-flannel.yml of that release).
    flannelVersion: { kind: "string", default: "0.27.4", description: "flannel (Linux image and Windows flanneld.exe)." },
    flannelCniPluginVersion: { kind: "string", default: "1.8.0-flannel1", description: "flannel CNI plugin (Linux image tag, Windows flannel.exe)." },
    cniPluginsVersion: { kind: "string", default: "1.8.0", description: "containernetworking/plugins (host-local, bridge, portmap)." },
    sdnPluginsVersion: { kind: "string", default: "0.3.1", description: "microsoft/windows-container-networking (sdnoverlay, sdnbridge)." },
    exposeNodePorts: { kind: "boolean", default: false, description: "Open NodePorts 30000-32767 to adminCidr." },
    sampleService: { kind: "boolean", default: true, description: "Deploy the sample Windows web server and run the checks." },
    validation: { kind: "string", default: "enforce", description: "enforce: a failed check fails the update; report: only report." },
    validationRun: { kind: "string", default: "", description: "Change to any new value to force the checks to run again." },
};

export interface ConfigIssue {
    key: string;
    message: string;
}

export class ConfigError extends Error {
    constructor(readonly issues: ConfigIssue[]) {
        super(
            `Invalid configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${PROJECT}:${i.key}: ${i.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

export interface LoadOptions {
    /**
     * "up" requires every value a real deployment needs (adminCidr, keys, password);
     * "plan" accepts their absence (the plan fills in marked placeholders).
     */
    mode: "up" | "plan";
}

/** Azure rejects these Windows admin passwords outright (Microsoft.Compute, OSProfile docs). */
const DISALLOWED_PASSWORDS = new Set(
    ["abc@123", "P@$$w0rd", "P@ssw0rd", "P@ssword123", "Pa$$word", "pass@word1", "Password!", "Password1", "Password22", "iloveyou!"].map(
        (p) => p.toLowerCase(),
    ),
);
/** Azure rejects these admin user names (Microsoft.Compute, OSProfile adminUsername). */
const DISALLOWED_USERNAMES = new Set([
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123", "a", "actuser", "adm",
    "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner", "root", "server", "sql", "support",
    "support_388945a0", "sys", "test2", "test3", "user4", "user5",
]);

/** A release version, x.y.z without a leading v. */
export const SEMVER = /^\d+\.\d+\.\d+$/;
/** A flannel CNI plugin release, x.y.z with an optional -flannelN suffix. */
export const FLANNEL_CNI_VERSION = /^\d+\.\d+\.\d+(-flannel\d+)?$/;
/** Oldest Kubernetes minor accepted: kubelet flags and Windows features are derived for >= 1.33. */
export const MIN_KUBERNETES_MINOR = 33;

function show(v: string): string {
    return JSON.stringify(v);
}

/** Parses a boolean or integer config value the way the Pulumi CLI stores it (as text). */
function coerce(key: string, spec: KeySpec, raw: string, issues: ConfigIssue[]): string | number | boolean | undefined {
    switch (spec.kind) {
        case "string":
            return raw;
        case "integer":
            if (!/^-?\d+$/.test(raw.trim())) {
                issues.push({ key, message: `${show(raw)} is not a whole number; set it with \`pulumi config set ${PROJECT}:${key} 2\`.` });
                return undefined;
            }
            return Number(raw);
        case "boolean":
            if (raw !== "true" && raw !== "false") {
                issues.push({ key, message: `${show(raw)} is not a boolean; use true or false.` });
                return undefined;
            }
            return raw === "true";
    }
}

export function parseImage(text: string): ImageRef | undefined {
    const parts = text.split(":");
    if (parts.length !== 4 || parts.some((p) => p.trim() === "" || /\s/.test(p))) {
        return undefined;
    }
    const [publisher, offer, sku, version] = parts;
    return { publisher, offer, sku, version };
}

/** Azure's rule for Windows admin passwords: 8-123 characters, 3 of 4 character classes. */
export function passwordProblem(password: string, username: string): string | undefined {
    if (password.length < 8 || password.length > 123) {
        return "must be 8 to 123 characters long";
    }
    const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
    if (classes < 3) {
        return "must contain 3 of: a lowercase letter, an uppercase letter, a digit, a special character";
    }
    if (DISALLOWED_PASSWORDS.has(password.toLowerCase())) {
        return "is on Azure's list of disallowed passwords";
    }
    if (username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) {
        return "must not contain the admin user name";
    }
    return undefined;
}

/**
 * Validates the raw config map (keys as "hybrid-k8s:name" or "name"; values as the Pulumi CLI
 * stores them) and returns the typed config. Throws ConfigError with every problem found.
 */
export function parseConfig(raw: Record<string, string>, opts: LoadOptions): ClusterConfig {
    const issues: ConfigIssue[] = [];
    const values: Record<string, string | number | boolean | undefined> = {};
    const known = new Set(Object.keys(KEYS));

    for (const [fullKey, value] of Object.entries(raw)) {
        const [ns, ...rest] = fullKey.includes(":") ? fullKey.split(":") : [PROJECT, fullKey];
        if (ns !== PROJECT) {
            continue; // other namespaces (azure-native:location, ...) belong to their providers
        }
        const key = rest.join(":");
        if (!known.has(key)) {
            const near = [...known].find((k) => k.toLowerCase() === key.toLowerCase());
            issues.push({
                key,
                message: `unknown key${near ? `; did you mean ${PROJECT}:${near}?` : `; remove it with \`pulumi config rm ${PROJECT}:${key}\` (known keys: ${[...known].join(", ")}).`}`,
            });
            continue;
        }
        values[key] = coerce(key, KEYS[key as keyof ClusterConfig], value, issues);
    }
    for (const [key, spec] of Object.entries(KEYS)) {
        if (values[key] === undefined && spec.default !== undefined && !(key in values)) {
            values[key] = spec.default;
        }
    }
    const str = (k: keyof ClusterConfig): string => (typeof values[k] === "string" ? (values[k] as string) : String(KEYS[k].default ?? ""));
    const num = (k: keyof ClusterConfig): number => (typeof values[k] === "number" ? (values[k] as number) : Number(KEYS[k].default));
    const bool = (k: keyof ClusterConfig): boolean => (typeof values[k] === "boolean" ? (values[k] as boolean) : KEYS[k].default === true);
    const opt = (k: keyof ClusterConfig): string | undefined => (typeof values[k] === "string" && values[k] !== "" ? (values[k] as string) : undefined);
    const bad = (key: string, message: string) => issues.push({ key, message });

    // topology
    const topology = str("topology");
    if (!(TOPOLOGIES as readonly string[]).includes(topology)) {
        bad("topology", `${show(topology)} is not a topology; use one of ${TOPOLOGIES.join(", ")}.`);
    }

    // node count
    const windowsNodeCount = num("windowsNodeCount");
    if (Number.isInteger(windowsNodeCount) && (windowsNodeCount < 0 || windowsNodeCount > MAX_WINDOWS_NODES)) {
        bad("windowsNodeCount", `${windowsNodeCount} is out of range; use 0 to ${MAX_WINDOWS_NODES}.`);
    }

    // CIDRs: syntax, network address, sizes, overlaps
    const cidrs: Partial<Record<"podCidr" | "serviceCidr" | "vnetCidr" | "adminCidr", ReturnType<typeof parseCidr>>> = {};
    for (const key of ["podCidr", "serviceCidr", "vnetCidr", "adminCidr"] as const) {
        const text = opt(key);
        if (text === undefined) {
            continue;
        }
        const c = parseCidr(text);
        if (!c) {
            bad(key, `${show(text)} is not an IPv4 CIDR block; write it like 10.244.0.0/16.`);
        } else if (!isNetworkAddress(c) && key !== "adminCidr") {
            bad(key, `${show(text)} has host bits set; use its network address ${networkForm(c)}.`);
        } else {
            cidrs[key] = c;
        }
    }
    const { podCidr: pod, serviceCidr: svc, vnetCidr: vnet, adminCidr: admin } = cidrs;
    if (pod) {
        const nodes = (Number.isInteger(windowsNodeCount) ? windowsNodeCount : 0) + 1;
        const room = subnetCount(pod, NODE_POD_PREFIX);
        if (room < nodes) {
            bad("podCidr", `${show(pod.text)} holds ${room} /24 subnet(s) but the cluster needs one per node (${nodes}); use a larger block such as 10.244.0.0/16.`);
        }
    }
    if (vnet && vnet.prefix > NODE_SUBNET_PREFIX) {
        bad("vnetCidr", `${show(vnet.text)} is smaller than a /24; the node subnet needs a /24, use a /24 or larger such as 10.240.0.0/16.`);
    }
    if (svc && svc.prefix > 24) {
        bad("serviceCidr", `${show(svc.text)} is too small for cluster services; use a /24 or larger such as 10.96.0.0/12.`);
    }
    const pairs: Array<["podCidr" | "serviceCidr" | "vnetCidr", "podCidr" | "serviceCidr" | "vnetCidr"]> = [
        ["podCidr", "serviceCidr"],
        ["podCidr", "vnetCidr"],
        ["serviceCidr", "vnetCidr"],
    ];
    for (const [a, b] of pairs) {
        const ca = cidrs[a];
        const cb = cidrs[b];
        if (ca && cb && overlaps(ca, cb)) {
            bad(a, `${show(ca.text)} overlaps ${b} ${show(cb.text)}; pod, service and VNet ranges must be disjoint (defaults: 10.244.0.0/16, 10.96.0.0/12, 10.240.0.0/16).`);
        }
    }

    // adminCidr: required for up; never the internet unless explicitly allowed
    if (admin) {
        if (admin.prefix === 0 && !bool("allowAdminFromInternet")) {
            bad("adminCidr", `"0.0.0.0/0" opens SSH and the API server to the whole internet; use your own address (e.g. 203.0.113.7/32), or set ${PROJECT}:allowAdminFromInternet true if you really mean it.`);
        }
        for (const key of ["podCidr", "serviceCidr"] as const) {
            const c = cidrs[key];
            if (c && admin.prefix > 0 && (contains(c, admin) || contains(admin, c))) {
                bad("adminCidr", `${show(admin.text)} lies inside ${key}; give the public address you run pulumi from.`);
            }
        }
    } else if (opt("adminCidr") === undefined && opts.mode === "up") {
        bad("adminCidr", `is required: the address range allowed to reach SSH and the API server; set it with \`pulumi config set ${PROJECT}:adminCidr 203.0.113.7/32\` (your public IP).`);
    }

    // versions
    const kubernetesVersion = str("kubernetesVersion");
    if (!SEMVER.test(kubernetesVersion)) {
        bad("kubernetesVersion", `${show(kubernetesVersion)} is not a version like 1.35.4 (no leading v, all three parts).`);
    } else {
        const [major, minor] = kubernetesVersion.split(".").map(Number);
        if (major !== 1 || minor < MIN_KUBERNETES_MINOR) {
            bad("kubernetesVersion", `${show(kubernetesVersion)} is out of support; use 1.${MIN_KUBERNETES_MINOR}.0 or newer (default ${KEYS.kubernetesVersion.default}).`);
        }
    }
    for (const key of ["containerdVersion", "windowsContainerdVersion", "cniPluginsVersion", "sdnPluginsVersion", "flannelVersion"] as const) {
        const v = str(key);
        if (!SEMVER.test(v)) {
            bad(key, `${show(v)} is not a version like ${KEYS[key].default} (no leading v).`);
        }
    }
    const cniTag = str("flannelCniPluginVersion");
    if (!FLANNEL_CNI_VERSION.test(cniTag)) {
        bad("flannelCniPluginVersion", `${show(cniTag)} is not a flannel CNI plugin version like ${KEYS.flannelCniPluginVersion.default}.`);
    }

    // identity and credentials
    const adminUsername = str("adminUsername");
    if (!/^[a-z_][a-z0-9_.-]{0,19}$/i.test(adminUsername) || adminUsername.endsWith(".")) {
        bad("adminUsername", `${show(adminUsername)} is not a valid user name; use 1-20 letters, digits, '_', '-' or '.', starting with a letter.`);
    } else if (DISALLOWED_USERNAMES.has(adminUsername.toLowerCase())) {
        bad("adminUsername", `${show(adminUsername)} is reserved by Azure; pick another, e.g. azureuser.`);
    }
    const adminPassword = opt("adminPassword");
    if (adminPassword !== undefined) {
        const problem = passwordProblem(adminPassword, adminUsername);
        if (problem) {
            // never echo the value: it is a secret
            bad("adminPassword", `the value (not shown) ${problem}; set a new one with \`pulumi config set --secret ${PROJECT}:adminPassword\`.`);
        }
    } else if (opts.mode === "up" && windowsNodeCount > 0) {
        bad("adminPassword", `is required for Windows nodes; set it with \`pulumi config set --secret ${PROJECT}:adminPassword\`.`);
    }
    const sshPublicKey = opt("sshPublicKey");
    if (sshPublicKey !== undefined) {
        if (!/^(ssh-rsa|ssh-ed25519) [A-Za-z0-9+/]+={0,3}( .*)?$/.test(sshPublicKey.trim())) {
            bad("sshPublicKey", `does not look like an OpenSSH public key ("ssh-rsa AAAA..." or "ssh-ed25519 AAAA..."); paste the contents of your .pub file.`);
        }
    } else if (opts.mode === "up") {
        bad("sshPublicKey", `is required; set it with \`pulumi config set ${PROJECT}:sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"\`.`);
    }
    const sshPrivateKey = opt("sshPrivateKey");
    if (sshPrivateKey !== undefined) {
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey)) {
            bad("sshPrivateKey", `the value (not shown) is not a PEM/OpenSSH private key; set it with \`cat ~/.ssh/id_ed25519 | pulumi config set --secret ${PROJECT}:sshPrivateKey\`.`);
        }
    } else if (opts.mode === "up") {
        bad("sshPrivateKey", `is required by the remote commands; set it with \`cat ~/.ssh/id_ed25519 | pulumi config set --secret ${PROJECT}:sshPrivateKey\`.`);
    }

    // sizes and images
    for (const key of ["linuxVmSize", "windowsVmSize"] as const) {
        const v = str(key);
        if (!/^(Standard|Basic)_[A-Za-z0-9_]+$/.test(v)) {
            bad(key, `${show(v)} is not an Azure VM size like ${KEYS[key].default}.`);
        }
    }
    const linuxImage = parseImage(str("linuxImage"));
    if (!linuxImage) {
        bad("linuxImage", `${show(str("linuxImage"))} is not publisher:offer:sku:version, e.g. ${KEYS.linuxImage.default}.`);
    }
    const windowsImage = parseImage(str("windowsImage"));
    if (!windowsImage) {
        bad("windowsImage", `${show(str("windowsImage"))} is not publisher:offer:sku:version, e.g. ${KEYS.windowsImage.default}.`);
    } else if (!/2022/.test(windowsImage.sku)) {
        bad("windowsImage", `${show(str("windowsImage"))} is not Windows Server 2022; the node images (ltsc2022) must match the host build, use ${KEYS.windowsImage.default}.`);
    }

    const validation = str("validation");
    if (!(VALIDATION_MODES as readonly string[]).includes(validation)) {
        bad("validation", `${show(validation)} is not a validation mode; use enforce or report.`);
    }

    if (issues.length > 0) {
        throw new ConfigError(issues);
    }
    return {
        topology: topology as Topology,
        windowsNodeCount,
        podCidr: str("podCidr"),
        serviceCidr: str("serviceCidr"),
        vnetCidr: str("vnetCidr"),
        kubernetesVersion,
        adminCidr: str("adminCidr"),
        allowAdminFromInternet: bool("allowAdminFromInternet"),
        adminUsername,
        adminPassword,
        sshPublicKey,
        sshPrivateKey,
        linuxVmSize: str("linuxVmSize"),
        windowsVmSize: str("windowsVmSize"),
        linuxImage: linuxImage as ImageRef,
        windowsImage: windowsImage as ImageRef,
        containerdVersion: str("containerdVersion"),
        windowsContainerdVersion: str("windowsContainerdVersion"),
        flannelVersion: str("flannelVersion"),
        flannelCniPluginVersion: cniTag,
        cniPluginsVersion: str("cniPluginsVersion"),
        sdnPluginsVersion: str("sdnPluginsVersion"),
        exposeNodePorts: bool("exposeNodePorts"),
        sampleService: bool("sampleService"),
        validation: validation as ValidationMode,
        validationRun: str("validationRun"),
    };
}

/** The slice of the config that address planning needs. */
export function addressInput(c: ClusterConfig): AddressInput {
    return { vnetCidr: c.vnetCidr, podCidr: c.podCidr, serviceCidr: c.serviceCidr, windowsNodeCount: c.windowsNodeCount };
}

/** Config keys whose values are secrets (never printed, never written to the plan). */
export const SECRET_KEYS = Object.entries(KEYS)
    .filter(([, s]) => s.secret)
    .map(([k]) => k);
