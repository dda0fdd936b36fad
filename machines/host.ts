// What the bootstrap components (components/) need to know of a machine, whoever made it: the
// Azure layer (machines/azure) or the existing-hosts layer (machines/existing). Nothing here
// knows about Azure.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeAddress } from "../components/addressing";
import { RuntimeInput } from "../components/scripts/windows";

export type Connection = command.types.input.remote.ConnectionArgs;
export type ProxyConnection = command.types.input.remote.ProxyConnectionArgs;

/** One machine the cluster runs on. */
export interface Host {
    /** The Kubernetes node name. */
    readonly name: string;
    /** Its address on the node network (what the other nodes and the API server use). */
    readonly privateIp: string;
    /** How `pulumi up` reaches it by SSH (directly or through a proxy). */
    readonly connection: Connection;
    /** The resource that stands for the machine: the first step on it waits for this. */
    readonly machine: pulumi.Resource;
    /**
     * Changes exactly when the machine is a new one (an Azure VM's id): every step on it is a
     * trigger of it, so a blank machine gets every step again.
     */
    readonly identity: pulumi.Input<string>;
    /**
     * Steps on a machine that is deleted with the stack (an Azure VM) are dropped with it without
     * running their deletes. Undefined for a machine that outlives the stack (existing hosts):
     * there, deletes run and undo what the steps did.
     */
    readonly deletedWith?: pulumi.Resource;
}

/** The Linux control-plane host. */
export interface MasterHost extends Host {
    /** The address users and `pulumi up` reach the API server at (public IP on Azure). */
    readonly publicAddress: pulumi.Output<string>;
    /** The master as SSH proxy, for hosts reached through it. */
    readonly proxy: ProxyConnection;
    /** Waits for the host's first SSH answer with an unlimited dial budget (a new VM takes minutes). */
    readonly slowToAnswer: boolean;
}

/**
 * How a Windows host arrives: `stock` (a marketplace VM whose provisioning extension installed
 * sshd), `prebuilt` (a VM from the node image of images/: sshd, features and runtime baked in),
 * `existing` (a machine prepared by its owner with OpenSSH: the plan's enable-openssh script).
 */
export type WindowsHostKind = "stock" | "prebuilt" | "existing";

export interface WindowsHost extends Host {
    readonly kind: WindowsHostKind;
    /** The resource after which sshd answers (the provisioning extension, or the machine). */
    readonly sshReady: pulumi.Resource;
    /**
     * `stock`: the SHA-256 of the provisioning script the extension ran (features, runtime, one
     * reboot): the first SSH step proves that reboot, and runs again when the script changes.
     */
    readonly provisioned?: string;
}

/** What a layer needs to make the Windows hosts. */
export interface WindowsHostsOptions {
    /** What a provisioning that installs Kubernetes binaries waits for (the master's version check). */
    installsAfter: pulumi.Input<pulumi.Resource>[];
    /** A node's runtime step input: what a provisioning installs is the node's own scripts. */
    runtime: (node: NodeAddress) => RuntimeInput;
}

/** Every machine of the cluster, from one layer: the master first, the Windows hosts once the master's steps exist. */
export interface MachineLayer {
    readonly master: MasterHost;
    windows(opts: WindowsHostsOptions): WindowsHost[];
}

/**
 * Every step through the master as SSH proxy, besides the readiness polls: pulumi-command 1.2.1
 * gives up after 10 failed dials (provider/pkg/provider/remote/connection.go dialErrorDefault),
 * about 16 s of backoff (pulumi sdk/go/common/util/retry/until.go: 100 ms × 1.5, at most 5 s);
 * 60 dials ride out a master whose sshd refuses connections for about 4 minutes.
 */
export const PROXIED_DIAL_BUDGET = { dialErrorLimit: 60 };

/** SSH to `host` through `proxy` (the master), with the dial budget a busy proxy needs. */
export function proxiedConnection(host: string, user: string, privateKey: pulumi.Input<string>, proxy: ProxyConnection): Connection {
    return { host, user, privateKey, ...PROXIED_DIAL_BUDGET, proxy: { ...proxy, ...PROXIED_DIAL_BUDGET } };
}

/** The same connection for a readiness poll: it waits as long as it takes, for the host and its proxy. */
export function pollingConnection(c: Connection): Connection {
    const proxy = c.proxy as ProxyConnection | undefined;
    return { ...c, dialErrorLimit: -1, perDialTimeout: 30, ...(proxy ? { proxy: { ...proxy, dialErrorLimit: -1 } } : {}) };
}
