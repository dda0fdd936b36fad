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
 * (--pod-infra-container-image only before 1.34; WinOverlay/WinDSR locked on from 1.34), and
 * each minor here was rendered and checked by the tests. A minor outside this table is refused:
 * its flags were never rendered. Add a row only after the scripts were checked against it.
 */
export const KUBERNETES_MINORS: readonly MinorSupport[] = [
    { minor: "1.33", note: "kubelet still takes --pod-infra-container-image" },
    { minor: "1.34", note: "--pod-infra-container-image removed; the sandbox image is pinned in containerd's config" },
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
