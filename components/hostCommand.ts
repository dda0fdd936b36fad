// How every remote step is declared: a command on one host, which runs again when the host is a
// new machine (a replaced VM with the same name and static IP is a blank machine). On a machine
// deleted with the stack (an Azure VM) it is dropped without running its delete; on an existing
// machine its delete runs.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../machines/host";

/** The secret-safe settings of a command that reads or writes secrets. */
export const SECRET_COMMAND = {
    logging: "none" as const,
    addPreviousOutputInEnv: false,
};

export function hostCommand(name: string, host: Host, args: command.remote.CommandArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    return new command.remote.Command(
        name,
        { addPreviousOutputInEnv: false, ...args, triggers: [host.identity, ...((args.triggers as unknown[] | undefined) ?? [])] },
        // Commands die with a VM: destroying it never runs deletes against a machine that is gone.
        host.deletedWith ? { ...opts, deletedWith: host.deletedWith } : opts,
    );
}

/**
 * The inputs of an upgrade step (the control plane's upgrade, a node's drain, upgrade and
 * uncordon): a script that runs only when a later `pulumi up` changes it, never when the step is
 * created. pulumi-command's Create returns without connecting when `create` is unset, and its
 * Update runs `update` (pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go
 * Create, Update); only `triggers` replaces a command (provider/pkg/provider/common/inputs.go
 * `provider:"replaceOnChanges"`; the SDK's remote/command.js adds replaceOnChanges for triggers
 * alone), so a new script or stdin is an update. A step is created on the run that makes its machine, where
 * init or the join installs the target versions, so there is nothing to upgrade then: a first
 * `pulumi up` spends no SSH session on these steps, however many nodes wait in line. A new version
 * set changes the script (its versions are in it), which runs it; a failed run keeps the old inputs
 * in the state (pulumi-go-provider infer/resource.go: only a ResourceInitFailedError keeps partial
 * state; pulumi pkg/resource/deploy/step.go UpdateStep.Apply), so the next `pulumi up` runs it again. `marker` (hex, e.g. a digest of what
 * was staged) goes in as a comment: the step also runs again when it changes.
 */
export function upgradeStep(script: string, marker?: string): { update: string } {
    if (marker !== undefined && !/^[0-9a-f]*$/.test(marker)) {
        throw new Error(`an upgrade step's marker is hex, not ${JSON.stringify(marker)}`);
    }
    return { update: marker === undefined ? script : `${script.replace(/\n?$/, "\n")}# staged: ${marker}\n` };
}
