// A mock resource monitor that records every registration the program makes: its parent, the
// resources it waits on (explicit dependsOn and the resources behind its input Outputs, as the
// SDK computed them), its provider, and its inputs with secrets masked.
import { MockMonitor, Mocks } from "@pulumi/pulumi/runtime/mocks";
import { setMockOptions } from "@pulumi/pulumi/runtime/settings";

/** Written in place of every secret value. */
export const SECRET = "[secret]";
/** Written in place of a value that is unknown until a real deployment computes it. */
export const UNKNOWN = "[unknown]";

// Wire-format markers of the Pulumi RPC protocol (sdk/nodejs/runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent?: string;
    /** URNs this resource waits on: dependencies reported by the SDK plus its provider. */
    dependsOn: string[];
    /** Per input property, the URNs its value came from. */
    propertyDependencies: Record<string, string[]>;
    provider?: string;
    deleteBeforeReplace: boolean;
    deletedWith?: string;
    additionalSecretOutputs: string[];
    /** The resource options that decide replacement, deletion and secrecy (only those set). */
    options: ResourceOptionsRecord;
    inputs: Record<string, Json>;
    /** A remote command's SSH target (its `connection` without the key or password); undefined otherwise. */
    target?: SshTarget;
}

/** Where an SSH hop goes: the connection's host, user and port. */
export interface SshHop {
    host: Json;
    user: Json;
    port: Json;
}

/**
 * The SSH target of a remote command: its connection's host, user and port and, when it goes
 * through a proxy, the proxy's. Never the private key, password or agent socket.
 */
export interface SshTarget extends SshHop {
    proxy?: SshHop;
}

/**
 * Resource options as the engine receives them (RegisterResourceRequest, sdk/proto/resource.proto),
 * only those that are set: absent means the engine's default.
 */
export interface ResourceOptionsRecord {
    deleteBeforeReplace?: boolean;
    replaceOnChanges?: string[];
    deletedWith?: string;
    customTimeouts?: { create?: string; update?: string; delete?: string };
    ignoreChanges?: string[];
    retainOnDelete?: boolean;
    additionalSecretOutputs?: string[];
}

/** Minimal shapes of the protobuf request objects the monitor receives. */
interface Struct {
    toJavaScript(): Record<string, unknown>;
}
interface PropertyDependencies {
    getUrnsList(): string[];
}
interface RegisterResourceRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): Struct | undefined;
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: PropertyDependencies, key: string) => void): void };
    getProvider(): string;
    getDeletebeforereplace(): boolean;
    getDeletedwith(): string;
    getAdditionalsecretoutputsList(): string[];
    getReplaceonchangesList(): string[];
    getIgnorechangesList(): string[];
    getRetainondelete(): boolean;
    hasRetainondelete(): boolean;
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}
interface RegisterResourceOutputsRequest {
    getUrn(): string;
    getOutputs(): Struct | undefined;
}
type Callback = (err: unknown, response: unknown) => void;

/** Replaces secrets with "[secret]", unknowns with "[unknown]" and resource references with their URN. */
export function unwire(value: unknown): Json {
    if (value === UNKNOWN_VALUE) {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.map(unwire);
    }
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SIG_KEY] === SECRET_SIG) {
            return SECRET;
        }
        if (obj[SIG_KEY] === RESOURCE_SIG) {
            return String(obj.urn);
        }
        const out: { [key: string]: Json } = {};
        for (const key of Object.keys(obj).sort()) {
            out[key] = unwire(obj[key]);
        }
        return out;
    }
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null) {
        return value;
    }
    return null;
}

/** The value inside a secret's wire wrapper (the value itself otherwise). */
function unsecret(value: unknown): unknown {
    const obj = value as Record<string, unknown> | null;
    return obj !== null && typeof obj === "object" && obj[SIG_KEY] === SECRET_SIG ? unsecret(obj.value) : value;
}

/** host, user and port of a connection or proxy object on the wire (each unwire'd: a nested secret stays "[secret]"). */
function hop(value: unknown): SshHop {
    const v = unsecret(value);
    if (v === UNKNOWN_VALUE) {
        return { host: UNKNOWN, user: UNKNOWN, port: UNKNOWN };
    }
    const o = (v !== null && typeof v === "object" ? v : {}) as Record<string, unknown>;
    return { host: unwire(o.host ?? null), user: unwire(o.user ?? null), port: unwire(o.port ?? null) };
}

/**
 * The SSH target of a remote command (type command:remote:Command) from its raw inputs. pulumi-command
 * 1.2.1 wraps the whole connection in a secret, because its privateKey or password may be one
 * (sdk/nodejs/remote/command.ts: resourceInputs["connection"] = pulumi.secret(...), with its
 * defaults port 22 and user root: types/input.ts connectionArgsProvideDefaults), so the plan shows
 * `connection` as "[secret]"; only the fields that say where it goes are taken out of it.
 */
