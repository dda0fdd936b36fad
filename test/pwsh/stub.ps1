# A stubbed Windows Server for running the node scripts under pwsh on Linux. Dot-sourced by run.ps1.
# Functions take precedence over cmdlets and executables, so each shim below stands in for what
# only Windows has. The machine's state lives in $W (loaded from and saved to state.json); every
# shim call is recorded in $W.calls; $W.fail tells shims to fail (key -> remaining failures).
# Rules modelled on Windows: Restart/Stop-Service refuse without -Force while dependents run;
# Start-Service starts dependencies first and refuses a disabled service; a running service's
# binary cannot be overwritten but can be renamed; Windows PowerShell 5.1 turns a native tool's
# stderr into error records, which stop a script under $ErrorActionPreference = 'Stop' (the shims
# use Write-Error for stderr).

function global:Save-Machine { $W | ConvertTo-Json -Depth 12 | Set-Content -LiteralPath $MachineState }
function global:Add-Call([string]$Cmd, $Arguments) {
  $W.calls += , [ordered]@{ cmd = $Cmd; args = @($Arguments | ForEach-Object { "$_" }) }
}
function global:Test-Fail([string]$Key) {
  if ($W.fail.PSObject.Properties.Name -contains $Key -and $W.fail.$Key -gt 0) { $W.fail.$Key--; return $true }
  return $false
}
function global:Get-Svc([string]$Name) { if ($W.services.PSObject.Properties.Name -contains $Name) { $W.services.$Name } }
function global:Get-Dependents([string]$Name) {
  @($W.services.PSObject.Properties | Where-Object { @($_.Value.deps) -contains $Name } | ForEach-Object { $_.Name })
}
function global:Stop-Svc([string]$Name, [bool]$Force) {
  $running = @(Get-Dependents $Name | Where-Object { (Get-Svc $_).status -eq 'Running' })
  if ($running.Count -gt 0 -and -not $Force) {
    throw "Cannot stop service '$Name' because it has dependent services. It can only be stopped if the Force flag is set."
  }
  foreach ($d in $running) { Stop-Svc $d $true }
  if ((Get-Svc $Name).status -eq 'Running') { (Get-Svc $Name).status = 'Stopped'; Add-Call 'service-stopped' @($Name) }
}
function global:Start-Svc([string]$Name) {
  $s = Get-Svc $Name
  if (-not $s) { throw "Cannot find any service with service name '$Name'." }
  if ($s.start -eq 'Disabled') { throw "Service '$Name' cannot be started due to the following error: Cannot start service $Name on computer '.'. (it is disabled)" }
  foreach ($d in @($s.deps)) { if ($d -and (Get-Svc $d)) { Start-Svc $d } }
  if ($s.status -ne 'Running') { $s.status = 'Running'; Add-Call 'service-started' @($Name) }
  # what the pod network's agent does when it starts: flanneld (or the tor service) creates the HNS
  # network; flanneld writes its subnet file
  if ($Name -in 'flanneld', 'hybrid-k8s-l2bridge' -and -not (@($W.hns.networks) | Where-Object Name -EQ $W.podNetwork)) {
    $W.hns.networks += [pscustomobject]@{ Id = [guid]::NewGuid().ToString(); Name = $W.podNetwork; Type = 'pod' }
  }
  # sshd's first start makes %ProgramData%\ssh (its host keys live there)
  if ($Name -eq 'sshd') { New-Item -ItemType Directory -Force C:\ProgramData\ssh | Out-Null }
  if ($Name -eq 'flanneld') { New-Item -ItemType Directory -Force C:\run\flannel | Out-Null; Microsoft.PowerShell.Management\Set-Content C:\run\flannel\subnet.env 'FLANNEL_SUBNET=x' }
  # containerd's root and state (containerd defaults/defaults_windows.go: %ProgramData%\containerd)
  if ($Name -eq 'containerd') { New-Item -ItemType Directory -Force C:\ProgramData\containerd\root, C:\ProgramData\containerd\state | Out-Null }
}

