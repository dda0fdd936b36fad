// The commands a parsed Windows script calls, judged against what a Windows Server 2022/2025 node
// with Windows PowerShell 5.1 has (windows51.ts) and the functions of the pinned hns.psm1.
import * as assert from "assert";
import * as path from "path";
import { CommandUse, ParseReport, runPwsh } from "./pwsh";
import { NATIVE_PROGRAMS, WINDOWS_51_COMMANDS } from "./windows51";

let hns: Map<string, string[]> | undefined;

/** Function name → parameter names, read from the pinned hns.psm1 by PowerShell's parser. */
export function hnsFunctions(): Map<string, string[]> {
    if (hns) {
        return hns;
    }
    const file = path.join(__dirname, "..", "fixtures", "hns.psm1");
    const res = runPwsh([
        "-Command",
        `$ast = [System.Management.Automation.Language.Parser]::ParseFile('${file}', [ref]$null, [ref]$null); ` +
            `$ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true) | ForEach-Object { [pscustomobject]@{ name = $_.Name; parameters = @($_.Body.ParamBlock.Parameters | ForEach-Object { $_.Name.VariablePath.UserPath }) } } | ConvertTo-Json -Depth 4`,
    ]);
    assert.strictEqual(res.code, 0, res.stderr);
    hns = new Map((JSON.parse(res.stdout) as Array<{ name: string; parameters: string[] }>).map((f) => [f.name.toLowerCase(), f.parameters]));
    return hns;
}

/** Every command (or parameter) of the report that 5.1 and hns.psm1 do not have, as "where: what". */
export function commandProblems(report: ParseReport, where: (c: CommandUse) => string): string[] {
    const functions = hnsFunctions();
    const problems: string[] = [];
    for (const c of report.commands) {
        if (c.defined || NATIVE_PROGRAMS.has(c.name)) {
            continue;
        }
        const known = WINDOWS_51_COMMANDS[c.name]?.parameters ?? functions.get(c.name.toLowerCase());
        if (!known) {
            problems.push(`${where(c)}: ${c.name} is not a Windows PowerShell 5.1 command the scripts may use`);
            continue;
        }
        for (const p of c.parameters) {
            if (!known.some((k) => k.toLowerCase() === p.toLowerCase())) {
                problems.push(`${where(c)}: ${c.name} -${p} is not a known parameter`);
            }
        }
    }
    return problems;
}
