// The policy pack's rules, kept apart from the PolicyPack so tests can call them directly.
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";

/** Ports that must never be open to the internet: SSH, RDP, WinRM, the API server. */
export const ADMIN_PORTS = [22, 3389, 5985, 5986, 6443];
const INTERNET = new Set(["*", "0.0.0.0/0", "internet", "any", "0.0.0.0"]);

interface Rule {
    name?: string;
    access?: string;
    direction?: string;
    sourceAddressPrefix?: string;
    sourceAddressPrefixes?: string[];
    destinationPortRange?: string;
    destinationPortRanges?: string[];
}

/**
 * A source that reaches (a large part of) the internet: Azure's keywords, and any CIDR wider than a
 * /8 (IPv4) or a /16 (IPv6) outside the private ranges. Wide ranges are how a rule avoids the
 * literal 0.0.0.0/0: 0.0.0.0/1 + 128.0.0.0/1, or ::/0 for IPv6.
 */
export function isInternetSource(source: string): boolean {
    const s = source.trim().toLowerCase();
    if (INTERNET.has(s) || s === "::" || s === "::/0") {
        return true;
    }
    const m = /^([^/]+)\/(\d+)$/.exec(s);
    if (!m) {
        return false;
    }
    const [addr, bits] = [m[1], Number(m[2])];
    if (addr.includes(":")) {
        // IPv6: unique-local fc00::/7 and link-local fe80::/10 are private
        const first = parseInt(addr.split(":")[0] || "0", 16);
        const privateV6 = (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
        return bits < 16 && !(privateV6 && bits >= 7);
    }
    return bits < 8;
}

function covers(range: string, port: number): boolean {
    if (range === "*") {
        return true;
    }
    const [lo, hi] = range.split("-").map((p) => Number(p.trim()));
    return hi === undefined ? lo === port : lo <= port && port <= hi;
}

/** The admin ports a rule opens to the internet (empty when it opens none). */
export function internetAdminPorts(rule: Rule): number[] {
    if ((rule.access ?? "Allow").toLowerCase() !== "allow" || (rule.direction ?? "Inbound").toLowerCase() !== "inbound") {
        return [];
    }
    const sources = [rule.sourceAddressPrefix, ...(rule.sourceAddressPrefixes ?? [])].filter((s): s is string => !!s);
    if (!sources.some(isInternetSource)) {
        return [];
    }
    const ranges = [rule.destinationPortRange, ...(rule.destinationPortRanges ?? [])].filter((r): r is string => !!r);
    return ADMIN_PORTS.filter((p) => ranges.some((r) => covers(r, p)));
}

const noAdminPortsFromInternet: ResourceValidationPolicy = {
    name: "no-admin-ports-from-internet",
    description: "No NSG rule opens SSH, RDP, WinRM or the Kubernetes API (22, 3389, 5985, 5986, 6443) to the internet.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        const rules: Rule[] =
            args.type === "azure-native:network:NetworkSecurityGroup"
                ? ((args.props.securityRules as Rule[] | undefined) ?? [])
                : args.type === "azure-native:network:SecurityRule"
                  ? [args.props as Rule]
                  : [];
        for (const rule of rules) {
            const ports = internetAdminPorts(rule);
            if (ports.length) {
                report(`rule ${rule.name ?? args.name} opens ${ports.join(", ")} to the internet; allow your adminCidr only`);
            }
        }
    },
};

const vxlanWindowsInterop: StackValidationPolicy = {
    name: "vxlan-windows-interop",
    description: "With Windows nodes, flannel's vxlan backend uses VNI 4096 and port 4789 (the only values Windows flannel accepts).",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
        const windows = args.resources.some(
            (r) => r.type === "hybrid-k8s:index:WindowsNode" || (r.type === "azure-native:compute:VirtualMachine" && !!r.props.osProfile?.windowsConfiguration),
        );
        if (!windows) {
            return;
        }
        for (const r of args.resources.filter((x) => x.type === "kubernetes:core/v1:ConfigMap")) {
            const text = r.props.data?.["net-conf.json"];
            if (typeof text !== "string") {
                continue;
            }
            let backend: { Type?: string; VNI?: number; Port?: number; DirectRouting?: boolean };
            try {
                backend = JSON.parse(text).Backend ?? {};
            } catch {
                report(`${r.name}: net-conf.json is not valid JSON`);
                continue;
            }
            if (backend.Type === "vxlan" && (backend.VNI !== 4096 || backend.Port !== 4789 || backend.DirectRouting)) {
                report(`${r.name}: vxlan backend has VNI ${backend.VNI ?? "default (1)"} and port ${backend.Port ?? "default (8472)"}${backend.DirectRouting ? " with DirectRouting" : ""}; Windows nodes need VNI 4096, port 4789, no DirectRouting`);
            }
        }
    },
};

/** Command names that handle secrets (tokens, kubeconfigs, joins). */
const SECRET_STEPS = /(-token|-kubeconfig|-kubeconfigs|-join)$/;
/** Commands whose stdin is no secret: an upgrade window's drain reads the names of the binaries a node staged. */
const PLAIN_STDIN_STEPS = /-drain$/;

const secretCommands: ResourceValidationPolicy = {
    name: "secret-commands-stay-secret",
    description: "Remote commands that carry secrets (stdin, tokens, kubeconfigs) do not log, keep stdout secret and do not pass previous output in the environment.",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== "command:remote:Command" && args.type !== "command:local:Command") {
            return;
        }
        if ((args.props.stdin === undefined || PLAIN_STDIN_STEPS.test(args.name)) && !SECRET_STEPS.test(args.name)) {
            return;
        }
        if (args.props.logging !== "none") {
            report(`${args.name} carries secrets but logs its output (set logging: "none")`);
        }
        if (args.props.addPreviousOutputInEnv !== false) {
            report(`${args.name} carries secrets but passes its previous output in the environment (set addPreviousOutputInEnv: false)`);
        }
        if (!args.opts.additionalSecretOutputs.includes("stdout")) {
            report(`${args.name} carries secrets but its stdout is not secret (additionalSecretOutputs: ["stdout"])`);
        }
    },
};

const vmDisksAndAuth: ResourceValidationPolicy = {
    name: "vm-managed-disks-and-linux-key-auth",
    description: "VMs use managed disks; Linux VMs allow SSH keys only (no password authentication).",
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== "azure-native:compute:VirtualMachine") {
            return;
        }
        const disk = args.props.storageProfile?.osDisk;
        if (!disk?.managedDisk || disk.vhd) {
            report(`${args.name}: the OS disk is not a managed disk`);
        }
        const linux = args.props.osProfile?.linuxConfiguration;
        if (linux && (linux.disablePasswordAuthentication !== true || args.props.osProfile?.adminPassword)) {
            report(`${args.name}: Linux VMs must disable password authentication and use SSH keys`);
        }
    },
};

export const policies = [noAdminPortsFromInternet, vxlanWindowsInterop, secretCommands, vmDisksAndAuth];