# --- services
function global:Get-Service([string]$Name, $ErrorAction) {
  $s = Get-Svc $Name
  if (-not $s) {
    if ($ErrorAction -eq 'SilentlyContinue') { return }
    throw "Cannot find any service with service name '$Name'."
  }
  [pscustomobject]@{ Name = $Name; Status = $s.status; StartType = $s.start }
}
function global:Start-Service([Parameter(Position = 0)][string[]]$Name) { foreach ($n in $Name) { Add-Call 'Start-Service' @($n); Start-Svc $n } }
function global:Stop-Service([string[]]$Name, [switch]$Force, $ErrorAction) {
  foreach ($n in $Name) {
    Add-Call 'Stop-Service' @($n)
    if (-not (Get-Svc $n)) { if ($ErrorAction -eq 'SilentlyContinue') { continue }; throw "Cannot find any service with service name '$n'." }
    Stop-Svc $n $Force.IsPresent
  }
}
function global:Restart-Service([Parameter(Position = 0)][string]$Name, [switch]$Force) {
  Add-Call 'Restart-Service' @($Name)
  if (-not (Get-Svc $Name)) { throw "Cannot find any service with service name '$Name'." }
  Stop-Svc $Name $Force.IsPresent
  (Get-Svc $Name).status = 'Running'
  Add-Call 'service-started' @($Name)
}
function global:Set-Service([Parameter(Position = 0)][string]$Name, [string]$StartupType) { (Get-Svc $Name).start = $StartupType }
# sc.exe delete: 1060 when there is no such service (Win32 ERROR_SERVICE_DOES_NOT_EXIST)
function global:sc.exe {
  Add-Call 'sc.exe' $args
  $name = $args[1]
  if (Test-Fail 'sc') { Write-Error '[SC] DeleteService FAILED 1061: The service cannot accept control messages at this time.'; $global:LASTEXITCODE = 1061; return }
  if (-not (Get-Svc $name)) { '[SC] OpenService FAILED 1060: The specified service does not exist as an installed service.'; $global:LASTEXITCODE = 1060; return }
  $W.services.PSObject.Properties.Remove($name)
  '[SC] DeleteService SUCCESS'
  $global:LASTEXITCODE = 0
}
# whoami /groups: an elevated token carries the High Mandatory Level (S-1-16-12288), a filtered one Medium (S-1-16-8192)
function global:whoami.exe {
  Add-Call 'whoami.exe' $args
  if ($W.PSObject.Properties.Name -contains 'notElevated' -and $W.notElevated) { 'Mandatory Label\Medium Mandatory Level Label S-1-16-8192' }
  else { 'Mandatory Label\High Mandatory Level Label S-1-16-12288 Mandatory group, Enabled by default, Enabled group' }
  $global:LASTEXITCODE = 0
}

