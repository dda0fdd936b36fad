// A machine that already exists (on-premises, another cloud, a lab), reached by SSH. The stack
// creates nothing on it here: it reads the machine's identity, which stands for the machine in
// the graph (every step waits for it and is triggered by it). Its delete runs last on destroy and
// undoes what the steps did (components/scripts/existing.ts).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { powershellCommand } from "../../components/scripts/shell";
import { check } from "../../components/validate";
import { Connection, pollingConnection } from "../host";

export interface ExistingHostArgs {
    /** The host's OS: decides how its identity is read. */
    os: "linux" | "windows";
    /** SSH to the host. */
    connection: Connection;
    /** Its address on the node network. */
    address: string;
    /**
     * Run on `pulumi destroy` or when the host leaves the stack, after every step on it (and the
     * master's drain of its node) is gone: undoes what the steps installed, leaving the machine
     * usable. Defaults to nothing (a control plane the stack did not create is left alone).
     */
    undo?: string;
}

/**
 * The machine's own identity: systemd's /etc/machine-id on Linux (machine-id(5): set at install,
 * kept across boots), the MachineGuid Windows setup writes under
 * HKLM\SOFTWARE\Microsoft\Cryptography. A reinstalled host has a new one.
 */
export function identityScript(os: "linux" | "windows"): string {
    return os === "linux"
        ? "cat /etc/machine-id"
        : powershellCommand("$ErrorActionPreference = 'Stop'\n(Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Cryptography' -Name MachineGuid).MachineGuid\n");
}

export class ExistingHost extends pulumi.ComponentResource {
    readonly identity: command.remote.Command;

    constructor(name: string, args: ExistingHostArgs, opts?: pulumi.ComponentResourceOptions) {
        check(/^\d{1,3}(\.\d{1,3}){3}$/.test(args.address), "address", `"${args.address}" is not an IPv4 address`);
        super("hybrid-k8s:index:ExistingHost", name, {}, opts);
        // the first contact: waits as long as it takes for sshd (a host may be booting)
        this.identity = new command.remote.Command(
            `${name}-identity`,
            { connection: pollingConnection(args.connection), create: identityScript(args.os), delete: args.undo, addPreviousOutputInEnv: false },
            {
                parent: this,
                // a replacement undoes the old setup before anything is set up again, never after
                deleteBeforeReplace: true,
                customTimeouts: { create: "20m", delete: "20m" },
            },
        );
        this.registerOutputs({ identity: this.identity.stdout });
    }
}