export function sshTarget(type: string, inputs: Record<string, unknown>): SshTarget | undefined {
    if (type !== "command:remote:Command" || inputs.connection === undefined) {
        return undefined;
    }
    const c = unsecret(inputs.connection);
    const proxy = c !== null && typeof c === "object" ? unsecret((c as Record<string, unknown>).proxy) : undefined;
    return { ...hop(c), ...(proxy !== undefined && proxy !== null ? { proxy: hop(proxy) } : {}) };
}

/** A provider reference on the wire is "<urn>::<id>". */
function providerUrn(ref: string): string | undefined {
    if (!ref) {
        return undefined;
    }
    const i = ref.lastIndexOf("::");
    return i > 0 ? ref.slice(0, i) : ref;
}

export class RecordingMonitor extends MockMonitor {
    readonly records: RecordedResource[] = [];
    stackOutputs: Record<string, Json> = {};
    private stackUrn?: string;

    constructor(mocks: Mocks) {
        super(mocks);
    }

    async registerResource(req: RegisterResourceRequest, callback: Callback): Promise<void> {
        await super.registerResource(req, (err: unknown, response: unknown) => {
            if (!err && response) {
                this.record(req, (response as { getUrn(): string }).getUrn());
            }
            callback(err, response);
        });
    }

    registerResourceOutputs(req: RegisterResourceOutputsRequest, callback: Callback): void {
        if (req.getUrn() === this.stackUrn) {
            const outputs = unwire(req.getOutputs()?.toJavaScript() ?? {});
            this.stackOutputs = outputs !== null && typeof outputs === "object" && !Array.isArray(outputs) ? outputs : {};
        }
        super.registerResourceOutputs(req, callback);
    }

    private record(req: RegisterResourceRequest, urn: string): void {
        if (req.getType() === "pulumi:pulumi:Stack") {
            this.stackUrn = urn;
            return;
        }
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((deps, key) => {
            propertyDependencies[key] = [...new Set(deps.getUrnsList())].sort();
        });
        const provider = providerUrn(req.getProvider());
        const dependsOn = new Set(req.getDependenciesList());
        if (provider) {
            dependsOn.add(provider); // a resource waits on its provider; the SDK does not list it
        }
        const raw = req.getObject()?.toJavaScript() ?? {};
        const inputs = unwire(raw);
        const target = sshTarget(req.getType(), raw);
        const parent = req.getParent();
        const options = recordOptions(req);
        this.records.push({
            urn,
            type: req.getType(),
            name: req.getName(),
            custom: req.getCustom(),
            parent: parent && parent !== this.stackUrn ? parent : undefined,
            dependsOn: [...dependsOn].sort(),
            propertyDependencies,
            provider,
            deleteBeforeReplace: req.getDeletebeforereplace(),
            deletedWith: req.getDeletedwith() || undefined,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            options,
            inputs: inputs !== null && typeof inputs === "object" && !Array.isArray(inputs) ? inputs : {},
            ...(target ? { target } : {}),
        });
    }
}

/** The options of one registration that are set (the SDK sends defaults as empty values). */
function recordOptions(req: RegisterResourceRequest): ResourceOptionsRecord {
    const o: ResourceOptionsRecord = {};
    if (req.getDeletebeforereplace()) {
        o.deleteBeforeReplace = true;
    }
    const replaceOnChanges = req.getReplaceonchangesList();
    if (replaceOnChanges.length) {
        o.replaceOnChanges = [...replaceOnChanges];
    }
    if (req.getDeletedwith()) {
        o.deletedWith = req.getDeletedwith();
    }
    const t = req.getCustomtimeouts();
    if (t && (t.getCreate() || t.getUpdate() || t.getDelete())) {
        o.customTimeouts = {
            ...(t.getCreate() ? { create: t.getCreate() } : {}),
            ...(t.getUpdate() ? { update: t.getUpdate() } : {}),
            ...(t.getDelete() ? { delete: t.getDelete() } : {}),
        };
    }
    const ignoreChanges = req.getIgnorechangesList();
    if (ignoreChanges.length) {
        o.ignoreChanges = [...ignoreChanges];
    }
    // an optional field in the protocol: recorded when the program set it, true or false
    if (req.hasRetainondelete()) {
        o.retainOnDelete = req.getRetainondelete();
    }
    const secretOutputs = req.getAdditionalsecretoutputsList();
    if (secretOutputs.length) {
        o.additionalSecretOutputs = [...secretOutputs];
    }
    return o;
}

/**
 * Installs the recording monitor, with the same feature flags `pulumi.runtime.setMocks` sets
 * (@pulumi/pulumi 3.248, runtime/mocks.js). setMockOptions resets them, so set them after it.
 */
export function installRecordingMonitor(mocks: Mocks, project: string, stack: string): RecordingMonitor {
    const monitor = new RecordingMonitor(mocks);
    setMockOptions(monitor, project, stack, false);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };
    const store = state.getStore();
    store.supportsSecrets = true;
    store.supportsResourceReferences = true;
    store.supportsOutputValues = false;
    store.supportsDeletedWith = true;
    store.supportsReplaceWith = true;
    store.supportsAliasSpecs = true;
    store.supportsTransforms = false;
    store.supportsParameterization = true;
    store.supportsResourceHooks = true;
    store.supportsErrorHooks = true;
    return monitor;
}
