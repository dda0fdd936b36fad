// One Windows Server 2022 worker: a VM with a static private IP and no public IP, an extension
// that installs the OpenSSH server, then remote steps through the master as SSH proxy:
// ready → prepare-features → (reboot) features-ready → prepare-runtime → join, with the
// master-side podcidr and token steps. N nodes are N independent copies: none waits on another.
import * as compute from "@pulumi/azure-native/compute";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, NodeAddress } from "./addressing";
import { ImageRef } from "./config";
import { hostCommand, SECRET_COMMAND } from "./hostCommand";
import { LinuxMaster } from "./linuxMaster";
import { flannelNetConf, windowsCniConf } from "./manifests/cni";
import { nodeNic, NodeNetworking, nodeVmArgs, nodeVmOptions } from "./network";
import { digest, powershellCommand } from "./scripts/shell";
import { imageCustomData } from "./scripts/image";
import * as win from "./scripts/windows";
import { TopologySpec } from "./topology";
import { check, checkFlannelCniVersion, checkVersion } from "./validate";

/**
 * Every step through the master as SSH proxy, besides the readiness polls: pulumi-command 1.2.1
 * gives up after 10 failed dials (provider/pkg/provider/remote/connection.go dialErrorDefault),
 * about 16 s of backoff (pulumi sdk/go/common/util/retry/until.go: 100 ms × 1.5, at most 5 s);
 * 60 dials ride out a master whose sshd refuses connections for about 4 minutes.
 */
export const PROXIED_DIAL_BUDGET = { dialErrorLimit: 60 };

export interface WindowsNodeArgs {
    network: NodeNetworking;
    master: LinuxMaster;
    /** This node's addresses (name, private IP, pod /24). */
    node: NodeAddress;
    addresses: AddressPlan;
    spec: TopologySpec;
    versions: win.WindowsVersions;
    /** VM size; needs nested virtualization (Dv5/Dsv5 and newer). */
    vmSize: string;
    image: ImageRef;
    adminUsername: string;
    /** Windows admin password (secret). */
    adminPassword: pulumi.Input<string>;
    sshPublicKey: string;
    sshPrivateKey: pulumi.Input<string>;
    /** Kubeconfigs for flanneld and kube-proxy (secret), keys "flannel" and "kubeProxy". */
    agentKubeconfigs: pulumi.Input<Record<string, string>>;
    /** What the join waits for on the cluster side (flannel's objects). Defaults to none. */
    clusterReady?: pulumi.Input<pulumi.Resource>[];
    /** Images pulled during prepare (the sample's image). Defaults to none. */
    prePull?: string[];
}

export class WindowsNode extends pulumi.ComponentResource {
    readonly vm: compute.VirtualMachine;
    readonly ready: command.remote.Command;
    readonly prepareFeatures: command.remote.Command;
    readonly featuresReady: command.remote.Command;
    readonly prepareRuntime: command.remote.Command;
    readonly podCidr: command.remote.Command;
    readonly join: command.remote.Command;
    /** SSH to this node through the master. */
    readonly connection: command.types.input.remote.ConnectionArgs;
    readonly name: string;
    /** A hash of every script this node runs: changes exactly when the node's setup changes. */
    readonly fingerprint: string;
    readonly privateIp: string;
    readonly podSubnet: string;

    constructor(name: string, args: WindowsNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const { node, network: net, spec } = args;
        check(node.name.length <= 15 && node.name === node.name.toLowerCase(), "node.name", `"${node.name}" must be lowercase and at most 15 characters (a Windows computer name)`);
        for (const [key, value] of Object.entries(args.versions)) {
            (key === "flannelCniPluginVersion" ? checkFlannelCniVersion : checkVersion)(value, `versions.${key}`);
        }
        super("hybrid-k8s:index:WindowsNode", name, {}, opts);
        const parent = { parent: this };
        this.name = node.name;
        this.privateIp = node.privateIp;
        this.podSubnet = node.podCidr;

        const nic = nodeNic(`${name}-nic`, net, node.privateIp, undefined, parent);
        // A prebuilt image (images/) has sshd and a boot task that takes the admin's key from the
        // custom data; a marketplace image gets both from the OpenSSH extension below.
        const prebuilt = "id" in args.image;
        this.vm = new compute.VirtualMachine(
            `${name}-vm`,
            {
                ...nodeVmArgs(net, nic, { size: args.vmSize, image: args.image, diskSizeGB: 128 }),
                osProfile: {
                    computerName: node.name,
                    adminUsername: args.adminUsername,
                    adminPassword: args.adminPassword,
                    // No automatic updates: a node must not reboot at an arbitrary time. Azure requires
                    // patch mode Manual with automatic updates off.
                    windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: false, patchSettings: { patchMode: "Manual" } },
                    customData: prebuilt ? Buffer.from(imageCustomData(args.sshPublicKey)).toString("base64") : undefined,
                },
            },
            {
                ...nodeVmOptions(this),
                // Azure refuses a new osProfile.adminPassword in place ("Changing property 'adminPassword'
                // is not allowed": hashicorp/terraform#6528) and a new password is no reason to rebuild a
                // node: it applies to new VMs; rotate existing ones with `az vm user update` (README).
                ignoreChanges: ["osProfile.adminPassword"],
            },
        );
        // Windows ships without sshd and never runs custom data: the extension installs it.
        const ssh = prebuilt
            ? this.vm
            : new compute.VirtualMachineExtension(
                  `${name}-openssh`,
                  {
                      resourceGroupName: net.resourceGroupName,
                      location: net.location,
                      vmName: this.vm.name,
                      publisher: "Microsoft.Compute",
                      type: "CustomScriptExtension",
                      typeHandlerVersion: "1.10",
                      autoUpgradeMinorVersion: true,
                      settings: { commandToExecute: powershellCommand(win.renderOpenSshSetup(args.sshPublicKey)) },
                  },
                  parent,
              );

