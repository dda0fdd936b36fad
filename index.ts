// The program `pulumi up` runs: read and validate config, lay out addresses, build the cluster,
// export what a user needs. `npm run plan` evaluates this same file offline.
import * as pulumi from "@pulumi/pulumi";
import { allNodes, planAddresses } from "./components/addressing";
import { addressInput, ClusterConfig, ConfigError, parseConfig } from "./components/config";
import { Flannel } from "./components/flannel";
import { LinuxMaster } from "./components/linuxMaster";
import { FLANNEL_NAMESPACE, FLANNEL_SERVICE_ACCOUNT, FLANNEL_TOKEN_SECRET } from "./components/manifests/flannel";
import { azureMachines } from "./machines/azure";
import { existingMachines } from "./machines/existing";
import { MachineLayer } from "./machines/host";
import { nodeRuntimeInput } from "./components/scripts/provision";
import { renderClusterCompatibility, torRouteTable, torRoutesFromCheck } from "./components/scripts/existing";
import { upgradeWaves } from "./components/scripts/upgrade";
import { topologySpec } from "./components/topology";
import { WindowsNode } from "./components/windowsNode";
import { sampleImage } from "./components/manifests/sample";
import { WINDOWS_SERVER } from "./components/versions";
import { SampleService } from "./components/sampleService";
import { Validation } from "./components/validation";
import { hostAt, parseCidr, Cidr } from "./components/addressing";

/** Which config values arrived as secrets (runtime/config.js isConfigSecret, @internal in 3.248). */
function secretConfigKeys(raw: Record<string, string>): string[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(k: string): boolean };
    return Object.keys(raw).filter((k) => runtimeConfig.isConfigSecret(k));
}

function loadConfig(): ClusterConfig {
    try {
        const raw = pulumi.runtime.allConfig();
        return parseConfig(raw, { mode: "up", secretKeys: secretConfigKeys(raw) });
    } catch (e) {
        if (e instanceof ConfigError) {
            // RunError: the CLI prints the message alone, without a stack trace
            throw new pulumi.RunError(e.message);
        }
        throw e;
    }
}

const cfg = loadConfig();
const addresses = planAddresses(addressInput(cfg));
const spec = topologySpec(cfg.topology);
// Validated in "up" mode: present.
const sshPrivateKey = pulumi.secret(cfg.sshPrivateKey as string);

// Where the machines come from (machines/) ...
const azure = cfg.machines === "azure" ? azureMachines(cfg, addresses, sshPrivateKey) : undefined;
const machines: MachineLayer = azure ?? existingMachines(cfg, addresses, sshPrivateKey);

// ... and what is done on them (components/).
const master = new LinuxMaster("k8s-master", {
    host: machines.master,
    addresses,
    spec,
    kubernetesVersion: cfg.kubernetesVersion,
    containerdVersion: cfg.containerdVersion,
    existingCluster: cfg.existingCluster,
    compatibilityCheck: cfg.existingCluster
        ? renderClusterCompatibility({ spec, podCidr: addresses.podCidr, serviceCidr: addresses.serviceCidr, kubernetesVersion: cfg.kubernetesVersion, windowsNodes: addresses.windows.map((n) => ({ name: n.name, podCidr: n.podCidr, address: n.privateIp })) })
        : undefined,
});

// An existing cluster runs its own flannel (its compatibility check refuses one Windows cannot join).
const flannel =
    spec.flannelBackend && !cfg.existingCluster
        ? new Flannel("flannel", {
              provider: master.provider,
              spec: { ...spec, flannelBackend: spec.flannelBackend },
              podCidr: addresses.podCidr,
              flannelVersion: cfg.flannelVersion,
              cniPluginVersion: cfg.flannelCniPluginVersion,
              nodesReady: master.podCidr ? [master.podCidr] : [],
              deletedWith: machines.master.deletedWith,
          })
        : undefined;

// Host agents on Windows (flanneld, kube-proxy) authenticate with their service accounts' tokens.
const agentKubeconfigs =
    cfg.windowsNodeCount > 0
        ? master.agentKubeconfigs(
              "cluster-agent-kubeconfigs",
              [
                  { key: "kubeProxy", namespace: "kube-system", serviceAccount: "kube-proxy", secret: "kube-proxy-windows-token" },
                  ...(flannel ? [{ key: "flannel", namespace: FLANNEL_NAMESPACE, serviceAccount: FLANNEL_SERVICE_ACCOUNT, secret: FLANNEL_TOKEN_SECRET }] : []),
                  // an existing cluster's own flannel: kube-flannel.yml's namespace, or kube-system in older manifests
                  ...(cfg.existingCluster && spec.flannelBackend
                      ? [{ key: "flannel", namespace: [FLANNEL_NAMESPACE, "kube-system"], serviceAccount: FLANNEL_SERVICE_ACCOUNT, secret: FLANNEL_TOKEN_SECRET }]
                      : []),
              ],
              // the flannel token Secret needs the flannel service account
              { parent: master, dependsOn: flannel ? [flannel.serviceAccount] : [] },
          )
        : undefined;

