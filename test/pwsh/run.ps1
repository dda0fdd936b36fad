# Runs one Windows step (the text inside its -EncodedCommand) against the stubbed Windows of a machine folder (test/pwsh/stub.ps1):
# drive C: is the folder's c/, the state is state.json; stdin goes to the script as on a node.
# -Boot instead starts the machine again: pending features install, services set to start
# automatically run, startup tasks run (those named in -HoldTasks, comma-separated, wait: -Task runs one later, as the
# Task Scheduler would while a step of the same boot runs beside it).
param([Parameter(Mandatory = $true)][string]$Machine, [string]$Script, [switch]$Boot, [string]$HoldTasks = "", [string]$Task)
$ErrorActionPreference = 'Stop'
$global:MachineState = Join-Path $Machine 'state.json'
$global:W = Get-Content -Raw $MachineState | ConvertFrom-Json
New-PSDrive -Name C -PSProvider FileSystem -Root (Join-Path $Machine 'c') -Scope Global | Out-Null
$env:ProgramFiles = 'C:\Program Files'
$env:ProgramData = 'C:\ProgramData'
$env:SystemRoot = 'C:\Windows'
$env:WINDIR = 'C:\Windows'
$env:TEMP = 'C:\Temp'
$env:COMPUTERNAME = 'K8S-WIN-1'
# an SSH session's environment is sshd's, from before anything was installed (Win32-OpenSSH#1329)
$env:Path = 'C:\Windows\System32;C:\Windows'
. (Join-Path $PSScriptRoot 'stub.ps1')
$code = 0
try {
  if ($Boot) {
    $W.rebootPending = $false
    $W.bootTime = ([datetime]::Parse($W.bootTime).ToUniversalTime().AddHours(1)).ToString('o')
    foreach ($f in @($W.features.PSObject.Properties)) { if ($f.Value -eq 'InstallPending') { $W.features.($f.Name) = 'Installed' } }
    foreach ($s in @($W.services.PSObject.Properties)) { $s.Value.status = 'Stopped' }
    foreach ($e in @($W.hns.endpoints)) { $e.Attached = $false }
    foreach ($s in @($W.services.PSObject.Properties)) { if ($s.Value.start -eq 'Automatic') { Start-Svc $s.Name } }
    foreach ($t in @($W.tasks.PSObject.Properties)) { if ($t.Value.atStartup -and @($HoldTasks -split ",") -notcontains $t.Name) { & { $ErrorActionPreference = 'Stop'; & $t.Value.file } } }
  } elseif ($Task) {
    & { $ErrorActionPreference = 'Stop'; & $W.tasks.$Task.file }
  } else {
    # as on the node: the command's own unpacker (the text inside -EncodedCommand) creates the
    # step's script block and runs it; there is no script scope, and exit ends the process
    & ([scriptblock]::Create((Get-Content -Raw $Script)))
  }
} catch {
  if ("$_" -like 'STUB-PARKED*') { Write-Output 'service parked' } else {
    [Console]::Error.WriteLine("$_")
    $code = 1
  }
} finally {
  Save-Machine
}
exit $code