        const connection: command.types.input.remote.ConnectionArgs = (this.connection = {
            host: node.privateIp,
            user: args.adminUsername,
            privateKey: args.sshPrivateKey,
            ...PROXIED_DIAL_BUDGET,
            proxy: { ...args.master.proxy, ...PROXIED_DIAL_BUDGET },
        });
        // Readiness polls wait as long as it takes, for the node and for the master as its proxy.
        const polling = { ...connection, dialErrorLimit: -1, perDialTimeout: 30, proxy: { ...args.master.proxy, dialErrorLimit: -1 } };
        const run = (step: string, script: string, extra: Partial<command.remote.CommandArgs>, copts: pulumi.CustomResourceOptions) =>
            hostCommand(`${name}-${step}`, this.vm, { connection, create: powershellCommand(script), ...extra }, { parent: this, ...copts });

        const featuresScript = win.renderPrepareFeatures({ spec });
        // Steps on this node run in order: ready → prepare-features → features-ready → prepare-runtime.
        // Reachable through the master as SSH proxy: waits for the master VM, never its bootstrap.
        // It also waits for the master's own readiness poll (cloud-init done): from then on sshd has its raised MaxStartups.
        this.ready = run("ready", win.renderWindowsReady(), { connection: polling }, { dependsOn: [ssh, args.master.ready], customTimeouts: { create: "30m" } });
        this.prepareFeatures = run("prepare-features", featuresScript, {}, { dependsOn: [this.ready], customTimeouts: { create: "20m", update: "20m" } });
        // The features step reboots the node: poll again until it is back.
        this.featuresReady = run("features-ready", win.renderFeaturesReady(), { connection: polling, triggers: [this.prepareFeatures.id] }, { dependsOn: [this.prepareFeatures], customTimeouts: { create: "20m", update: "20m" } });
        const cniConfig = windowsCniConf({ spec, node, podCidr: args.addresses.podCidr, serviceCidr: args.addresses.serviceCidr, vnetCidr: args.addresses.vnetCidr });
        const runtimeScript = win.renderPrepareRuntime({ spec, node, versions: args.versions, cniConfig, prePull: args.prePull ?? [] });
        this.prepareRuntime = run(
            "prepare-runtime",
            runtimeScript,
            {},
            // installs kubelet: only a version the running API server allows (the master's version check)
            { dependsOn: [this.featuresReady, args.master.versionCheck], customTimeouts: { create: "60m", update: "60m" } },
        );

        // On the master, after init: this node's pod /24 (and, on delete, drain + remove the node).
        // It waits for this node's VM so that, on removal, the drain runs before the VM is deleted.
        this.podCidr = args.master.registerNode(node, "windows", { parent: this, dependsOn: [this.vm] });

        const joinScript = win.renderJoin({
            spec,
            node,
            kubernetesVersion: args.versions.kubernetesVersion,
            podCidr: args.addresses.podCidr,
            serviceCidr: args.addresses.serviceCidr,
            dnsServiceIp: args.addresses.dnsServiceIp,
            flannelNetConf: spec.flannelBackend ? flannelNetConf(args.addresses.podCidr, spec.flannelBackend) : undefined,
            l2bridgeScript: spec.topology === "tor" ? win.renderL2BridgeService(node, spec.windowsNetworkName) : undefined,
        });
        this.fingerprint = digest(featuresScript, runtimeScript, joinScript);
        // A fresh token whenever the join runs again: a changed join script or a new VM (init's and
        // earlier tokens expire after 24 h).
        // A new control plane (its CA hash, clusterId) also mints one: the join then finds another CA
        // hash than the one it joined with, resets and joins the new cluster.
        const token = args.master.joinToken(node.name, pulumi.interpolate`${digest(joinScript)}:${this.vm.id}:${args.master.clusterId}`, parent);
        const stdin = pulumi.secret(
            pulumi.all([token, args.agentKubeconfigs]).apply(([joinCommand, kc]) => JSON.stringify({ joinCommand, kubeProxy: kc.kubeProxy, flannel: kc.flannel })),
        );
        this.join = run(
            "join",
            joinScript,
            // a new control plane (clusterId: its CA hash) re-runs the join, which then re-joins
            { stdin, triggers: [args.master.clusterId], ...SECRET_COMMAND },
            {
                // the join needs the runtime here, the node's pod CIDR and flannel there
                dependsOn: [this.prepareRuntime, this.podCidr, ...(args.clusterReady ?? [])],
                additionalSecretOutputs: ["stdout", "stderr"],
                customTimeouts: { create: "30m", update: "30m" },
            },
        );

        this.registerOutputs({ name: node.name, privateIp: node.privateIp, podCidr: node.podCidr });
    }
}
