// One Windows Server worker on its host (an Azure VM or an existing machine), prepared by
// remote steps: ready → prepare-features → (reboot) features-ready → prepare-runtime → join, with
// the master-side podcidr and token steps. On a stock Azure image the provisioning extension did
// the features and the reboot: ready (proves it) → prepare-runtime (verifies) → join. N nodes are N independent copies: none waits on another.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { pollingConnection, WindowsHost } from "../machines/host";
import { AddressPlan, NodeAddress } from "./addressing";
import { hostCommand, SECRET_COMMAND, upgradeStep } from "./hostCommand";
import { LinuxMaster } from "./linuxMaster";
import { flannelNetConf } from "./manifests/cni";
import { nodeRuntimeInput, renderProvisionedReady } from "./scripts/provision";
import { digest, powershellCommand } from "./scripts/shell";
import * as upgrade from "./scripts/upgrade";
import * as win from "./scripts/windows";
import { TopologySpec } from "./topology";
import { check, checkFlannelCniVersion, checkVersion } from "./validate";

export interface WindowsNodeArgs {
    /** The machine it runs on. */
    host: WindowsHost;
    master: LinuxMaster;
    /** This node's addresses (name, private IP, pod /24). */
    node: NodeAddress;
    addresses: AddressPlan;
    spec: TopologySpec;
    versions: win.WindowsVersions;
    /** Kubeconfigs for flanneld and kube-proxy (secret), keys "flannel" and "kubeProxy". */
    agentKubeconfigs: pulumi.Input<Record<string, string>>;
    /** What the join waits for on the cluster side (flannel's objects). Defaults to none. */
    clusterReady?: pulumi.Input<pulumi.Resource>[];
    /** Images pulled during prepare (the sample's image). Defaults to none. */
    prePull?: string[];
    /**
     * What this node's upgrade window waits for besides the control plane's upgrade: the uncordon
     * of the node maxUnavailable places before it (components/scripts/upgrade.ts upgradeWaves).
     * Defaults to none.
     */
    windowAfter?: pulumi.Input<pulumi.Resource>[];
}

export class WindowsNode extends pulumi.ComponentResource {
    readonly host: WindowsHost;
    readonly ready: command.remote.Command;
    /** Not on a stock image: its provisioning extension did this. */
    readonly prepareFeatures?: command.remote.Command;
    readonly featuresReady?: command.remote.Command;
    readonly prepareRuntime: command.remote.Command;
    readonly podCidr: command.remote.Command;
    readonly join: command.remote.Command;
    /** The upgrade window: drained on the master, upgraded here, uncordoned on the master (no-ops with nothing staged). */
    readonly drain: command.remote.Command;
    readonly nodeUpgrade: command.remote.Command;
    readonly uncordon: command.remote.Command;
    /** SSH to this node (through the master on Azure). */
    readonly connection: command.types.input.remote.ConnectionArgs;
    readonly name: string;
    /** A hash of every script this node runs: changes exactly when the node's setup changes. */
    readonly fingerprint: string;
    readonly privateIp: string;
    readonly podSubnet: string;

