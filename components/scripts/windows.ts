// PowerShell for the Windows workers, rendered from typed inputs. The nodes run Windows PowerShell
// 5.1 (powershell.exe). Every script stops on the first error ($ErrorActionPreference = 'Stop'),
// is idempotent (a re-run on a finished node downloads, installs and restarts nothing), retries
// downloads and checks what it downloads, and judges native tools by their exit code alone.
//
// Sources of paths and flags: kubernetes-sigs/sig-windows-tools hostprocess/Install-Containerd.ps1
// and PrepareNode.ps1 (containerd, CNI paths, kubelet flags, nssm), its flannel hostprocess
// start.ps1 files (flanneld and kube-proxy arguments, the source VIP), microsoft/SDN
// Kubernetes/windows (hns.psm1, the External network, the l2bridge host endpoint).
import { NodeAddress } from "../addressing";
import { TopologySpec } from "../topology";
import { ps, psData } from "./shell";

/** microsoft/SDN's hns.psm1 at a pinned commit, and its SHA-256 (computed from that commit). */
export const HNS_MODULE = {
    url: "https://raw.githubusercontent.com/microsoft/SDN/242fb0c3190dbb08d7f9406727be18322218e537/Kubernetes/windows/hns.psm1",
    sha256: "a8a53ed4fac2e27c7e4268db069d4cf3129a56d466ef3bf9465fb52dcd76a29c",
};
/** nssm 2.24 from the Kubernetes test-infra mirror (the one sig-windows-tools uses). */
export const NSSM_URL = "https://k8stestinfrabinaries.blob.core.windows.net/nssm-mirror/nssm-2.24.zip";
/**
 * The sandbox (pause) image, pinned in containerd's config. 3.10.2 is the first pause with a
 * Windows Server 2025 (ltsc2025) variant beside ltsc2022 (kubernetes/kubernetes PR #136960,
 * build/pause); an image without the host's build fails pods on 2025.
 */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10.2";
export const CONTAINERD_PIPE = "npipe:////./pipe/containerd-containerd";
/** The agent services in boot order (containerd → flanneld | l2bridge → kubelet → kube-proxy). */
export const AGENT_SERVICES = ["containerd", "flanneld", "hybrid-k8s-l2bridge", "kubelet", "kube-proxy"] as const;
/** Where the join leaves kubeadm's output on the node. */
export const JOIN_LOG = "C:\\var\\log\\kubernetes\\kubeadm-join.log";
/** flanneld's subnet file; the flannel CNI plugin reads the same default path (/run/flannel/subnet.env on drive C:). */
export const FLANNEL_SUBNET_FILE = "C:\\run\\flannel\\subnet.env";

export interface WindowsVersions {
    kubernetesVersion: string;
    containerdVersion: string;
    flannelVersion: string;
    flannelCniPluginVersion: string;
    cniPluginsVersion: string;
    sdnPluginsVersion: string;
}

/** One download: where from, and how it is checked. */
export interface Download {
    url: string;
    /** A file upstream publishes next to the artifact, whose first word is its digest. */
    checksumUrl?: string;
    /** The digest algorithm of checksumUrl. Defaults to SHA256. */
    checksumAlgorithm?: "SHA256" | "SHA512";
    /** A known SHA-256. */
    sha256?: string;
}

/** Everything a Windows node downloads, pinned to the configured versions. */
export function windowsDownloads(v: WindowsVersions, spec: TopologySpec): Record<string, Download> {
    const k8s = `https://dl.k8s.io/v${v.kubernetesVersion}/bin/windows/amd64`;
    const [major, minor] = v.kubernetesVersion.split(".");
    const crictl = `https://github.com/kubernetes-sigs/cri-tools/releases/download/v${major}.${minor}.0/crictl-v${major}.${minor}.0-windows-amd64.tar.gz`;
    const containerd = `https://github.com/containerd/containerd/releases/download/v${v.containerdVersion}/containerd-${v.containerdVersion}-windows-amd64.tar.gz`;
    const plugins = `https://github.com/containernetworking/plugins/releases/download/v${v.cniPluginsVersion}/cni-plugins-windows-amd64-v${v.cniPluginsVersion}.tgz`;
    const sdn = `https://github.com/microsoft/windows-container-networking/releases/download/v${v.sdnPluginsVersion}/windows-container-networking-cni-amd64-v${v.sdnPluginsVersion}.zip`;
    const downloads: Record<string, Download> = {
        "kubelet.exe": { url: `${k8s}/kubelet.exe`, checksumUrl: `${k8s}/kubelet.exe.sha256` },
        "kubeadm.exe": { url: `${k8s}/kubeadm.exe`, checksumUrl: `${k8s}/kubeadm.exe.sha256` },
        "kube-proxy.exe": { url: `${k8s}/kube-proxy.exe`, checksumUrl: `${k8s}/kube-proxy.exe.sha256` },
        "containerd.tar.gz": { url: containerd, checksumUrl: `${containerd}.sha256sum` },
        "crictl.tar.gz": { url: crictl, checksumUrl: `${crictl}.sha256` },
        "cni-plugins.tgz": { url: plugins, checksumUrl: `${plugins}.sha256` },
        // windows-container-networking publishes a SHA-512 beside each release zip
        "sdn-plugins.zip": { url: sdn, checksumUrl: `${sdn}.sha512`, checksumAlgorithm: "SHA512" },
        "nssm.zip": { url: NSSM_URL },
    };
    if (spec.flannelBackend) {
        const cni = `https://github.com/flannel-io/cni-plugin/releases/download/v${v.flannelCniPluginVersion}/cni-plugin-flannel-windows-amd64-v${v.flannelCniPluginVersion}.tgz`;
        downloads["flanneld.exe"] = { url: `https://github.com/flannel-io/flannel/releases/download/v${v.flannelVersion}/flanneld.exe` };
        downloads["flannel-cni.tgz"] = { url: cni, checksumUrl: `${cni}.sha256` };
    }
    return downloads;
}

/**
 * Every script starts here: stop on errors, the PATH the scripts need, and helpers.
 * - An SSH session inherits sshd's environment from when sshd started (PowerShell/Win32-OpenSSH
 *   #1329): a machine PATH change is invisible to it, so each script sets $env:Path itself
 *   (kubeadm's preflight runs `kubelet --version` from the PATH: kubernetes
 *   cmd/kubeadm/app/preflight/checks.go, KubeletVersionCheck).
 * - Windows PowerShell 5.1 turns a native tool's stderr into error records, and under 'Stop' the
 *   first one is terminating (PowerShell/PowerShell#3996): Invoke-Native runs the tool with
 *   'Continue' and judges it by its exit code alone.
 * - Set-FileText writes UTF-8 without a byte order mark, and only when the content differs, so a
 *   re-run can tell what changed.
 */
