// How long each step of `pulumi up` takes, in minutes: the one table the modeled time to a
// working cluster is computed from (npm run bench, and the plan's parallelism hint).
//
// No Azure subscription is reachable from where the benchmark runs, so nothing here is measured by
// this project. Each row is a distribution (lognormal, given by its median and 90th percentile)
// and says where it comes from: `sourced` names the published numbers it rests on (an issue
// thread, a Microsoft doc, a published log); `estimate` says why it is a guess. Replace rows with
// your own timings (`pulumi up --json` prints per-resource start and end events) to model your
// region.
//
// Two image kinds: `stock` is the marketplace images and today's steps; `prebuilt` models the
// images of images/: a Windows node image that already holds the Containers feature, OpenSSH,
// containerd, the binaries and the pulled images (the reboot, downloads and pulls are skipped and
// the steps only verify: the idempotent second-run path), and a master image with containerd, the
// Kubernetes packages and the control plane's and flannel's images. A master row's prebuilt figure
// applies only when the plan's master is made from a gallery image (plan/montecarlo.ts
// buildModel). It models that image path; it is not a measurement of one.
import { REBOOT_DELAY_SECONDS } from "../components/scripts/provision";
import type { PlanResource } from "./evaluate";

export type ImageKind = "stock" | "prebuilt";
export const IMAGE_KINDS: readonly ImageKind[] = ["stock", "prebuilt"];

/** A lognormal duration in minutes, by its median and 90th percentile (p90 = median: no spread). */
export interface Spread {
    median: number;
    p90: number;
}

/** Where a figure comes from: published numbers, or an estimate and why. */
export type Basis = { sourced: string[]; note: string } | { estimate: string };

export interface DurationRule {
    /** Matches the resource's type (and name, when given). */
    type: RegExp;
    name?: RegExp;
    stock: Spread;
    basis: Basis;
    /** On a prebuilt image, when the step differs (it only verifies); else as `stock`. */
    prebuilt?: { spread: Spread; basis: Basis };
}

const s = (median: number, p90: number): Spread => ({ median, p90 });
const estimate = (why: string): Basis => ({ estimate: why });
const sourced = (note: string, ...refs: string[]): Basis => ({ sourced: refs, note });

export const SOURCES = {
    /** Windows first boot on a cloud VM: sysprep specialize + OOBE. */
    windowsBootAzure7: "https://github.com/oneops/circuit-oneops-1/pull/634 (\"even on azure the initial boot time is 7min for their base image\")",
    windowsBootGcp2: "https://jpassing.com/2020/03/05/understanding-windows-vm-initialization-on-google-cloud/ (Windows instance ready in ~2 min vs ~30 s for Linux: specialize and first boot)",
    containersReboot: "https://github.com/rancher/windows/pull/204 (Azure node restarted after the Containers feature installs: \"wait about 1-2 minutes\")",
    pullCns: "https://github.com/Azure/AKS/issues/4082 (AKS Windows node: a ~1.7 GB image \"Successfully pulled ... in 5m32.963s\")",
    pullAcr: "https://github.com/Azure/acr/issues/252 (a 2 GB image takes ~15 min to pull on a Standard_D2s_v3, ~2 MB/s)",
    pullServer: "https://github.com/Azure/AgentBaker/issues/7005 (server:ltsc2022 \"can take up to 10-15 minutes to pull\" on a new Windows node)",
    kubeadmInit: "https://github.com/kubernetes/kubernetes/pull/117984 (logs of repeated kubeadm init runs: 43-55 s each, \"All control plane components are healthy after 24-28 seconds\")",
    kubeadmPull: "https://github.com/kubernetes/kubeadm/issues/1380 (kubeadm init output: \"[preflight] Pulling images ... This might take a minute or two, depending on the speed of your internet connection\")",
    computeThrottling: "https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits (Put VM and Update VM, which covers extensions: subscription bucket 1,500, refill 500/min, per region)",
    armThrottling: "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling (subscription writes: bucket 200, refill 10/s, per region)",
    pulumiParallel: "https://github.com/pulumi/pulumi/blob/master/pkg/cmd/pulumi/operations/up.go (defaultParallel: int32(runtime.NumCPU()) * 4, pulumi/pulumi#15016 for #14989; PULUMI_PARALLEL overrides it, #18782)",
    pulumiFifo: "https://github.com/pulumi/pulumi/blob/master/pkg/resource/deploy/step_executor.go (a pool of --parallel workers reading one channel of ready step chains: first come, first served)",
    masterSshd: "components/scripts/linux.ts (the master's cloud-init: MaxStartups 200:30:400; sshd_config(5): refuse 30% of new unauthenticated connections at 200, rising linearly to all at 400)",
    quotaDocs: "https://learn.microsoft.com/azure/azure-resource-manager/templates/error-resource-quota (\"Operation results in exceeding quota limits of Core\"; quotas are per region and per VM family)",
} as const;

