// PowerShell for the Windows workers, rendered from typed inputs. Every script stops on the first
// error ($ErrorActionPreference = 'Stop'), is idempotent (a re-run on a joined node changes
// nothing and succeeds), retries downloads and checks what it downloads.
//
// Sources of paths and flags: kubernetes-sigs/sig-windows-tools hostprocess/Install-Containerd.ps1
// and PrepareNode.ps1 (containerd, CNI paths, kubelet flags, nssm), its flannel hostprocess
// start.ps1 files (flanneld and kube-proxy arguments, the source VIP), microsoft/SDN
// Kubernetes/windows (hns.psm1, the External network, the l2bridge host endpoint).
import { NodeAddress } from "../addressing";
import { TopologySpec } from "../topology";
import { ps } from "./shell";

/** microsoft/SDN's hns.psm1 at a pinned commit, and its SHA-256 (computed from that commit). */
export const HNS_MODULE = {
    url: "https://raw.githubusercontent.com/microsoft/SDN/242fb0c3190dbb08d7f9406727be18322218e537/Kubernetes/windows/hns.psm1",
    sha256: "a8a53ed4fac2e27c7e4268db069d4cf3129a56d466ef3bf9465fb52dcd76a29c",
};
/** nssm 2.24 from the Kubernetes test-infra mirror (the one sig-windows-tools uses). */
export const NSSM_URL = "https://k8stestinfrabinaries.blob.core.windows.net/nssm-mirror/nssm-2.24.zip";
/** The sandbox (pause) image, pinned in containerd's config: multi-arch, with ltsc2022 images. */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10";
export const CONTAINERD_PIPE = "npipe:////./pipe/containerd-containerd";

export interface WindowsVersions {
    kubernetesVersion: string;
    containerdVersion: string;
    flannelVersion: string;
    flannelCniPluginVersion: string;
    cniPluginsVersion: string;
    sdnPluginsVersion: string;
}

/** One download: where from, where to, and how it is checked. */
export interface Download {
    url: string;
    /** A file upstream publishes next to the artifact, whose first word is its SHA-256. */
    sha256Url?: string;
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
    const downloads: Record<string, Download> = {
        "kubelet.exe": { url: `${k8s}/kubelet.exe`, sha256Url: `${k8s}/kubelet.exe.sha256` },
        "kubeadm.exe": { url: `${k8s}/kubeadm.exe`, sha256Url: `${k8s}/kubeadm.exe.sha256` },
        "kube-proxy.exe": { url: `${k8s}/kube-proxy.exe`, sha256Url: `${k8s}/kube-proxy.exe.sha256` },
        "containerd.tar.gz": { url: containerd, sha256Url: `${containerd}.sha256sum` },
        "crictl.tar.gz": { url: crictl, sha256Url: `${crictl}.sha256` },
        "cni-plugins.tgz": { url: plugins, sha256Url: `${plugins}.sha256` },
        "sdn-plugins.zip": { url: `https://github.com/microsoft/windows-container-networking/releases/download/v${v.sdnPluginsVersion}/windows-container-networking-cni-amd64-v${v.sdnPluginsVersion}.zip` },
        "nssm.zip": { url: NSSM_URL },
        "hns.psm1": { url: HNS_MODULE.url, sha256: HNS_MODULE.sha256 },
    };
    if (spec.flannelBackend) {
        const cni = `https://github.com/flannel-io/cni-plugin/releases/download/v${v.flannelCniPluginVersion}/cni-plugin-flannel-windows-amd64-v${v.flannelCniPluginVersion}.tgz`;
        downloads["flanneld.exe"] = { url: `https://github.com/flannel-io/flannel/releases/download/v${v.flannelVersion}/flanneld.exe` };
        downloads["flannel-cni.tgz"] = { url: cni, sha256Url: `${cni}.sha256` };
    }
    return downloads;
}