# --- features, capabilities, firewall, routes, registry, OS
function global:Get-WindowsFeature([string]$Name) { [pscustomobject]@{ Name = $Name; InstallState = $W.features.$Name } }
function global:Install-WindowsFeature([string]$Name) { Add-Call 'Install-WindowsFeature' @($Name); $W.features.$Name = 'InstallPending' }
function global:Add-WindowsCapability([switch]$Online, [string]$Name) {
  Add-Call 'Add-WindowsCapability' @($Name)
  $W.services | Add-Member -Force sshd ([pscustomobject]@{ status = 'Stopped'; start = 'Manual'; deps = @() })
}
function global:Get-NetFirewallRule([string]$Name, $ErrorAction) { if (@($W.firewall) -contains $Name) { [pscustomobject]@{ Name = $Name } } }
function global:New-NetFirewallRule([string]$Name) { Add-Call 'New-NetFirewallRule' @($Name); $W.firewall += $Name }
function global:Remove-NetFirewallRule([string]$Name) { Add-Call 'Remove-NetFirewallRule' @($Name); $W.firewall = @($W.firewall | Where-Object { $_ -ne $Name }) }
function global:Get-NetRoute([string]$DestinationPrefix, $ErrorAction) { if (@($W.routes) -contains $DestinationPrefix) { [pscustomobject]@{ DestinationPrefix = $DestinationPrefix } } }
function global:Get-NetIPAddress([string]$IPAddress) { [pscustomobject]@{ IPAddress = $IPAddress; InterfaceAlias = 'vEthernet (Ethernet)' } }
function global:Set-NetIPInterface([Parameter(ValueFromPipeline = $true)]$InputObject, [string]$Forwarding) { process { Add-Call 'Set-NetIPInterface' @($InputObject.InterfaceAlias, $Forwarding) } }
function global:route.exe { Add-Call 'route.exe' $args; $W.routes += "$($args[2])/32"; $global:LASTEXITCODE = 0 }
function global:New-ItemProperty([string]$Path, [string]$Name, $PropertyType, [switch]$Force, $Value) {
  Add-Call 'New-ItemProperty' @($Path, $Name, $Value)
  $W.registry | Add-Member -Force "$Path\$Name" "$Value"
}
function global:Get-CimInstance([string]$ClassName) { [pscustomobject]@{ LastBootUpTime = [datetime]::Parse($W.bootTime).ToUniversalTime() } }
function global:Restart-Computer([switch]$Force) { Add-Call 'Restart-Computer' @(); $W.rebootPending = $true }
function global:Start-Sleep([int]$Seconds) {
  if ($Seconds -ge 3600) { throw 'STUB-PARKED: the service now waits for ever' }
}
function global:Start-Transcript { }
function global:Stop-Transcript { }
function global:Test-Connection { $true }

# --- scheduled tasks: a started task runs its script file at once; -AtStartup tasks run at boot
function global:New-ScheduledTaskAction([string]$Execute, [string]$Argument) { [pscustomobject]@{ Execute = $Execute; Argument = $Argument } }
function global:New-ScheduledTaskPrincipal { [pscustomobject]@{ UserId = 'SYSTEM' } }
function global:New-ScheduledTaskTrigger([switch]$AtStartup) { [pscustomobject]@{ AtStartup = $AtStartup.IsPresent } }
function global:Register-ScheduledTask([string]$TaskName, $Action, $Principal, $Trigger, [switch]$Force) {
  $file = ($Action.Argument -split '-File ')[1]
  # a task whose action carries its script (-EncodedCommand: base64 of UTF-16LE) instead of a file
  $command = $null
  if ($Action.Argument -match '-EncodedCommand (\S+)') { $command = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($Matches[1])) }
  $W.tasks | Add-Member -Force $TaskName ([pscustomobject]@{ file = $file; command = $command; atStartup = [bool]($Trigger -and $Trigger.AtStartup) })
}
function global:Unregister-ScheduledTask([string]$TaskName, [switch]$Confirm) {
  Add-Call 'Unregister-ScheduledTask' @($TaskName)
  if ($W.tasks.PSObject.Properties.Name -notcontains $TaskName) { throw "No MSFT_ScheduledTask objects found with property 'TaskName' equal to '$TaskName'." }
  $W.tasks.PSObject.Properties.Remove($TaskName)
}
function global:Get-ScheduledTask([string]$TaskName, $ErrorAction) {
  # tasks run to their end when started: a registered task is never seen running
  if ($W.tasks.PSObject.Properties.Name -contains $TaskName) { [pscustomobject]@{ TaskName = $TaskName; State = 'Ready' } }
}
# --- background jobs: Start-Job runs its script block at once, in this process (a job starts with
# $ErrorActionPreference 'Continue', as a new runspace does); the job keeps the output and, when a
# terminating error ended it, State 'Failed' and the error as its child job's reason (5.1's Job object).
function global:Start-Job([object[]]$ArgumentList, [scriptblock]$ScriptBlock) {
  Add-Call 'Start-Job' @()
  $state = 'Completed'; $reason = $null; $out = @()
  try { $out = @(& { $ErrorActionPreference = 'Continue'; & $ScriptBlock @ArgumentList } | ForEach-Object { "$_" }) }
  catch { $state = 'Failed'; $reason = $_.Exception }
  [pscustomobject]@{ State = $state; Output = $out; ChildJobs = @([pscustomobject]@{ JobStateInfo = [pscustomobject]@{ State = $state; Reason = $reason } }) }
}
function global:Wait-Job([Parameter(Position = 0)]$Job) { $Job }
function global:Receive-Job([Parameter(Position = 0)]$Job) { $Job.Output }
function global:Set-ExecutionPolicy([string]$Scope, [string]$ExecutionPolicy, [switch]$Force) { Add-Call 'Set-ExecutionPolicy' @($Scope, $ExecutionPolicy) }
# --- Defender: exclusions are recorded as calls
function global:Add-MpPreference([string[]]$ExclusionPath) { Add-Call 'Add-MpPreference' $ExclusionPath }
function global:Get-MpPreference { [pscustomobject]@{ ExclusionPath = @($W.calls | Where-Object { $_.cmd -eq 'Add-MpPreference' } | ForEach-Object { $_.args }) } }
function global:Start-ScheduledTask([string]$TaskName) {
  Add-Call 'Start-ScheduledTask' @($TaskName)
  $t = $W.tasks.$TaskName
  if ($t.command) { & { $ErrorActionPreference = 'Stop'; & ([scriptblock]::Create($t.command)) } }
  else { & { $ErrorActionPreference = 'Stop'; & $t.file } }
}

