// Helpers shared by the script renderers: quoting, and how a PowerShell script travels over SSH.
import { createHash } from "crypto";
import { gunzipSync, gzipSync } from "zlib";

/** Single-quotes a value for bash. */
export function sh(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Single-quotes a value for PowerShell. PowerShell's tokenizer takes U+2018, U+2019, U+201A and
 * U+201B as single quotes too (PowerShell/PowerShell src/System.Management.Automation/engine/parser/
 * CharTraits.cs: SpecialChars.QuoteSingleLeft..QuoteReversed, IsSingleQuote), and inside a
 * single-quoted string two quote characters in a row stand for one: each is doubled.
 */
export function ps(value: string): string {
    return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}

/**
 * A value carried into a PowerShell script as data: base64 of its UTF-8 bytes, decoded on the
 * node by the prelude's ConvertFrom-Base64. Nothing in the value can become code. `name` labels
 * the value in the script (the plan writes embedded scripts out under that name).
 */
export function psData(value: string, name: string): string {
    return `(ConvertFrom-Base64 '${Buffer.from(value, "utf8").toString("base64")}' <# ${name.replace(/[^\w.-]/g, "_")} #>)`;
}

/** The values a script carries with psData, by name (the plan writes them beside the script). */
export function embeddedData(script: string): Array<{ name: string; value: string }> {
    return [...script.matchAll(/ConvertFrom-Base64 '([A-Za-z0-9+/=]*)' <# ([\w.-]+) #>/g)].map((m) => ({ name: m[2], value: Buffer.from(m[1], "base64").toString("utf8") }));
}

/**
 * What a script carries as data (files it writes: service start scripts, task scripts, configs),
 * as files beside it, `<base>.<name>`: the plan writes them so people see them and tests parse them.
 */
export function embeddedFiles(base: string, script: string): Array<{ path: string; content: string }> {
    return embeddedData(script).map((d) => ({ path: `${base}.${d.name}`, content: d.value }));
}

const PS_PREFIX = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ";
const UNPACK_HEAD = "$z = New-Object IO.Compression.GZipStream((New-Object IO.MemoryStream(,[Convert]::FromBase64String('";
const UNPACK_TAIL =
    "'))), ([IO.Compression.CompressionMode]::Decompress)); $script = (New-Object IO.StreamReader($z, [Text.Encoding]::UTF8)).ReadToEnd(); & ([scriptblock]::Create($script))";
/**
 * Windows caps a command line at 32,767 UTF-16 characters, and OpenSSH passes the command to
 * the default shell on one: stay well below it.
 */
export const MAX_WINDOWS_COMMAND = 30000;

/**
 * The command text that runs `script` on a Windows host through OpenSSH. -EncodedCommand
 * (base64 of UTF-16LE) survives OpenSSH's argument quoting on Windows, where a raw multi-line
 * script with quotes does not; inside it, the script travels gzip-compressed (a few lines of
 * Windows PowerShell 5.1 unpack and run it), which keeps the longest steps on one command line.
 * stdin stays free for secrets.
 */
export function powershellCommand(script: string): string {
    const packed = gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64");
    const encoded = Buffer.from(UNPACK_HEAD + packed + UNPACK_TAIL, "utf16le").toString("base64");
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
    const outer = Buffer.from(command.slice(PS_PREFIX.length), "base64").toString("utf16le");
    if (!outer.startsWith(UNPACK_HEAD) || !outer.endsWith(UNPACK_TAIL)) {
        return undefined;
    }
    return gunzipSync(Buffer.from(outer.slice(UNPACK_HEAD.length, outer.length - UNPACK_TAIL.length), "base64")).toString("utf8");
}

/** The outer script of a command made by powershellCommand: the unpacker (tests run it). */
export function powershellUnpacker(command: string): string {
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