/** Every script starts here: stop on errors, quiet progress, helpers for downloads and services. */
const PRELUDE = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function Invoke-Native([string]$What, [scriptblock]$Block) { & $Block; if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" } }
`;

/**
 * Runs a script file as SYSTEM from the Task Scheduler, outside this SSH session: it survives
 * the session ending (a reboot, a NIC re-plumb) where a child process of sshd would not.
 */
const DETACHED_FN = `function Start-Detached([string]$Name, [string]$Script) {
  $file = "C:\\k\\$Name.ps1"
  Set-Content -Path $file -Encoding ascii -Value $Script
  $action = New-ScheduledTaskAction -Execute powershell.exe -Argument "-NoProfile -ExecutionPolicy Bypass -File $file"
  $principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
  Register-ScheduledTask -TaskName $Name -Action $action -Principal $principal -Force | Out-Null
  Start-ScheduledTask -TaskName $Name
}
`;

const DOWNLOAD_FN = `function Get-Checked([string]$Path, [string]$Url, [string]$ShaUrl, [string]$Sha) {
  for ($i = 1; ; $i++) {
    & curl.exe -fsSL --retry 3 --retry-delay 5 -o $Path $Url
    if ($LASTEXITCODE -eq 0) { break }
    if ($i -ge 5) { throw "download of $Url failed (curl exit $LASTEXITCODE)" }
    Start-Sleep -Seconds (5 * $i)
  }
  $actual = (Get-FileHash -Algorithm SHA256 $Path).Hash.ToLower()
  if ($ShaUrl) {
    $Sha = ((& curl.exe -fsSL --retry 5 $ShaUrl) -join ' ').Trim().Split(' ')[0]
    if ($LASTEXITCODE -ne 0 -or $Sha -notmatch '^[0-9a-fA-F]{64}$') { throw "could not read the published checksum $ShaUrl" }
  }
  if ($Sha) {
    if ($actual -ne $Sha.ToLower()) { Remove-Item -Force $Path; throw "checksum mismatch for $Url" }
    Write-Output "verified $Url"
  } else {
    Write-Output "downloaded $Url (sha256 $actual; upstream publishes no checksum)"
  }
}
`;

/** Installs the OpenSSH server, PowerShell as its default shell, the admin's key. Run by the VM extension. */
export function renderOpenSshSetup(publicKey: string): string {
    return `${PRELUDE}
if (-not (Get-Service sshd -ErrorAction SilentlyContinue)) {
  Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0 | Out-Null
}
New-ItemProperty -Path HKLM:\\SOFTWARE\\OpenSSH -Name DefaultShell -PropertyType String -Force -Value "$env:WINDIR\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" | Out-Null
$keys = "$env:ProgramData\\ssh\\administrators_authorized_keys"
New-Item -ItemType Directory -Force "$env:ProgramData\\ssh" | Out-Null
Set-Content -Path $keys -Value ${ps(publicKey)} -Encoding ascii
Invoke-Native icacls { icacls.exe $keys /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F' | Out-Null }
Set-Service sshd -StartupType Automatic
Restart-Service sshd
if (-not (Get-NetFirewallRule -Name sshd -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name sshd -DisplayName 'OpenSSH Server (sshd)' -Direction Inbound -Protocol TCP -LocalPort 22 -Action Allow | Out-Null
}
`;
}

/** A readiness poll. After the features reboot it also proves the reboot happened. */
export function renderWindowsReady(afterReboot: boolean): string {
    if (!afterReboot) {
        return `${PRELUDE}Write-Output "ready: $env:COMPUTERNAME"
`;
    }
    return `${PRELUDE}
$state = (Get-WindowsFeature -Name Containers).InstallState
if ($state -ne 'Installed') { throw "the Containers feature is $state: the node has not rebooted yet; run pulumi up again" }
Write-Output "ready after reboot: $env:COMPUTERNAME"
`;
}

export interface FeaturesInput {
    spec: TopologySpec;
}

/**
 * Windows features and host settings that need a reboot: the Containers feature, firewall
 * (kubelet 10250, VXLAN 4789/UDP, inbound ICMP echo), the persistent Azure metadata route.
 * When a reboot is needed, sshd stops first (so the next readiness poll cannot reach the node
 * before it restarts) and the reboot runs from a scheduled task, outside this SSH session.
 */
export function renderPrepareFeatures(input: FeaturesInput): string {
    const vxlan = input.spec.vxlanPort
        ? `if (-not (Get-NetFirewallRule -Name hybrid-k8s-vxlan -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name hybrid-k8s-vxlan -DisplayName 'flannel VXLAN' -Direction Inbound -Protocol UDP -LocalPort ${input.spec.vxlanPort} -Action Allow | Out-Null
}
`
        : "";
    return `${PRELUDE}${DETACHED_FN}
New-Item -ItemType Directory -Force C:\\k | Out-Null
if (-not (Get-NetFirewallRule -Name hybrid-k8s-kubelet -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name hybrid-k8s-kubelet -DisplayName 'kubelet' -Direction Inbound -Protocol TCP -LocalPort 10250 -Action Allow | Out-Null
}
if (-not (Get-NetFirewallRule -Name hybrid-k8s-icmp -ErrorAction SilentlyContinue)) {
  New-NetFirewallRule -Name hybrid-k8s-icmp -DisplayName 'ICMPv4 echo' -Direction Inbound -Protocol ICMPv4 -IcmpType 8 -Action Allow | Out-Null
}
${vxlan}# Keep the Azure instance metadata endpoint reachable once HNS re-plumbs the NIC.
if (-not (Get-NetRoute -DestinationPrefix 169.254.169.254/32 -ErrorAction SilentlyContinue)) {
  Invoke-Native route { route.exe /p add 169.254.169.254 mask 255.255.255.255 0.0.0.0 | Out-Null }
}
$feature = Get-WindowsFeature -Name Containers
if ($feature.InstallState -eq 'Installed') {
  Write-Output "Containers feature installed"
  exit 0
}
if ($feature.InstallState -ne 'InstallPending') {
  Install-WindowsFeature -Name Containers | Out-Null
}
Start-Detached hybrid-k8s-reboot 'Stop-Service sshd -Force; Restart-Computer -Force'
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

function downloadsBlock(downloads: Record<string, Download>): string {
    return Object.entries(downloads)
        .map(([file, d]) => `Get-Checked (Join-Path $dl ${ps(file)}) ${ps(d.url)} ${ps(d.sha256Url ?? "")} ${ps(d.sha256 ?? "")}`)
        .join("\n");
}

/**
 * The runtime: containerd (service), Kubernetes and CNI binaries, nssm, the CNI config, and the
 * dummy External HNS network that makes later network creation keep the SSH session. A marker
 * file records the installed versions, so a re-run with the same versions skips the downloads.
 */
export function renderPrepareRuntime(input: RuntimeInput): string {
    const v = input.versions;
    const downloads = windowsDownloads(v, input.spec);
    const stamp = JSON.stringify(v);
    const externalType = input.spec.windowsNetworkType === "Overlay" ? "Overlay" : "L2Bridge";
    const vsid = externalType === "Overlay" ? " -SubnetPolicies @(@{Type = 'VSID'; VSID = 9999; })" : "";
    const flannel = input.spec.flannelBackend
        ? `Copy-Item -Force (Join-Path $dl 'flanneld.exe') C:\\k\\flanneld.exe
Invoke-Native tar { tar.exe -xf (Join-Path $dl 'flannel-cni.tgz') -C $dl }
Copy-Item -Force (Join-Path $dl 'flannel-amd64.exe') C:\\opt\\cni\\bin\\flannel.exe
`
        : "";
    return `${PRELUDE}${DOWNLOAD_FN}${DETACHED_FN}
foreach ($d in 'C:\\k', 'C:\\opt\\cni\\bin', 'C:\\etc\\cni\\net.d', 'C:\\etc\\kube-flannel', 'C:\\var\\log\\kubernetes', "$env:ProgramFiles\\containerd", "$env:ProgramFiles\\nssm") {
  New-Item -ItemType Directory -Force $d | Out-Null
}
$stamp = ${ps(stamp)}
if ((Test-Path C:\\k\\versions.json) -and ((Get-Content -Raw C:\\k\\versions.json).Trim() -eq $stamp) -and (Get-Service containerd -ErrorAction SilentlyContinue)) {
  Write-Output "binaries already at $stamp"
} else {
  $dl = Join-Path $env:TEMP 'hybrid-k8s'
  New-Item -ItemType Directory -Force $dl | Out-Null
${downloadsBlock(downloads)
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n")}
  foreach ($s in 'kube-proxy', 'kubelet', 'flanneld', 'hybrid-k8s-l2bridge', 'containerd') { if (Get-Service $s -ErrorAction SilentlyContinue) { Stop-Service $s -Force } }
  foreach ($b in 'kubelet.exe', 'kubeadm.exe', 'kube-proxy.exe') { Copy-Item -Force (Join-Path $dl $b) "C:\\k\\$b" }
  Invoke-Native tar { tar.exe -xf (Join-Path $dl 'containerd.tar.gz') '--strip-components=1' -C "$env:ProgramFiles\\containerd" }
  Invoke-Native tar { tar.exe -xf (Join-Path $dl 'crictl.tar.gz') -C C:\\k }
  Invoke-Native tar { tar.exe -xf (Join-Path $dl 'cni-plugins.tgz') -C C:\\opt\\cni\\bin }
  Expand-Archive -Force (Join-Path $dl 'sdn-plugins.zip') C:\\opt\\cni\\bin
  Expand-Archive -Force (Join-Path $dl 'nssm.zip') $dl
  Copy-Item -Force (Join-Path $dl 'nssm-2.24\\win64\\nssm.exe') "$env:ProgramFiles\\nssm\\nssm.exe"
  Copy-Item -Force (Join-Path $dl 'hns.psm1') C:\\k\\hns.psm1
  ${flannel.trim().split("\n").join("\n  ")}
  Set-Content -Path C:\\k\\versions.json -Value $stamp
}
$path = [Environment]::GetEnvironmentVariable('Path', 'Machine')
foreach ($p in 'C:\\k', "$env:ProgramFiles\\containerd", "$env:ProgramFiles\\nssm") {
  if (-not ($path.Split(';') -contains $p)) { $path = "$path;$p" }
}
[Environment]::SetEnvironmentVariable('Path', $path, 'Machine')
$env:Path = "$env:Path;$path"

# containerd: sandbox image pinned, CNI from C:\\opt\\cni\\bin and C:\\etc\\cni\\net.d, as a service.
Set-Content -Path "$env:ProgramFiles\\containerd\\config.toml" -Encoding ascii -Value ${ps(containerdConfig(v.containerdVersion))}
if (-not (Get-Service containerd -ErrorAction SilentlyContinue)) {
  Invoke-Native containerd { & "$env:ProgramFiles\\containerd\\containerd.exe" --register-service --config "$env:ProgramFiles\\containerd\\config.toml" }
}
Set-Service containerd -StartupType Automatic
Restart-Service containerd
Set-Content -Path C:\\k\\crictl.yaml -Encoding ascii -Value "runtime-endpoint: ${CONTAINERD_PIPE}\`nimage-endpoint: ${CONTAINERD_PIPE}\`n"

# CNI config: its name is the HNS network name (${input.spec.windowsNetworkName}). containerd's own nat config would take the pods: remove it.
Get-ChildItem 'C:\\etc\\cni\\net.d', "$env:ProgramFiles\\containerd\\cni\\conf" -Filter '*nat*' -ErrorAction SilentlyContinue | Remove-Item -Force
Set-Content -Path C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf -Encoding ascii -Value ${ps(input.cniConfig)}

# The sandbox image now: every pod needs it.
Invoke-Native 'pull ${PAUSE_IMAGE}' { & C:\\k\\crictl.exe --config C:\\k\\crictl.yaml pull '${PAUSE_IMAGE}' | Out-Null }
${
    input.prePull.length
        ? `# Workload images in the background: the join does not need them, and the pull (gigabytes for
# servercore) overlaps it. Pods that start earlier simply wait for the same pull in containerd.
Start-Detached hybrid-k8s-prepull ${ps(
              input.prePull.map((i) => `& C:\\k\\crictl.exe --config C:\\k\\crictl.yaml pull '${i}' *>> C:\\var\\log\\kubernetes\\prepull.log`).join("\n"),
          )}
`
        : ""
}
# The first HNS network re-plumbs the NIC. Create a dummy External network now (detached, so a
# dropped session cannot interrupt it), so that flannel's network later leaves SSH alone.
Import-Module C:\\k\\hns.psm1 -DisableNameChecking
if (-not (Get-HnsNetwork | Where-Object Name -EQ External)) {
  Start-Detached hybrid-k8s-external-network ${ps(`Import-Module C:\\k\\hns.psm1 -DisableNameChecking
New-HNSNetwork -Type ${externalType} -AddressPrefix '192.168.255.0/30' -Gateway '192.168.255.1' -Name External${vsid}`)}
  for ($i = 0; -not (Get-HnsNetwork | Where-Object Name -EQ External); $i++) {
    if ($i -ge 120) { throw 'the External HNS network was not created' }
    Start-Sleep -Seconds 1
  }
}
# A re-run (new versions) stopped the node's services to replace their binaries: start them again.
foreach ($s in 'flanneld', 'hybrid-k8s-l2bridge', 'kubelet', 'kube-proxy') { if (Get-Service $s -ErrorAction SilentlyContinue) { Start-Service $s } }
Write-Output "runtime ready: containerd ${v.containerdVersion}, kubernetes ${v.kubernetesVersion}"
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
 * 1.34 (the sandbox image is pinned in containerd's config instead).
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
    if (minor < 34) {
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
    return [`$ErrorActionPreference = 'Stop'`, ...lines].join("\n");
}

/**
 * The join: host-agent kubeconfigs (from stdin, ACL-restricted), flanneld, kubelet and kube-proxy
 * as services (boot order containerd → flanneld → kubelet → kube-proxy), then `kubeadm join` with
 * the fresh token from stdin, unless the node has joined already. Waits until the services run
 * and the kubelet is healthy. stdin: {"joinCommand", "kubeProxy", "flannel"?} as JSON.
 */
export function renderJoin(input: JoinInput): string {
    const { spec, node } = input;
    const net = spec.windowsNetworkName;
    const flannel = !!spec.flannelBackend;
    const kubelet = startScript([`& C:\\k\\kubelet.exe ${kubeletFlags(node, input.kubernetesVersion).join(" ")}`]);
    const sourceVip = spec.windowsNetworkType === "Overlay";
    const proxyFlags = kubeProxyFlags({ node, spec, podCidr: input.podCidr, kubernetesVersion: input.kubernetesVersion });
    const proxy = startScript([
        `$env:KUBE_NETWORK = ${ps(net)}`,
        `while (-not (Get-HnsNetwork | Where-Object Name -EQ ${ps(net)})) { Start-Sleep -Seconds 2 }`,
        ...(sourceVip
            ? [
                  "# overlay: a source VIP reserved from this node's pod subnet with host-local, kept across restarts",
                  "if (-not (Test-Path C:\\k\\source-vip.json)) {",
                  `  $env:CNI_COMMAND = 'ADD'; $env:CNI_CONTAINERID = 'source-vip'; $env:CNI_NETNS = 'none'; $env:CNI_IFNAME = 'none'; $env:CNI_PATH = 'C:\\opt\\cni\\bin'`,
                  `  ${ps(JSON.stringify({ cniVersion: "0.3.0", name: net, ipam: { type: "host-local", ranges: [[{ subnet: node.podCidr }]], dataDir: "/var/lib/cni/networks" } }))} | & C:\\opt\\cni\\bin\\host-local.exe | Set-Content C:\\k\\source-vip.json`,
                  "}",
                  "$vip = ((Get-Content -Raw C:\\k\\source-vip.json | ConvertFrom-Json).ips[0].address -split '/')[0]",
                  `& C:\\k\\kube-proxy.exe ${proxyFlags.join(" ")} --source-vip=$vip`,
              ]
            : [`& C:\\k\\kube-proxy.exe ${proxyFlags.join(" ")}`]),
    ]);
    const flanneld = startScript([
        `$env:NODE_NAME = ${ps(node.name)}`,
        `& C:\\k\\flanneld.exe --kube-subnet-mgr --kubeconfig-file=C:\\k\\flannel.kubeconfig --iface=${node.privateIp} --net-config-path=C:\\etc\\kube-flannel\\net-conf.json`,
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
    services.push({ name: "kube-proxy", script: proxy, dependsOn: ["kubelet"] });

    const writeServices = services
        .map(
            (s) => `Set-Content -Path C:\\k\\start-${s.name}.ps1 -Encoding ascii -Value ${ps(s.script)}
Install-AgentService ${ps(s.name)} C:\\k\\start-${s.name}.ps1 @(${s.dependsOn.map(ps).join(", ")})`,
        )
        .join("\n");
    const startOrder = services.map((s) => s.name).filter((n) => n !== "kubelet" && n !== "kube-proxy");

    return `${PRELUDE}
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
function Write-Secret([string]$Path, [string]$Value) {
  Set-Content -Path $Path -Encoding ascii -Value $Value
  Invoke-Native icacls { icacls.exe $Path /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F' | Out-Null }
}
function Install-AgentService([string]$Name, [string]$Script, [string[]]$DependsOn) {
  $nssm = "$env:ProgramFiles\\nssm\\nssm.exe"
  if (-not (Get-Service $Name -ErrorAction SilentlyContinue)) {
    Invoke-Native "nssm install $Name" { & $nssm install $Name powershell.exe -NoProfile -ExecutionPolicy Bypass -File $Script | Out-Null }
  }
  foreach ($kv in @(@('AppStdout', "C:\\var\\log\\kubernetes\\$Name.log"), @('AppStderr', "C:\\var\\log\\kubernetes\\$Name.log"), @('AppRotateFiles', '1'), @('AppRotateOnline', '1'), @('AppRotateBytes', '10485760'), @('Start', 'SERVICE_AUTO_START'))) {
    Invoke-Native "nssm set $Name" { & $nssm set $Name $kv[0] $kv[1] | Out-Null }
  }
  Invoke-Native "nssm set $Name" { & $nssm set $Name DependOnService @DependsOn | Out-Null }
}
foreach ($d in 'C:\\var\\lib\\kubelet\\etc\\kubernetes', 'C:\\etc\\kubernetes\\pki', 'C:\\var\\log\\kubernetes') { New-Item -ItemType Directory -Force $d | Out-Null }
if (-not (Test-Path C:\\var\\lib\\kubelet\\etc\\kubernetes\\pki)) {
  New-Item -ItemType SymbolicLink -Path C:\\var\\lib\\kubelet\\etc\\kubernetes\\pki -Value C:\\etc\\kubernetes\\pki | Out-Null
}
Write-Secret C:\\k\\kube-proxy.kubeconfig $in.kubeProxy
${flannel ? `Write-Secret C:\\k\\flannel.kubeconfig $in.flannel
Set-Content -Path C:\\etc\\kube-flannel\\net-conf.json -Encoding ascii -Value ${ps(input.flannelNetConf ?? "")}
` : ""}Import-Module C:\\k\\hns.psm1 -DisableNameChecking
${writeServices}
${startOrder.map((n) => `Start-Service ${n}`).join("\n")}

if (Test-Path C:\\etc\\kubernetes\\kubelet.conf) {
  Write-Output "${node.name} has joined already"
  Start-Service kubelet
} else {
  if ($in.joinCommand -notmatch '^kubeadm join (\\S+) --token (\\S+) --discovery-token-ca-cert-hash (\\S+)') { throw 'the join command from the master has an unexpected form' }
  $endpoint, $token, $hash = $Matches[1], $Matches[2], $Matches[3]
  # kubeadm's own output goes to a log on the node (this step's output is kept secret)
  & C:\\k\\kubeadm.exe join $endpoint --token $token --discovery-token-ca-cert-hash $hash --node-name ${node.name} --cri-socket ${CONTAINERD_PIPE} *> C:\\var\\log\\kubernetes\\kubeadm-join.log
  if ($LASTEXITCODE -ne 0) { throw "kubeadm join failed (exit $LASTEXITCODE); see C:\\var\\log\\kubernetes\\kubeadm-join.log on ${node.name}" }
}
Start-Service kube-proxy
for ($i = 0; ; $i++) {
  $down = @(${services.map((s) => ps(s.name)).join(", ")}) | Where-Object { (Get-Service $_).Status -ne 'Running' }
  $healthy = $false
  try { $healthy = (Invoke-WebRequest -UseBasicParsing -TimeoutSec 5 http://127.0.0.1:10248/healthz).Content -eq 'ok' } catch { }
  if (-not $down -and $healthy -and (Get-HnsNetwork | Where-Object Name -EQ ${ps(net)})) { break }
  if ($i -ge 120) { throw "${node.name} did not come up: services not running: $down; kubelet healthy: $healthy; see C:\\var\\log\\kubernetes" }
  Start-Sleep -Seconds 5
}
Write-Output "${node.name} joined: services running, kubelet healthy, HNS network ${net} present"
`;
}

/**
 * tor: the boot-time service that creates this node's L2Bridge network (gateway .1), a host
 * endpoint (.2) with forwarding on, before kubelet starts, then stays up so kubelet can depend
 * on it (microsoft/SDN Kubernetes/windows/start-kubelet.ps1 does the same at kubelet start).
 */
export function renderL2BridgeService(node: NodeAddress, networkName: string): string {
    return startScript([
        "Import-Module C:\\k\\hns.psm1 -DisableNameChecking",
        `$net = Get-HnsNetwork | Where-Object Name -EQ ${ps(networkName)}`,
        `if (-not $net) { $net = New-HNSNetwork -Type L2Bridge -AddressPrefix ${ps(node.podCidr)} -Gateway ${ps(node.podGateway)} -Name ${ps(networkName)} }`,
        `$ep = Get-HnsEndpoint | Where-Object Name -EQ ${ps(`${networkName}_ep`)}`,
        `if (-not $ep) { $ep = New-HnsEndpoint -NetworkId $net.Id -Name ${ps(`${networkName}_ep`)} -IPAddress ${ps(node.podHostEndpoint)} -Gateway '0.0.0.0'; Attach-HnsHostEndpoint -EndpointID $ep.Id -CompartmentID 1 }`,
        `netsh.exe interface ipv4 set interface ${ps(`vEthernet (${networkName}_ep)`)} forwarding=enabled | Out-Null`,
        "while ($true) { Start-Sleep -Seconds 3600 }",
    ]);
}
