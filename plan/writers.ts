// Renders an evaluated plan: the printed tree, Mermaid and Graphviz graphs, and the scripts and
// manifests the resources would run or apply, exactly as their inputs carry them.
import * as yaml from "js-yaml";
import { gunzipSync } from "zlib";
import { Json } from "./monitor";
import { PlanDocument, PlanResource } from "./evaluate";
import { PlanGraph } from "./graph";
import { decodePowerShell, embeddedFiles } from "../components/scripts/shell";

function shortType(type: string): string {
    return type.split(":").slice(-1)[0];
}

/** name of a URN (its last segment). */
export function urnName(urn: string): string {
    return urn.split("::").slice(-1)[0];
}

function childrenOf(doc: PlanDocument): Map<string | undefined, PlanResource[]> {
    const children = new Map<string | undefined, PlanResource[]>();
    for (const r of doc.resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    return children;
}

/** The readable tree: type, name, and what each resource waits on (outside its own parent chain). */
export function renderTree(doc: PlanDocument): string {
    const children = childrenOf(doc);
    const lines = [`${doc.project} / ${doc.stack}: ${doc.resources.length} resources`];
    const walk = (parent: string | undefined, prefix: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            const waits = r.dependsOn.map(urnName);
            const wait = waits.length ? `  ← ${waits.join(", ")}` : "";
            lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type} ${r.name}${wait}`);
            walk(r.urn, prefix + (last ? "   " : "│  "));
        });
    };
    walk(undefined, "");
    return lines.join("\n") + "\n";
}

/**
 * The edges worth drawing: a dependency that another dependency already implies (A waits on B
 * and on C, and C waits on B) is left out of the pictures; plan.json keeps every edge.
 */
export function drawnEdges(doc: PlanDocument): Array<[string, string]> {
    const g = new PlanGraph(doc);
    const edges: Array<[string, string]> = [];
    for (const r of doc.resources) {
        const deps = r.dependsOn.filter((d) => g.byUrn.has(d));
        for (const d of deps) {
            if (!deps.some((other) => other !== d && g.ancestors(other).has(d))) {
                edges.push([d, r.urn]);
            }
        }
    }
    return edges;
}

/** Component type of a Windows worker: the drawn graphs show one of them for all. */
export const WINDOWS_NODE_TYPE = "hybrid-k8s:index:WindowsNode";

/**
 * The graph as drawn: the N Windows nodes are identical, so only the first is kept (with every
 * resource it owns: its children and the resources named after it, such as its podcidr step on
 * the master), labelled with the count. plan.json keeps the full graph. `count` is N.
 */
export function collapseWindowsNodes(doc: PlanDocument): { doc: PlanDocument; count: number; representative?: string } {
    const nodes = doc.resources.filter((r) => r.type === WINDOWS_NODE_TYPE);
    if (nodes.length < 2) {
        return { doc, count: nodes.length, representative: nodes[0]?.urn };
    }
    const [first, ...rest] = nodes;
    const parentOf = new Map(doc.resources.map((r) => [r.urn, r.parent]));
    const restUrns = new Set(rest.map((n) => n.urn));
    const restNames = rest.map((n) => n.name);
    const underRest = (urn: string): boolean => {
        for (let u: string | undefined = urn; u !== undefined; u = parentOf.get(u)) {
            if (restUrns.has(u)) {
                return true;
            }
        }
        return false;
    };
    const dropped = new Set(doc.resources.filter((r) => underRest(r.urn) || restNames.some((n) => r.name === n || r.name.startsWith(`${n}-`))).map((r) => r.urn));
    const label = `${first.name} (×${nodes.length}: ${first.name} … ${nodes[nodes.length - 1].name}, identical)`;
    const resources = doc.resources
        .filter((r) => !dropped.has(r.urn))
        .map((r) => ({ ...r, name: r.urn === first.urn ? label : r.name, dependsOn: r.dependsOn.filter((d) => !dropped.has(d)) }));
    return { doc: { ...doc, resources }, count: nodes.length, representative: first.urn };
}

/** Mermaid refuses a flowchart with more edges than its `maxEdges`, 500 by default
 * (mermaid-js/mermaid packages/mermaid/src/schemas/config.schema.yaml; enforced in
 * packages/mermaid/src/diagrams/flowchart/flowDb.ts: "Edge limit exceeded"). */
export const MERMAID_MAX_EDGES = 500;

/** The Mermaid file when Mermaid can render it, else undefined; and the number of edges it has. */
export function renderableMermaid(doc: PlanDocument): { content?: string; edges: number } {
    const edges = drawnEdges(doc).length;
    return { edges, content: edges <= MERMAID_MAX_EDGES ? renderMermaid(doc) : undefined };
}

/** Renders Graphviz text to SVG with the WebAssembly build of Graphviz (no system package). */
export async function renderSvg(dot: string): Promise<string> {
    // @hpcc-js/wasm-graphviz is an ES module; Node 20.19+ loads it with require.
    const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
    const graphviz = await Graphviz.load();
    return graphviz.dot(dot, "svg");
}

function ids(doc: PlanDocument): Map<string, string> {
    return new Map(doc.resources.map((r, i) => [r.urn, `n${i}`]));
}

/** Mermaid flowchart: components are subgraphs; an edge A --> B means B waits on A. */
export function renderMermaid(doc: PlanDocument): string {
    const id = ids(doc);
    const children = childrenOf(doc);
    const isParent = new Set(doc.resources.filter((r) => children.has(r.urn)).map((r) => r.urn));
    const lines = ["flowchart LR"];
    const walk = (parent: string | undefined, indent: string) => {
        for (const r of children.get(parent) ?? []) {
            const label = `${r.name}<br/><small>${shortType(r.type)}</small>`.replace(/"/g, "'");
            if (isParent.has(r.urn)) {
                lines.push(`${indent}subgraph ${id.get(r.urn)}["${label}"]`);
                walk(r.urn, indent + "  ");
                lines.push(`${indent}end`);
            } else {
                lines.push(`${indent}${id.get(r.urn)}["${label}"]`);
            }
        }
    };
    walk(undefined, "  ");
    for (const [from, to] of drawnEdges(doc)) {
        lines.push(`  ${id.get(from)} --> ${id.get(to)}`);
    }
    return lines.join("\n") + "\n";
}

function dotQuote(s: string): string {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Graphviz: components are clusters; an edge A -> B means B waits on A. */
export function renderDot(doc: PlanDocument): string {
    const id = ids(doc);
    const children = childrenOf(doc);
    const isParent = new Set(doc.resources.filter((r) => children.has(r.urn)).map((r) => r.urn));
    const lines = [`digraph ${dotQuote(`${doc.project}-${doc.stack}`)} {`, "  rankdir=LR;", "  node [shape=box, fontsize=10];"];
    const walk = (parent: string | undefined, indent: string) => {
        for (const r of children.get(parent) ?? []) {
            const label = `${r.name}\\n${shortType(r.type)}`;
            if (isParent.has(r.urn)) {
                lines.push(`${indent}subgraph cluster_${id.get(r.urn)} {`);
                lines.push(`${indent}  label="${label}";`);
                lines.push(`${indent}  ${id.get(r.urn)} [label="${label}", shape=folder];`);
                walk(r.urn, indent + "  ");
                lines.push(`${indent}}`);
            } else {
                lines.push(`${indent}${id.get(r.urn)} [label="${label}"];`);
            }
        }
    };
    walk(undefined, "  ");
    for (const [from, to] of drawnEdges(doc)) {
        lines.push(`  ${id.get(from)} -> ${id.get(to)};`);
    }
    lines.push("}");
    return lines.join("\n") + "\n";
}

/** A file of the plan's scripts/ or manifests/ folder. */
export interface Artifact {
    path: string;
    content: string;
}

const COMMAND_TYPES = new Set(["command:remote:Command", "command:local:Command"]);

/** One script per command step (create or update, and delete where set), decoded to the text that runs. */
export function scriptArtifacts(doc: PlanDocument): Artifact[] {
    const out: Artifact[] = [];
    // A VM's custom data is the first thing that runs on it (the master's cloud-init); on a
    // Windows VM from a prebuilt image it is data, the key its boot task installs.
    for (const r of doc.resources.filter((x) => x.type === "azure-native:compute:VirtualMachine")) {
        const os = r.inputs.osProfile as Record<string, Json> | undefined;
        if (typeof os?.customData === "string") {
            const windows = os.windowsConfiguration !== undefined;
            out.push({ path: `scripts/${r.name}.${windows ? "custom-data.txt" : "cloud-init.yaml"}`, content: Buffer.from(os.customData, "base64").toString("utf8") });
        }
        // a stock Windows VM's user data: the provisioning script its extension runs (gzip, base64)
        if (typeof r.inputs.userData === "string") {
            const script = gunzipSync(Buffer.from(r.inputs.userData, "base64")).toString("utf8");
            // its parts are the node's own scripts, each with the data it carries
            const parts = embeddedFiles(`scripts/${r.name}.user-data`, script);
            const carried = parts.filter((f) => f.path.endsWith(".ps1")).flatMap((f) => embeddedFiles(f.path.replace(/\.ps1$/, ""), f.content));
            out.push({ path: `scripts/${r.name}.user-data.ps1`, content: script }, ...parts, ...carried);
        }
    }
    // A VM extension's command is a script too (the runner of the provisioning script).
    for (const r of doc.resources.filter((x) => x.type === "azure-native:compute:VirtualMachineExtension")) {
        const settings = r.inputs.settings as Record<string, Json> | undefined;
        const text = settings?.commandToExecute;
        const decoded = typeof text === "string" ? decodePowerShell(text) : undefined;
        if (decoded !== undefined) {
            out.push({ path: `scripts/${r.name}.ps1`, content: decoded }, ...embeddedFiles(`scripts/${r.name}`, decoded));
        }
    }
    for (const r of doc.resources.filter((x) => COMMAND_TYPES.has(x.type))) {
        for (const step of ["create", "update", "delete"] as const) {
            const text = r.inputs[step];
            if (typeof text !== "string" || text === "") {
                continue;
            }
            const ps = decodePowerShell(text);
            // an upgrade step has only `update` (hostCommand.ts upgradeStep): that is its script
            const suffix = step === "delete" ? ".delete" : step === "update" && typeof r.inputs.create === "string" ? ".update" : "";
            out.push(
                ...(ps !== undefined
                    ? [{ path: `scripts/${r.name}${suffix}.ps1`, content: ps }, ...embeddedFiles(`scripts/${r.name}${suffix}`, ps)]
                    : [{ path: `scripts/${r.name}${suffix}.sh`, content: text }]),
            );
        }
    }
    return out;
}

const MANIFEST_SKIP = new Set(["__defaults"]);

function stripInternal(value: Json): Json {
    if (Array.isArray(value)) {
        return value.map(stripInternal);
    }
    if (value !== null && typeof value === "object") {
        const out: { [k: string]: Json } = {};
        for (const [k, v] of Object.entries(value)) {
            if (!MANIFEST_SKIP.has(k)) {
                out[k] = stripInternal(v);
            }
        }
        return out;
    }
    return value;
}

/** Every Kubernetes object as the YAML the provider would apply. */
export function manifestArtifacts(doc: PlanDocument): Artifact[] {
    return doc.resources
        .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"))
        .map((r) => {
            const { apiVersion, kind, ...rest } = stripInternal(r.inputs) as Record<string, Json>;
            return { path: `manifests/${r.name}.yaml`, content: yaml.dump({ apiVersion, kind, ...rest }, { lineWidth: 120, noRefs: true, sortKeys: false }) };
        });
}
