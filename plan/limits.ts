// Limits outside the graph that serialize real runs at scale, as numbers the model can use (pure):
// Azure's API throttling per subscription and region, the regional vCPU quota, the master's sshd
// as the SSH proxy for every Windows node, and Pulumi's default --parallel.
import { SOURCES } from "./durations";
import type { PlanDocument } from "./evaluate";

/** A token bucket: `capacity` tokens, refilled at `refillPerMinute`; each request takes one. */
export interface TokenBucketSpec {
    name: string;
    capacity: number;
    refillPerMinute: number;
    /** Which plan resource types draw a token when they start. */
    types: RegExp;
    source: string;
}

/**
 * Azure limits that creates in one subscription and region share (per region, per subscription,
 * and for ARM per principal too). A step whose token is not there waits (the SDK retries on 429)
 * while holding its Pulumi slot.
 */
export const AZURE_BUCKETS: TokenBucketSpec[] = [
    { name: "ARM subscription writes", capacity: 200, refillPerMinute: 600, types: /^azure-native:/, source: SOURCES.armThrottling },
    { name: "Compute Put VM", capacity: 1500, refillPerMinute: 500, types: /^azure-native:compute:VirtualMachine$/, source: SOURCES.computeThrottling },
    { name: "Compute Update VM (extensions)", capacity: 1500, refillPerMinute: 500, types: /^azure-native:compute:VirtualMachineExtension$/, source: SOURCES.computeThrottling },
];

/** A token bucket's state as requests arrive in time order. */
export class TokenBucket {
    private tokens: number;
    private last = 0;

    constructor(readonly spec: Pick<TokenBucketSpec, "capacity" | "refillPerMinute">) {
        this.tokens = spec.capacity;
    }

    /** Takes a token for a request at `now` (minutes, non-decreasing); returns how long it waits for one. */
    take(now: number): number {
        const t = Math.max(now, this.last);
        this.tokens = Math.min(this.spec.capacity, this.tokens + (t - this.last) * this.spec.refillPerMinute);
        this.last = t;
        if (this.tokens >= 1) {
            this.tokens -= 1;
            return t - now;
        }
        const wait = (1 - this.tokens) / this.spec.refillPerMinute;
        this.tokens = 0;
        this.last = t + wait;
        return t + wait - now;
    }
}

/** sshd's MaxStartups start:rate:full (sshd_config(5)). */
export interface MaxStartups {
    start: number;
    rate: number;
    full: number;
}

/** The master's setting (components/scripts/linux.ts, masterCloudInit). */
export const MASTER_MAX_STARTUPS: MaxStartups = { start: 200, rate: 30, full: 400 };

/** Minutes an SSH connection stays unauthenticated (key exchange and public-key auth). Estimate: about a second on a LAN. */
export const SSH_HANDSHAKE_MINUTES = 1 / 60;

/** Minutes before a refused connection is dialled again. Estimate: the command provider's dial retry backoff, a few seconds. */
export const SSH_RETRY_MINUTES = 5 / 60;

/**
 * The chance sshd drops a new connection when `unauthenticated` connections are already in their
 * handshake: none below `start`, `rate`% at `start`, rising linearly to all at `full`.
 */
export function maxStartupsDropChance(unauthenticated: number, m: MaxStartups = MASTER_MAX_STARTUPS): number {
    if (unauthenticated < m.start) {
        return 0;
    }
    if (unauthenticated >= m.full) {
        return 1;
    }
    const rate = m.rate / 100;
    return rate + ((1 - rate) * (unauthenticated - m.start)) / (m.full - m.start);
}

/** Pulumi's default --parallel: 4 x runtime.NumCPU() (pkg/cmd/pulumi/operations/up.go; pulumi/pulumi#15016), unless PULUMI_PARALLEL is set. */
export function pulumiDefaultParallel(cpus: number, env: Record<string, string | undefined> = {}): number {
    const p = Number(env.PULUMI_PARALLEL);
    return Number.isInteger(p) && p > 0 ? p : 4 * Math.max(1, cpus);
}