const windowsVersions = {
    kubernetesVersion: cfg.kubernetesVersion,
    containerdVersion: cfg.windowsContainerdVersion,
    flannelVersion: cfg.flannelVersion,
    flannelCniPluginVersion: cfg.flannelCniPluginVersion,
    cniPluginsVersion: cfg.cniPluginsVersion,
    sdnPluginsVersion: cfg.sdnPluginsVersion,
};
const prePull = cfg.sampleService ? [sampleImage(WINDOWS_SERVER[cfg.windowsServerVersion])] : [];
const windowsHosts = machines.windows({
    installsAfter: [master.versionCheck],
    runtime: (node) => nodeRuntimeInput({ spec, node, addresses, versions: windowsVersions, prePull }),
});

// Windows workers: all in parallel, none waits on another. Node i keeps its index and addresses
// when windowsNodeCount changes, so growing the count touches no existing node. Only their upgrade
// windows (a version change) go in waves of maxUnavailable: node i's after node i − maxUnavailable's.
const waveAfter = new Map(upgradeWaves(addresses.windows.map((n) => n.name), cfg.maxUnavailable).map((e) => [e.to, e.from]));
const workers: WindowsNode[] = [];
addresses.windows.forEach((node, i) => {
    const earlier = workers.find((w) => `${w.name}-uncordon` === waveAfter.get(`${node.name}-drain`));
    workers.push(
        new WindowsNode(node.name, {
            host: windowsHosts[i],
            master,
            node,
            addresses,
            spec,
            versions: windowsVersions,
            agentKubeconfigs: agentKubeconfigs as pulumi.Output<Record<string, string>>,
            clusterReady: flannel?.ready,
            prePull,
            windowAfter: earlier ? [earlier.uncordon] : [],
        }),
    );
});

// The seed's sample service and its checklist, once every Windows node has joined.
const sample =
    cfg.sampleService && workers.length > 0
        ? new SampleService("sample", {
              provider: master.provider,
              windowsNodeCount: workers.length,
              windowsServer: WINDOWS_SERVER[cfg.windowsServerVersion],
              // a fixed cluster IP, so checks on hosts without kubectl know it
              clusterIp: hostAt(parseCidr(addresses.serviceCidr) as Cidr, 200),
              joins: workers.map((w) => w.join),
              deletedWith: machines.master.deletedWith,
          })
        : undefined;
const validation = sample
    ? new Validation("cluster", { master, nodes: workers, sample, addresses, spec, mode: cfg.validation, rerun: cfg.validationRun })
    : undefined;

export const machineSource = cfg.machines;
// Azure only (null for existing machines)
export const resourceGroupName = azure ? azure.network.resourceGroupName : null;
export const natPublicIp = azure ? azure.network.natPublicIp : null;
export const masterPublicIp = azure ? azure.masterPublicIp : null;
export const topology = cfg.topology;
export const kubeconfig = master.kubeconfig;
export const flannelNetwork = spec.windowsNetworkName;
/** Every node with its private IP and pod /24, known before anything runs. */
export const nodes = allNodes(addresses).map((n) => ({ name: n.name, role: n.role, privateIp: n.privateIp, podCidr: n.podCidr }));
/**
 * For `tor`: each node's pod /24 and its next hop, and the same as switch (IOS-style) and Linux
 * router commands. On an existing cluster only the planned Windows nodes: the master's podCIDR and
 * the cluster's other nodes are the cluster's, and its compatibility step prints the whole table,
 * which these outputs then hold.
 */
const torNodes = cfg.existingCluster ? addresses.windows : allNodes(addresses);
const torTable = cfg.topology === "tor" ? torRouteTable(torNodes.map((n) => ({ name: n.name, address: n.privateIp, podCidr: n.podCidr }))) : undefined;
// on an existing cluster, once `pulumi up` has run its compatibility step: the table it printed
const fullTorTable =
    torTable && cfg.existingCluster && master.compatibility
        ? pulumi.unsecret(master.compatibility.stdout).apply((out) => torRoutesFromCheck(out) ?? torTable)
        : pulumi.output(torTable);
export const torRoutes = fullTorTable.apply((t) => (t ? t.routes.map((r) => `${r.prefix} via ${r.nextHop}`) : []));
export const torRouteCommands = fullTorTable.apply((t) => (t ? { ios: t.ios, linux: t.linux } : null));
/** Each Windows worker: name, private IP and pod /24. */
export const windowsNodes = workers.map((n) => ({ name: n.name, privateIp: n.privateIp, podCidr: n.podSubnet }));
/** check → {pass, detail}: the seed's validation checklist, run against the live cluster. */
export const validationResults = validation ? validation.results : {};
