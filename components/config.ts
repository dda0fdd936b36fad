// Typed stack configuration: every key of the `hybrid-k8s` namespace, its default, and the
// validation that runs before any resource exists. Pure: it takes the raw config map
// (as `pulumi.runtime.allConfig()` returns it) and either returns a typed config or throws a
// ConfigError listing every problem at once, each naming the key, the bad value and the fix.
import {
    AddressInput,
    Cidr,
    MASTER_NAME,
    contains,
    isNetworkAddress,
    networkForm,
    MAX_WINDOWS_NODES,
    NODE_POD_PREFIX,
    NODE_SUBNET_PREFIX,
    overlaps,
    parseCidr,
    subnetCount,
    existingHostPodSlot,
    subnetAt,
} from "./addressing";
import { privateKeyProblem, publicKeyProblem } from "./sshKeys";
import { CONTAINERD_MIN_MAJOR, FLANNEL_CNI_VERSION, KUBERNETES_MINORS, kubernetesMinor, parseVersion, SEMVER, WINDOWS_SERVER, WindowsServerRelease, WindowsServerVersion } from "./versions";

export { FLANNEL_CNI_VERSION, SEMVER } from "./versions";

export const PROJECT = "hybrid-k8s";

export const TOPOLOGIES = ["vxlan", "host-gw", "tor"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const VALIDATION_MODES = ["enforce", "report"] as const;

/** Where the machines come from: VMs the stack creates in Azure, or hosts that already exist. */
export const MACHINE_SOURCES = ["azure", "existing"] as const;
export type MachineSource = (typeof MACHINE_SOURCES)[number];

/** How `pulumi up` reaches existing Windows hosts: directly, or through the master as SSH proxy. */
export const SSH_PROXIES = ["none", "master"] as const;
export type SshProxy = (typeof SSH_PROXIES)[number];

/** An existing Windows host (machines: existing). */
export interface WindowsHostEntry {
    /** Kubernetes node name: a lowercase DNS label. */
    name: string;
    /** Where `pulumi up` reaches it by SSH, and its address on the node network. */
    address: string;
    /** SSH user; defaults to adminUsername. */
    user: string;
    /**
     * Its pod /24 inside podCidr; defaults to the one its address gives (addressing.ts hostPodSlot:
     * host number h of nodeSubnet takes the h-th /24, counted from the top for an existing cluster).
     */
    podSubnet?: string;
}
export type ValidationMode = (typeof VALIDATION_MODES)[number];

/** A marketplace image, "publisher:offer:sku:version". */
export interface MarketplaceImage {
    publisher: string;
    offer: string;
    sku: string;
    version: string;
}
/** An Azure Compute Gallery image version, by its resource id (a prebuilt node image: images/). */
export interface GalleryImageVersion {
    id: string;
}
export type ImageRef = MarketplaceImage | GalleryImageVersion;

/** The typed, validated configuration of one stack. Secrets are plain here; index.ts wraps them. */
export interface ClusterConfig {
    machines: MachineSource;
    masterAddress: string;
    masterUser: string;
    existingCluster: boolean;
    windowsHosts: WindowsHostEntry[];
    nodeSubnet: string;
    sshProxy: SshProxy;
    topology: Topology;
    windowsNodeCount: number;
    /** Windows nodes drained and upgraded at once when a version changes (components/scripts/upgrade.ts upgradeWaves). */
    maxUnavailable: number;
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
    windowsServerVersion: WindowsServerVersion;
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

type Kind = "string" | "integer" | "boolean" | "array";

/** One config key: its type, default (absent = required or optional), and its documentation. */
export interface KeySpec {
    kind: Kind;
    default?: string | number | boolean | readonly never[];
    secret?: boolean;
    description: string;
}

/**
 * Every key this project reads. The single source of defaults: Pulumi.yaml's schema and the
 * README table are checked against it by the tests.
 */
export const KEYS: Record<keyof ClusterConfig, KeySpec> = {
    machines: { kind: "string", default: "azure", description: "Where the machines come from: azure (VMs this stack creates) or existing (hosts reached by SSH)." },
    masterAddress: { kind: "string", default: "", description: "machines existing: the Linux control-plane host's address, reached by SSH (required there)." },
    masterUser: { kind: "string", default: "", description: "machines existing: SSH user on the master (sudo without a password); defaults to adminUsername." },
    existingCluster: { kind: "boolean", default: false, description: "machines existing: the master already runs a kubeadm cluster; read it, never prepare or init it." },
    windowsHosts: { kind: "array", default: [], description: "machines existing: the Windows Server 2022/2025 hosts, each {name, address, user?, podSubnet?} (user defaults to adminUsername; podSubnet to the /24 the address gives)." },
    nodeSubnet: { kind: "string", default: "", description: "machines existing: the hosts' network (CIDR); host-gw and tor need every host on it (required there)." },
    sshProxy: { kind: "string", default: "none", description: "machines existing: none (reach each Windows host directly) or master (through the master, as on Azure)." },
    topology: { kind: "string", default: "vxlan", description: "Pod network topology: vxlan, host-gw or tor." },
    windowsNodeCount: { kind: "integer", default: 2, description: `Number of Windows workers, 0..${MAX_WINDOWS_NODES}.` },
    // One at a time, as the kubeadm upgrade guide advises for workers ("one node at a time or few
    // nodes at a time, without compromising the minimum required capacity": kubernetes/website
    // content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade.md).
    maxUnavailable: { kind: "integer", default: 1, description: `Windows nodes drained and upgraded at once when a version changes, 1..${MAX_WINDOWS_NODES}.` },
    podCidr: { kind: "string", default: "10.244.0.0/16", description: "Cluster (pod) CIDR, one /24 per node; feeds kubeadm and flannel." },
    serviceCidr: { kind: "string", default: "10.96.0.0/12", description: "Service CIDR (virtual, reached through kube-proxy)." },
    vnetCidr: { kind: "string", default: "10.240.0.0/16", description: "Azure VNet address space; nodes live in its first /24." },
    // 1.35 is supported until 2027-02-28 (kubernetes.io/releases/1.35); 1.35.4 released 2026-04-14.
    kubernetesVersion: { kind: "string", default: "1.35.4", description: "Kubernetes version for master and workers (x.y.z)." },
    // "" (not set) so that existing machines, which have no Azure network, need not set it
    adminCidr: { kind: "string", default: "", description: "The only source allowed to reach SSH and the API server (required with machines azure)." },
    allowAdminFromInternet: { kind: "boolean", default: false, description: "Must be true to accept an adminCidr wider than /16 that holds public addresses (e.g. 0.0.0.0/0)." },
    adminUsername: { kind: "string", default: "azureuser", description: "Admin user on every VM." },
    // Defaults to "" (not set): a key without a default is required by the Pulumi CLI even with no
    // Windows node (pulumi/pulumi pkg/workspace/config.go, mergeConfig). Pulumi.yaml cannot mark
    // it `secret` either: the CLI applies the plain default and then refuses it as not encrypted
    // (validateStackConfigValue), so the program refuses a plain-text value itself (secretKeys).
    adminPassword: { kind: "string", default: "", secret: true, description: "Windows admin password (secret; Azure's complexity rules); required with Windows nodes." },
    sshPublicKey: { kind: "string", description: "OpenSSH public key for the admin user (ssh-rsa or ssh-ed25519)." },
    sshPrivateKey: { kind: "string", secret: true, description: "The matching private key, used by remote commands (secret)." },
    linuxVmSize: { kind: "string", default: "Standard_D2s_v5", description: "Size of the Linux master VM." },
    windowsVmSize: { kind: "string", default: "Standard_D4s_v5", description: "Size of Windows VMs (nested virtualization: Dv5/Dsv5 and newer)." },
    linuxImage: { kind: "string", default: "Canonical:ubuntu-24_04-lts:server:latest", description: "Master image, publisher:offer:sku:version; or the master image's gallery version id (npm run plan:images: masterImageVersionId)." },
    windowsServerVersion: { kind: "string", default: "2022", description: "Windows Server release of the nodes: 2022 or 2025 (image, container image tags)." },
    // "" (not set): the marketplace image of windowsServerVersion (components/versions.ts WINDOWS_SERVER)
    windowsImage: { kind: "string", default: "", description: "Windows Server image, publisher:offer:sku:version; defaults to the Azure Edition image of windowsServerVersion; or a gallery image version id (npm run plan:images)." },
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
    /** The key's namespace when it is not this project's (a mistyped namespace). */
    namespace?: string;
}

export class ConfigError extends Error {
    constructor(readonly issues: ConfigIssue[]) {
        super(
            `Invalid configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${i.namespace ?? PROJECT}:${i.key}: ${i.message}`).join("\n"),
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
    /**
     * Full keys ("hybrid-k8s:adminPassword") whose values arrived as secrets. When given, a
     * secret key set in plain text is refused. Undefined: not checked (unit tests).
     */
    secretKeys?: readonly string[];
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

function show(v: string): string {
    return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
}

/**
 * Parses a boolean or integer config value as the Pulumi CLI checks it against Pulumi.yaml's
 * schema (pulumi/pulumi sdk/go/common/workspace/project.go, ValidateConfigValue: an integer is
 * text that strconv.Atoi accepts, a boolean is the text "true" or "false").
 */
type Value = string | number | boolean | unknown[];

function coerce(key: string, spec: KeySpec, raw: string, issues: ConfigIssue[]): Value | undefined {
    switch (spec.kind) {
        case "array": {
            // structured values arrive as JSON (sdk/go/common/resource/config/value.go, MarshalString of an object)
            let parsed: unknown;
            try {
                parsed = JSON.parse(raw);
            } catch {
                parsed = undefined;
            }
            if (!Array.isArray(parsed)) {
                issues.push({ key, message: `is not a list; write it in the stack file as a YAML list (see Pulumi.existing.yaml), or with \`pulumi config set --path '${PROJECT}:${key}[0].name' win-a\`.` });
                return undefined;
            }
            return parsed as unknown[];
        }
        case "string":
            return raw;
        case "integer":
            if (!/^[+-]?\d+$/.test(raw)) {
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

/** A gallery image version id, as Azure spells it (learn.microsoft.com/rest/api/compute/gallery-image-versions/get). */
export const GALLERY_IMAGE_VERSION_ID = /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Compute\/galleries\/[\w.]{1,80}\/images\/[-\w.]{1,80}\/versions\/\d+\.\d+\.\d+$/i;

export function parseImage(text: string): ImageRef | undefined {
    if (text.startsWith("/")) {
        return GALLERY_IMAGE_VERSION_ID.test(text) ? { id: text } : undefined;
    }
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
 * Address ranges no pod, service or VNet range may touch, and that can be no admin's source.
 * VNet rules: MicrosoftDocs/azure-docs articles/virtual-network/virtual-networks-faq.md ("What
 * address ranges can I use in my VNets?": not 224.0.0.0/4, 255.255.255.255/32, 127.0.0.0/8,
 * 169.254.0.0/16, 168.63.129.16/32). Pod and service ranges are routed on the same hosts, where
 * 169.254.169.254 is the metadata service the nodes keep a route to and 168.63.129.16 the
 * host's DNS and health endpoint, so the same ranges are refused there. 0.0.0.0/8 ("this
 * network") and 240.0.0.0/4 (reserved) are not routable anywhere (RFC 6890).
 */
export const RESERVED_RANGES: ReadonlyArray<{ cidr: string; what: string }> = [
    { cidr: "0.0.0.0/8", what: "\"this network\" (0.0.0.0/8), which is not routable" },
    { cidr: "127.0.0.0/8", what: "loopback (127.0.0.0/8)" },
    { cidr: "169.254.0.0/16", what: "link-local (169.254.0.0/16, holds the Azure metadata address 169.254.169.254)" },
    { cidr: "168.63.129.16/32", what: "Azure's platform address 168.63.129.16 (DNS, health probes)" },
    { cidr: "224.0.0.0/4", what: "multicast (224.0.0.0/4)" },
    { cidr: "240.0.0.0/4", what: "reserved space (240.0.0.0/4, with broadcast 255.255.255.255)" },
];
const RESERVED = RESERVED_RANGES.map((r) => ({ ...r, c: parseCidr(r.cidr) as Cidr }));

/** Private ranges (RFC 1918): an admin range inside them is not reachable from the internet. */
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((t) => parseCidr(t) as Cidr);

/**
 * The widest adminCidr accepted without allowAdminFromInternet, when it holds public addresses:
 * a /16 (65,536 addresses, e.g. one organisation's block). Anything wider opens SSH and the API
 * server to a large share of the internet (128.0.0.0/1 is half of it).
 */
export const ADMIN_MAX_PUBLIC_PREFIX = 16;

/** kubeadm: "specified service subnet is too large; for 32-bit addresses, the mask must be >= 12"
 * (kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/validation/validation.go,
 * ValidateServiceSubnetSize; MaximumBitsForServiceSubnet = 20 in cmd/kubeadm/app/constants/constants.go). */
export const MIN_SERVICE_PREFIX = 12;
/** Azure VNets: "the largest is /8" (azure-docs articles/virtual-network/virtual-networks-faq.md). */
export const MIN_VNET_PREFIX = 8;
/** kubeadm preflight NumCPUCheck on a control plane: ControlPlaneNumCPU = 2
 * (kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go, preflight/checks.go). */
export const CONTROL_PLANE_MIN_VCPUS = 2;

/**
 * vCPUs of an Azure VM size from its name: [Family][Sub-family][# of vCPUs][-constrained
 * vCPUs][features]_[version] (MicrosoftDocs/azure-compute-docs
 * articles/virtual-machines/vm-naming-conventions.md; M8-2ms_v2 has 2 active vCPUs).
 * Undefined when the text is not a VM size name.
 */
export function vmSizeVcpus(size: string): number | undefined {
    const m = /^(?:Standard|Basic)_[A-Z]+(\d+)(?:-(\d+))?[a-z]*(?:_[A-Za-z0-9]+)*$/.exec(size);
    if (!m) {
        return undefined;
    }
    return Number(m[2] ?? m[1]);
}

/** Publisher and offer of the Windows Server images whose build matches the ltsc2022 node images. */
export const WINDOWS_IMAGE_PUBLISHER = "MicrosoftWindowsServer";
export const WINDOWS_IMAGE_OFFER = "WindowsServer";

/** A marketplace Windows Server image of `release` (its SKU starts with the release, e.g. 2022-). */
export function isWindowsServerImage(image: MarketplaceImage, release: string): boolean {
    return image.publisher === WINDOWS_IMAGE_PUBLISHER && image.offer === WINDOWS_IMAGE_OFFER && image.sku.startsWith(`${release}-`);
}

/**
 * The image definitions the image program (images/) publishes: windows-node-<release> for a
 * Windows release, linux-master for the master. The cluster reads them back from a gallery image
 * version id and refuses an image in the wrong place.
 */
export function windowsImageDefinition(release: string): string {
    return `windows-node-${release}`;
}
export const MASTER_IMAGE_DEFINITION = "linux-master";

/** The image definition a gallery image version id names (…/images/<definition>/versions/…). */
export function galleryDefinition(id: string): string {
    return /\/images\/([^/]+)\/versions\//.exec(id)?.[1] ?? "";
}

/** Keys that only mean something for VMs the stack creates in Azure. */
export const AZURE_ONLY_KEYS: readonly (keyof ClusterConfig)[] = [
    "windowsNodeCount", "vnetCidr", "adminCidr", "allowAdminFromInternet", "adminPassword", "linuxVmSize", "windowsVmSize", "linuxImage", "windowsImage", "exposeNodePorts",
];
/** Keys that only mean something for existing machines. */
export const EXISTING_ONLY_KEYS: readonly (keyof ClusterConfig)[] = ["masterAddress", "masterUser", "existingCluster", "windowsHosts", "nodeSubnet", "sshProxy"];

export function isIpv4(text: string): boolean {
    return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) && parseCidr(`${text}/32`) !== undefined;
}

/** A Kubernetes node name we accept for an existing host: a lowercase RFC 1123 label. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The windowsHosts list, each entry checked; problems go to `bad`. */
function windowsHostsOf(raw: unknown, adminUsername: string, bad: (key: string, message: string) => void): WindowsHostEntry[] {
    const hosts: WindowsHostEntry[] = [];
    (Array.isArray(raw) ? raw : []).forEach((entry: unknown, i) => {
        const at = `windowsHosts[${i}]`;
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            bad("windowsHosts", `${at} is not a map like { name: win-a, address: 192.0.2.21 }.`);
            return;
        }
        const e = entry as Record<string, unknown>;
        const unknownFields = Object.keys(e).filter((k) => !["name", "address", "user", "podSubnet"].includes(k));
        if (unknownFields.length > 0) {
            bad("windowsHosts", `${at} has unknown field(s) ${unknownFields.join(", ")}; an entry has name, address and optionally user and podSubnet.`);
        }
        if (e.podSubnet !== undefined && typeof e.podSubnet !== "string") {
            bad("windowsHosts", `${at}.podSubnet is not a /24 like 10.244.21.0/24.`);
        }
        const name = typeof e.name === "string" ? e.name : "";
        const address = typeof e.address === "string" ? e.address : "";
        const user = e.user === undefined ? adminUsername : typeof e.user === "string" ? e.user : "";
        if (!NODE_NAME.test(name)) {
            bad("windowsHosts", `${at}.name ${show(String(e.name ?? ""))} is not a node name: lowercase letters, digits and '-', at most 63, e.g. win-a.`);
        }
        if (!isIpv4(address)) {
            bad("windowsHosts", `${at}.address ${show(String(e.address ?? ""))} is not an IPv4 address like 192.0.2.21.`);
        }
        if (!/^[A-Za-z0-9_][-A-Za-z0-9_.]{0,63}$/.test(user)) {
            bad("windowsHosts", `${at}.user ${show(String(e.user ?? ""))} is not a user name like Administrator.`);
        }
        hosts.push({ name, address, user, ...(typeof e.podSubnet === "string" ? { podSubnet: e.podSubnet } : {}) });
    });
    return hosts;
}

/** Keys that may be set to the empty string (it means "not set"). */
const EMPTY_ALLOWED = new Set<string>(["validationRun", "adminPassword", "adminCidr", "windowsImage", "masterAddress", "masterUser", "nodeSubnet"]);

/**
 * A namespace that is almost ours (different case, a character missing or extra): most likely a
 * typo of "hybrid-k8s", whose keys would otherwise be ignored silently.
 */
export function nearProject(ns: string): boolean {
    const norm = (t: string) => t.toLowerCase().replace(/[^a-z0-9]/g, "");
    if (ns === PROJECT) {
        return false;
    }
    return norm(ns) === norm(PROJECT) || editDistance(ns.toLowerCase(), PROJECT) <= 2;
}

function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) {
        d[0][j] = j;
    }
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

/** The key of ours closest to a mistyped one (case or a small typo), if any. */
function suggestKey(key: string): string | undefined {
    const known = Object.keys(KEYS);
    return known.find((k) => k.toLowerCase() === key.toLowerCase()) ?? known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
}

/**
 * Validates the raw config map (keys as "hybrid-k8s:name" or "name"; values as the Pulumi CLI
 * stores them) and returns the typed config. Throws ConfigError with every problem found.
 * `secretKeys` (full keys) says which values arrived as secrets; when given, a secret key whose
 * value arrived in plain text is refused, as the Pulumi CLI refuses it.
 */
/** The keys that hold a version the nodes install. */
export const VERSION_KEYS = ["kubernetesVersion", "containerdVersion", "windowsContainerdVersion", "cniPluginsVersion", "sdnPluginsVersion", "flannelVersion", "flannelCniPluginVersion"] as const;

/**
 * What is wrong with a version config value, or undefined: its form, a Kubernetes minor the
 * scripts were not written for, a containerd older than its config format. Shared by the cluster
 * and the image program (images/config.ts), which install the same things.
 */
export function versionProblem(key: (typeof VERSION_KEYS)[number], v: string): string | undefined {
    if (key === "flannelCniPluginVersion") {
        return FLANNEL_CNI_VERSION.test(v) ? undefined : `${show(v)} is not a flannel CNI plugin version like ${KEYS.flannelCniPluginVersion.default}.`;
    }
    if (key === "kubernetesVersion") {
        if (!SEMVER.test(v)) {
            return `${show(v)} is not a version like 1.35.4 (no leading v, all three parts, no leading zeros).`;
        }
        const supportedMinors = KUBERNETES_MINORS.map((m) => m.minor).join(", ");
        return kubernetesMinor(v) ? undefined : `${show(v)} is out of support: the scripts are written for Kubernetes ${supportedMinors}; use one of those (default ${KEYS.kubernetesVersion.default}).`;
    }
    if (!SEMVER.test(v)) {
        return `${show(v)} is not a version like ${KEYS[key].default} (no leading v, no leading zeros).`;
    }
    if ((key === "containerdVersion" || key === "windowsContainerdVersion") && (parseVersion(v)?.major ?? 0) < CONTAINERD_MIN_MAJOR) {
        return `${show(v)} is too old: the rendered containerd config is version 3, which containerd reads from ${CONTAINERD_MIN_MAJOR}.0 on; use ${KEYS[key].default}.`;
    }
    return undefined;
}

export function parseConfig(raw: Record<string, string>, opts: LoadOptions): ClusterConfig {
    const issues: ConfigIssue[] = [];
    const values: Record<string, Value | undefined> = {};
    const known = new Set(Object.keys(KEYS));

    for (const [fullKey, value] of Object.entries(raw)) {
        const [ns, ...rest] = fullKey.includes(":") ? fullKey.split(":") : [PROJECT, fullKey];
        const key = rest.join(":");
        if (ns !== PROJECT) {
            if (nearProject(ns)) {
                // never echo the value: the key may be a mistyped secret
                const near = suggestKey(key);
                issues.push({
                    namespace: ns,
                    key,
                    message: `namespace "${ns}" is not this project's ("${PROJECT}"), so the value would be ignored; ${near ? `set ${PROJECT}:${near} instead` : `use the ${PROJECT}: prefix`} and remove this one with \`pulumi config rm ${ns}:${key}\`.`,
                });
            }
            continue; // other namespaces (azure-native:location, ...) belong to their providers
        }
        if (!known.has(key)) {
            const near = suggestKey(key);
            issues.push({
                key,
                message: `unknown key${near ? `; did you mean ${PROJECT}:${near}? ` : "; "}remove it with \`pulumi config rm ${PROJECT}:${key}\`${near ? "" : ` (known keys: ${[...known].join(", ")})`}.`,
            });
            continue;
        }
        const spec = KEYS[key as keyof ClusterConfig];
        if (value === "" && !EMPTY_ALLOWED.has(key)) {
            issues.push({ key, message: `is set but empty; give it a value${spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : ""} or remove it with \`pulumi config rm ${PROJECT}:${key}\`.` });
            values[key] = undefined;
            continue;
        }
        if (spec.secret && opts.secretKeys !== undefined && value !== "" && !opts.secretKeys.includes(`${PROJECT}:${key}`)) {
            // pulumi/pulumi pkg/workspace/config.go, validateStackConfigValue: "must be encrypted as it's secret"
            issues.push({ key, message: `is a secret but its value (not shown) is stored in plain text; set it with \`pulumi config set --secret ${PROJECT}:${key}\`.` });
        }
        values[key] = coerce(key, spec, value, issues);
    }
    for (const [key, spec] of Object.entries(KEYS)) {
        if (values[key] === undefined && spec.default !== undefined && !(key in values)) {
            values[key] = typeof spec.default === "object" ? [...spec.default] : spec.default;
        }
    }
    const str = (k: keyof ClusterConfig): string => (typeof values[k] === "string" ? (values[k] as string) : String(KEYS[k].default ?? ""));
    const num = (k: keyof ClusterConfig): number => (typeof values[k] === "number" ? (values[k] as number) : Number(KEYS[k].default));
    const bool = (k: keyof ClusterConfig): boolean => (typeof values[k] === "boolean" ? (values[k] as boolean) : KEYS[k].default === true);
    const opt = (k: keyof ClusterConfig): string | undefined => (typeof values[k] === "string" && values[k] !== "" ? (values[k] as string) : undefined);
    const bad = (key: string, message: string) => issues.push({ key, message });
    const given = (k: keyof ClusterConfig): boolean => k in values && values[k] !== undefined;

    // topology
    const topology = str("topology");
    if (!(TOPOLOGIES as readonly string[]).includes(topology)) {
        bad("topology", `${show(topology)} is not a topology; use one of ${TOPOLOGIES.join(", ")}.`);
    }

    // where the machines come from
    const machines = str("machines") as MachineSource;
    if (!(MACHINE_SOURCES as readonly string[]).includes(machines)) {
        bad("machines", `${show(machines)} is not a machine source; use azure (VMs this stack creates) or existing (hosts reached by SSH).`);
    }
    const existing = machines === "existing";
    // The Pulumi CLI passes Pulumi.yaml's defaults as if they were set (pkg/workspace/config.go,
    // mergeConfig): a key counts as used when its value is not its default.
    const changed = (k: keyof ClusterConfig) => given(k) && JSON.stringify(values[k]) !== JSON.stringify(KEYS[k].default);
    const onlyFor = (keys: readonly (keyof ClusterConfig)[], source: MachineSource, why: string) => {
        for (const k of keys.filter(changed)) {
            bad(k, `applies only with ${PROJECT}:machines ${source} (${why}); remove it with \`pulumi config rm ${PROJECT}:${k}\`.`);
        }
    };
    if (existing) {
        onlyFor(AZURE_ONLY_KEYS, "azure", "no Azure resource is created for existing machines");
    } else if (machines === "azure") {
        onlyFor(EXISTING_ONLY_KEYS, "existing", "the stack creates and addresses the Azure VMs itself");
    }
    const windowsHosts = existing ? windowsHostsOf(values.windowsHosts, str("adminUsername"), bad) : [];
    const nodeSubnetText = opt("nodeSubnet");
    const nodeSubnet = nodeSubnetText === undefined ? undefined : parseCidr(nodeSubnetText);
    const masterAddress = opt("masterAddress");
    if (existing) {
        if (nodeSubnetText === undefined) {
            bad("nodeSubnet", `is required with machines existing: the network the hosts share, e.g. 192.0.2.0/24; set it with \`pulumi config set ${PROJECT}:nodeSubnet 192.0.2.0/24\`.`);
        } else if (!nodeSubnet || !isNetworkAddress(nodeSubnet)) {
            bad("nodeSubnet", `${show(nodeSubnetText)} is not an IPv4 network like 192.0.2.0/24${nodeSubnet ? `; use its network address ${networkForm(nodeSubnet)}` : ""}.`);
        }
        if (masterAddress === undefined) {
            bad("masterAddress", `is required with machines existing: the Linux control-plane host's IPv4 address; set it with \`pulumi config set ${PROJECT}:masterAddress 192.0.2.10\`.`);
        } else if (!isIpv4(masterAddress)) {
            bad("masterAddress", `${show(masterAddress)} is not an IPv4 address like 192.0.2.10 (the API server advertises it; a name is not enough).`);
        } else if (nodeSubnet && isNetworkAddress(nodeSubnet) && !contains(nodeSubnet, parseCidr(`${masterAddress}/32`) as Cidr)) {
            bad("masterAddress", `${masterAddress} is outside nodeSubnet ${nodeSubnet.text}; every host must be on that network (give the master's address there, or widen nodeSubnet).`);
        }
        const seen = new Map<string, string>(masterAddress ? [[masterAddress, "masterAddress"]] : []);
        windowsHosts.forEach((h, i) => {
            const at = `windowsHosts[${i}]`;
            const other = seen.get(h.address);
            if (other) {
                bad("windowsHosts", `${at} (${h.name}) has address ${h.address}, already given to ${other}; each host needs its own address.`);
            }
            seen.set(h.address, `${at} (${h.name})`);
            if (nodeSubnet && isNetworkAddress(nodeSubnet) && isIpv4(h.address) && !contains(nodeSubnet, parseCidr(`${h.address}/32`) as Cidr)) {
                bad("windowsHosts", `${at} (${h.name}) has address ${h.address}, outside nodeSubnet ${nodeSubnet.text}; ${topology === "vxlan" ? "every host must be on that network" : `${topology} routes pods through hosts on one L2 segment`}: move it or widen nodeSubnet.`);
            }
        });
        windowsHosts.forEach((h, i) => {
            if (windowsHosts.findIndex((o) => o.name === h.name) !== i || h.name === MASTER_NAME) {
                bad("windowsHosts", `windowsHosts[${i}] is named ${show(h.name)}, which ${h.name === MASTER_NAME ? "is the master's node name" : "another host already has"}; node names must be unique.`);
            }
        });
        if (windowsHosts.length > MAX_WINDOWS_NODES) {
            bad("windowsHosts", `lists ${windowsHosts.length} hosts; at most ${MAX_WINDOWS_NODES}.`);
        }
    } else if (bool("existingCluster")) {
        bad("existingCluster", `needs ${PROJECT}:machines existing: an existing cluster runs on machines this stack did not create.`);
    }
    const sshProxy = str("sshProxy") as SshProxy;
    if (!(SSH_PROXIES as readonly string[]).includes(sshProxy)) {
        bad("sshProxy", `${show(sshProxy)} is not a proxy choice; use none (reach each Windows host directly) or master (through the master host).`);
    }

    // node count: the Azure VMs to create, or the existing hosts listed
    const windowsNodeCount = existing ? windowsHosts.length : num("windowsNodeCount");
    if (Number.isInteger(windowsNodeCount) && (windowsNodeCount < 0 || windowsNodeCount > MAX_WINDOWS_NODES)) {
        bad("windowsNodeCount", `${windowsNodeCount} is out of range; use 0 to ${MAX_WINDOWS_NODES}.`);
    }
    const maxUnavailable = num("maxUnavailable");
    if (Number.isInteger(maxUnavailable) && (maxUnavailable < 1 || maxUnavailable > MAX_WINDOWS_NODES)) {
        bad("maxUnavailable", `${maxUnavailable} is out of range; use 1 (one node at a time) to ${MAX_WINDOWS_NODES}.`);
    }

    // CIDRs: syntax, network address, reserved ranges, sizes, overlaps
    const cidrs: Partial<Record<"podCidr" | "serviceCidr" | "vnetCidr" | "adminCidr", Cidr>> = {};
    for (const key of ["podCidr", "serviceCidr", "vnetCidr", "adminCidr"] as const) {
        const text = opt(key);
        if (text === undefined || !given(key)) {
            if (text !== undefined && key !== "adminCidr") {
                cidrs[key] = parseCidr(text);
            }
            continue;
        }
        const c = parseCidr(text);
        if (!c) {
            const hint = text.includes(":")
                ? " It looks like IPv6: the cluster's network rules are IPv4; give your IPv4 address (`curl -4 https://ifconfig.me`) with /32."
                : /^\d{1,3}(\.\d{1,3}){3}$/.test(text)
                  ? ` Add the prefix length, e.g. ${text}/32.`
                  : "";
            bad(key, `${show(text)} is not an IPv4 CIDR block; write it like ${key === "adminCidr" ? "203.0.113.7/32" : KEYS[key].default}.${hint}`);
            continue;
        }
        if (!isNetworkAddress(c) && key !== "adminCidr") {
            bad(key, `${show(text)} has host bits set; use its network address ${networkForm(c)}.`);
            continue;
        }
        // a pulumi/service/VNet range may not touch a reserved one; an admin source may not lie in one
        const reserved = RESERVED.find((r) => (key === "adminCidr" ? contains(r.c, c) : overlaps(r.c, c)));
        if (reserved) {
            bad(key, `${show(text)} overlaps ${reserved.what}; ${key === "adminCidr" ? "give the public address you run pulumi from, e.g. 203.0.113.7/32" : `choose a private range such as ${KEYS[key].default}`}.`);
            continue;
        }
        cidrs[key] = c;
    }
    const { podCidr: pod, serviceCidr: svc, vnetCidr: vnet, adminCidr: admin } = cidrs;
    if (pod && given("podCidr")) {
        const nodes = (Number.isInteger(windowsNodeCount) ? windowsNodeCount : 0) + 1;
        const room = subnetCount(pod, NODE_POD_PREFIX);
        if (room < nodes) {
            bad("podCidr", `${show(pod.text)} holds ${room} /24 subnet(s) but the cluster needs one per node (${nodes}); use a larger block such as 10.244.0.0/16.`);
        }
    }
    // existing hosts: each one's pod /24, stable whatever the list's order (addressing.ts hostPodSlot)
    if (existing && pod && nodeSubnet && isNetworkAddress(nodeSubnet)) {
        const fromTop = bool("existingCluster");
        const taken = new Map<number, string>(fromTop ? [] : [[0, "the master"]]);
        windowsHosts.forEach((h, i) => {
            const at = `windowsHosts[${i}] (${h.name})`;
            if (h.podSubnet === undefined && !isIpv4(h.address)) {
                return; // its address is refused above
            }
            const slot = existingHostPodSlot(h, nodeSubnet, pod, fromTop);
            if (slot === undefined) {
                bad(
                    "windowsHosts",
                    h.podSubnet !== undefined
                        ? `${at}.podSubnet ${show(h.podSubnet)} is not a /24 network inside podCidr ${pod.text}, e.g. ${subnetAt(pod, NODE_POD_PREFIX, 1)}.`
                        : `${at}: its address ${h.address} gives no pod /24 in podCidr ${pod.text} (host number h of nodeSubnet ${nodeSubnet.text} takes /24 number h${fromTop ? " from the top" : ""}, and ${pod.text} holds ${subnetCount(pod, NODE_POD_PREFIX)}); give it one with podSubnet, e.g. { name: ${h.name}, address: ${h.address}, podSubnet: <a free /24 of ${pod.text}> }, or use a larger podCidr.`,
                );
                return;
            }
            const other = taken.get(slot);
            if (other) {
                bad("windowsHosts", `${at} gets pod /24 ${subnetAt(pod, NODE_POD_PREFIX, slot)}, which ${other} has; give one of them another podSubnet.`);
            }
            taken.set(slot, at);
        });
    }
    if (vnet && given("vnetCidr")) {
        if (vnet.prefix > NODE_SUBNET_PREFIX) {
            bad("vnetCidr", `${show(vnet.text)} is smaller than a /24; the node subnet needs a /24, use a /24 or larger such as 10.240.0.0/16.`);
        } else if (vnet.prefix < MIN_VNET_PREFIX) {
            bad("vnetCidr", `${show(vnet.text)} is larger than Azure allows for a VNet (/${MIN_VNET_PREFIX} at most); use e.g. 10.240.0.0/16.`);
        }
    }
    if (svc && given("serviceCidr")) {
        if (svc.prefix > 24) {
            bad("serviceCidr", `${show(svc.text)} is too small for cluster services; use a /24 or larger such as 10.96.0.0/12.`);
        } else if (svc.prefix < MIN_SERVICE_PREFIX) {
            bad("serviceCidr", `${show(svc.text)} is too large: kubeadm accepts a service CIDR of /${MIN_SERVICE_PREFIX} or smaller (2^20 addresses); use e.g. 10.96.0.0/12.`);
        }
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

    if (nodeSubnet && isNetworkAddress(nodeSubnet)) {
        for (const key of ["podCidr", "serviceCidr"] as const) {
            const c = cidrs[key];
            if (c && overlaps(c, nodeSubnet)) {
                bad(key, `${show(c.text)} overlaps nodeSubnet ${show(nodeSubnet.text)}, where the hosts live; pod and service ranges must be disjoint from it (choose e.g. ${KEYS[key].default}).`);
            }
        }
    }

    // adminCidr: required for up; never a large share of the internet unless explicitly allowed
    if (admin) {
        const isPrivate = PRIVATE.some((p) => contains(p, admin));
        if (!isPrivate && admin.prefix < ADMIN_MAX_PUBLIC_PREFIX && !bool("allowAdminFromInternet")) {
            const share = admin.prefix === 0 ? "the whole internet" : `${(2 ** (32 - admin.prefix)).toLocaleString("en-US")} addresses of the internet`;
            bad("adminCidr", `${show(admin.text)} opens SSH and the API server to ${share}; use your own address (e.g. 203.0.113.7/32) or a block of /${ADMIN_MAX_PUBLIC_PREFIX} or narrower, or set ${PROJECT}:allowAdminFromInternet true if you really mean it.`);
        }
        for (const key of ["podCidr", "serviceCidr", "vnetCidr"] as const) {
            const c = cidrs[key];
            if (!c || !overlaps(c, admin)) {
                continue;
            }
            if (contains(c, admin)) {
                bad("adminCidr", `${show(admin.text)} lies inside ${key} ${show(c.text)}; give the public address you run pulumi from.`);
            } else if (isPrivate || admin.prefix >= ADMIN_MAX_PUBLIC_PREFIX) {
                bad("adminCidr", `${show(admin.text)} covers ${key} ${show(c.text)}: the cluster's own addresses would count as admins; give the public address you run pulumi from.`);
            }
        }
    } else if (opt("adminCidr") === undefined && opts.mode === "up" && !existing) {
        bad("adminCidr", `is required: the address range allowed to reach SSH and the API server; set it with \`pulumi config set ${PROJECT}:adminCidr "$(curl -4 -s https://ifconfig.me)/32"\` (your public IPv4 address).`);
    }

    // versions: one table (versions.ts)
    const kubernetesVersion = str("kubernetesVersion");
    for (const key of VERSION_KEYS) {
        const problem = versionProblem(key, str(key));
        if (problem) {
            bad(key, problem);
        }
    }

    // identity and credentials
    const adminUsername = str("adminUsername");
    if (!/^[a-z_][a-z0-9_.-]{0,19}$/i.test(adminUsername) || adminUsername.endsWith(".")) {
        bad("adminUsername", `${show(adminUsername)} is not a valid user name; use 1-20 letters, digits, '_', '-' or '.', starting with a letter.`);
    } else if (!existing && DISALLOWED_USERNAMES.has(adminUsername.toLowerCase())) {
        bad("adminUsername", `${show(adminUsername)} is reserved by Azure; pick another, e.g. azureuser.`);
    }
    const adminPassword = opt("adminPassword");
    if (adminPassword !== undefined) {
        const problem = passwordProblem(adminPassword, adminUsername);
        if (problem) {
            // never echo the value: it is a secret
            bad("adminPassword", `the value (not shown) ${problem}; set a new one with \`pulumi config set --secret ${PROJECT}:adminPassword\`.`);
        }
    } else if (opts.mode === "up" && windowsNodeCount > 0 && !existing) {
        bad("adminPassword", `is required for Windows nodes; set it with \`pulumi config set --secret ${PROJECT}:adminPassword\`.`);
    }
    // one trimmed value for every user of the key (the components check the same text)
    const sshPublicKey = opt("sshPublicKey")?.trim();
    if (sshPublicKey !== undefined) {
        const problem = publicKeyProblem(sshPublicKey);
        if (problem) {
            bad("sshPublicKey", `${problem}; paste the contents of your .pub file: \`pulumi config set ${PROJECT}:sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"\`.`);
        }
    } else if (opts.mode === "up" && !("sshPublicKey" in values)) {
        bad("sshPublicKey", `is required; set it with \`pulumi config set ${PROJECT}:sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"\`.`);
    }
    const sshPrivateKey = opt("sshPrivateKey");
    if (sshPrivateKey !== undefined) {
        const problem = privateKeyProblem(sshPrivateKey);
        if (problem) {
            // never echo the value: it is a secret
            bad("sshPrivateKey", `the value (not shown) ${problem}; set it with \`cat ~/.ssh/id_ed25519 | pulumi config set --secret ${PROJECT}:sshPrivateKey\`.`);
        }
    } else if (opts.mode === "up" && !("sshPrivateKey" in values)) {
        bad("sshPrivateKey", `is required by the remote commands; set it with \`cat ~/.ssh/id_ed25519 | pulumi config set --secret ${PROJECT}:sshPrivateKey\`.`);
    }

    // sizes and images
    for (const key of ["linuxVmSize", "windowsVmSize"] as const) {
        const v = str(key);
        const vcpus = vmSizeVcpus(v);
        if (vcpus === undefined) {
            bad(key, `${show(v)} is not an Azure VM size like ${KEYS[key].default}.`);
        } else if (key === "linuxVmSize" && vcpus < CONTROL_PLANE_MIN_VCPUS) {
            bad(key, `${show(v)} has ${vcpus} vCPU; kubeadm's preflight check needs ${CONTROL_PLANE_MIN_VCPUS} on the control plane, use e.g. ${KEYS.linuxVmSize.default}.`);
        }
    }
    const linuxImage = parseImage(str("linuxImage"));
    if (!linuxImage) {
        bad("linuxImage", `${show(str("linuxImage"))} is not publisher:offer:sku:version, e.g. ${KEYS.linuxImage.default}, nor a gallery image version id (npm run plan:images: masterImageVersionId).`);
    } else if ("id" in linuxImage && galleryDefinition(linuxImage.id).startsWith(windowsImageDefinition(""))) {
        bad("linuxImage", `is a Windows node image (images/ windows-node-*); the master needs the Linux master image: its masterImageVersionId (images/.../linux-master/versions/...).`);
    }
    const windowsServerVersion = str("windowsServerVersion") as WindowsServerVersion;
    const release = WINDOWS_SERVER[windowsServerVersion] as WindowsServerRelease | undefined;
    if (!release) {
        bad("windowsServerVersion", `${show(windowsServerVersion)} is not a Windows Server release the nodes support; use ${Object.keys(WINDOWS_SERVER).join(" or ")}.`);
    }
    const windowsImageText = str("windowsImage") || (release ?? WINDOWS_SERVER["2022"]).image;
    const windowsImage = parseImage(windowsImageText);
    // an image of images/ names its definition after its release (windowsImageDefinition)
    const definition = windowsImage && "id" in windowsImage ? galleryDefinition(windowsImage.id) : "";
    const galleryRelease = Object.keys(WINDOWS_SERVER).find((r) => definition === windowsImageDefinition(r));
    if (!windowsImage) {
        bad("windowsImage", `${show(windowsImageText)} is not publisher:offer:sku:version, e.g. ${WINDOWS_SERVER["2022"].image}, nor a gallery image version id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<gallery>/images/<definition>/versions/<x.y.z>).`);
    } else if (release && !("id" in windowsImage) && !isWindowsServerImage(windowsImage, windowsServerVersion)) {
        bad(
            "windowsImage",
            `${show(windowsImageText)} is not Windows Server ${windowsServerVersion} from ${WINDOWS_IMAGE_PUBLISHER}:${WINDOWS_IMAGE_OFFER}; the node images (${release.containerTag}) must match the host build: use ${release.image}, another ${windowsServerVersion}-* SKU, or set windowsServerVersion to the image's release.`,
        );
    } else if (definition === MASTER_IMAGE_DEFINITION) {
        bad("windowsImage", `is the Linux master image (images/ linux-master); the Windows nodes need the Windows node image: its imageVersionId (images/.../windows-node-${windowsServerVersion}/versions/...).`);
    } else if (release && galleryRelease !== undefined && galleryRelease !== windowsServerVersion) {
        bad(
            "windowsImage",
            `the gallery image is a Windows Server ${galleryRelease} node image (windows-node-${galleryRelease}), but windowsServerVersion is ${windowsServerVersion}: the pods' ${release.containerTag} images would not run on that host. Set windowsServerVersion to ${galleryRelease}, or build a ${windowsServerVersion} image (npm run plan:images -- --config windowsServerVersion=${windowsServerVersion}) and use its imageVersionId.`,
        );
    }

    const validation = str("validation");
    if (!(VALIDATION_MODES as readonly string[]).includes(validation)) {
        bad("validation", `${show(validation)} is not a validation mode; use enforce or report.`);
    }

    if (issues.length > 0) {
        throw new ConfigError(issues);
    }
    return {
        machines,
        masterAddress: masterAddress ?? "",
        masterUser: opt("masterUser") ?? str("adminUsername"),
        existingCluster: bool("existingCluster"),
        windowsHosts,
        nodeSubnet: nodeSubnet ? networkForm(nodeSubnet) : "",
        sshProxy,
        topology: topology as Topology,
        windowsNodeCount,
        maxUnavailable,
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
        windowsServerVersion,
        containerdVersion: str("containerdVersion"),
        windowsContainerdVersion: str("windowsContainerdVersion"),
        flannelVersion: str("flannelVersion"),
        flannelCniPluginVersion: str("flannelCniPluginVersion"),
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
    if (c.machines === "existing") {
        return {
            vnetCidr: c.nodeSubnet,
            podCidr: c.podCidr,
            serviceCidr: c.serviceCidr,
            windowsNodeCount: c.windowsHosts.length,
            hosts: { master: c.masterAddress, windows: c.windowsHosts },
            podCidrsFromTop: c.existingCluster,
        };
    }
    return { vnetCidr: c.vnetCidr, podCidr: c.podCidr, serviceCidr: c.serviceCidr, windowsNodeCount: c.windowsNodeCount };
}

/** Config keys whose values are secrets (never printed, never written to the plan). */
export const SECRET_KEYS = Object.entries(KEYS)
    .filter(([, s]) => s.secret)
    .map(([k]) => k);

/** Provider keys the program honours (the plan records them). */
export const PROVIDER_KEYS = ["azure-native:location"] as const;

/** May this full config key's value be written to plan.json? Known, non-secret keys only. */
export function recordableConfigKey(fullKey: string): boolean {
    if ((PROVIDER_KEYS as readonly string[]).includes(fullKey)) {
        return true;
    }
    const [ns, key] = fullKey.split(":", 2);
    return ns === PROJECT && key in KEYS && !KEYS[key as keyof ClusterConfig].secret;
}
