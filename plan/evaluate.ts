// Runs the real program (index.ts) under Pulumi's mock runtime and returns what it declared.
// One evaluation per process: the Pulumi runtime and Node's module cache are global.
import * as pulumi from "@pulumi/pulumi";
import { disconnect } from "@pulumi/pulumi/runtime/settings";
import { runInPulumiStack } from "@pulumi/pulumi/runtime/stack";
import * as path from "path";
import { recordableConfigKey } from "../components/config";
import { installRecordingMonitor, Json, RecordedResource, ResourceOptionsRecord, SECRET, SshHop, SshTarget } from "./monitor";
import { PlanMocks } from "./mocks";

export interface PlanResource {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    dependsOn: string[];
    /** Options that change how the engine replaces, deletes or hides it; only those set. */
    options: ResourceOptionsRecord;
    inputs: Record<string, Json>;
    /**
     * A remote command's SSH target: host, user and port of its connection and of its proxy, if
     * any (its `inputs.connection` is "[secret]" as a whole: it holds the private key).
     */
    target?: SshTarget;
}

export interface PlanDocument {
    project: string;
    stack: string;
    config: Record<string, Json>;
    resources: PlanResource[];
    outputs: Record<string, Json>;
}

export interface EvaluateOptions {
    project: string;
    stack: string;
    /** Full config map, keys "namespace:key", values as the Pulumi CLI passes them (text). */
    config: Record<string, string>;
    /** Keys of `config` that hold secrets. */
    secretKeys: string[];
    /** The program's entry module. Defaults to the project's index.ts. */
    program?: string;
}

export interface Evaluation {
    document: PlanDocument;
    records: RecordedResource[];
}

/**
 * Plan mode skips what only the engine's UI uses: @pulumi/pulumi 3.248 records a stack trace
 * for every promise it creates (runtime/debuggable.js, debuggablePromise: `new Error().stack`,
 * four per resource property) and the source position of every resource (resource.js,
 * Resource.callsites, with Error.stackTraceLimit raised to Infinity), and under ts-node each
 * trace is source-mapped. That was 37% of a plan's time. The mock monitor ignores both. Set
 * PLAN_STACK_TRACES=1 to keep them (to debug the program itself).
 */
function skipStackCapture(): number {
    const limit = Error.stackTraceLimit;
    if (process.env.PLAN_STACK_TRACES === "1") {
        return limit;
    }
    Error.stackTraceLimit = 0;
    Object.defineProperty(pulumi.Resource, "callsites", { value: (): string[] => [], configurable: true, writable: true });
    return limit;
}

/** Evaluates the program and returns the plan. A program error (bad config) rejects. */
export async function evaluate(opts: EvaluateOptions): Promise<Evaluation> {
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
    const stackTraceLimit = skipStackCapture();
    const monitor = installRecordingMonitor(new PlanMocks(opts.config["azure-native:location"]), opts.project, opts.stack);
    const program = opts.program ?? path.resolve(__dirname, "..", "index");
    // The language host runs a program the same way: its module exports become stack outputs.
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        await runInPulumiStack(async () => require(program) as Record<string, unknown>);
        await disconnect();
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
    const secret = new Set(opts.secretKeys);
    const config: Record<string, Json> = {};
    for (const key of Object.keys(opts.config).sort()) {
        // only keys the program reads: a value for a mistyped key may be a misplaced secret
        if (!secret.has(key) && recordableConfigKey(key)) {
            config[key] = opts.config[key];
        }
    }
    const records = monitor.records;
    // A target's fields are plain config (masterAddress, masterUser, adminUsername, windowsHosts);
    // should one ever equal a secret's value, it is written as "[secret]" all the same.
    const secretValues = new Set(opts.secretKeys.map((k) => opts.config[k]).filter((v) => typeof v === "string" && v !== ""));
    const hide = (h: SshHop): SshHop => {
        const f = (v: Json): Json => (typeof v === "string" && secretValues.has(v) ? SECRET : v);
        return { host: f(h.host), user: f(h.user), port: f(h.port) };
    };
    const target = (t: SshTarget | undefined): { target?: SshTarget } => (t ? { target: { ...hide(t), ...(t.proxy ? { proxy: hide(t.proxy) } : {}) } } : {});
    return {
        records,
        document: {
            project: opts.project,
            stack: opts.stack,
            config,
            resources: records.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                parent: r.parent,
                dependsOn: r.dependsOn,
                options: r.options,
                inputs: r.inputs,
                ...target(r.target),
            })),
            outputs: monitor.stackOutputs,
        },
    };
}