export const PRELUDE = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$env:Path = "C:\\k;$env:ProgramFiles\\containerd;$env:ProgramFiles\\nssm;$env:SystemRoot\\System32;$env:SystemRoot;$env:SystemRoot\\System32\\WindowsPowerShell\\v1.0;$env:Path"
function Invoke-Native([string]$What, [scriptblock]$Block) {
  $ErrorActionPreference = 'Continue'
  $global:LASTEXITCODE = 0
  & $Block 2>&1 | ForEach-Object { "$_" }
  if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" }
}
function ConvertFrom-Base64([string]$Text) { [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Text)) }
function Set-FileText([string]$Path, [string]$Value) {
  $file = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
  if ((Test-Path $Path) -and ([IO.File]::ReadAllText($file) -ceq $Value)) { return $false }
  [IO.File]::WriteAllText($file, $Value)
  return $true
}
`;

/**
 * Restarts the running agent services among $Names (their binaries or start scripts changed; a
 * stopped one picks the change up when it starts) and, in a finally, brings back every agent
 * service that was running before: a failure half way never leaves the node down.
 * Restart-Service needs -Force when dependents run (Windows PowerShell 5.1 Restart-Service docs),
 * and -Force stops the dependents without restarting them, hence the second loop.
 */
export const AGENTS_FN = `$agents = @(${AGENT_SERVICES.map((s) => `'${s}'`).join(", ")})
function Restart-Agents([string[]]$Names) {
  $was = @($agents | Where-Object { (Get-Service $_ -ErrorAction SilentlyContinue).Status -eq 'Running' })
  try {
    foreach ($n in $agents) { if (($Names -contains $n) -and ($was -contains $n)) { Write-Output "restarting $n"; Restart-Service $n -Force } }
  } finally {
    foreach ($n in $agents) { if ($was -contains $n) { Start-Service $n } }
  }
}
`;

/**
 * Registers a script file as a task that runs as SYSTEM from the Task Scheduler, outside this SSH
 * session: it survives the session ending (a reboot) where a child process of sshd would not.
 * With -AtStartup the task runs at every boot.
 */
export const DETACHED_FN = `function Register-Detached([string]$Name, [string]$Script, [switch]$AtStartup) {
  $file = "C:\\k\\$Name.ps1"
  Set-FileText $file $Script | Out-Null
  $action = New-ScheduledTaskAction -Execute powershell.exe -Argument "-NoProfile -ExecutionPolicy Bypass -File $file"
  $principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
  if ($AtStartup) {
    Register-ScheduledTask -TaskName $Name -Action $action -Principal $principal -Trigger (New-ScheduledTaskTrigger -AtStartup) -Force | Out-Null
  } else {
    Register-ScheduledTask -TaskName $Name -Action $action -Principal $principal -Force | Out-Null
  }
}
`;

/**
 * Downloads into a staging folder and checks the file: against a digest published next to it, or
 * a pinned SHA-256. A file whose check fails is removed, so nothing unchecked is ever installed.
 */
const DOWNLOAD_FN = `function Invoke-Download([string]$Url, [string[]]$Arguments) {
  # curl's own --retry covers transient errors only, and --retry-all-errors needs curl 7.71 (older
  # Windows builds ship 7.55): three attempts of our own on top
  for ($i = 1; ; $i++) {
    try { return (Invoke-Native "download of $Url" { curl.exe -fsSL --retry 3 --retry-delay 5 @Arguments $Url }) }
    catch { if ($i -ge 3) { throw }; Start-Sleep -Seconds (10 * $i) }
  }
}
function Get-Checked([string]$Path, [string]$Url, [string]$ChecksumUrl, [string]$Algorithm, [string]$Sha) {
  Invoke-Download $Url @('-o', $Path) | Out-Null
  if ($ChecksumUrl) {
    $published = (Invoke-Download $ChecksumUrl @()) -join ' '
    $Sha = $published.Trim().Split(' ')[0]
    if ($Sha -notmatch '^[0-9a-fA-F]{64,128}$') { throw "the published checksum $ChecksumUrl is not a digest" }
  }
  if (-not $Algorithm) { $Algorithm = 'SHA256' }
  $actual = (Get-FileHash -Algorithm $Algorithm $Path).Hash.ToLower()
  if ($Sha) {
    if ($actual -ne $Sha.ToLower()) { Remove-Item -Force $Path; throw "checksum mismatch for $Url ($Algorithm $actual)" }
    Write-Output "verified $Url"
  } else {
    Write-Output "downloaded $Url ($Algorithm $actual; upstream publishes no checksum)"
  }
}
`;

/** The Windows PowerShell 5.1 path every service and task runs. */
export const POWERSHELL_EXE = "$env:WINDIR\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

/** The OpenSSH server (Windows Server 2025 ships it) with PowerShell as its default shell; also the image build's. */
export const SSHD_INSTALL = `if (-not (Get-Service sshd -ErrorAction SilentlyContinue)) {
  Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0 | Out-Null
}
New-ItemProperty -Path HKLM:\\SOFTWARE\\OpenSSH -Name DefaultShell -PropertyType String -Force -Value "${POWERSHELL_EXE}" | Out-Null
`;

/** sshd's port open on every firewall profile (an Azure NIC can count as Public); also the image build's. */
export const SSHD_FIREWALL = `if (-not (Get-NetFirewallRule -Name sshd -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name sshd -DisplayName 'OpenSSH Server (sshd)' -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow | Out-Null
}
`;

/** Test-Crictl: crictl's answer judged by its exit code alone, its output dropped. */
export const CRICTL_FN = `function Test-Crictl([string[]]$Arguments) { $ErrorActionPreference = 'Continue'; crictl.exe --config C:\\k\\crictl.yaml @Arguments *> $null; return ($LASTEXITCODE -eq 0) }
`;

/** Installs the OpenSSH server, PowerShell as its default shell, the admin's key. Run by the VM extension as SYSTEM. */
export function renderOpenSshSetup(publicKey: string): string {
    return `${PRELUDE}
${SSHD_INSTALL}# sshd's first start creates %ProgramData%\\ssh with its own restricted permissions: start it first
Set-Service sshd -StartupType Automatic
Start-Service sshd
# sshd reads administrators_authorized_keys only when Administrators and SYSTEM alone may write it;
# the key travels as data (base64): nothing in its comment can become code
$keys = "$env:ProgramData\\ssh\\administrators_authorized_keys"
if (-not (Test-Path $keys)) { New-Item -ItemType File $keys | Out-Null }
Invoke-Native icacls { icacls.exe $keys /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F' } | Out-Null
Set-FileText $keys ${psData(`${publicKey.trim()}\n`, "authorized-key")} | Out-Null
${SSHD_FIREWALL}Write-Output "sshd ready"
`;
}

/** The first readiness poll: the node answers over SSH. */
export function renderWindowsReady(): string {
    return `${PRELUDE}Write-Output "ready: $env:COMPUTERNAME"
`;
}

/** Where a step that asks for a reboot records the boot time it ran in (the ready steps compare it). */
export const BOOT_MARKER = "C:\\k\\reboot-requested.txt";
/** The current boot's start, as PowerShell text that evaluates to a round-trip UTC string. */
export const BOOT_TIME = "(Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')";

/**
 * The poll after the features reboot. It proves the reboot happened (the Containers feature is
 * installed and the boot time differs from the one prepare-features recorded) and waits for the
 * boot-time task's External HNS network.
 */
export function renderFeaturesReady(): string {
    return `${PRELUDE}
$state = (Get-WindowsFeature -Name Containers).InstallState
if ($state -ne 'Installed') { throw "the Containers feature is $($state): the node has not rebooted yet; run pulumi up again" }
if ((Test-Path ${BOOT_MARKER}) -and ((Get-Content -Raw ${BOOT_MARKER}).Trim() -eq ${BOOT_TIME})) {
  throw "the node has not rebooted yet (its boot time is the one recorded before the reboot); run pulumi up again"
}
for ($i = 0; -not (Get-HnsNetwork | Where-Object Name -EQ External); $i++) {
  # the boot task retries for five minutes; after that, run it once more (should this session drop
  # while the network is created, the next pulumi up finds the network and goes on)
  if ($i -eq 60) { Start-ScheduledTask -TaskName hybrid-k8s-external-network }
  if ($i -ge 120) { throw "the boot-time task did not create the External HNS network; see C:\\var\\log\\kubernetes\\external-network.log" }
  Start-Sleep -Seconds 5
}
Remove-Item -Force ${BOOT_MARKER} -ErrorAction SilentlyContinue
Write-Output "ready after reboot: $env:COMPUTERNAME"
`;
}

export interface FeaturesInput {
    spec: TopologySpec;
}

/**
 * The boot-time task's script: the dummy External HNS network, created at boot where no SSH
 * session depends on it. The first HNS network re-plumbs the NIC; an External network of the
 * same kind keeps later ones from doing it again (sig-windows-tools kubeadm/scripts/PrepareNode.ps1,
 * microsoft/SDN Kubernetes/flannel start.ps1). Overlay needs a VSID policy.
 */
export function renderExternalNetworkTask(spec: TopologySpec): string {
    const type = spec.windowsNetworkType === "Overlay" ? "Overlay" : "L2Bridge";
    const vsid = type === "Overlay" ? " -SubnetPolicies @(@{Type = 'VSID'; VSID = 9999; })" : "";
    return `$ErrorActionPreference = 'Stop'
Start-Transcript -Append C:\\var\\log\\kubernetes\\external-network.log | Out-Null
Import-Module C:\\k\\hns.psm1 -DisableNameChecking
# HNS may still be starting at boot: try for a few minutes
for ($i = 1; -not (Get-HnsNetwork | Where-Object Name -EQ External); $i++) {
  try { New-HnsNetwork -Type ${type} -AddressPrefix '192.168.255.0/30' -Gateway '192.168.255.1' -Name External${vsid} | Out-Null }
  catch { if ($i -ge 30) { throw }; Write-Output "attempt $($i): $_"; Start-Sleep -Seconds 10 }
}
Stop-Transcript | Out-Null
`;
}

/**
 * Windows features and host settings that need a reboot: the Containers feature, firewall
 * (kubelet 10250, VXLAN 4789/UDP, inbound ICMP echo), the persistent Azure metadata route, and a
 * boot-time task that creates the External HNS network. When a reboot is needed it records the
 * boot time, starts a detached task that stops sshd and reboots, and returns only once sshd has
 * stopped, so the next poll cannot reach the node before the reboot. Over SSH a reboot is needed
 * while the feature is not active or the External network is missing (its boot task creates it
 * where no session depends on the NIC). With HYBRID_K8S_REBOOT_BY_CALLER=1 (an image build, the
 * provisioning) the caller reboots instead, and only the feature's activation asks for it.
 */
export function renderPrepareFeatures(input: FeaturesInput): string {
    const vxlan = input.spec.vxlanPort
        ? `if (-not (Get-NetFirewallRule -Name hybrid-k8s-vxlan -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name hybrid-k8s-vxlan -DisplayName 'flannel VXLAN' -Direction Inbound -Protocol UDP -LocalPort ${input.spec.vxlanPort} -Action Allow | Out-Null
}
`
        : "";
    return `${PRELUDE}${DOWNLOAD_FN}${DETACHED_FN}
foreach ($d in 'C:\\k', 'C:\\var\\log\\kubernetes') { New-Item -ItemType Directory -Force $d | Out-Null }
if (-not (Get-NetFirewallRule -Name hybrid-k8s-kubelet -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name hybrid-k8s-kubelet -DisplayName 'kubelet' -Direction Inbound -Protocol TCP -LocalPort 10250 -Action Allow | Out-Null
}
if (-not (Get-NetFirewallRule -Name hybrid-k8s-icmp -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name hybrid-k8s-icmp -DisplayName 'ICMPv4 echo' -Direction Inbound -Protocol ICMPv4 -IcmpType 8 -Action Allow | Out-Null
}
${vxlan}# Keep the Azure instance metadata endpoint reachable once HNS re-plumbs the NIC.
if (-not (Get-NetRoute -DestinationPrefix 169.254.169.254/32 -ErrorAction SilentlyContinue)) {
  Invoke-Native route { route.exe /p add 169.254.169.254 mask 255.255.255.255 0.0.0.0 } | Out-Null
}
if (-not (Test-Path C:\\k\\hns.psm1)) {
  Get-Checked C:\\k\\hns.psm1.download ${ps(HNS_MODULE.url)} '' '' ${ps(HNS_MODULE.sha256)}
  Move-Item -Force C:\\k\\hns.psm1.download C:\\k\\hns.psm1
}
Register-Detached hybrid-k8s-external-network ${psData(renderExternalNetworkTask(input.spec), "external-network.ps1")} -AtStartup

$feature = Get-WindowsFeature -Name Containers
if ($feature.InstallState -eq 'Installed' -and (Get-HnsNetwork | Where-Object Name -EQ External)) {
  Write-Output "Containers feature installed, External network present"
  exit 0
}
# A caller that reboots is asked for a reboot only while the feature is not active: with the
# feature active, the External network is its boot task's (running in this boot after a reboot,
# or at the next), and a boot marker would make the caller reboot again for nothing.
if ($feature.InstallState -eq 'Installed' -and $env:HYBRID_K8S_REBOOT_BY_CALLER -eq '1') {
  Write-Output "Containers feature installed; the External network is left to its boot task"
  exit 0
}
if ($feature.InstallState -eq 'Available') {
  Install-WindowsFeature -Name Containers | Out-Null
}
Set-Content -Path ${BOOT_MARKER} -Value ${BOOT_TIME}
# An image build reboots with its own restart step (images/): a reboot of ours would race it.
if ($env:HYBRID_K8S_REBOOT_BY_CALLER -eq '1') {
  Write-Output "Containers feature installed; the caller reboots"
  exit 0
}
Register-Detached hybrid-k8s-reboot 'Stop-Service sshd -Force; Start-Sleep -Seconds 10; Restart-Computer -Force'
Start-ScheduledTask -TaskName hybrid-k8s-reboot
for ($i = 0; (Get-Service sshd).Status -ne 'Stopped'; $i++) {
  if ($i -ge 60) { throw 'sshd did not stop for the reboot' }
  Start-Sleep -Seconds 1
}
Write-Output "rebooting to finish installing the Containers feature"
`;
}

export interface RuntimeInput {
    spec: TopologySpec;
    node: NodeAddress;
    versions: WindowsVersions;
    /** The Windows CNI config (its name is the HNS network name). */
    cniConfig: string;
    /** Images to pull ahead of time (the sample's image). */
    prePull: string[];
}

/** containerd's config: sandbox image pinned, CNI paths (containerd 2.1 takes bin_dirs, 2.0 bin_dir). */
export function containerdConfig(containerdVersion: string): string {
    const [major, minor] = containerdVersion.split(".").map(Number);
    const binDirs = major > 2 || (major === 2 && minor >= 1) ? `bin_dirs = ['C:\\opt\\cni\\bin']` : `bin_dir = 'C:\\opt\\cni\\bin'`;
    return `version = 3
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = '${PAUSE_IMAGE}'
[plugins.'io.containerd.cri.v1.runtime'.cni]
  ${binDirs}
  conf_dir = 'C:\\etc\\cni\\net.d'
`;
}

/** Where each download's files are installed (and which services use them): a file, or an archive's files into a folder. */
function installPlan(spec: TopologySpec): string {
    const lines = [
        // -Stage: on a joined node these wait in the staging folder for the node's upgrade window
        `Install-Binary (Join-Path $dl 'kubelet.exe') C:\\k\\kubelet.exe kubelet -Stage`,
        `Install-Binary (Join-Path $dl 'kubeadm.exe') C:\\k\\kubeadm.exe -Stage`,
        `Install-Binary (Join-Path $dl 'kube-proxy.exe') C:\\k\\kube-proxy.exe kube-proxy -Stage`,
        // containerd's release tarball holds bin/containerd.exe, bin/ctr.exe, bin/containerd-shim-runhcs-v1.exe
        `Install-Archive (Join-Path $dl 'containerd.tar.gz') "$env:ProgramFiles\\containerd" containerd 'bin' -Stage`,
        `Install-Archive (Join-Path $dl 'crictl.tar.gz') C:\\k`,
        `Install-Archive (Join-Path $dl 'cni-plugins.tgz') C:\\opt\\cni\\bin`,
        `Install-Archive (Join-Path $dl 'sdn-plugins.zip') C:\\opt\\cni\\bin`,
        // nssm.exe is the binary of every agent service but containerd
        `Install-Archive (Join-Path $dl 'nssm.zip') "$env:ProgramFiles\\nssm" 'flanneld', 'hybrid-k8s-l2bridge', 'kubelet', 'kube-proxy' 'nssm-2.24\\win64'`,
    ];
    if (spec.flannelBackend) {
        lines.push(`Install-Binary (Join-Path $dl 'flanneld.exe') C:\\k\\flanneld.exe flanneld -Stage`);
        lines.push(`Install-Archive (Join-Path $dl 'flannel-cni.tgz') C:\\opt\\cni\\bin`);
        // the flannel CNI release names its binary flannel-amd64.exe; the CNI config's type is flannel
        lines.push(`Install-Binary C:\\opt\\cni\\bin\\flannel-amd64.exe C:\\opt\\cni\\bin\\flannel.exe`);
    }
    return lines.join("\n");
}

/** What a node records as its installed versions (C:\k\versions.json), and what a staged set is for. */
export function versionsStamp(v: WindowsVersions): string {
    return JSON.stringify(v);
}

/** Where a joined node keeps what waits for its upgrade window, and the plan that lists it. */
export const STAGING_DIR = "C:\\k\\staged";
export const STAGING_PLAN = `${STAGING_DIR}\\plan.json`;
/** The line prepare-runtime ends with: what it staged for the node's upgrade window ("none" when nothing). */
export const STAGED_PREFIX = "staged: ";

/**
 * The runtime: Kubernetes, containerd, CNI binaries and nssm, the CNI config, containerd as a
 * service, the sandbox image. Downloads go to a staging folder and are all checked before anything
 * is installed. A binary is replaced only when its content differs: the running file is renamed
 * aside (Windows allows renaming a running executable, not overwriting it) and the services using
 * it restart, in a finally. A marker records the installed versions: a re-run with the same
 * versions downloads nothing.
 *
 * On a node that has joined a cluster (kubelet.conf, or a bootstrap kubeconfig of a join under
 * way), the binaries of running agents (kubelet, kube-proxy, containerd, flanneld), kubeadm and a
 * changed containerd config are not swapped here: they are staged under STAGING_DIR with a plan
 * (STAGING_PLAN) that the node's `-upgrade` step carries out inside its window, after the drain
 * and after the control plane's upgrade. A kubelet never moves ahead of the API server here, and
 * no pod loses its runtime outside a window. CNI plugins, crictl and nssm (run per call, not as
 * long-lived agents) are still installed directly. The last line says what is staged
 * (STAGED_PREFIX), for the drain on the master.
 */
export function renderPrepareRuntime(input: RuntimeInput): string {
    const v = input.versions;
    const downloads = windowsDownloads(v, input.spec);
    const stamp = versionsStamp(v);
    const fetches = Object.entries(downloads)
        .map(([file, d]) => `  Get-Checked (Join-Path $dl ${ps(file)}) ${ps(d.url)} ${ps(d.checksumUrl ?? "")} ${ps(d.checksumAlgorithm ?? "")} ${ps(d.sha256 ?? "")}`)
        .join("\n");
    const prePull = input.prePull.map((i) => `Invoke-Native 'pull ${i}' { crictl.exe --config C:\\k\\crictl.yaml pull ${ps(i)} }`).join("\n");
    const upgradeStep = `${input.node.name}-upgrade`;
    return `${PRELUDE}${AGENTS_FN}${DOWNLOAD_FN}${DETACHED_FN}
function Install-Binary([string]$Source, [string]$Target, [string[]]$Services, [switch]$Stage) {
  if ((Test-Path $Target) -and ((Get-FileHash $Target).Hash -eq (Get-FileHash $Source).Hash)) { return }
  if ($Stage -and $joined) {
    # a running agent's binary on a joined node waits for the node's upgrade window
    New-Item -ItemType Directory -Force $staging | Out-Null
    $file = Join-Path $staging ('{0}-{1}' -f $staged.Count, (Split-Path -Leaf $Target))
    Copy-Item -Force $Source $file
    $staged.Add([pscustomobject]@{ name = (Split-Path -Leaf $Target); source = $file; target = $Target; services = @($Services) })
    return
  }
  $old = $null
  if (Test-Path $Target) { $old = "$Target.$([DateTime]::UtcNow.Ticks).old"; Move-Item -Force $Target $old }
  try { Copy-Item -Force $Source $Target } catch { if ($old) { Move-Item -Force $old $Target }; throw }
  # one list shared with the caller: a step runs as a script block, which has no script: scope
  foreach ($s in $Services) { $restart.Add($s) }
}
function Install-Archive([string]$Archive, [string]$Target, [string[]]$Services, [string]$Inner = '', [switch]$Stage) {
  $x = "$Archive.d"
  if (Test-Path $x) { Remove-Item -Recurse -Force $x }
  New-Item -ItemType Directory -Force $x | Out-Null
  if ($Archive.EndsWith('.zip')) { Expand-Archive -Force $Archive $x } else { Invoke-Native "unpacking $Archive" { tar.exe -xf $Archive -C $x } | Out-Null }
  $from = (Get-Item (Join-Path $x $Inner)).FullName
  foreach ($f in Get-ChildItem -Recurse -File $from) {
    Install-Binary $f.FullName (Join-Path $Target $f.FullName.Substring($from.Length).TrimStart('\\', '/')) $Services -Stage:$Stage
  }
}
foreach ($d in 'C:\\k', 'C:\\opt\\cni\\bin', 'C:\\etc\\cni\\net.d', 'C:\\etc\\kube-flannel', 'C:\\var\\log\\kubernetes', 'C:\\run\\flannel', "$env:ProgramFiles\\containerd", "$env:ProgramFiles\\nssm") {
  New-Item -ItemType Directory -Force $d | Out-Null
}
# What SYSTEM runs (binaries, start scripts, configs, kubelet's keys) is not for other local users
# to change: C:\\ lets any user create folders, which then inherit that right.
foreach ($d in 'C:\\k', 'C:\\opt', 'C:\\etc', 'C:\\var\\lib', 'C:\\run') {
  New-Item -ItemType Directory -Force $d | Out-Null
  Invoke-Native "icacls $d" { icacls.exe $d /inheritance:r /grant:r 'Administrators:(OI)(CI)F' /grant:r 'SYSTEM:(OI)(CI)F' } | Out-Null
}
# files renamed aside by an earlier upgrade; those still held by a running process stay for later
Get-ChildItem C:\\k, C:\\opt\\cni\\bin, "$env:ProgramFiles\\containerd", "$env:ProgramFiles\\nssm" -Filter '*.old' -ErrorAction SilentlyContinue | Remove-Item -Force -ErrorAction SilentlyContinue
$restart = New-Object System.Collections.Generic.List[string]
$stamp = ${ps(stamp)}
# joined (or joining): kubelet has, or is about to get, its credentials for the cluster
$joined = (Test-Path C:\\etc\\kubernetes\\kubelet.conf) -or (Test-Path C:\\etc\\kubernetes\\bootstrap-kubelet.conf)
$staging = ${ps(STAGING_DIR)}
$planFile = ${ps(STAGING_PLAN)}
$staged = New-Object System.Collections.Generic.List[object]
$plan = $null
if (Test-Path $planFile) { $plan = Get-Content -Raw $planFile | ConvertFrom-Json }
if ($plan -and $plan.stamp -ne $stamp) {
  # staged for a version set that is no longer the one configured: staged again below
  Remove-Item -Recurse -Force $staging
  $plan = $null
  Write-Output "dropped what was staged for an earlier version set"
}
if ($plan) { foreach ($i in $plan.items) { $staged.Add($i) } }
if ((Test-Path C:\\k\\versions.json) -and ((Get-Content -Raw C:\\k\\versions.json).Trim() -eq $stamp)) {
  Write-Output "binaries already at $stamp"
} elseif ($plan) {
  # a plan is only written once the downloads were checked and sorted: the binaries wait in it
  Write-Output "binaries already staged for $stamp"
} else {
  # files of a staging cut short (no plan yet) are staged again
  if (Test-Path $staging) { Remove-Item -Recurse -Force $staging }
  $dl = 'C:\\k\\download'
  if (Test-Path $dl) { Remove-Item -Recurse -Force $dl }
  New-Item -ItemType Directory -Force $dl | Out-Null
${fetches}
  try {
${installPlan(input.spec)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n")}
  } finally {
    Restart-Agents $restart.ToArray()
  }
  # with something staged, the upgrade step records the versions once it has swapped them
  if ($staged.Count -eq 0) { Set-Content -Path C:\\k\\versions.json -Value $stamp }
  Remove-Item -Recurse -Force $dl
}
$restart = @()

# containerd runs Windows containers only once the Containers feature is active, after its reboot
# (sig-windows-tools hostprocess/Install-Containerd.ps1 installs the feature, asks for the reboot,
# and registers and starts containerd only on the run after it). A caller that reboots next (the
# provisioning extension) gets the binaries now; containerd, the CNI config and the pulls follow
# on the run after the reboot.
$containers = (Get-WindowsFeature -Name Containers).InstallState
if ($containers -ne 'Installed') {
  if ($env:HYBRID_K8S_REBOOT_BY_CALLER -eq '1') {
    Write-Output "binaries installed; containerd is set up once the Containers feature is active (after the reboot)"
    exit 0
  }
  throw "the Containers feature is $($containers): the node must reboot (prepare-features) before containerd can run"
}

# containerd: sandbox image pinned, CNI from C:\\opt\\cni\\bin and C:\\etc\\cni\\net.d, as a service.
# On a joined node a changed config waits for the window too (containerd restarts with it).
$configFile = "$env:ProgramFiles\\containerd\\config.toml"
$config = ${psData(containerdConfig(v.containerdVersion), "containerd-config.toml")}
if ($joined -and (Test-Path $configFile) -and ([IO.File]::ReadAllText($ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($configFile)) -cne $config)) {
  if (-not ($staged | Where-Object target -EQ $configFile)) {
    New-Item -ItemType Directory -Force $staging | Out-Null
    Set-FileText (Join-Path $staging 'containerd-config.toml') $config | Out-Null
    $staged.Add([pscustomobject]@{ name = 'config.toml'; source = (Join-Path $staging 'containerd-config.toml'); target = $configFile; services = @('containerd') })
  }
} elseif (Set-FileText $configFile $config) { $restart += 'containerd' }
if ($staged.Count -gt 0) {
  # the plan is written last: a staging cut short leaves no plan, and the next run stages again
  Set-FileText $planFile (ConvertTo-Json -Compress -Depth 4 -InputObject ([pscustomobject]@{ stamp = $stamp; items = $staged.ToArray() })) | Out-Null
}
if (-not (Get-Service containerd -ErrorAction SilentlyContinue)) {
  Invoke-Native 'containerd --register-service' { containerd.exe --register-service --config "$env:ProgramFiles\\containerd\\config.toml" } | Out-Null
}
Set-Service containerd -StartupType Automatic
Restart-Agents $restart
Start-Service containerd
Set-FileText C:\\k\\crictl.yaml "runtime-endpoint: ${CONTAINERD_PIPE}\`nimage-endpoint: ${CONTAINERD_PIPE}\`n" | Out-Null
# containerd's pipe appears a moment after the service starts
${CRICTL_FN}for ($i = 0; -not (Test-Crictl @('version')); $i++) {
  if ($i -ge 60) { throw "containerd does not answer on ${CONTAINERD_PIPE}" }
  Start-Sleep -Seconds 2
}

# CNI config: its name is the HNS network name (${input.spec.windowsNetworkName}). containerd's own nat config would take the pods: remove it.
Get-ChildItem 'C:\\etc\\cni\\net.d', "$env:ProgramFiles\\containerd\\cni\\conf" -Filter '*nat*' -ErrorAction SilentlyContinue | Remove-Item -Force
Set-FileText C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf ${psData(input.cniConfig, "cni.conf")} | Out-Null

# The sandbox image now (every pod needs it); workload images in the background, as a task: the
# join does not need them, and a servercore pull (gigabytes) overlaps it.
if (-not (Test-Crictl @('inspecti', '${PAUSE_IMAGE}'))) { Invoke-Native 'pull ${PAUSE_IMAGE}' { crictl.exe --config C:\\k\\crictl.yaml pull '${PAUSE_IMAGE}' } | Out-Null }
${
    input.prePull.length
        ? `if (@(${input.prePull.map(ps).join(", ")} | Where-Object { -not (Test-Crictl @('inspecti', $_)) }).Count -gt 0) {
  Register-Detached hybrid-k8s-prepull ${psData(`${PRELUDE}Start-Transcript -Append C:\\var\\log\\kubernetes\\prepull.log | Out-Null\n${prePull}\n`, "prepull.ps1")}
  Start-ScheduledTask -TaskName hybrid-k8s-prepull
}
`
        : ""
}if ($staged.Count -gt 0) {
  $names = @($staged | ForEach-Object { $_.name }) -join ' '
  Write-Output "runtime ready; staged for ${upgradeStep} (containerd ${v.containerdVersion}, kubernetes ${v.kubernetesVersion}): $names"
  Write-Output "${STAGED_PREFIX}$names"
} else {
  Write-Output "runtime ready: containerd ${v.containerdVersion}, kubernetes ${v.kubernetesVersion}"
  Write-Output "${STAGED_PREFIX}none"
}
`;
}

export interface JoinInput {
    spec: TopologySpec;
    node: NodeAddress;
    kubernetesVersion: string;
    podCidr: string;
    serviceCidr: string;
    dnsServiceIp: string;
    /** net-conf.json for flanneld (vxlan, host-gw). */
    flannelNetConf?: string;
    /** tor: the script of the boot-time service that creates the L2Bridge network. */
    l2bridgeScript?: string;
}

/**
 * kubelet flags, derived from the Kubernetes version. --pod-infra-container-image was removed in
 * 1.35 (deprecated before; kubernetes cmd/kubelet/app/options/options.go): the sandbox image is
 * pinned in containerd's config instead.
 */
export function kubeletFlags(node: NodeAddress, kubernetesVersion: string): string[] {
    const minor = Number(kubernetesVersion.split(".")[1]);
    const flags = [
        "--cert-dir=C:\\var\\lib\\kubelet\\pki",
        "--config=C:\\var\\lib\\kubelet\\config.yaml",
        "--bootstrap-kubeconfig=C:\\etc\\kubernetes\\bootstrap-kubelet.conf",
        "--kubeconfig=C:\\etc\\kubernetes\\kubelet.conf",
        `--hostname-override=${node.name}`,
        `--node-ip=${node.privateIp}`,
        `--container-runtime-endpoint=${CONTAINERD_PIPE}`,
        "--cgroups-per-qos=false",
        '--enforce-node-allocatable=""',
        '--resolv-conf=""',
    ];
    if (minor < 35) {
        flags.push(`--pod-infra-container-image=${PAUSE_IMAGE}`);
    }
    return flags;
}

/**
 * kube-proxy flags: kernelspace, the HNS network's name, the cluster CIDR; overlay needs a
 * source VIP. Feature gates that are GA and locked in the chosen version are dropped
 * (WinOverlay is locked on from 1.34).
 */
export function kubeProxyFlags(input: { node: NodeAddress; spec: TopologySpec; podCidr: string; kubernetesVersion: string }): string[] {
    const minor = Number(input.kubernetesVersion.split(".")[1]);
    const flags = [
        "--proxy-mode=kernelspace",
        `--hostname-override=${input.node.name}`,
        "--kubeconfig=C:\\k\\kube-proxy.kubeconfig",
        `--cluster-cidr=${input.podCidr}`,
        `--network-name=${input.spec.windowsNetworkName}`,
        "--v=2",
    ];
    if (input.spec.windowsNetworkType === "Overlay" && minor < 34) {
        flags.push("--feature-gates=WinOverlay=true");
    }
    return flags;
}

/** A PowerShell file run by an nssm service, written by the join script. */
function startScript(lines: string[]): string {
    return [`$ErrorActionPreference = 'Stop'`, ...lines, ""].join("\n");
}

/** The start script of kube-proxy (overlay: with a source VIP reserved once from the node's pod subnet). */
export function renderKubeProxyStart(input: JoinInput): string {
    const { spec, node } = input;
    const net = spec.windowsNetworkName;
    const flags = kubeProxyFlags({ node, spec, podCidr: input.podCidr, kubernetesVersion: input.kubernetesVersion }).join(" ");
    const wait = [`$env:KUBE_NETWORK = ${ps(net)}`, `while (-not (Get-HnsNetwork | Where-Object Name -EQ ${ps(net)})) { Start-Sleep -Seconds 2 }`];
    if (spec.windowsNetworkType !== "Overlay") {
        return startScript([...wait, `& C:\\k\\kube-proxy.exe ${flags}`]);
    }
    // sig-windows-tools hostprocess/flannel/kube-proxy/start.ps1: the source VIP comes from host-local
    // on the node's pod subnet. A failed reservation (exit code, or no ips in the answer) is never saved.
    const ipam = JSON.stringify({ cniVersion: "0.3.0", name: net, ipam: { type: "host-local", ranges: [[{ subnet: node.podCidr }]], dataDir: "/var/lib/cni/networks" } });
    return startScript([
        ...wait,
        "if (-not (Test-Path C:\\k\\source-vip.json)) {",
        `  $env:CNI_COMMAND = 'ADD'; $env:CNI_CONTAINERID = 'source-vip'; $env:CNI_NETNS = 'none'; $env:CNI_IFNAME = 'none'; $env:CNI_PATH = 'C:\\opt\\cni\\bin'`,
        `  $answer = (${ps(ipam)} | & C:\\opt\\cni\\bin\\host-local.exe) -join "\`n"`,
        `  if ($LASTEXITCODE -ne 0) { throw "host-local could not reserve the source VIP (exit $LASTEXITCODE): $answer" }`,
        `  if (-not ($answer | ConvertFrom-Json).ips) { throw "host-local returned no address for the source VIP: $answer" }`,
        "  Set-Content -Path C:\\k\\source-vip.json -Value $answer",
        "}",
        "$vip = ((Get-Content -Raw C:\\k\\source-vip.json | ConvertFrom-Json).ips[0].address -split '/')[0]",
        `& C:\\k\\kube-proxy.exe ${flags} --source-vip=$vip`,
    ]);
}

/**
 * The JoinConfiguration kubeadm reads (kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go:
 * discovery.bootstrapToken, nodeRegistration). `--config` cannot be mixed with flags like
 * --node-name, so everything is in the file. The $endpoint, $token and $hash PowerShell variables
 * are filled in on the node, after the join command matched its strict pattern.
 */
function joinConfiguration(node: NodeAddress): string {
    return [
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: JoinConfiguration",
        "discovery:",
        "  bootstrapToken:",
        "    apiServerEndpoint: '$endpoint'",
        "    token: '$token'",
        "    caCertHashes: ['$hash']",
        "nodeRegistration:",
        `  name: '${node.name}'`,
        `  criSocket: '${CONTAINERD_PIPE}'`,
        "",
    ].join("`n");
}

/**
 * The join: host-agent kubeconfigs (from stdin, ACL-restricted), flanneld, kubelet and kube-proxy
 * as services (boot order containerd → flanneld → kubelet → kube-proxy), then `kubeadm join` with
 * the fresh token from stdin, unless the node has joined this cluster already (same CA hash).
 * A join that failed half way, or one into an earlier control plane, is reset first. Waits until
 * the services run and are healthy. stdin: {"joinCommand", "kubeProxy", "flannel"?} as JSON.
 */
export function renderJoin(input: JoinInput): string {
    const { spec, node } = input;
    const net = spec.windowsNetworkName;
    const flannel = !!spec.flannelBackend;
    const kubelet = startScript([`& C:\\k\\kubelet.exe ${kubeletFlags(node, input.kubernetesVersion).join(" ")}`]);
    const flanneld = startScript([
        `$env:NODE_NAME = ${ps(node.name)}`,
        `& C:\\k\\flanneld.exe --kube-subnet-mgr --kubeconfig-file=C:\\k\\flannel.kubeconfig --iface=${node.privateIp} --net-config-path=C:\\etc\\kube-flannel\\net-conf.json --subnet-file=${FLANNEL_SUBNET_FILE}`,
    ]);
    const services: Array<{ name: string; script: string; dependsOn: string[] }> = [];
    if (flannel) {
        services.push({ name: "flanneld", script: flanneld, dependsOn: ["containerd"] });
    }
    if (input.l2bridgeScript) {
        services.push({ name: "hybrid-k8s-l2bridge", script: input.l2bridgeScript, dependsOn: ["containerd", "hns"] });
    }
    const kubeletDeps = ["containerd", ...(flannel ? ["flanneld"] : []), ...(input.l2bridgeScript ? ["hybrid-k8s-l2bridge"] : [])];
    services.push({ name: "kubelet", script: kubelet, dependsOn: kubeletDeps });
    services.push({ name: "kube-proxy", script: renderKubeProxyStart(input), dependsOn: ["kubelet"] });

    const writeServices = services
        .map(
            (s) => `if (Set-FileText C:\\k\\start-${s.name}.ps1 ${psData(s.script, `start-${s.name}.ps1`)}) { $restart += '${s.name}' }
Install-AgentService ${ps(s.name)} C:\\k\\start-${s.name}.ps1 @(${s.dependsOn.map(ps).join(", ")})`,
        )
        .join("\n");
    const before = services.map((s) => s.name).filter((n) => n !== "kubelet" && n !== "kube-proxy");
    const names = services.map((s) => ps(s.name)).join(", ");

    return `${PRELUDE}${AGENTS_FN}
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
function Write-Secret([string]$Path, [string]$Value) {
  # created empty and restricted first, then written: never readable through inherited ACLs
  if (-not (Test-Path $Path)) { New-Item -ItemType File $Path | Out-Null }
  Invoke-Native "icacls $Path" { icacls.exe $Path /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F' } | Out-Null
  Set-FileText $Path $Value
}
function Install-AgentService([string]$Name, [string]$Script, [string[]]$DependsOn) {
  $nssm = "$env:ProgramFiles\\nssm\\nssm.exe"
  if (-not (Get-Service $Name -ErrorAction SilentlyContinue)) {
    Invoke-Native "nssm install $Name" { & $nssm install $Name "${POWERSHELL_EXE}" -NoProfile -ExecutionPolicy Bypass -File $Script } | Out-Null
  }
  foreach ($kv in @(@('AppStdout', "C:\\var\\log\\kubernetes\\$Name.log"), @('AppStderr', "C:\\var\\log\\kubernetes\\$Name.log"), @('AppRotateFiles', '1'), @('AppRotateOnline', '1'), @('AppRotateBytes', '10485760'), @('Start', 'SERVICE_AUTO_START'))) {
    Invoke-Native "nssm set $Name" { & $nssm set $Name $kv[0] $kv[1] } | Out-Null
  }
  Invoke-Native "nssm set $Name" { & $nssm set $Name DependOnService @DependsOn } | Out-Null
}
function Test-Healthz([int]$Port) {
  try { return (Invoke-WebRequest -UseBasicParsing -TimeoutSec 5 "http://127.0.0.1:$Port/healthz").StatusCode -eq 200 } catch { return $false }
}
New-Item -ItemType Directory -Force C:\\var\\log\\kubernetes | Out-Null
$restart = @()
if (Write-Secret C:\\k\\kube-proxy.kubeconfig $in.kubeProxy) { $restart += 'kube-proxy' }
${
    spec.windowsNetworkType === "L2Bridge"
        ? `# The host endpoint holds ${node.podHostEndpoint}, but host-local hands out the first free address after .1
# and sdnbridge drops rangeStart (windows-container-networking common/core/network.go): reserve it in
# host-local's store, one file per address under dataDir/<network>, created exclusively
# (containernetworking/plugins plugins/ipam/host-local/backend/disk/backend.go, Reserve).
$reserved = 'C:\\var\\lib\\cni\\networks\\${net}\\${node.podHostEndpoint}'
if (-not (Test-Path $reserved)) { New-Item -ItemType Directory -Force (Split-Path $reserved) | Out-Null; Set-Content -Path $reserved -Value 'hybrid-k8s-host-endpoint' }
`
        : ""
}${flannel ? `if (Write-Secret C:\\k\\flannel.kubeconfig $in.flannel) { $restart += 'flanneld' }
if (Set-FileText C:\\etc\\kube-flannel\\net-conf.json ${psData(input.flannelNetConf ?? "", "net-conf.json")}) { $restart += 'flanneld' }
` : ""}Import-Module C:\\k\\hns.psm1 -DisableNameChecking
${writeServices}
# running services whose start script or kubeconfig changed restart; the others start if stopped
Restart-Agents $restart
${before.map((n) => `Start-Service ${n}`).join("\n")}

if ($in.joinCommand -notmatch '^kubeadm join ([A-Za-z0-9.:\\[\\]-]+) --token ([a-z0-9]{6}\\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\\s*$') { throw 'the join command from the master has an unexpected form' }
$endpoint, $token, $hash = $Matches[1], $Matches[2], $Matches[3]
$joined = (Test-Path C:\\etc\\kubernetes\\kubelet.conf) -and (-not (Test-Path C:\\k\\joined-ca.txt) -or ((Get-Content -Raw C:\\k\\joined-ca.txt).Trim() -eq $hash))
if ($joined) {
  Write-Output "${node.name} has joined this cluster already"
  Start-Service kubelet
} else {
  # What a failed join or an earlier control plane left (kubelet.conf, ca.crt, kubelet's config,
  # a running kubelet) fails kubeadm's preflight: reset first (kubernetes
  # cmd/kubeadm/app/cmd/phases/reset/cleanupnode.go removes them).
  if ((Test-Path C:\\etc\\kubernetes\\kubelet.conf) -or (Test-Path C:\\etc\\kubernetes\\pki\\ca.crt) -or (Test-Path C:\\var\\lib\\kubelet\\config.yaml) -or (Test-Path C:\\etc\\kubernetes\\bootstrap-kubelet.conf)) {
    Stop-Service kube-proxy, kubelet -Force -ErrorAction SilentlyContinue
    Invoke-Native "kubeadm reset (see ${JOIN_LOG} on ${node.name})" { kubeadm.exe reset -f --cri-socket ${CONTAINERD_PIPE} } | Out-File -Encoding ascii ${JOIN_LOG}
  }
  # kubelet resolves clientCAFile (/etc/kubernetes/pki/ca.crt) under C:\\var\\lib\\kubelet; kubeadm
  # reset empties that folder, so the link is made after it (antrea-io/antrea hack/windows/Reset-Node.ps1)
  foreach ($d in 'C:\\var\\lib\\kubelet\\etc\\kubernetes', 'C:\\etc\\kubernetes\\pki') { New-Item -ItemType Directory -Force $d | Out-Null }
  if (-not (Test-Path C:\\var\\lib\\kubelet\\etc\\kubernetes\\pki)) {
    New-Item -ItemType SymbolicLink -Path C:\\var\\lib\\kubelet\\etc\\kubernetes\\pki -Value C:\\etc\\kubernetes\\pki | Out-Null
  }
  # The token travels in a file only Administrators and SYSTEM can read, never on a command line.
  $config = 'C:\\k\\kubeadm-join.yaml'
  try {
    Write-Secret $config "${joinConfiguration(node)}" | Out-Null
    Invoke-Native "kubeadm join (see ${JOIN_LOG} on ${node.name})" { kubeadm.exe join --config $config } | Out-File -Append -Encoding ascii ${JOIN_LOG}
  } finally {
    Remove-Item -Force $config -ErrorAction SilentlyContinue
  }
  Set-Content -Path C:\\k\\joined-ca.txt -Value $hash
}
Start-Service kube-proxy
for ($i = 0; ; $i++) {
  $down = @(@(${names}) | Where-Object { (Get-Service $_).Status -ne 'Running' })
  $kubelet = Test-Healthz 10248
  $proxy = Test-Healthz 10256
  $network = [bool](Get-HnsNetwork | Where-Object Name -EQ ${ps(net)})
  $subnet = ${flannel ? `Test-Path ${FLANNEL_SUBNET_FILE}` : "$true"}
  if ($down.Count -eq 0 -and $kubelet -and $proxy -and $network -and $subnet) { break }
  if ($i -ge 120) { throw "${node.name} did not come up: services not running: $down; kubelet healthy: $kubelet; kube-proxy healthy: $proxy; HNS network ${net}: $network; flannel subnet file: $subnet; see C:\\var\\log\\kubernetes" }
  Start-Sleep -Seconds 5
}
Write-Output "${node.name} joined: services running, kubelet and kube-proxy healthy, HNS network ${net} present"
`;
}

/**
 * tor: the boot-time service that creates this node's L2Bridge network (gateway .1), a host
 * endpoint (.2) with forwarding on (and on the node's own interface), before kubelet starts, then stays up so kubelet can depend
 * on it (microsoft/SDN Kubernetes/windows/start-kubelet.ps1 does the same at kubelet start).
 * The endpoint is attached on every start: after a reboot it can exist unattached (flannel
 * pkg/backend/hostgw/hostgw_windows.go attaches every time and tolerates "already attached").
 */
export function renderL2BridgeService(node: NodeAddress, networkName: string): string {
    const ep = `${networkName}_ep`;
    return startScript([
        "Import-Module C:\\k\\hns.psm1 -DisableNameChecking",
        `$net = Get-HnsNetwork | Where-Object Name -EQ ${ps(networkName)}`,
        `if (-not $net) { $net = New-HnsNetwork -Type L2Bridge -AddressPrefix ${ps(node.podCidr)} -Gateway ${ps(node.podGateway)} -Name ${ps(networkName)} }`,
        `$ep = Get-HnsEndpoint | Where-Object Name -EQ ${ps(ep)}`,
        `if (-not $ep) { $ep = New-HnsEndpoint -NetworkId $net.Id -Name ${ps(ep)} -IPAddress ${ps(node.podHostEndpoint)} -Gateway '0.0.0.0' }`,
        "try { Attach-HnsHostEndpoint -EndpointID $ep.Id -CompartmentID 1 | Out-Null } catch { if ($_.Exception.Message -notmatch 'already') { throw } }",
        `& netsh.exe interface ipv4 set interface ${ps(`vEthernet (${ep})`)} forwarding=enabled`,
        `if ($LASTEXITCODE -ne 0) { throw "netsh could not enable forwarding on vEthernet (${ep}) (exit $LASTEXITCODE)" }`,
        "# and on the node's own interface, as flannel's host-gw backend does (pkg/backend/hostgw/hostgw_windows.go)",
        `Get-NetIPAddress -IPAddress ${ps(node.privateIp)} | Set-NetIPInterface -Forwarding Enabled`,
        "while ($true) { Start-Sleep -Seconds 3600 }",
    ]);
}
