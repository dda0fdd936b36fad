// The seed's validation checklist, run by the stack after the sample service is up: one
// command per check on the master, and the Windows side of the checks on each Windows node.
// The `validation` output maps each check to {pass, detail}. In enforce mode a failed check
// fails `pulumi up` with its name and what was seen; in report mode it is only reported.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan } from "./addressing";
import { VALIDATION_MODES, ValidationMode } from "./config";
import { LinuxMaster } from "./linuxMaster";
import { SampleService } from "./sampleService";
import { mergeResults, renderMasterChecks, renderWindowsChecks } from "./scripts/checks";
import { powershellCommand } from "./scripts/shell";
import { TopologySpec } from "./topology";
import { check } from "./validate";
import { WindowsNode } from "./windowsNode";

export interface ValidationArgs {
    master: LinuxMaster;
    nodes: WindowsNode[];
    sample: SampleService;
    addresses: AddressPlan;
    spec: TopologySpec;
    /** enforce (default): a failed check fails the update; report: results only. */
    mode?: ValidationMode;
    /** Any new value runs every check again. Defaults to "". */
    rerun?: string;
}

export type ValidationResults = Record<string, { pass: boolean; detail: string; informational?: boolean }>;

export class Validation extends pulumi.ComponentResource {
    readonly checks: command.remote.Command[];
    readonly results: pulumi.Output<ValidationResults>;

    constructor(name: string, args: ValidationArgs, opts?: pulumi.ComponentResourceOptions) {
        const mode = args.mode ?? "enforce";
        check(VALIDATION_MODES.includes(mode), "mode", `"${mode}" is not one of ${VALIDATION_MODES.join(", ")}`);
        super("hybrid-k8s:index:Validation", name, {}, opts);
        // the checks probe the sample: they run once it is up
        // after the sample, and after every node's upgrade window (checks never run on a drained node)
        const after = [args.sample.deployment, args.sample.service, ...args.nodes.map((n) => n.uncordon)];
        // Checks run again when the cluster changed (a node's scripts, the sample) or on request.
        // Plain hashes, not resource outputs, so a refresh never changes them.
        const triggers = [args.rerun ?? "", ...args.nodes.map((n) => n.fingerprint), args.sample.fingerprint];
        const master = renderMasterChecks({ mode, master: args.addresses.master, windows: args.addresses.windows, clusterIp: args.sample.clusterIp, spec: args.spec });
        this.checks = Object.entries(master).map(
            ([check, script]) =>
                new command.remote.Command(
                    `${name}-check-${check}`,
                    { connection: args.master.connection, create: script, triggers, addPreviousOutputInEnv: false },
                    { parent: this, dependsOn: after, ...(args.master.host.deletedWith ? { deletedWith: args.master.host.deletedWith } : {}) },
                ),
        );
        for (const node of args.nodes) {
            const script = renderWindowsChecks({ mode, node: args.addresses.windows.find((n) => n.name === node.name)!, master: args.addresses.master, clusterIp: args.sample.clusterIp, spec: args.spec });
            this.checks.push(
                new command.remote.Command(
                    `${node.name}-check-node`,
                    { connection: node.connection, create: powershellCommand(script), triggers, addPreviousOutputInEnv: false },
                    { parent: this, dependsOn: after, ...(node.host.deletedWith ? { deletedWith: node.host.deletedWith } : {}) },
                ),
            );
        }
        this.results = pulumi.all(this.checks.map((c) => c.stdout)).apply((out) => mergeResults(out));
        this.registerOutputs({ results: this.results });
    }
}
