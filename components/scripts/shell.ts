// Helpers shared by the script renderers: quoting, and how a PowerShell script travels over SSH.
import { createHash } from "crypto";

/** Single-quotes a value for bash. */
export function sh(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Single-quotes a value for PowerShell. */
export function ps(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

const PS_PREFIX = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ";
/**
 * Windows caps a command line at 32,767 UTF-16 characters, and OpenSSH passes the command to
 * the default shell on one: stay well below it.
 */
export const MAX_WINDOWS_COMMAND = 30000;

/**
 * The command text that runs `script` on a Windows host through OpenSSH. -EncodedCommand
 * (base64 of UTF-16LE) survives OpenSSH's argument quoting on Windows, where a raw multi-line
 * script with quotes does not; stdin stays free for secrets.
 */
export function powershellCommand(script: string): string {
    const encoded = Buffer.from(script, "utf16le").toString("base64");
    const command = PS_PREFIX + encoded;
    if (command.length > MAX_WINDOWS_COMMAND) {
        throw new RangeError(`PowerShell script is too long for one command line (${command.length} > ${MAX_WINDOWS_COMMAND} characters)`);
    }
    return command;
}

/** The script inside a command made by powershellCommand, or undefined for any other text. */
export function decodePowerShell(command: string): string | undefined {
    if (!command.startsWith(PS_PREFIX)) {
        return undefined;
    }
    return Buffer.from(command.slice(PS_PREFIX.length), "base64").toString("utf16le");
}

/** Short, stable content hash for triggers and file names. */
export function digest(...parts: string[]): string {
    const h = createHash("sha256");
    for (const p of parts) {
        h.update(p).update("\0");
    }
    return h.digest("hex").slice(0, 16);
}
