// The program `pulumi up` runs: read and validate config, lay out addresses, build the cluster,
// export what a user needs. `npm run plan` evaluates this same file offline.
import * as pulumi from "@pulumi/pulumi";
import { addressInput, ConfigError, parseConfig } from "./components/config";
import { planAddresses } from "./components/addressing";
import { Network } from "./components/network";

function loadConfig() {
    try {
        return parseConfig(pulumi.runtime.allConfig(), { mode: "up" });
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
const tags = { "hybrid-k8s/stack": pulumi.getStack() };

const net = new Network("cluster", {
    topology: cfg.topology,
    addresses,
    adminCidr: cfg.adminCidr,
    exposeNodePorts: cfg.exposeNodePorts,
    tags,
});

export const resourceGroupName = net.resourceGroupName;
export const topology = cfg.topology;
export const natPublicIp = net.natPublicIp;
/** Every node with its private IP and pod /24, known before anything runs. */
export const nodes = [addresses.master, ...addresses.windows].map((n) => ({ name: n.name, role: n.role, privateIp: n.privateIp, podCidr: n.podCidr }));
