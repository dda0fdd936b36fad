// The Linux control plane on its host (an Azure VM or an existing machine): prepared and
// initialised by remote commands, or, for an existing kubeadm cluster, read and checked. It gives
// every later step what it needs: the kubeconfig, a Kubernetes provider, per-node pod CIDR
// registration, fresh join tokens, and host-agent kubeconfigs for Windows.
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Connection, MasterHost, pollingConnection, ProxyConnection } from "../machines/host";
import { AddressPlan, NodeAddress } from "./addressing";
import { torBridgeConf, torMasqueradeScript } from "./manifests/cni";
import * as linux from "./scripts/linux";
import * as upgrade from "./scripts/upgrade";
import { hostCommand, SECRET_COMMAND, upgradeStep } from "./hostCommand";
import { TopologySpec } from "./topology";
import { checkVersion } from "./validate";

export interface LinuxMasterArgs {
    /** The machine it runs on. */
    host: MasterHost;
    addresses: AddressPlan;
    spec: TopologySpec;
    /** Kubernetes version, x.y.z. */
    kubernetesVersion: string;
    /** containerd version, x.y.z. */
    containerdVersion: string;
    /**
     * The host already runs a kubeadm control plane: read it (its CA, its kubeconfig), never
     * prepare or init it. Defaults to false.
     */
    existingCluster?: boolean;
    /**
     * Existing cluster only: the bash script that reads the cluster and refuses what cannot work
     * with Windows nodes, run as `-compatibility` before anything reads or changes the cluster.
     * Defaults to none.
     */
    compatibilityCheck?: string;
    /** How long the first SSH poll may wait for the host. Defaults to 20 minutes. */
    readyTimeout?: string;
}

export class LinuxMaster extends pulumi.ComponentResource {
    readonly host: MasterHost;
    readonly publicIp: pulumi.Output<string>;
    readonly privateIp: string;
    readonly address: NodeAddress;
    /** SSH to the master, from where `pulumi up` runs. */
    readonly connection: Connection;
    /** The master as SSH proxy: how remote commands reach Windows nodes without their own route. */
    readonly proxy: ProxyConnection;
    readonly ready: command.remote.Command;
    /**
     * `-version-check`: refuses a kubernetesVersion that would put kubelets ahead of the running
     * API server. Every step that installs Kubernetes binaries (here and on Windows) waits on it.
     */
    readonly versionCheck: command.remote.Command;
    /** The control plane is up: `init` on a new cluster, the compatibility check on an existing one. */
    readonly init: command.remote.Command;
    /**
     * The cluster's identity: "sha256:<hash of the cluster CA's public key>", read from the init
     * step's output. It changes exactly when the control plane is initialised anew (a replaced
     * master), and is the Kubernetes provider's clusterIdentifier. A join that must re-join a new
     * control plane can take it as a trigger.
     */
    readonly clusterId: pulumi.Output<string>;
    /**
     * `-upgrade`: brings the control plane to kubernetesVersion (kubeadm upgrade plan/apply, then
     * its kubelet, drained); every node's join and upgrade window waits on it, so no kubelet is
     * ever newer than the API server. Not on an existing cluster (its owner upgrades it).
     */
    readonly upgrade?: command.remote.Command;
    /** Existing cluster: the compatibility check (its stdout: a line of the cluster's facts). */
    readonly compatibility?: command.remote.Command;
    /** What every step that changes a host waits for: the compatibility check, or the readiness poll. */
    readonly hostsMayChange: command.remote.Command;
    /** The master's own pod /24 registration (not for an existing cluster: its master is registered). */
    readonly podCidr?: command.remote.Command;
    /** Admin kubeconfig pointing at the public address (secret). */
    readonly kubeconfig: pulumi.Output<string>;
    readonly provider: k8s.Provider;
    /** The API server as nodes reach it. */
    readonly apiServer: string;

