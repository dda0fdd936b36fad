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