export const DURATIONS: DurationRule[] = [
    // Azure control-plane operations.
    { type: /ResourceGroup$/, stock: s(0.1, 0.2), basis: estimate("an ARM create of an empty container; returns in seconds") },
    {
        type: /network:(VirtualNetwork|Subnet|NetworkSecurityGroup|RouteTable|PublicIPAddress|NetworkInterface)$/,
        stock: s(0.2, 0.5),
        basis: estimate("ARM network object creates usually finish in 5-20 s; no published distribution found"),
    },
    { type: /network:NatGateway$/, stock: s(0.5, 1), basis: estimate("NAT gateway create, typically under a minute; no published distribution found") },
    // VMs.
    { type: /compute:VirtualMachine$/, name: /master/, stock: s(1.5, 2.5), basis: estimate("Ubuntu on Azure until the agent reports provisioned; Linux boots in well under a minute elsewhere, the rest is the platform") },
    {
        type: /compute:VirtualMachine$/,
        stock: s(4, 7),
        basis: sourced("Windows first boot (specialize, OOBE) until the VM agent reports ready: ~2 min on GCP to 7 min on Azure; median 4, p90 7", SOURCES.windowsBootGcp2, SOURCES.windowsBootAzure7),
        prebuilt: {
            spread: s(4, 7),
            basis: sourced("a generalized gallery image goes through the same specialize and first boot", SOURCES.windowsBootGcp2, SOURCES.windowsBootAzure7),
        },
    },
    {
        type: /compute:VirtualMachineExtension$/,
        stock: s(3, 5),
        basis: estimate("Custom Script Extension: handler download and start, then the OpenSSH capability from Windows Update; no published timing found"),
        prebuilt: { spread: s(1, 2), basis: estimate("handler download and start only: sshd is in the image, the script finds it and writes the key") },
    },
    // Remote steps on the master.
    { type: /Command$/, name: /master-ready$/, stock: s(0.5, 1), basis: estimate("SSH answers and cloud-init finishes shortly after the VM reports ready") },
    {
        type: /Command$/,
        name: /master-prepare$/,
        stock: s(2.5, 4),
        basis: estimate("apt update and install of kubeadm/kubelet/kubectl plus the containerd tarball"),
        prebuilt: { spread: s(0.3, 0.6), basis: estimate("the master image holds containerd and the packages at their versions: module and sysctl writes, config checks, a containerd restart; nothing downloaded") },
    },
    {
        type: /Command$/,
        name: /master-init$/,
        stock: s(1.5, 3),
        basis: sourced("kubeadm init runs 45-55 s with the control plane healthy after 24-28 s; its image pulls \"might take a minute or two\"", SOURCES.kubeadmInit, SOURCES.kubeadmPull),
        prebuilt: { spread: s(0.85, 1.2), basis: sourced("the master image holds the control plane's images (kubeadm config images pull): init without pulls, 43-55 s a run", SOURCES.kubeadmInit) },
    },
    // Remote steps on Windows.
    { type: /Command$/, name: /win-\d+-ready$/, stock: s(0.5, 1), basis: estimate("first SSH round trip through the proxy after sshd starts") },
    {
        type: /Command$/,
        name: /prepare-features$/,
        stock: s(2, 3),
        basis: estimate("Install-WindowsFeature Containers (and the firewall rules) before the reboot; no published timing found"),
        prebuilt: { spread: s(0.2, 0.4), basis: estimate("Get-WindowsFeature finds Containers installed: one SSH round trip") },
    },
    {
        type: /Command$/,
        name: /features-ready$/,
        stock: s(1.5, 2.5),
        basis: sourced("the reboot that enables the Containers feature, until sshd answers again: 1-2 min", SOURCES.containersReboot),
        prebuilt: { spread: s(0.2, 0.4), basis: estimate("no reboot pending: one SSH round trip") },
    },
    {
        type: /Command$/,
        name: /prepare-runtime$/,
        stock: s(2, 3.5),
        basis: estimate("downloads (~300 MB: containerd, kubelet, kubeadm, kube-proxy, flanneld, CNI, nssm), checksums, services, the pause image"),
        prebuilt: { spread: s(0.5, 1), basis: estimate("checksums of the binaries in the image, config files, services; nothing downloaded or pulled") },
    },
    { type: /Command$/, name: /-join$/, stock: s(1.5, 2.5), basis: estimate("kubeadm join itself takes seconds; then the services start, flannel creates its HNS network and the node turns Ready") },
    { type: /Command$/, name: /-check-/, stock: s(0.3, 0.6), basis: estimate("a handful of pings and HTTP requests") },
    { type: /Command$/, stock: s(0.1, 0.2), basis: estimate("short kubectl/kubeadm calls on the master (podcidr, token, kubeconfig)") },
    // Kubernetes objects: the API answers at once; workloads wait for rollout.
    {
        type: /apps\/v1:DaemonSet$/,
        stock: s(0.5, 1),
        basis: estimate("flannel image pull and pod start on the master"),
        prebuilt: { spread: s(0.25, 0.5), basis: estimate("flannel's images are in the master image: the pod's start only") },
    },
    { type: /apps\/v1:Deployment$/, stock: s(0.5, 1), basis: estimate("Windows pod start once its image is on the node (the pull itself is the background pull below)") },
    { type: /^kubernetes:/, stock: s(0.05, 0.1), basis: estimate("API object create") },
    { type: /^pulumi:providers:/, stock: s(0, 0), basis: estimate("provider configuration: no remote work") },
];

