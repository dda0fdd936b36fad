# Parses PowerShell files with PowerShell's own parser and reports, as one JSON document on stdout:
# - errors: every parse error (file, line, column, id, message);
# - syntax: constructs Windows PowerShell 5.1 does not have (the nodes run powershell.exe 5.1),
#   and $script: variables (a step runs as a script block, with no script scope);
# - commands: every command invoked by name, with the parameters it is given, and the functions
#   each file defines (so the caller can check commands against what 5.1 has).
param([Parameter(Mandatory = $true)][string]$ListFile)
$ErrorActionPreference = 'Stop'
$report = [ordered]@{ errors = @(); syntax = @(); commands = @() }
function Add-Syntax($File, $Ast, [string]$What) {
  $script:report.syntax += [ordered]@{ file = $File; line = $Ast.Extent.StartLineNumber; what = $What; text = $Ast.Extent.Text.Split("`n")[0] }
}
foreach ($file in (Get-Content -Raw $ListFile | ConvertFrom-Json)) {
  $tokens = $null; $errors = $null
  $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref]$tokens, [ref]$errors)
  foreach ($e in $errors) {
    $report.errors += [ordered]@{ file = $file; line = $e.Extent.StartLineNumber; column = $e.Extent.StartColumnNumber; id = $e.ErrorId; message = $e.Message }
  }
  # Syntax added after 5.1: pipeline chains (7.0), ternary (7.0), null-coalescing and null-conditional
  # operators (7.0/7.1), ForEach-Object -Parallel (7.0), clean blocks (7.3).
  foreach ($a in $ast.FindAll({ $true }, $true)) {
    switch ($a.GetType().Name) {
      'PipelineChainAst' { Add-Syntax $file $a 'pipeline chain (&& / ||)' }
      'TernaryExpressionAst' { Add-Syntax $file $a 'ternary operator' }
      'BinaryExpressionAst' { if ($a.Operator -eq 'QuestionQuestion') { Add-Syntax $file $a 'null-coalescing ??' } }
      'AssignmentStatementAst' { if ($a.Operator -eq 'QuestionQuestionEquals') { Add-Syntax $file $a 'null-coalescing assignment ??=' } }
      'MemberExpressionAst' { if ($a.NullConditional) { Add-Syntax $file $a 'null-conditional ?. / ?[]' } }
      'InvokeMemberExpressionAst' { if ($a.NullConditional) { Add-Syntax $file $a 'null-conditional ?.' } }
      'IndexExpressionAst' { if ($a.NullConditional) { Add-Syntax $file $a 'null-conditional ?[]' } }
      'ScriptBlockAst' { if ($a.CleanBlock) { Add-Syntax $file $a 'clean block' } }
      # a step runs as a script block created by its command's unpacker: there is no script scope,
      # and $script:x is the global x, not the step's own
      'VariableExpressionAst' { if ($a.VariablePath.IsScript) { Add-Syntax $file $a '$script: scope (steps run as a script block)' } }
    }
  }
  $defined = @($ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true) | ForEach-Object { $_.Name })
  foreach ($c in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true)) {
    $name = $c.GetCommandName()
    if (-not $name) { continue }
    $params = @($c.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] } | ForEach-Object { $_.ParameterName })
    $report.commands += [ordered]@{ file = $file; line = $c.Extent.StartLineNumber; name = $name; parameters = $params; defined = ($defined -contains $name) }
  }
}
$report | ConvertTo-Json -Depth 6 -Compress
