// What the Windows scripts may call: every command they use, with the parameters they pass, that a
// Windows Server 2022/2025 node with Windows PowerShell 5.1 has. A command or parameter that is
// not listed here fails the tests: check it against the 5.1 reference before adding it.
//
// Where each was checked:
// - 5.1: learn.microsoft.com/powershell/module/<module>/<cmdlet>?view=powershell-5.1
//   (Microsoft.PowerShell.Management/Utility/Core/Archive/Security; CimCmdlets).
// - Windows Server modules (present on Server 2022/2025, not in PowerShell itself):
//   ServerManager (Get/Install-WindowsFeature), Dism (Add-WindowsCapability), NetSecurity
//   (Get/New/Remove-NetFirewallRule), NetTCPIP (Get-NetRoute), ScheduledTasks, HostNetworkingService
//   (Get/Remove-HnsNetwork, Get/Remove-HnsEndpoint; installed with the Containers feature), Defender
//   (Add-MpPreference, Get-MpPreference; the image build checks Get-Command before using them):
//   learn.microsoft.com/powershell/module/<module>/?view=windowsserver2022-ps.
// - hns.psm1 functions: the pinned microsoft/SDN Kubernetes/windows/hns.psm1 (test/fixtures/hns.psm1);
//   their parameters are read from that file by the tests, not listed here.
// - Native tools in System32 on Server 2019 and later: curl.exe, tar.exe (learn.microsoft.com
//   "tar and curl come to Windows"), icacls.exe, route.exe, netsh.exe, sc.exe, whoami.exe.
// Notable 5.1 differences avoided: Test-Connection takes -ComputerName (7.x renamed it -TargetName);
// Set-Content/Out-File -Encoding take no utf8NoBOM (files are written with [IO.File]::WriteAllText).

interface Allowed {
    parameters: string[];
}

const cmd = (...parameters: string[]): Allowed => ({ parameters });