# --- HNS (HostNetworkingService module and the pinned hns.psm1)
function global:Import-Module([Parameter(Position = 0)][string]$Name, [switch]$DisableNameChecking) {
  if ($Name -notlike '*hns.psm1') { Microsoft.PowerShell.Core\Import-Module $Name }
  elseif (-not (Test-Path $Name)) { throw "The specified module '$Name' was not loaded because no valid module file was found." }
}
function global:Get-HnsNetwork { @($W.hns.networks) | ForEach-Object { [pscustomobject]$_ } }
function global:Get-HnsEndpoint { @($W.hns.endpoints) | ForEach-Object { [pscustomobject]$_ } }
function global:New-HnsNetwork([string]$Type, [string]$Name, $AddressPrefix, $Gateway, [hashtable[]]$SubnetPolicies) {
  Add-Call 'New-HnsNetwork' @($Type, $Name, $AddressPrefix, $Gateway)
  if (Test-Fail 'New-HnsNetwork') { throw 'HNS failed with error : The service has not been started.' }
  $n = [pscustomobject]@{ Id = [guid]::NewGuid().ToString(); Name = $Name; Type = $Type; AddressPrefix = "$AddressPrefix"; Gateway = "$Gateway" }
  $W.hns.networks += $n
  $n
}
function global:New-HnsEndpoint($NetworkId, [string]$Name, [string]$IPAddress, [string]$Gateway) {
  Add-Call 'New-HnsEndpoint' @($Name, $IPAddress)
  $network = (@($W.hns.networks) | Where-Object Id -EQ "$NetworkId").Name
  $e = [pscustomobject]@{ Id = [guid]::NewGuid().ToString(); Name = $Name; IPAddress = $IPAddress; Attached = $false; VirtualNetworkName = $network }
  $W.hns.endpoints += $e
  $e
}
# HostNetworkingService's Remove-HnsNetwork / Remove-HnsEndpoint take the objects from the pipeline (-InputObjects)
function global:Remove-HnsNetwork([Parameter(ValueFromPipeline = $true)]$InputObjects) {
  process { foreach ($n in @($InputObjects)) { Add-Call 'Remove-HnsNetwork' @($n.Name); $W.hns.networks = @(@($W.hns.networks) | Where-Object Id -NE $n.Id) } }
}
function global:Remove-HnsEndpoint([Parameter(ValueFromPipeline = $true)]$InputObjects) {
  process { foreach ($e in @($InputObjects)) { Add-Call 'Remove-HnsEndpoint' @($e.Name); $W.hns.endpoints = @(@($W.hns.endpoints) | Where-Object Id -NE $e.Id) } }
}
function global:Attach-HnsHostEndpoint($EndpointID, [int]$CompartmentID) {
  Add-Call 'Attach-HnsHostEndpoint' @("$EndpointID")
  $e = @($W.hns.endpoints) | Where-Object Id -EQ "$EndpointID"
  if ($e.Attached) { throw 'HNS failed with error : The endpoint is already attached.' }
  $e.Attached = $true
}
function global:netsh.exe { Add-Call 'netsh.exe' $args; $global:LASTEXITCODE = $(if (Test-Fail 'netsh') { 1 } else { 0 }) }

