// How long each step of `pulumi up` typically takes, in minutes: the one table the modeled
// time to a working cluster is computed from (npm run bench, and the plan's parallelism hint).
//
// These are estimates, not measurements made by this project: no Azure subscription is reachable
// from where the benchmark runs. Each row says what it is based on. Replace them with your own
// timings (`pulumi up --json` prints per-resource start and end events) to model your region.
import { PlanResource } from "./evaluate";

export interface DurationRule {
    /** Matches the resource's type (and name, when given). */
    type: RegExp;
    name?: RegExp;
    minutes: number;
    basis: string;
}

export const DURATIONS: DurationRule[] = [
    // Azure control-plane operations: ARM create calls for network objects return in seconds.
    { type: /ResourceGroup$/, minutes: 0.1, basis: "ARM resource group create: seconds" },
    { type: /network:(VirtualNetwork|Subnet|NetworkSecurityGroup|RouteTable|PublicIPAddress|NetworkInterface)$/, minutes: 0.2, basis: "ARM network object create: typically 5-20 s" },
    { type: /network:NatGateway$/, minutes: 0.5, basis: "NAT gateway create: typically under a minute" },
    // VMs: Linux boots fast; Windows Server takes several minutes to provision (sysprep specialise, first boot).
    { type: /compute:VirtualMachine$/, name: /master/, minutes: 1.5, basis: "Linux VM create until provisioning succeeded: 1-2 min" },
    { type: /compute:VirtualMachine$/, minutes: 4, basis: "Windows Server 2022 VM create until the VM agent reports ready: 3-5 min" },
    { type: /compute:VirtualMachineExtension$/, minutes: 3, basis: "Custom Script Extension installing the OpenSSH capability (download from Windows Update): 2-4 min" },
    // Remote steps on the master.
    { type: /Command$/, name: /master-ready$/, minutes: 0.5, basis: "SSH answers and cloud-init finishes shortly after the VM reports ready" },
    { type: /Command$/, name: /master-prepare$/, minutes: 2.5, basis: "apt update and install of kubeadm/kubelet/kubectl plus the containerd tarball" },
    { type: /Command$/, name: /master-init$/, minutes: 1.5, basis: "kubeadm init: image pulls plus control-plane start, about a minute on a D2s" },
    // Remote steps on Windows.
    { type: /Command$/, name: /win-\d+-ready$/, minutes: 0.5, basis: "first SSH round trip through the proxy after sshd starts" },
    { type: /Command$/, name: /prepare-features$/, minutes: 2, basis: "Install-WindowsFeature Containers: 1-3 min" },
    { type: /Command$/, name: /features-ready$/, minutes: 2, basis: "Windows Server reboot until sshd answers again: 1.5-2.5 min" },
    { type: /Command$/, name: /prepare-runtime$/, minutes: 2, basis: "binaries (~300 MB) and the pause image; the servercore pull goes on in the background" },
    { type: /Command$/, name: /-join$/, minutes: 1.5, basis: "kubeadm join, service start, flannel network creation, node Ready" },
    { type: /Command$/, name: /-check-/, minutes: 0.3, basis: "a handful of pings and HTTP requests" },
    { type: /Command$/, minutes: 0.1, basis: "short kubectl/kubeadm calls on the master (podcidr, token, kubeconfig)" },
    // Kubernetes objects: the API answers at once; workloads wait for rollout.
    { type: /apps\/v1:DaemonSet$/, minutes: 0.5, basis: "flannel image pull and pod start on the master" },
    { type: /apps\/v1:Deployment$/, minutes: 2.5, basis: "the rest of the servercore:ltsc2022 pull (~2.5 GB compressed, ~3.5 min, started by prepare-runtime and overlapping the join), then pod start" },
    { type: /^kubernetes:/, minutes: 0.05, basis: "API object create" },
    { type: /^pulumi:providers:/, minutes: 0, basis: "provider configuration" },
];

/** Minutes a resource takes; components take none (their children do the work). */
export function durationOf(r: PlanResource): number {
    if (r.type.startsWith("hybrid-k8s:index:")) {
        return 0;
    }
    const rule = DURATIONS.find((d) => d.type.test(r.type) && (!d.name || d.name.test(r.name)));
    return rule ? rule.minutes : 0.1;
}
