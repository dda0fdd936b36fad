// The versions the scripts were written and checked for: one table, read by config validation
// and by anything else that needs to know what is supported (pure, no Pulumi).

/** A release version x.y.z: no leading v, no leading zeros (semver.org, rule 2). */
export const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
/** A flannel CNI plugin release, x.y.z with an optional -flannelN suffix. */
export const FLANNEL_CNI_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-flannel[1-9]\d*)?$/;

export interface MinorSupport {
    /** "1.35" */
    minor: string;
    /** Why the scripts need nothing else for this minor. */
    note: string;
}

/**
 * Kubernetes minors the scripts render for. kubelet flags are derived per version
 * (--pod-infra-container-image only before 1.35; WinOverlay/WinDSR locked on from 1.34), and
 * each minor here was rendered and checked by the tests. A minor outside this table is refused:
 * its flags were never rendered. Add a row only after the scripts were checked against it.
 */
export const KUBERNETES_MINORS: readonly MinorSupport[] = [
    { minor: "1.33", note: "kubelet still takes --pod-infra-container-image; WinOverlay is still a feature gate" },
    { minor: "1.34", note: "WinOverlay locked on; --pod-infra-container-image deprecated (removed in 1.35, kubernetes CHANGELOG-1.35)" },
    { minor: "1.35", note: "the default; supported upstream until 2027-02-28 (kubernetes.io/releases)" },
];

/**
 * Oldest containerd major the rendered config.toml works with: it is written as `version = 3`,
 * which containerd supports from 2.0 on (containerd/containerd docs/containerd-2.0.md, "Daemon
 * configuration version 3"). Applies to the Linux master and the Windows nodes alike.
 */
export const CONTAINERD_MIN_MAJOR = 2;

export interface ParsedVersion {
    major: number;
    minor: number;
    patch: number;
}

export function parseVersion(v: string): ParsedVersion | undefined {
    const m = SEMVER.exec(v);
    return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** The supported minor a Kubernetes version belongs to, or undefined. */
export function kubernetesMinor(v: string): MinorSupport | undefined {
    const p = parseVersion(v);
    return p ? KUBERNETES_MINORS.find((m) => m.minor === `${p.major}.${p.minor}`) : undefined;
}

/** The Windows Server releases a node can run. */
export type WindowsServerVersion = "2022" | "2025";

export interface WindowsServerRelease {
    /** The marketplace image used when `windowsImage` is not set (publisher:offer:sku:version). */
    image: string;
    /** The tag of Microsoft's container images built for this host (process isolation needs the host's build). */
    containerTag: string;
    /** The node label node.kubernetes.io/windows-build that kubelet sets on this release. */
    build: string;
}

/**
 * Windows Server 2022 and 2025, both supported by Kubernetes as node OS (kubernetes/website PR
 * #53724). SKUs from the WindowsServer offer (`2025-datacenter-azure-edition` is Gen2, like the
 * 2022 one); tags ltsc2022/ltsc2025 and builds 10.0.20348/10.0.26100 as Microsoft's container
 * images publish them (mcr.microsoft.com/windows/servercore). The default stays 2022: upstream
 * containerd and hcsshim run their Windows CI on 2022 only since 2025's networking regressions
 * (containerd/containerd#12088, microsoft/hcsshim#2483, July 2025; their workflows still run
 * windows-2022 only in August 2026), and no flannel report covers 2025. That regression hit the
 * overlay mode (our vxlan) only; its fix was targeted at the October 2025 cumulative updates
 * (rancher/rancher#50915, quoting the SIG Windows meeting) and no upstream thread names its KB or
 * build, so the node scripts check none. AKS creates no 2022 node pools on Kubernetes 1.35+
 * (Azure/AKS#4168) and makes 2025 its only Windows OS from 1.37 (Azure/AKS#5904): AKS's own
 * support policy, not a limit of kubeadm nodes, and the reason 2025 is the next default.
 */
export const WINDOWS_SERVER: Record<WindowsServerVersion, WindowsServerRelease> = {
    "2022": { image: "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest", containerTag: "ltsc2022", build: "10.0.20348" },
    "2025": { image: "MicrosoftWindowsServer:WindowsServer:2025-datacenter-azure-edition:latest", containerTag: "ltsc2025", build: "10.0.26100" },
};