    constructor(name: string, args: LinuxMasterArgs, opts?: pulumi.ComponentResourceOptions) {
        checkVersion(args.kubernetesVersion, "kubernetesVersion");
        checkVersion(args.containerdVersion, "containerdVersion");
        super("hybrid-k8s:index:LinuxMaster", name, {}, opts);
        const parent = { parent: this };
        const host = (this.host = args.host);
        const m = args.addresses.master;
        this.address = m;
        this.privateIp = m.privateIp;
        this.apiServer = `https://${m.privateIp}:6443`;
        this.publicIp = host.publicAddress;
        this.connection = host.connection;
        this.proxy = host.proxy;
        const run = (step: string, create: pulumi.Input<string>, extra: Partial<command.remote.CommandArgs> = {}, copts: pulumi.CustomResourceOptions = {}) =>
            hostCommand(`${name}-${step}`, host, { connection: this.connection, create, ...extra }, { parent: this, ...copts });

        // One readiness poll, with an unlimited dial budget: a new VM takes minutes to answer SSH.
        this.ready = run(
            "ready",
            linux.renderReady(),
            { connection: pollingConnection(this.connection) },
            { dependsOn: [host.machine], customTimeouts: { create: args.readyTimeout ?? "20m" } },
        );
        // An existing cluster is checked first, before anything reads or changes it or any host.
        this.compatibility = args.existingCluster && args.compatibilityCheck ? run("compatibility", args.compatibilityCheck, {}, { dependsOn: [this.ready] }) : undefined;
        this.hostsMayChange = this.compatibility ?? this.ready;
        // Each step on the master runs after the one before it: ready → version-check → prepare → init → kubeconfig.
        // It re-runs when kubernetesVersion changes (the version is in its script), before any host changes.
        this.versionCheck = run("version-check", linux.renderVersionCheck(args.kubernetesVersion, { existingCluster: args.existingCluster }), {}, { dependsOn: [this.hostsMayChange] });
        if (args.existingCluster) {
            // nothing is installed or initialised here: its CA is read
            this.init = run("cluster-ca", linux.renderClusterCa(), {}, { dependsOn: [this.versionCheck] });
        } else {
            const prepare = run(
                "prepare",
                linux.renderMasterPrepare({ kubernetesVersion: args.kubernetesVersion, containerdVersion: args.containerdVersion }),
                {},
                // installs kubelet: only a version the running API server allows
                { dependsOn: [this.versionCheck], customTimeouts: { create: "30m", update: "30m" } },
            );
            const tor =
                args.spec.topology === "tor"
                    ? { cniConfig: torBridgeConf(m, args.spec.linuxCniName), masqueradeScript: torMasqueradeScript(args.addresses.podCidr, args.addresses.vnetCidr) }
                    : undefined;
            this.init = run(
                "init",
                this.publicIp.apply((publicIp) =>
                    linux.renderMasterInit({
                        kubernetesVersion: args.kubernetesVersion,
                        master: m,
                        podCidr: args.addresses.podCidr,
                        serviceCidr: args.addresses.serviceCidr,
                        publicIp,
                        tor,
                    }),
                ),
                {},
                { dependsOn: [prepare], customTimeouts: { create: "20m", update: "20m" } },
            );
        }
        // A kubernetesVersion change: the control plane first, in kubeadm's order. An upgrade step
        // (UPGRADE_STEP): nothing runs when it is created, as init installs the target; its script
        // runs when a later version change alters it. Never on an existing cluster's control plane.
        this.upgrade = args.existingCluster
            ? undefined
            : hostCommand(
                  `${name}-upgrade`,
                  host,
                  { connection: this.connection, ...upgradeStep(upgrade.renderMasterUpgrade({ kubernetesVersion: args.kubernetesVersion, nodeName: m.name })) },
                  { parent: this, dependsOn: [this.init], customTimeouts: { update: "45m" } },
              );
        // The admin kubeconfig is a secret from the moment it exists: no logs, secret stdout.
        const read = run(
            "kubeconfig",
            this.publicIp.apply((ip) => linux.renderReadKubeconfig(ip)),
            SECRET_COMMAND,
            { dependsOn: [this.init], additionalSecretOutputs: ["stdout", "stderr"] },
        );
        this.kubeconfig = pulumi.secret(read.stdout);
        this.clusterId = this.init.stdout.apply(linux.clusterIdFromInit);
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            {
                kubeconfig: this.kubeconfig,
                // The identity of the control plane actually running: a changed kubeconfig (a new
                // admin certificate, a new public IP) updates the provider, while a new cluster (a
                // replaced master: new CA) replaces it and with it every Kubernetes object, which
                // then exist in the new cluster. A constant would leave them recorded as created
                // in a cluster that is gone (pulumi-kubernetes provider/pkg/provider/provider.go
                // DiffConfig: only a changed clusterIdentifier replaces the provider).
                clusterIdentifier: this.clusterId,
            },
            parent,
        );
        this.podCidr = args.existingCluster ? undefined : this.registerNode(m, "linux", { parent: this });