# --- downloads and archives: artifacts are text naming their URL; checksum files hash them
function global:Get-Artifact([string]$Url) {
  if ($W.web.PSObject.Properties.Name -contains $Url) { return [IO.File]::ReadAllBytes($W.web.$Url) }
  [Text.Encoding]::UTF8.GetBytes("artifact:$Url")
}
function global:curl.exe {
  $url = $args[-1]
  Add-Call 'curl.exe' @($url)
  if ((Test-Fail 'curl') -or @($W.failUrls | Where-Object { $url -like "*$_*" }).Count -gt 0) {
    Write-Error "curl: (22) The requested URL returned error: 404"
    $global:LASTEXITCODE = 22; return
  }
  $i = [array]::IndexOf($args, '-o')
  if ($url -match '^(.*)\.(sha256sum|sha256|sha512)$') {
    $algorithm = $(if ($Matches[2] -eq 'sha512') { 'SHA512' } else { 'SHA256' })
    $bytes = Get-Artifact $Matches[1]
    $hash = [BitConverter]::ToString([Security.Cryptography.HashAlgorithm]::Create($algorithm).ComputeHash($bytes)).Replace('-', '').ToLower()
    "$hash  $(Split-Path -Leaf $Matches[1])"
  } elseif ($i -ge 0) {
    $target = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[$i + 1])
    [IO.File]::WriteAllBytes($target, (Get-Artifact $url))
  }
  $global:LASTEXITCODE = 0
}
function global:Get-ArchiveFiles([string]$Archive) {
  $url = (Get-Content -Raw $Archive).Substring('artifact:'.Length)
  $files = switch -Wildcard ($url) {
    '*containerd-*' { 'bin/containerd.exe', 'bin/ctr.exe', 'bin/containerd-shim-runhcs-v1.exe' }
    '*crictl-*' { 'crictl.exe' }
    '*cni-plugins-windows*' { 'host-local.exe', 'win-bridge.exe', 'win-overlay.exe' }
    '*windows-container-networking*' { 'sdnbridge.exe', 'sdnoverlay.exe' }
    '*nssm*' { 'nssm-2.24/win64/nssm.exe', 'nssm-2.24/win32/nssm.exe' }
    '*cni-plugin-flannel*' { 'flannel-amd64.exe' }
  }
  foreach ($f in $files) { [pscustomobject]@{ path = $f; content = "binary:$(Split-Path -Leaf $f):$url" } }
}
function global:Expand-Files([string]$Archive, [string]$Destination) {
  foreach ($f in Get-ArchiveFiles $Archive) {
    $target = Join-Path $Destination $f.path
    New-Item -ItemType Directory -Force (Split-Path $target) | Out-Null
    Microsoft.PowerShell.Management\Set-Content -NoNewline -LiteralPath $target -Value $f.content
  }
}
function global:tar.exe {
  Add-Call 'tar.exe' $args
  Expand-Files $args[1] $args[3]
  $global:LASTEXITCODE = 0
}
function global:Expand-Archive([switch]$Force, [Parameter(Position = 0)][string]$Path, [Parameter(Position = 1)][string]$DestinationPath) {
  Add-Call 'Expand-Archive' @($Path)
  Expand-Files $Path $DestinationPath
}
# A running service's binary is locked: it can be renamed, not overwritten.
function global:Get-LockedFiles {
  $binaries = @{ containerd = 'C:\Program Files\containerd\containerd.exe'; kubelet = 'C:\k\kubelet.exe'; 'kube-proxy' = 'C:\k\kube-proxy.exe'; flanneld = 'C:\k\flanneld.exe' }
  foreach ($s in $W.services.PSObject.Properties) {
    if ($s.Value.status -ne 'Running') { continue }
    if ($binaries.ContainsKey($s.Name)) { $binaries[$s.Name] }
    if ($s.Value.nssm) { 'C:\Program Files\nssm\nssm.exe' }
  }
}
function global:Copy-Item([switch]$Force, [Parameter(Position = 0)][string]$Path, [Parameter(Position = 1)][string]$Destination) {
  $dest = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Destination)
  foreach ($l in Get-LockedFiles) {
    if ((Test-Path $Destination) -and $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($l) -eq $dest) {
      throw "The process cannot access the file '$Destination' because it is being used by another process."
    }
  }
  if (Test-Fail 'copy') { throw "Could not copy '$Path' to '$Destination': There is not enough space on the disk." }
  Add-Call 'install' @($Destination)
  Microsoft.PowerShell.Management\Copy-Item -Force -LiteralPath $Path -Destination $Destination
}
function global:icacls.exe {
  $path = $args[0]
  Add-Call 'icacls.exe' @($path, [string](Microsoft.PowerShell.Management\Get-Item -LiteralPath $path).Length)
  $global:LASTEXITCODE = 0
}

