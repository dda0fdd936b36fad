// PowerShell itself as the judge of the Windows scripts: pwsh (installed by test/pwsh/ensure-tools.sh
// from NuGet into .tools/pwsh) parses them and runs them against a stubbed Windows.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

/** The pinned pwsh the test command installs; PWSH overrides it. */
export function pwshPath(): string {
    const p = process.env.PWSH ?? path.join(ROOT, ".tools", "pwsh", "pwsh");
    if (!fs.existsSync(p)) {
        throw new Error(`PowerShell is not installed at ${p}: run test/pwsh/ensure-tools.sh (npm test does)`);
    }
    return p;
}

export function runPwsh(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
    const res = spawnSync(pwshPath(), ["-NoLogo", "-NoProfile", "-NonInteractive", ...args], {
        encoding: "utf8",
        input: input ?? "",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1", POWERSHELL_TELEMETRY_OPTOUT: "1", DOTNET_CLI_TELEMETRY_OPTOUT: "1" },
    });
    return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export interface ParseError {
    file: string;
    line: number;
    column: number;
    id: string;
    message: string;
}
export interface SyntaxUse {
    file: string;
    line: number;
    what: string;
    text: string;
}
export interface CommandUse {
    file: string;
    line: number;
    name: string;
    parameters: string[];
    /** The file defines a function of this name. */
    defined: boolean;
}
export interface ParseReport {
    errors: ParseError[];
    syntax: SyntaxUse[];
    commands: CommandUse[];
}

/** Parses files with PowerShell's parser, in one pwsh process (test/pwsh/parse.ps1). */
export function parseFiles(files: string[]): ParseReport {
    const list = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "parse-")), "files.json");
    fs.writeFileSync(list, JSON.stringify(files));
    const res = runPwsh(["-File", path.join(__dirname, "parse.ps1"), "-ListFile", list]);
    if (res.code !== 0) {
        throw new Error(`parse.ps1 failed (${res.code}): ${res.stderr}`);
    }
    const report = JSON.parse(res.stdout) as ParseReport;
    // ConvertTo-Json writes a one-element array as its element, and an empty one as null
    const arr = <T>(x: T[] | T | null | undefined): T[] => (x == null ? [] : Array.isArray(x) ? x : [x]);
    return {
        errors: arr(report.errors),
        syntax: arr(report.syntax),
        commands: arr(report.commands).map((c) => ({ ...c, parameters: arr(c.parameters) })),
    };
}

/** Parses script texts (written to a temporary folder under their names). */
export function parseScripts(scripts: Record<string, string>): ParseReport {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ps-"));
    const files = Object.entries(scripts).map(([name, text]) => {
        const file = path.join(dir, name.endsWith(".ps1") ? name : `${name}.ps1`);
        fs.writeFileSync(file, text);
        return file;
    });
    const report = parseFiles(files);
    const rel = (f: string) => path.relative(dir, f);
    return {
        errors: report.errors.map((e) => ({ ...e, file: rel(e.file) })),
        syntax: report.syntax.map((e) => ({ ...e, file: rel(e.file) })),
        commands: report.commands.map((e) => ({ ...e, file: rel(e.file) })),
    };
}