    constructor(name: string, args: WindowsNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const { node, spec, host } = args;
        check(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(node.name), "node.name", `"${node.name}" is not a node name: lowercase letters, digits and '-', at most 63`);
        check(host.name === node.name && host.privateIp === node.privateIp, "host", `the host (${host.name}, ${host.privateIp}) is not node ${node.name} (${node.privateIp})`);
        for (const [key, value] of Object.entries(args.versions)) {
            (key === "flannelCniPluginVersion" ? checkFlannelCniVersion : checkVersion)(value, `versions.${key}`);
        }
        super("hybrid-k8s:index:WindowsNode", name, {}, opts);
        const parent = { parent: this };
        this.host = host;
        this.name = node.name;
        this.privateIp = node.privateIp;
        this.podSubnet = node.podCidr;

        const connection = (this.connection = host.connection);
        // Readiness polls wait as long as it takes, for the node and for the master as its proxy.
        const polling = pollingConnection(connection);
        const run = (step: string, script: string, extra: Partial<command.remote.CommandArgs>, copts: pulumi.CustomResourceOptions) =>
            hostCommand(`${name}-${step}`, host, { connection, create: powershellCommand(script), ...extra }, { parent: this, ...copts });

        const featuresScript = win.renderPrepareFeatures({ spec });
        const runtimeScript = win.renderPrepareRuntime(nodeRuntimeInput({ spec, node, addresses: args.addresses, versions: args.versions, prePull: args.prePull ?? [] }));
        // Reachable through the master as SSH proxy: waits for the master VM, never its bootstrap.
        // It also waits for the master's own readiness poll (cloud-init done): from then on sshd has its raised MaxStartups.
        let runtimeAfter: command.remote.Command;
        if (host.kind === "stock") {
            // Provisioned by its extension (features, runtime, one reboot): the first step proves the
            // reboot, and runs again when the provisioning script changed; prepare-runtime then verifies.
            this.ready = run("ready", renderProvisionedReady(), { connection: polling, triggers: [host.provisioned ?? ""] }, { dependsOn: [host.sshReady, args.master.hostsMayChange], customTimeouts: { create: "30m", update: "30m" } });
            runtimeAfter = this.ready;
        } else {
            // Steps on this node run in order: ready → prepare-features → features-ready → prepare-runtime
            // (on a prebuilt image the first two find everything in place).
            this.ready = run("ready", win.renderWindowsReady(), { connection: polling }, { dependsOn: [host.sshReady, args.master.hostsMayChange], customTimeouts: { create: "30m" } });
            this.prepareFeatures = run("prepare-features", featuresScript, {}, { dependsOn: [this.ready], customTimeouts: { create: "20m", update: "20m" } });
            // The features step reboots the node: poll again until it is back.
            this.featuresReady = run("features-ready", win.renderFeaturesReady(), { connection: polling, triggers: [this.prepareFeatures.id] }, { dependsOn: [this.prepareFeatures], customTimeouts: { create: "20m", update: "20m" } });
            runtimeAfter = this.featuresReady;
        }
        this.prepareRuntime = run(
            "prepare-runtime",
            runtimeScript,
            {},
            // installs kubelet: only a version the running API server allows (the master's version check)
            { dependsOn: [runtimeAfter, args.master.versionCheck], customTimeouts: { create: "60m", update: "60m" } },
        );

        // On the master, after init: this node's pod /24 (and, on delete, drain + remove the node).
        // It waits for this node's VM so that, on removal, the drain runs before the VM is deleted.
        this.podCidr = args.master.registerNode(node, "windows", { parent: this, dependsOn: [host.machine] });

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
        const token = args.master.joinToken(node.name, pulumi.interpolate`${digest(joinScript)}:${host.identity}:${args.master.clusterId}`, parent);
        const stdin = pulumi.secret(
            pulumi.all([token, args.agentKubeconfigs]).apply(([joinCommand, kc]) => JSON.stringify({ joinCommand, kubeProxy: kc.kubeProxy, flannel: kc.flannel })),
        );
        this.join = run(
            "join",
            joinScript,
            // a new control plane (clusterId: its CA hash) re-runs the join, which then re-joins
            { stdin, triggers: [args.master.clusterId], ...SECRET_COMMAND },
            {
                // the join needs the runtime here, the node's pod CIDR and flannel there, and a control
                // plane at least as new as the kubelet it starts
                dependsOn: [this.prepareRuntime, this.podCidr, ...(args.master.upgrade ? [args.master.upgrade] : []), ...(args.clusterReady ?? [])],
                additionalSecretOutputs: ["stdout", "stderr"],
                customTimeouts: { create: "30m", update: "30m" },
            },
        );

        // The upgrade window (a version change staged by prepare-runtime on a joined node): drain →
        // upgrade → uncordon, after the control plane's upgrade and the window of the node
        // maxUnavailable places before this one. Upgrade steps (upgradeStep): nothing runs when
        // they are created (the join installed the target); each runs when what prepare-runtime
        // staged, or the version set, changes.
        const window = { node: node.name, versions: args.versions };
        // what prepare-runtime staged: names of binaries, no secret
        const staged = pulumi.unsecret(this.prepareRuntime.stdout).apply(upgrade.stagedStdin);
        const stagedMark = staged.apply((names) => digest(names));
        this.drain = args.master.onMaster(
            `${name}-drain`,
            { ...upgradeStep(upgrade.renderWindowsDrain(window)), stdin: staged },
            {
                parent: this,
                dependsOn: [this.join, this.prepareRuntime, ...(args.master.upgrade ? [args.master.upgrade] : []), ...(args.windowAfter ?? [])],
                customTimeouts: { update: "15m" },
            },
        );
        this.nodeUpgrade = hostCommand(
            `${name}-upgrade`,
            host,
            { connection, update: stagedMark.apply((mark) => powershellCommand(upgradeStep(upgrade.renderNodeUpgrade(window), mark).update)) },
            { parent: this, dependsOn: [this.drain], customTimeouts: { update: "20m" } },
        );
        this.uncordon = args.master.onMaster(
            `${name}-uncordon`,
            { update: stagedMark.apply((mark) => upgradeStep(upgrade.renderWindowsUncordon(window), mark).update) },
            { parent: this, dependsOn: [this.nodeUpgrade], customTimeouts: { update: "15m" } },
        );

        this.registerOutputs({ name: node.name, privateIp: node.privateIp, podCidr: node.podCidr });
    }
}