/** vCPUs of an Azure size name (Standard_D4s_v5 → 4), or undefined when the name does not say. */
export function vcpusOfSize(size: string): number | undefined {
    const m = /^(?:Standard|Basic)_[A-Za-z]+?(\d+)/.exec(size);
    return m ? Number(m[1]) : undefined;
}

/** Quota family of a size, as `az vm list-usage` names it loosely (Standard_D4s_v5 → "Dsv5"). */
export function familyOfSize(size: string): string | undefined {
    const m = /^(?:Standard|Basic)_([A-Za-z]+?)\d+([A-Za-z-]*)(?:_(v\d+))?$/.exec(size);
    return m ? `${m[1]}${m[2].replace(/-/g, "")}${m[3] ?? ""}` : undefined;
}

/**
 * A typical vCPU quota for a new pay-as-you-go subscription. Estimate: Azure publishes no fixed
 * default (it varies by offer and region; `az vm list-usage --location <region>` shows yours);
 * new subscriptions commonly start at 10 vCPUs per VM family and 20 in total per region, and free
 * or trial offers at 4 (the docs' error example: "Maximum allowed: 4").
 */
export const TYPICAL_QUOTA = { regionalVcpus: 20, familyVcpus: 10, source: SOURCES.quotaDocs } as const;

export interface QuotaInput {
    windowsNodeCount: number;
    windowsVmSize: string;
    linuxVmSize: string;
    quota?: { regionalVcpus: number; familyVcpus: number };
}

/** Warnings when the cluster's vCPUs exceed a (typical) regional or per-family quota; empty when they fit. */
export function vcpuQuotaWarnings(input: QuotaInput): string[] {
    const quota = input.quota ?? TYPICAL_QUOTA;
    const winCpus = vcpusOfSize(input.windowsVmSize);
    const linCpus = vcpusOfSize(input.linuxVmSize);
    if (winCpus === undefined || linCpus === undefined) {
        return [];
    }
    const byFamily = new Map<string, number>();
    const add = (size: string, cpus: number) => {
        const family = familyOfSize(size) ?? size;
        byFamily.set(family, (byFamily.get(family) ?? 0) + cpus);
    };
    add(input.linuxVmSize, linCpus);
    if (input.windowsNodeCount > 0) {
        add(input.windowsVmSize, winCpus * input.windowsNodeCount);
    }
    const total = linCpus + winCpus * input.windowsNodeCount;
    const out: string[] = [];
    if (total > quota.regionalVcpus) {
        out.push(`${total} vCPUs (master ${linCpus} + ${input.windowsNodeCount} x ${winCpus}) exceed a typical regional quota of ${quota.regionalVcpus}`);
    }
    for (const [family, cpus] of byFamily) {
        if (cpus > quota.familyVcpus) {
            out.push(`${cpus} vCPUs of the ${family} family exceed a typical per-family quota of ${quota.familyVcpus}`);
        }
    }
    return out;
}

/** The quota warnings for a plan: its VMs' sizes and count, read from the planned resources. */
export function planQuotaWarnings(doc: PlanDocument, quota?: QuotaInput["quota"]): string[] {
    const size = (r: PlanDocument["resources"][number]): string | undefined => {
        const hw = r.inputs.hardwareProfile;
        return hw && typeof hw === "object" && !Array.isArray(hw) && typeof hw.vmSize === "string" ? hw.vmSize : undefined;
    };
    const vms = doc.resources.filter((r) => r.type === "azure-native:compute:VirtualMachine");
    const master = vms.find((r) => /master/.test(r.name));
    const windows = vms.filter((r) => r !== master);
    const linuxVmSize = master ? size(master) : undefined;
    const windowsVmSize = windows.length ? size(windows[0]) : "Standard_D4s_v5";
    if (!linuxVmSize || !windowsVmSize) {
        return [];
    }
    return vcpuQuotaWarnings({ windowsNodeCount: windows.length, windowsVmSize, linuxVmSize, quota });
}
