// Drift checks (pure parts): classify `pulumi preview --expect-no-changes`, and check the live
// cluster against the stack's outputs. Remote commands have no read, so refresh cannot see a
// host that drifted (a node gone NotReady, a stopped service): the cluster check covers that.

/**
 * `pulumi preview --refresh --expect-no-changes` exits 0 without changes and 7 on drift
 * (pulumi/pulumi#5144, fixed by pulumi/pulumi#22176 in 2026-09; older CLIs exit 255 for drift
 * and for errors alike, so with them every drift reads as a broken check).
 */
export const DRIFT_EXIT_CODE = 7;

/** Exit code when the cluster could not be reached (the runner is outside adminCidr, or the master is down). */
export const UNREACHABLE_EXIT_CODE = 3;

/**
 * `--target` glob for every Azure resource of the stack: a URN with a '*' is a glob, '**' matches
 * across ':' and '$' (pulumi/pulumi pkg/resource/deploy/deployment.go, UrnTargets.getMatcher).
 */
export const AZURE_TARGET = "**azure-native:**";

export type PreviewOutcome = "no-drift" | "drift" | "unreachable" | "broken";

/**
 * How the Kubernetes provider and kubectl say the API server could not be reached: pulumi-kubernetes
 * provider/pkg/provider/provider.go ("configured Kubernetes cluster is unreachable: ..."), and the
 * Go net/http and client-go errors behind it and behind kubectl.
 */
const UNREACHABLE = [
    /configured Kubernetes cluster is unreachable/i,
    /Unable to connect to the server/i,
    /dial tcp [^\n]*: (i\/o timeout|connect: connection refused|connect: no route to host|connect: network is unreachable)/i,
    /context deadline exceeded \(Client\.Timeout exceeded/i,
];

/** Does this output say the API server could not be reached? */
export function clusterUnreachable(output: string): boolean {
    return UNREACHABLE.some((re) => re.test(output));
}

/**
 * The preview's outcome from its exit code and output: 0 no drift, 7 drift, and any other code is
 * "unreachable" when the output says the API server could not be reached, else "broken".
 */
export function classifyPreview(exitCode: number, output = ""): PreviewOutcome {
    if (exitCode === 0) {
        return "no-drift";
    }
    if (exitCode === DRIFT_EXIT_CODE) {
        return "drift";
    }
    return clusterUnreachable(output) ? "unreachable" : "broken";
}

/** The lines of a preview that name a change (+ create, - delete, ~ update, +-/-+ replace). */
export function driftedLines(previewOutput: string): string[] {
    return previewOutput
        .split(/\r?\n/)
        .filter((l) => /^\s*(\+-|-\+|[+~-])\s+\S+:\S+/.test(l) || /^\s*(\+-|-\+|[+~-])\s+pulumi:pulumi:Stack/.test(l))
        .map((l) => l.trimEnd());
}

interface NodeList {
    items: Array<{ metadata: { name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }>;
}

export interface NodeReport {
    ready: string[];
    notReady: string[];
    missing: string[];
}

/** Which expected nodes are Ready, not Ready, or missing, from `kubectl get nodes -o json`. */
export function nodeReadiness(nodes: NodeList, expected: string[]): NodeReport {
    const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
    const report: NodeReport = { ready: [], notReady: [], missing: [] };
    for (const name of expected) {
        const node = byName.get(name);
        if (!node) {
            report.missing.push(name);
        } else if (node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) {
            report.ready.push(name);
        } else {
            report.notReady.push(name);
        }
    }
    return report;
}

export type ValidationResults = Record<string, { pass: boolean; detail: string; informational?: boolean }>;

/** Checks that failed (informational measurements never count). */
export function failedChecks(results: ValidationResults): string[] {
    return Object.entries(results)
        .filter(([, r]) => !r.pass && !r.informational)
        .map(([name, r]) => `${name}: ${r.detail}`);
}

export interface DriftReport {
    stack: string;
    preview: PreviewOutcome;
    previewExitCode: number;
    drifted: string[];
    nodes?: NodeReport;
    sample?: { ok: boolean; detail: string };
    checks?: string[];
    clusterError?: string;
    /** The cluster check could not reach the API server (not the same as an unhealthy cluster). */
    clusterUnreachable?: boolean;
    /** Azure resources only (no Kubernetes objects, no cluster check): for runners outside adminCidr. */
    azureOnly?: boolean;
}

/** Did the cluster check pass? */
export function clusterHealthy(r: DriftReport): boolean {
    return !r.clusterError && !!r.nodes && r.nodes.notReady.length === 0 && r.nodes.missing.length === 0 && (r.sample?.ok ?? true) && (r.checks ?? []).length === 0;
}

/**
 * Exit code of the drift job: 0 all good, 7 drift, 3 the cluster could not be reached, 1 the
 * cluster is unhealthy, 2 the check itself broke.
 */
export function exitCode(r: DriftReport): number {
    if (r.preview === "broken") {
        return 2;
    }
    if (r.preview === "drift") {
        return DRIFT_EXIT_CODE;
    }
    if (r.preview === "unreachable" || r.clusterUnreachable) {
        return UNREACHABLE_EXIT_CODE;
    }
    if (r.azureOnly) {
        return 0;
    }
    return clusterHealthy(r) ? 0 : 1;
}

/** A Markdown summary (the GitHub job summary). */
export function summary(r: DriftReport): string {
    const lines = [`## Drift check: stack \`${r.stack}\`${r.azureOnly ? " (Azure resources only)" : ""}`, ""];
    const what = r.azureOnly ? "Azure resources" : "Azure and Kubernetes resources";
    switch (r.preview) {
        case "no-drift":
            lines.push(`- ${what}: **no drift** (\`pulumi preview --refresh --expect-no-changes\` exited 0).`);
            break;
        case "unreachable":
            lines.push(`- ${what}: **the cluster could not be reached** (pulumi preview exited ${r.previewExitCode}): the API server accepts adminCidr only; run this part on a runner inside it. This is neither drift nor a broken check.`);
            break;
        case "drift":
            lines.push(`- ${what}: **drift** (exit ${r.previewExitCode}). What changed outside the code:`, "", "```", ...(r.drifted.length ? r.drifted : ["(see the preview output in the job log)"]), "```", "", "Fix: `pulumi refresh` to accept what changed, or `pulumi up` to put the code's state back.");
            break;
        case "broken":
            lines.push(`- **The check itself failed** (pulumi preview exited ${r.previewExitCode}, not 0 or 7): credentials, backend login or the program; see the job log. This is not drift.`);
            break;
    }
    if (r.clusterUnreachable) {
        lines.push(`- Cluster: **could not be reached** (is this runner inside adminCidr?): ${r.clusterError ?? ""}`);
    } else if (r.clusterError) {
        lines.push(`- Cluster: **could not be checked**: ${r.clusterError}`);
    } else if (r.nodes) {
        const bad = [...r.nodes.notReady.map((n) => `${n} (NotReady)`), ...r.nodes.missing.map((n) => `${n} (missing)`)];
        lines.push(bad.length ? `- Nodes: **${bad.join(", ")}**; Ready: ${r.nodes.ready.join(", ") || "none"}.` : `- Nodes: all ${r.nodes.ready.length} Ready.`);
        if (r.sample) {
            lines.push(`- Sample service: ${r.sample.ok ? "answers" : `**${r.sample.detail}**`}.`);
        }
        lines.push((r.checks ?? []).length ? `- Validation: **failed**: ${(r.checks ?? []).join("; ")}` : "- Validation: all checks pass.");
    }
    return lines.join("\n") + "\n";
}