/**
 * The sample's image (servercore:ltsc2022, ~1.5-2 GB compressed), pulled in the background on each
 * Windows node from the end of its runtime step; the sample's pods wait for it.
 */
export const BACKGROUND_PULL: { stock: Spread; basis: Basis; prebuilt: { spread: Spread; basis: Basis } } = {
    stock: s(5.5, 12),
    basis: sourced("Windows images of 1.7-2 GB pull in 5.5 min on an AKS node, up to 10-15 min on small VMs; median 5.5, p90 12", SOURCES.pullCns, SOURCES.pullServer, SOURCES.pullAcr),
    prebuilt: { spread: s(0, 0), basis: estimate("the image is in the node image: nothing to pull") },
};

/**
 * The stock image's provisioning extension (components/scripts/provision.ts) runs the work rows of
 * this table time, so its duration is made of them, with no figure of its own. Each inner list is a
 * lane of parts run one after another; lanes run side by side and the extension ends with the
 * longest. Lane one: the extension's start and the OpenSSH capability (the extension row), then the
 * Containers feature (prepare-features). Lane two, the script's background job: the extension's
 * start (the extension row's prebuilt variant: the handler alone), then the runtime's downloads and
 * binaries (prepare-runtime).
 */
export const PROVISION_LANES: Array<Array<{ row: Pick<PlanResource, "type" | "name">; variant: ImageKind }>> = [
    [
        { row: { type: "azure-native:compute:VirtualMachineExtension", name: "provision-openssh" }, variant: "stock" },
        { row: { type: "command:remote:Command", name: "provision-prepare-features" }, variant: "stock" },
    ],
    [
        { row: { type: "azure-native:compute:VirtualMachineExtension", name: "provision-openssh" }, variant: "prebuilt" },
        { row: { type: "command:remote:Command", name: "provision-prepare-runtime" }, variant: "stock" },
    ],
];

/**
 * After the provisioning: the reboot that activates the Containers feature, as the features-ready
 * row times it (until sshd answers again), scheduled REBOOT_DELAY_SECONDS after the script's end.
 */