        this.registerOutputs({ publicIp: this.publicIp, kubeconfig: this.kubeconfig });
    }

    /** A command that runs on the master once the control plane is up. */
    onMaster(name: string, args: Partial<command.remote.CommandArgs> & ({ create: pulumi.Input<string> } | { update: pulumi.Input<string> }), opts: pulumi.CustomResourceOptions): command.remote.Command {
        const dependsOn = opts.dependsOn ? ([] as pulumi.Input<pulumi.Resource>[]).concat(opts.dependsOn as pulumi.Input<pulumi.Resource>[]) : [];
        return hostCommand(name, this.host, { connection: this.connection, ...args }, { ...opts, dependsOn: [this.init, ...dependsOn] });
    }

    /**
     * `<node>-podcidr`: sets the node's spec.podCIDR once from the stack's allocation (creating
     * the Node object if the kubelet has not registered yet). Its delete drains the node and
     * deletes the Node object, so removing a Windows node leaves the cluster clean.
     */
    registerNode(node: NodeAddress, os: "linux" | "windows", opts: pulumi.CustomResourceOptions): command.remote.Command {
        return this.onMaster(
            `${node.name}-podcidr`,
            { create: linux.renderPodCidr(node, os), delete: linux.renderRemoveNode(node.name) },
            // delete (drain) before a replacement is created, so a replaced step never removes the live node after
            { ...opts, deleteBeforeReplace: true },
        );
    }

    /**
     * `<node>-new-token` mints a fresh bootstrap token and keeps the join command in a root-only
     * file; `<node>-token` prints it (secret). `trigger` mints a new token whenever the join has to
     * run again. Two steps, so no step that can still fail prints the secret (pulumi-command puts a
     * failed command's output in its error text: provider/pkg/provider/remote/commandOutputs.go).
     */
    joinToken(nodeName: string, trigger: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
        const mint = this.onMaster(
            `${nodeName}-new-token`,
            // its delete removes the node's tokens: a removed node leaves no valid token behind
            { create: linux.renderJoinToken(nodeName), delete: linux.renderDeleteJoinTokens(nodeName), triggers: [trigger], ...SECRET_COMMAND },
            // the old tokens go before a new one is minted (both carry the node's name in their description)
            { ...opts, additionalSecretOutputs: ["stdout", "stderr"], deleteBeforeReplace: true },
        );
        const cmd = this.onMaster(
            `${nodeName}-token`,
            // a new token, a new read
            { create: linux.renderPrintSecret(linux.joinCommandFile(nodeName)), triggers: [mint.id], ...SECRET_COMMAND },
            // the file it prints is written by the token step
            { ...opts, additionalSecretOutputs: ["stdout", "stderr"], dependsOn: [mint] },
        );
        return pulumi.secret(cmd.stdout.apply((s) => s.trim()));
    }

    /**
     * `<name>`: kubeconfigs for host agents (flanneld, kube-proxy on Windows), from service
     * account token Secrets, pointing at the master's private address. Secret.
     */
    agentKubeconfigs(name: string, accounts: linux.AgentKubeconfigInput["accounts"], opts: pulumi.CustomResourceOptions): pulumi.Output<Record<string, string>> {
        const build = this.onMaster(
            `${name}-create`,
            { create: linux.renderAgentKubeconfigs({ server: this.apiServer, accounts }), delete: linux.renderDeleteAgentKubeconfigs(accounts), ...SECRET_COMMAND },
            { ...opts, additionalSecretOutputs: ["stdout", "stderr"] },
        );
        // printed by its own step: no step that can still fail prints the secret (see joinToken)
        const cmd = this.onMaster(
            name,
            { create: linux.renderPrintSecret(linux.AGENT_KUBECONFIGS_FILE), triggers: [build.id], ...SECRET_COMMAND },
            // the file it prints is written by the create step
            { ...opts, additionalSecretOutputs: ["stdout", "stderr"], dependsOn: [build] },
        );
        return pulumi.secret(cmd.stdout.apply((s) => JSON.parse(s) as Record<string, string>));
    }
}
