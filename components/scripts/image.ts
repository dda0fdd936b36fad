// The prebuilt Windows node image: what it runs besides the node's own steps, and the order of
// its build. The image runs the very scripts a node runs (windows.ts renderPrepareFeatures,
// renderFeaturesReady, renderPrepareRuntime), rendered from the same inputs, so a node made from
// it takes their second-run path. What differs is only what a node knows and an image cannot:
// the admin's SSH key. The image installs sshd without starting it (so no host key is baked in),
// and a boot task reads the key from the VM's custom data at every start, then starts sshd.
//
// Pure: scripts in, scripts out. images/index.ts turns the steps into an image template.
import { NodeAddress } from "../addressing";
import { windowsCniConf } from "../manifests/cni";
import { TopologySpec } from "../topology";
import { digest, ps, psData } from "./shell";
import * as win from "./windows";

/**
 * Azure writes a Windows VM's custom data, decoded, to %SYSTEMDRIVE%\AzureData\CustomData.bin and
 * does not run it (learn.microsoft.com/azure/virtual-machines/custom-data, "Process custom data",
 * Windows).
 */
export const CUSTOM_DATA_FILE = "C:\\AzureData\\CustomData.bin";
/** The boot task that installs the custom data's SSH key and starts sshd. */
export const FIRST_BOOT_TASK = "hybrid-k8s-authorized-key";
/** The folders containerd and the kubelet write to, scanned by Defender on every image layer. */
export const DEFENDER_EXCLUSIONS = ["$env:ProgramData\\containerd", "$env:ProgramFiles\\containerd", "C:\\k", "C:\\var\\lib\\kubelet", "C:\\opt\\cni\\bin"];


/** A key line sshd accepts in administrators_authorized_keys: type, base64 key data, comment. */
const KEY_PATTERN = "^(ssh-ed25519|ssh-rsa) [A-Za-z0-9+/]+={0,3}( .*)?$";

/**
 * Waits up to five minutes for the features step's External HNS network (its boot task creates it;
 * its creation re-plumbs the NIC, so an SSH session opened before it would drop). Boot tasks run
 * this before they start sshd.
 */
export const EXTERNAL_WAIT = `Import-Module C:\\k\\hns.psm1 -DisableNameChecking
for ($i = 0; ($i -lt 60) -and -not (Get-HnsNetwork | Where-Object Name -EQ External); $i++) { Start-Sleep -Seconds 5 }
`;

/** The VM's custom data for a node made from the image: its admin's public key, one line. */
export function imageCustomData(publicKey: string): string {
    return `${publicKey.trim()}\n`;
}

/**
 * The boot task (SYSTEM, at every start). It takes the key lines from the custom data file (only
 * lines that look like a key, as data: nothing in them runs), writes administrators_authorized_keys
 * with the ACL sshd requires (only Administrators and SYSTEM; Win32-OpenSSH "Deploying the public
 * key", learn.microsoft.com/windows-server/administration/openssh/openssh_keymanagement), waits up
 * to five minutes for the features step's External HNS network (its creation re-plumbs the NIC:
 * an SSH session opened before it would drop), then starts sshd. Without custom data it starts
 * sshd with no key: the node is reachable by no one, which is what a missing key means.
 */
export function renderFirstBootTask(): string {
    return `${win.PRELUDE}New-Item -ItemType Directory -Force C:\\var\\log\\kubernetes | Out-Null
Start-Transcript -Append C:\\var\\log\\kubernetes\\authorized-key.log | Out-Null
$keys = "$env:ProgramData\\ssh\\administrators_authorized_keys"
if (Test-Path ${CUSTOM_DATA_FILE}) {
  $lines = @([IO.File]::ReadAllText($ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath('${CUSTOM_DATA_FILE}')).Split("\`n") | ForEach-Object { $_.Trim() } | Where-Object { $_ -match ${ps(KEY_PATTERN)} })
  if ($lines.Count -eq 0) { Write-Output "${CUSTOM_DATA_FILE} holds no SSH public key" }
  else {
    New-Item -ItemType Directory -Force "$env:ProgramData\\ssh" | Out-Null
    if (-not (Test-Path $keys)) { New-Item -ItemType File $keys | Out-Null }
    Invoke-Native "icacls $keys" { icacls.exe $keys /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F' } | Out-Null
    Set-FileText $keys (($lines -join "\`n") + "\`n") | Out-Null
    Write-Output "installed $($lines.Count) key(s) from ${CUSTOM_DATA_FILE}"
  }
}
${EXTERNAL_WAIT}Set-Service sshd -StartupType Automatic
Start-Service sshd
Stop-Transcript | Out-Null
`;
}

/**
 * The image's own step, first: the OpenSSH server with PowerShell as its shell (as the node's
 * extension installs it, windows.ts renderOpenSshSetup) but stopped and not started at boot, so
 * its host keys are made on each node, not baked into the image; the firewall rule; the boot task
 * above; Defender exclusions for containerd's and the kubelet's folders (Add-MpPreference
 * -ExclusionPath, learn.microsoft.com/powershell/module/defender/add-mppreference; Microsoft's
 * guidance to exclude container runtime folders: learn.microsoft.com/virtualization/
 * windowscontainers/manage-containers/container-security "Windows Defender"), skipped where
 * Defender is not installed.
 */
