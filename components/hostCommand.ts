// How every remote step is declared: a command on one host (a VM), which runs again when that VM
// is replaced (a new VM with the same name and static IP is a blank machine) and is dropped,
// without running its delete, when the VM is destroyed.
import * as compute from "@pulumi/azure-native/compute";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** The secret-safe settings of a command that reads or writes secrets. */
export const SECRET_COMMAND = {
    logging: "none" as const,
    addPreviousOutputInEnv: false,
};

export function hostCommand(
    name: string,
    vm: compute.VirtualMachine,
    args: command.remote.CommandArgs,
    opts: pulumi.CustomResourceOptions,
): command.remote.Command {
    return new command.remote.Command(
        name,
        { addPreviousOutputInEnv: false, ...args, triggers: [vm.id, ...((args.triggers as unknown[] | undefined) ?? [])] },
        // Commands die with the VM: destroying it never runs deletes against a machine that is gone.
        { ...opts, deletedWith: vm },
    );
}