export const WINDOWS_51_COMMANDS: Record<string, Allowed> = {
    // Microsoft.PowerShell.Management
    "Copy-Item": cmd("Force", "Path", "Destination"),
    "Get-ChildItem": cmd("Recurse", "File", "Filter", "ErrorAction", "Force", "Path"),
    "Get-Content": cmd("Raw", "Path"),
    "Get-Item": cmd("Force", "ErrorAction", "Path"),
    "Get-ItemProperty": cmd("Path", "Name"),
    "Join-Path": cmd("Path", "ChildPath"),
    "Move-Item": cmd("Force", "Path", "Destination"),
    "New-Item": cmd("ItemType", "Force", "Path", "Value"),
    "New-ItemProperty": cmd("Path", "Name", "PropertyType", "Force", "Value"),
    "Remove-Item": cmd("Force", "ErrorAction", "Recurse", "Path"),
    "Restart-Service": cmd("Force", "Name"),
    "Set-Content": cmd("Path", "Value"),
    "Set-Service": cmd("StartupType", "Name"),
    "Start-Service": cmd("Name"),
    "Stop-Service": cmd("Force", "ErrorAction", "Name"),
    "Get-Service": cmd("ErrorAction", "Name"),
    "Test-Path": cmd("Path"),
    "Split-Path": cmd("Path", "Leaf"),
    "Test-Connection": cmd("ComputerName", "Count", "Quiet"),
    "Restart-Computer": cmd("Force"),
    // Microsoft.PowerShell.Utility
    "ConvertFrom-Json": cmd(),
    "ConvertTo-Json": cmd("Compress", "Depth", "InputObject"),
    "Get-FileHash": cmd("Algorithm", "Path"),
    "Invoke-WebRequest": cmd("UseBasicParsing", "TimeoutSec", "Uri"),
    // the provisioning command reads the VM's user data from the instance metadata service
    "Invoke-RestMethod": cmd("UseBasicParsing", "Headers", "Uri"),
    "Out-File": cmd("Encoding", "Append", "FilePath"),
    "Out-Null": cmd(),
    "Select-Object": cmd("First"),
    "New-Object": cmd("TypeName"),
    "Start-Sleep": cmd("Seconds"),
    "Write-Output": cmd(),
    // Microsoft.PowerShell.Core
    "ForEach-Object": cmd(),
    "Where-Object": cmd("EQ", "NE"),
    "Import-Module": cmd("DisableNameChecking", "Name"),
    // background jobs (the provisioning runs the runtime's downloads beside the servicing work)
    "Start-Job": cmd("ArgumentList", "ScriptBlock"),
    "Wait-Job": cmd("Job"),
    "Receive-Job": cmd("ErrorAction", "Job"),
    // Microsoft.PowerShell.Security
    "Set-ExecutionPolicy": cmd("Scope", "ExecutionPolicy", "Force"),
    "Get-Command": cmd("Name", "ErrorAction"),
    // Microsoft.PowerShell.Host, Microsoft.PowerShell.Archive, CimCmdlets
    "Start-Transcript": cmd("Append", "Path"),
    "Stop-Transcript": cmd(),
    "Expand-Archive": cmd("Force", "Path", "DestinationPath"),
    "Get-CimInstance": cmd("ClassName"),
    // Windows Server modules
    "Get-WindowsFeature": cmd("Name"),
    "Install-WindowsFeature": cmd("Name"),
    "Add-WindowsCapability": cmd("Online", "Name"),
    "Get-NetFirewallRule": cmd("Name", "ErrorAction"),
    "New-NetFirewallRule": cmd("Name", "DisplayName", "Direction", "Protocol", "LocalPort", "Action", "IcmpType"),
    "Remove-NetFirewallRule": cmd("Name"),
    "Get-NetRoute": cmd("DestinationPrefix", "ErrorAction"),
    "Get-NetIPAddress": cmd("IPAddress"),
    "Set-NetIPInterface": cmd("Forwarding"),
    "New-ScheduledTaskAction": cmd("Execute", "Argument"),
    "New-ScheduledTaskPrincipal": cmd("UserId", "LogonType", "RunLevel"),
    "New-ScheduledTaskTrigger": cmd("AtStartup"),
    "Register-ScheduledTask": cmd("TaskName", "Action", "Principal", "Trigger", "Force"),
    "Start-ScheduledTask": cmd("TaskName"),
    "Get-ScheduledTask": cmd("TaskName", "ErrorAction"),
    // -Confirm is a common parameter (ConfirmImpact High): -Confirm:$false, as the undo passes it
    "Unregister-ScheduledTask": cmd("TaskName", "Confirm"),
    // Defender (Server 2016 and later): learn.microsoft.com/powershell/module/defender/add-mppreference
    // and get-mppreference ?view=windowsserver2022-ps (image build only)
    "Add-MpPreference": cmd("ExclusionPath"),
    "Get-MpPreference": cmd(),
    "Get-HnsNetwork": cmd(),
    "Get-HnsEndpoint": cmd(),
    // HostNetworkingService (learn.microsoft.com/powershell/module/hostnetworkingservice/remove-hnsnetwork):
    // -InputObjects, taken from the pipeline
    "Remove-HnsNetwork": cmd(),
    "Remove-HnsEndpoint": cmd(),
};

/** Native programs the scripts run: Windows' own (System32) and the ones the scripts install. */
export const NATIVE_PROGRAMS = new Set([
    "curl.exe",
    "tar.exe",
    "icacls.exe",
    "route.exe",
    "netsh.exe",
    "sc.exe",
    "whoami.exe",
    "containerd.exe",
    "crictl.exe",
    "kubeadm.exe",
    "C:\\k\\crictl.exe",
    "C:\\k\\kubelet.exe",
    "C:\\k\\kube-proxy.exe",
    "C:\\k\\flanneld.exe",
    "C:\\opt\\cni\\bin\\host-local.exe",
    // not a program: the runtime step's file, which the provisioning's boot task runs again (provision.ts)
    "C:\\k\\provision\\prepare-runtime.ps1",
]);
