// The Linux control plane: an Ubuntu VM (SSH keys only, static private IP, Standard public IP
// reachable from adminCidr only), prepared and initialised by remote commands, and the means
// every later step needs: the kubeconfig, a Kubernetes provider, per-node pod CIDR registration,
// fresh join tokens, and host-agent kubeconfigs for Windows.
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, NodeAddress } from "./addressing";
import { ImageRef } from "./config";
import { torBridgeConf, torMasqueradeScript } from "./manifests/cni";
import { nodeNic, NodeNetworking, nodeVmArgs, nodeVmOptions } from "./network";
import * as linux from "./scripts/linux";
import { hostCommand, SECRET_COMMAND } from "./hostCommand";
import { TopologySpec } from "./topology";
import { check, checkVersion } from "./validate";

type Connection = command.types.input.remote.ConnectionArgs;
type ProxyConnection = command.types.input.remote.ProxyConnectionArgs;

export interface LinuxMasterArgs {
    network: NodeNetworking;
    addresses: AddressPlan;
    spec: TopologySpec;
    /** Kubernetes version, x.y.z. */
    kubernetesVersion: string;
    /** containerd version, x.y.z. */
    containerdVersion: string;
    /** VM size. */
    vmSize: string;
    image: ImageRef;
    adminUsername: string;
    /** OpenSSH public key; the only way in (password authentication is off). */
    sshPublicKey: string;
    /** The matching private key, used by every remote command (secret). */
    sshPrivateKey: pulumi.Input<string>;
    /** How long the first SSH poll may wait for the VM. Defaults to 20 minutes. */
    readyTimeout?: string;
}

export class LinuxMaster extends pulumi.ComponentResource {
    readonly vm: compute.VirtualMachine;
    readonly publicIp: pulumi.Output<string>;
    readonly privateIp: string;
    readonly address: NodeAddress;
    /** SSH to the master, from where `pulumi up` runs. */
    readonly connection: Connection;
    /** The master as SSH proxy: how remote commands reach Windows nodes (no public IPs there). */
    readonly proxy: ProxyConnection;
    readonly ready: command.remote.Command;
    /**
     * `-version-check`: refuses a kubernetesVersion that would put kubelets ahead of the running
     * API server. Every step that installs Kubernetes binaries (here and on Windows) waits on it.
     */
    readonly versionCheck: command.remote.Command;
    readonly prepare: command.remote.Command;
    readonly init: command.remote.Command;
    /**
     * The cluster's identity: "sha256:<hash of the cluster CA's public key>", read from the init
     * step's output. It changes exactly when the control plane is initialised anew (a replaced
     * master), and is the Kubernetes provider's clusterIdentifier. A join that must re-join a new
     * control plane can take it as a trigger.
     */
    readonly clusterId: pulumi.Output<string>;
    readonly podCidr: command.remote.Command;
    /** Admin kubeconfig pointing at the public address (secret). */
    readonly kubeconfig: pulumi.Output<string>;
    readonly provider: k8s.Provider;
    /** The API server as nodes reach it. */
    readonly apiServer: string;

    constructor(name: string, args: LinuxMasterArgs, opts?: pulumi.ComponentResourceOptions) {
        checkVersion(args.kubernetesVersion, "kubernetesVersion");
        checkVersion(args.containerdVersion, "containerdVersion");
        check(/^(ssh-rsa|ssh-ed25519) \S+/.test(args.sshPublicKey), "sshPublicKey", "needs an OpenSSH public key (ssh-ed25519 ... or ssh-rsa ...)");
        check(args.adminUsername.length > 0, "adminUsername", "needs a user name, e.g. azureuser");
        super("hybrid-k8s:index:LinuxMaster", name, {}, opts);
        const parent = { parent: this };
        const net = args.network;
        const m = args.addresses.master;
        this.address = m;
        this.privateIp = m.privateIp;
        this.apiServer = `https://${m.privateIp}:6443`;

        const pip = new network.PublicIPAddress(
            `${name}-ip`,
            {
                resourceGroupName: net.resourceGroupName,
                location: net.location,
                tags: net.tags,
                sku: { name: "Standard" }, // Basic public IPs are retired
                publicIPAllocationMethod: "Static",
                publicIPAddressVersion: "IPv4",
            },
            parent,
        );
        this.publicIp = pip.ipAddress.apply((ip) => ip ?? "");
        const nic = nodeNic(`${name}-nic`, net, m.privateIp, pip.id, parent);

        this.vm = new compute.VirtualMachine(
            `${name}-vm`,
            {
                ...nodeVmArgs(net, nic, { size: args.vmSize, image: args.image, diskSizeGB: 64 }),
                osProfile: {
                    computerName: m.name,
                    adminUsername: args.adminUsername,
                    customData: Buffer.from(linux.masterCloudInit()).toString("base64"),
                    linuxConfiguration: {
                        disablePasswordAuthentication: true,
                        provisionVMAgent: true,
                        ssh: { publicKeys: [{ path: `/home/${args.adminUsername}/.ssh/authorized_keys`, keyData: args.sshPublicKey }] },
                    },
                },
            },
            nodeVmOptions(this),
        );

        this.connection = { host: this.publicIp, user: args.adminUsername, privateKey: args.sshPrivateKey };
        this.proxy = { host: this.publicIp, user: args.adminUsername, privateKey: args.sshPrivateKey };
        const run = (step: string, create: pulumi.Input<string>, extra: Partial<command.remote.CommandArgs> = {}, copts: pulumi.CustomResourceOptions = {}) =>
            hostCommand(`${name}-${step}`, this.vm, { connection: this.connection, create, ...extra }, { parent: this, ...copts });

        // One readiness poll, with an unlimited dial budget: a new VM takes minutes to answer SSH.
        this.ready = run(
            "ready",
            linux.renderReady(),
            { connection: { ...this.connection, dialErrorLimit: -1, perDialTimeout: 30 } },
            { dependsOn: [this.vm], customTimeouts: { create: args.readyTimeout ?? "20m" } },
        );
        // Each step on the master runs after the one before it: ready → version-check → prepare → init → kubeconfig.
        // It re-runs when kubernetesVersion changes (the version is in its script), before any host changes.
        this.versionCheck = run("version-check", linux.renderVersionCheck(args.kubernetesVersion), {}, { dependsOn: [this.ready] });
        this.prepare = run(
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
            { dependsOn: [this.prepare], customTimeouts: { create: "20m", update: "20m" } },
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
        this.podCidr = this.registerNode(m, "linux", { parent: this });

        this.registerOutputs({ publicIp: this.publicIp, kubeconfig: this.kubeconfig });
    }

    /** A command that runs on the master once the control plane is up. */
    private onMaster(name: string, args: Partial<command.remote.CommandArgs> & { create: pulumi.Input<string> }, opts: pulumi.CustomResourceOptions): command.remote.Command {
        const dependsOn = opts.dependsOn ? ([] as pulumi.Input<pulumi.Resource>[]).concat(opts.dependsOn as pulumi.Input<pulumi.Resource>[]) : [];
        return hostCommand(name, this.vm, { connection: this.connection, ...args }, { ...opts, dependsOn: [this.init, ...dependsOn] });
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
            { create: linux.renderAgentKubeconfigs({ server: this.apiServer, accounts }), ...SECRET_COMMAND },
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