export function renderImageSetup(): string {
    const exclusions = DEFENDER_EXCLUSIONS.map((p) => `"${p}"`).join(", ");
    return `${win.PRELUDE}${win.DETACHED_FN}
${win.SSHD_INSTALL}Stop-Service sshd -Force -ErrorAction SilentlyContinue
Set-Service sshd -StartupType Manual
${win.SSHD_FIREWALL}New-Item -ItemType Directory -Force C:\\k | Out-Null
Register-Detached ${FIRST_BOOT_TASK} ${psData(renderFirstBootTask(), `${FIRST_BOOT_TASK}.ps1`)} -AtStartup
if (Get-Command Add-MpPreference -ErrorAction SilentlyContinue) {
  foreach ($p in @(${exclusions})) { Add-MpPreference -ExclusionPath $p }
  Write-Output "Defender exclusions: $((Get-MpPreference).ExclusionPath -join ', ')"
}
Write-Output "sshd installed (starts at first boot), boot task ${FIRST_BOOT_TASK} registered"
`;
}

/**
 * After the runtime step: its workload pulls run as a background task (the join does not need
 * them); an image must hold them, so this waits for that task and pulls what is still missing.
 */
export function renderImagePrePull(images: string[]): string {
    const pulls = images.map((i) => `if (-not (Test-Crictl @('inspecti', ${ps(i)}))) { Invoke-Native ${ps(`pull ${i}`)} { crictl.exe --config C:\\k\\crictl.yaml pull ${ps(i)} } }`).join("\n");
    return `${win.PRELUDE}${win.CRICTL_FN}for ($i = 0; (Get-ScheduledTask -TaskName hybrid-k8s-prepull -ErrorAction SilentlyContinue).State -eq 'Running'; $i++) {
  if ($i -ge 360) { throw 'the background image pull is still running after 60 minutes' }
  Start-Sleep -Seconds 10
}
${pulls}
Write-Output "images present: ${images.join(", ")}"
`;
}

/**
 * Last: what only the build VM should have. The CNI config the runtime step wrote is the build's
 * (a node's own runtime step writes its own); sshd's host keys (made when the boot task started
 * sshd after the build's reboot) and authorized keys would be shared by every node.
 */
export function renderImageCleanup(): string {
    return `${win.PRELUDE}
Remove-Item -Force C:\\etc\\cni\\net.d\\10-hybrid-k8s.conf -ErrorAction SilentlyContinue
# the boot task started sshd after the build's reboot: stopped again, it starts on each node's first boot
Stop-Service sshd -Force -ErrorAction SilentlyContinue
Set-Service sshd -StartupType Manual
Get-ChildItem "$env:ProgramData\\ssh" -Filter 'ssh_host_*' -ErrorAction SilentlyContinue | Remove-Item -Force
Remove-Item -Force "$env:ProgramData\\ssh\\administrators_authorized_keys" -ErrorAction SilentlyContinue
Remove-Item -Recurse -Force C:\\k\\download -ErrorAction SilentlyContinue
Write-Output "build-only files removed"
`;
}

/** Tells the node's prepare-features script that the image build reboots (see renderPrepareFeatures). */
export const IMAGE_REBOOTS = "$env:HYBRID_K8S_REBOOT_BY_CALLER = '1'\n";

/** A step of an image build: a script (PowerShell on Windows, Shell on Linux) or a Windows restart. */
export type ImageStep = { name: string; kind: "PowerShell" | "Shell"; script: string } | { name: string; kind: "WindowsRestart" };

export interface ImageInput {
    /** The network kind the image's External HNS network is made for (vxlan: Overlay; host-gw, tor: L2Bridge). */
    spec: TopologySpec;
    versions: win.WindowsVersions;
    /** Images to hold (the sample's image). The pause image is pulled by the runtime step. */
    prePull: string[];
    /**
     * A node address for the runtime step's CNI config, which depends on the cluster: the image
     * removes that file again (renderImageCleanup); every node writes its own.
     */
    buildNode: NodeAddress;
    cidrs: { podCidr: string; serviceCidr: string; vnetCidr: string };
}

/**
 * The build, in order. The features step installs the Containers feature and leaves the reboot
 * to the restart step (Image Builder's WindowsRestart customizer restarts and waits); the
 * features-ready step then proves it happened and waits for the External HNS network.
 */
export function imageSteps(input: ImageInput): ImageStep[] {
    const cniConfig = windowsCniConf({ spec: input.spec, node: input.buildNode, ...input.cidrs });
    return [
        { name: "image-setup", kind: "PowerShell", script: renderImageSetup() },
        // the node's own script; the reboot is left to the WindowsRestart step that follows, which
        // waits for it (a reboot of the script's own, 10 s later, would race that step)
        { name: "prepare-features", kind: "PowerShell", script: `${IMAGE_REBOOTS}${win.renderPrepareFeatures({ spec: input.spec })}` },
        { name: "features-restart", kind: "WindowsRestart" },
        { name: "features-ready", kind: "PowerShell", script: win.renderFeaturesReady() },
        {
            name: "prepare-runtime",
            kind: "PowerShell",
            script: win.renderPrepareRuntime({ spec: input.spec, node: input.buildNode, versions: input.versions, cniConfig, prePull: input.prePull }),
        },
        ...(input.prePull.length ? [{ name: "prepull", kind: "PowerShell" as const, script: renderImagePrePull(input.prePull) }] : []),
        { name: "image-cleanup", kind: "PowerShell", script: renderImageCleanup() },
    ];
}

/**
 * The image version's name, from a hash of everything that goes into the image: the source image,
 * the versions and every script. Gallery image versions are Major.Minor.Patch, each a 32-bit
 * integer (learn.microsoft.com/azure/virtual-machines/shared-image-galleries "Image versions"):
 * 1.<28 bits>.<28 bits> of the hash. Equal inputs, equal name; any change, a new version.
 */
export function imageVersionName(source: string, steps: ImageStep[]): string {
    const h = digest(source, ...steps.map((s) => `${s.name}\n${s.kind}\n${s.kind === "WindowsRestart" ? "" : s.script}`));
    return `1.${parseInt(h.slice(0, 7), 16)}.${parseInt(h.slice(7, 14), 16)}`;
}