export const PROVISION_REBOOT = {
    as: { type: "command:remote:Command", name: "provision-features-ready" } as Pick<PlanResource, "type" | "name">,
    delay: s(REBOOT_DELAY_SECONDS / 60, REBOOT_DELAY_SECONDS / 60),
};

/**
 * A remote command with no `create` (the upgrade steps: components/hostCommand.ts upgradeStep) on
 * the run that creates it: pulumi-command's Create returns before it connects, so the step is one
 * provider call and holds no SSH session; its script runs only on a later version change
 * (UPGRADE_DURATIONS, plan/upgradeModel.ts).
 */
export const CREATELESS: { spread: Spread; basis: Basis } = {
    spread: s(0.005, 0.01),
    basis: estimate(
        "one provider call that returns without connecting (pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go Create: it returns when `input.Create == nil`, before any connection): the engine's gRPC round trip, well under a second",
    ),
};

/** A remote command that runs nothing when it is created. */
export const isCreateless = (r: Pick<PlanResource, "type" | "inputs">) => r.type === "command:remote:Command" && typeof r.inputs.create !== "string";

/** Steps with no rule (none today) take this long. */
const FALLBACK: { spread: Spread; basis: Basis } = { spread: s(0.1, 0.2), basis: estimate("no rule matches: a short step") };

export function ruleFor(r: Pick<PlanResource, "type" | "name">): DurationRule | undefined {
    return DURATIONS.find((d) => d.type.test(r.type) && (!d.name || d.name.test(r.name)));
}

/** A resource's distribution and its basis for an image kind; components take no time (their children do the work). */
/**
 * The provisioning extension's lanes of parts (each part a row's spread), and a spread that
 * describes the whole: the longest lane's medians and p90s, added up. The Monte Carlo model draws
 * the parts; the plan's parallelism hint uses the median.
 */
export function provisionSpread(): { spread: Spread; basis: Basis; lanes: Spread[][] } {
    const parts = PROVISION_LANES.map((lane) => lane.map((p) => stepSpread(p.row, p.variant)));
    const lanes = parts.map((lane) => lane.map((p) => p.spread));
    const sum = (lane: Spread[], k: keyof Spread) => lane.reduce((a, p) => a + p[k], 0);
    return {
        spread: s(Math.max(...lanes.map((l) => sum(l, "median"))), Math.max(...lanes.map((l) => sum(l, "p90")))),
        basis: estimate(`made of the rows of what it runs, lanes side by side (${parts.map((lane) => lane.map((p) => describeBasis(p.basis).split(";")[0]).join(" + ")).join(" | ")})`),
        lanes,
    };
}

/** The stock image's provisioning extension (components/scripts/provision.ts windowsSteps). */
export const isProvisionExtension = (r: Pick<PlanResource, "type" | "name">) => /compute:VirtualMachineExtension$/.test(r.type) && /-provision$/.test(r.name);

export function stepSpread(r: Pick<PlanResource, "type" | "name">, kind: ImageKind = "stock"): { spread: Spread; basis: Basis } {
    if (r.type.startsWith("hybrid-k8s:index:")) {
        return { spread: s(0, 0), basis: estimate("a component: its children do the work") };
    }
    if (isProvisionExtension(r) && kind === "stock") {
        const { spread, basis } = provisionSpread();
        return { spread, basis };
    }
    const rule = ruleFor(r);
    if (!rule) {
        return FALLBACK;
    }
    return kind === "prebuilt" && rule.prebuilt ? rule.prebuilt : { spread: rule.stock, basis: rule.basis };
}

/** Median minutes a resource takes (stock image). */
export function durationOf(r: PlanResource, kind: ImageKind = "stock"): number {
    return stepSpread(r, kind).spread.median;
}

export function isSourced(b: Basis): b is { sourced: string[]; note: string } {
    return "sourced" in b;
}

/** One line for a basis: "sourced: note [refs]" or "estimate: why". */
export function describeBasis(b: Basis): string {
    return isSourced(b) ? `sourced: ${b.note} [${b.sourced.join("; ")}]` : `estimate: ${b.estimate}`;
}