# --- the runtime and Kubernetes tools
function global:containerd.exe {
  Add-Call 'containerd.exe' $args
  if ($args -contains '--register-service') { $W.services | Add-Member -Force containerd ([pscustomobject]@{ status = 'Stopped'; start = 'Manual'; deps = @() }) }
  $global:LASTEXITCODE = 0
}
function global:crictl.exe {
  $a = @($args | Where-Object { $_ -ne '--config' -and $_ -notlike '*crictl.yaml' })
  Add-Call 'crictl.exe' $a
  $up = (Get-Svc containerd).status -eq 'Running'
  $global:LASTEXITCODE = 0
  switch ($a[0]) {
    'version' { if (-not $up) { Write-Error 'connect: the pipe is not there'; $global:LASTEXITCODE = 1 } }
    'inspecti' { if (@($W.images) -notcontains $a[1]) { $global:LASTEXITCODE = 1 } }
    'pull' { if (-not $up) { $global:LASTEXITCODE = 1 } else { $W.images += $a[1] } }
    'rmi' { if (-not $up) { $global:LASTEXITCODE = 1 } elseif ($a[1] -eq '--all') { $W.images = @() } }
    'pods' { @($W.pods) }
    'ps' { @($W.pods) | ForEach-Object { "c-$_" } }
    'inspectp' { '{"status":{"network":{"ip":"' + $W.podIp + '"}}}' }
  }
}
function global:Invoke-Nssm {
  Add-Call 'nssm.exe' $args
  $name = $args[1]
  switch ($args[0]) {
    'install' { $W.services | Add-Member -Force $name ([pscustomobject]@{ status = 'Stopped'; start = 'Manual'; deps = @(); nssm = $true }) }
    'set' {
      if ($args[2] -eq 'DependOnService') { (Get-Svc $name).deps = @($args[3..($args.Count - 1)]) }
      if ($args[2] -eq 'Start') { (Get-Svc $name).start = 'Automatic' }
    }
  }
  $global:LASTEXITCODE = 0
}
Set-Item -Path 'function:global:C:\Program Files\nssm\nssm.exe' -Value ${function:Invoke-Nssm}
Set-Item -Path 'function:global:C:\k\crictl.exe' -Value ${function:crictl.exe}
function global:kubeadm.exe {
  Add-Call 'kubeadm.exe' $args
  $global:LASTEXITCODE = 0
  if ($args[0] -eq 'reset') {
    # kubernetes cmd/kubeadm/app/cmd/phases/reset/cleanupnode.go: kubelet's folder is emptied, and
    # kubeadm's files under /etc/kubernetes are removed
    Get-ChildItem C:\var\lib\kubelet -ErrorAction SilentlyContinue | Remove-Item -Recurse -Force
    foreach ($f in 'C:\etc\kubernetes\kubelet.conf', 'C:\etc\kubernetes\pki\ca.crt', 'C:\etc\kubernetes\bootstrap-kubelet.conf') { Remove-Item -Force $f -ErrorAction SilentlyContinue }
    'reset done'
    return
  }
  if ($args[0] -eq 'upgrade') {
    # `kubeadm upgrade node` on a worker (cmd/kubeadm/app/cmd/upgrade/node.go): talks to the cluster
    # with kubelet.conf, writes the kubelet's configuration for the cluster's version; records
    # which kubeadm binary ran it
    if ($args[1] -ne 'node') { Write-Error "unexpected kubeadm $args"; $global:LASTEXITCODE = 1; return }
    if (-not (Test-Path C:\etc\kubernetes\kubelet.conf)) { Write-Error 'couldn''t create a Kubernetes client from file "C:\etc\kubernetes\kubelet.conf"'; $global:LASTEXITCODE = 1; return }
    if (Test-Fail 'kubeadm-upgrade') { Write-Error 'unable to fetch the kubeadm-config ConfigMap: connection refused'; $global:LASTEXITCODE = 1; return }
    $binary = Get-Content -Raw C:\k\kubeadm.exe
    $W | Add-Member -Force kubeadmUpgradeBy $binary
    New-Item -ItemType Directory -Force C:\var\lib\kubelet | Out-Null
    Microsoft.PowerShell.Management\Set-Content C:\var\lib\kubelet\config.yaml "config written by $binary"
    '[upgrade] The configuration for this node was successfully updated!'
    return
  }
  # join: kubeadm's preflight (cmd/kubeadm/app/preflight/checks.go) runs `kubelet --version` from
  # the PATH, and refuses files and ports an earlier join left
  $hasKubelet = @($env:Path -split ';' | Where-Object { $_ -and (Test-Path (Join-Path $_ 'kubelet.exe')) }).Count -gt 0
  if (-not $hasKubelet) { Write-Error '[ERROR KubeletVersion]: couldn''t get kubelet version: exec: "kubelet": executable file not found in %PATH%'; $global:LASTEXITCODE = 1; return }
  foreach ($f in 'C:\etc\kubernetes\kubelet.conf', 'C:\etc\kubernetes\pki\ca.crt', 'C:\etc\kubernetes\bootstrap-kubelet.conf') {
    if (Test-Path $f) { Write-Error "[ERROR FileAvailable]: $f already exists"; $global:LASTEXITCODE = 1; return }
  }
  if ((Get-Svc kubelet).status -eq 'Running') { Write-Error '[ERROR Port-10250]: Port 10250 is in use'; $global:LASTEXITCODE = 1; return }
  # kubelet resolves clientCAFile /etc/kubernetes/pki/ca.crt under C:\var\lib\kubelet: without the
  # link the TLS bootstrap never completes
  if (-not (Test-Path C:\var\lib\kubelet\etc\kubernetes\pki)) { Write-Error 'kubelet: unable to load client CA file /etc/kubernetes/pki/ca.crt'; $global:LASTEXITCODE = 1; return }
  $config = $args[[array]::IndexOf($args, '--config') + 1]
  $W | Add-Member -Force joinConfig (Get-Content -Raw $config)
  Write-Error '[WARNING Service-Kubelet]: kubelet service is not enabled' # on stderr, as kubeadm prints warnings
  New-Item -ItemType Directory -Force C:\etc\kubernetes\pki, C:\var\lib\kubelet | Out-Null
  Microsoft.PowerShell.Management\Set-Content C:\etc\kubernetes\pki\ca.crt 'ca'
  Microsoft.PowerShell.Management\Set-Content C:\var\lib\kubelet\config.yaml 'config'
  if (Test-Fail 'kubeadm-join') {
    Microsoft.PowerShell.Management\Set-Content C:\etc\kubernetes\bootstrap-kubelet.conf 'bootstrap'
    Start-Svc kubelet
    Write-Error 'error execution phase kubelet-start: timed out waiting for the condition'
    $global:LASTEXITCODE = 1
    return
  }
  Microsoft.PowerShell.Management\Set-Content C:\etc\kubernetes\kubelet.conf 'kubelet'
  Start-Svc kubelet
  'This node has joined the cluster'
}
function global:Invoke-WebRequest([switch]$UseBasicParsing, [int]$TimeoutSec, [Parameter(Position = 0)][string]$Uri) {
  $ok = switch -Wildcard ($Uri) {
    '*:10248/healthz' { (Get-Svc kubelet).status -eq 'Running' -and (Test-Path C:\etc\kubernetes\kubelet.conf) }
    '*:10256/healthz' { (Get-Svc kube-proxy).status -eq 'Running' }
    "http://$($W.podIp)/" { @($W.pods).Count -gt 0 }
    default { $false }
  }
  if (-not $ok) { throw "Unable to connect to the remote server ($Uri)" }
  [pscustomobject]@{ StatusCode = 200; Content = 'ok' }
}
# The instance metadata service: the VM's user data (base64), as $W.userData; 'imds' in $W.fail makes it fail.
function global:Invoke-RestMethod([switch]$UseBasicParsing, [hashtable]$Headers, [string]$Uri) {
  Add-Call 'Invoke-RestMethod' @($Uri)
  if ($Headers.Metadata -ne 'true') { throw 'The remote server returned an error: (400) Bad Request. (no Metadata: true header)' }
  if ((Test-Fail 'imds') -or $Uri -notlike 'http://169.254.169.254/metadata/instance/compute/userData?*format=text') { throw "Unable to connect to the remote server ($Uri)" }
  "$($W.userData)"
}
function global:Invoke-HostLocal {
  $request = @($input) -join "`n"
  Add-Call 'host-local.exe' @($env:CNI_COMMAND, $request)
  if (Test-Fail 'host-local') { '{"code":11,"msg":"failed to allocate"}'; $global:LASTEXITCODE = 1; return }
  $subnet = (($request | ConvertFrom-Json).ipam.ranges[0][0].subnet -split '/')[0]
  $ip = ($subnet -replace '\.0$', '.5')
  '{"cniVersion":"0.3.0","ips":[{"version":"4","address":"' + $ip + '/24"}]}'
  $global:LASTEXITCODE = 0
}
Set-Item -Path 'function:global:C:\opt\cni\bin\host-local.exe' -Value ${function:Invoke-HostLocal}
function global:Invoke-Agent { Add-Call 'agent' $args; $global:LASTEXITCODE = 0 }
foreach ($agent in 'C:\k\kube-proxy.exe', 'C:\k\kubelet.exe', 'C:\k\flanneld.exe') { Set-Item -Path "function:global:$agent" -Value ${function:Invoke-Agent} }
