// The stock-image path folded into the provisioning extension. On a marketplace Windows image one
// script, run once by the Custom Script Extension, does what the SSH steps did around a reboot:
// the OpenSSH server with the admin's key, the Containers feature (and the host settings of
// prepare-features), the runtime's downloads and binaries, then a single reboot. At the boot after
// it a boot task sets up containerd, the CNI config and the pulls (the runtime step's second half,
// which needs the Containers feature active) and only then starts sshd. The SSH steps that follow
// (ready, prepare-runtime, join) find everything in place: prepare-runtime takes its second-run path.
//
// One source of truth: the parts are the node's own step scripts (windows.ts renderOpenSshSetup,
// renderPrepareFeatures, renderPrepareRuntime), byte for byte, as the image build (image.ts
// imageSteps) composes them.
//
// How the Custom Script Extension runs it (learn.microsoft.com/azure/virtual-machines/extensions/
// custom-script-windows, "Tips"; its source is MicrosoftDocs/azure-compute-docs
// articles/virtual-machines/extensions/custom-script-windows.md):
// - commandToExecute goes through cmd.exe (the tips warn that a Command Processor AutoRun entry runs
//   during the extension's enable; `>` in a command is taken as a redirection: Azure/custom-script-
//   extension-linux#204, a report against the Windows extension 1.10), so cmd.exe's limit of 8,191
//   characters applies (learn.microsoft.com/troubleshoot/windows-client/shell-experience/
//   command-line-string-limitation). The node's scripts together are far longer: the command only
//   fetches the script from the VM's user data and checks it against a SHA-256 it carries.
// - The docs name no size limit for settings/protectedSettings, and the script cannot ride there:
//   the extension's schema refuses keys of its own, and reading the handler's settings files on
//   the VM is not supported (Azure/azure-quickstart-templates#2578, a maintainer's answer). A VM's
//   user data is at most 64 KB (base64), readable by any process on the VM from the instance
//   metadata service, and can be changed without stopping the VM
//   (learn.microsoft.com/azure/virtual-machines/user-data). It holds no secret here: the admin's
//   public key, versions, configs.
// - The script may run 90 minutes; the handler runs a configuration once (the same settings again
//   run nothing: a failed run is retried by replacing the extension, pulumi up --replace);
//   it must not restart the VM itself but schedule the restart with a scheduled task, and after a
//   reboot the extension may run a script that did not finish again from the start
//   (devblogs.microsoft.com/azure-vm-runtime/when-will-customscript-extension-re-execute-my-script).
//   So the script exits 0 with the reboot scheduled 10 s later, and every part is idempotent: a run
//   after the reboot changes nothing and schedules no second reboot (prepare-features asks for a
//   reboot only while the Containers feature is not active). A run after the reboot that comes
//   while the boot task still finishes the runtime waits for it to end (or leaves the work to it):
//   never a second runtime step beside it, never sshd before it is done.
//
// Pure: inputs in, scripts out. components/windowsNode.ts wires them (see windowsSteps).
import { gzipSync } from "zlib";
import { createHash } from "crypto";
import { AddressPlan, NodeAddress } from "../addressing";
import { windowsCniConf } from "../manifests/cni";
import { TopologySpec } from "../topology";
import { EXTERNAL_WAIT } from "./image";
import { powershellCommand, psData } from "./shell";
import * as win from "./windows";

/** Where the provisioning keeps its parts (each runs from its file) and its log. */
export const PROVISION_DIR = "C:\\k\\provision";
/** Present from the provisioning's reboot until the boot task has finished the runtime. */
export const RUNTIME_PENDING = `${PROVISION_DIR}\\runtime-after-boot.txt`;
/** Holds the boot in which the boot task last ended (whether or not it finished the runtime). */
export const PROVISION_BOOT_DONE = `${PROVISION_DIR}\\boot-task-ended.txt`;
/** How long a run of the script after the reboot waits for the boot task to end (10 s polls). */
export const BOOT_TASK_WAIT_POLLS = 120;
/** The boot task: finishes the runtime after the provisioning's reboot, then starts sshd. */
export const PROVISION_BOOT_TASK = "hybrid-k8s-provision-boot";
export const PROVISION_BOOT_LOG = "C:\\var\\log\\kubernetes\\provision-boot.log";
/** Seconds between the script's end and the reboot: the extension's handler records the exit first. */
export const REBOOT_DELAY_SECONDS = 10;
/** cmd.exe's longest command line (learn.microsoft.com, command-line-string-limitation). */
export const CMD_EXE_MAX = 8191;
/** A VM's user data, base64, at most 64 KB (learn.microsoft.com/azure/virtual-machines/user-data). */
export const USER_DATA_MAX = 64 * 1024;
/** The instance metadata service's user data, base64 (learn.microsoft.com/azure/virtual-machines/user-data). */
export const IMDS_USER_DATA = "http://169.254.169.254/metadata/instance/compute/userData?api-version=2021-01-01&format=text";

export interface ProvisionInput {
    /** The admin's SSH public key (as data). */
    publicKey: string;
    /** The node's own runtime step input: the same script runs here and, second, over SSH. */
    runtime: win.RuntimeInput;
}

/** The parts, in order: exactly the scripts the node's SSH steps run. */
export function provisionParts(input: ProvisionInput): Array<{ name: string; script: string }> {
    return [
        // first: a node whose provisioning failed later is still reachable over SSH for a look
        { name: "openssh", script: win.renderOpenSshSetup(input.publicKey) },
        { name: "prepare-features", script: win.renderPrepareFeatures({ spec: input.runtime.spec }) },
        { name: "prepare-runtime", script: win.renderPrepareRuntime(input.runtime) },
    ];
}

/**
 * The boot task (SYSTEM, at every start). After the provisioning's reboot it waits for the External
 * network (as the image's boot task does), runs the runtime step's file again (now with the
 * Containers feature active: containerd as a service, the CNI config, the sandbox image, the
 * background pulls) and, whatever happened, starts sshd last: an SSH step never runs beside it.
 * On later boots nothing is pending and it only starts sshd. It records the boot in which it ended
 * (PROVISION_BOOT_DONE), for a run of the provisioning script in the same boot.
 */
export function renderProvisionBootTask(): string {
    return `${win.PRELUDE}New-Item -ItemType Directory -Force C:\\var\\log\\kubernetes | Out-Null
Start-Transcript -Append ${PROVISION_BOOT_LOG} | Out-Null
try {
  ${EXTERNAL_WAIT.trimEnd().split("\n").join("\n  ")}
  if (Test-Path ${RUNTIME_PENDING}) {
    & ${PROVISION_DIR}\\prepare-runtime.ps1
    Remove-Item -Force ${RUNTIME_PENDING}
  }
} finally {
  Set-Content -Path ${PROVISION_BOOT_DONE} -Value ${win.BOOT_TIME}
  Set-Service sshd -StartupType Automatic
  Start-Service sshd
  Stop-Transcript | Out-Null
}
`;
}

/**
 * The provisioning script. Each part is written to its file and run from it (`&`), so a part's
 * `exit 0` ends that part only; a part fails by throwing ($ErrorActionPreference = 'Stop'), which
 * fails the script and the extension, leaving sshd running. The runtime part runs beside the other
 * two, in a background job (Start-Job, Windows PowerShell 5.1: a child process; a terminating error
 * leaves the job Failed with it as the reason); the script waits for it before it goes on, whatever
 * the other parts did. HYBRID_K8S_REBOOT_BY_CALLER=1 tells prepare-features and prepare-runtime
 * that this script reboots (as in the image build). The
 * reboot happens only when prepare-features recorded this boot in the boot marker (it asked for
 * one); sshd is then stopped and left to the boot task, so no SSH step reaches the node between
 * the script's end and the reboot. A run after that reboot first waits (BOOT_TASK_WAIT_POLLS × 10 s)
 * for the boot task to end, and if it does not, ends there: the boot task finishes the runtime and
 * starts sshd, and the ready step waits for sshd.
 */
export function renderProvision(input: ProvisionInput): string {
    const data = (name: string) => {
        const part = provisionParts(input).find((p) => p.name === name) as { name: string; script: string };
        return psData(part.script, `${name}.ps1`);
    };
    return `${win.PRELUDE}${win.DETACHED_FN}
$env:HYBRID_K8S_REBOOT_BY_CALLER = '1'
foreach ($d in 'C:\\k', '${PROVISION_DIR}', 'C:\\var\\log\\kubernetes') { New-Item -ItemType Directory -Force $d | Out-Null }
# A run after the reboot while the boot task has not ended (the extension runs an unfinished script
# again after a reboot) would set up the runtime beside the boot task and start sshd before it is
# done: it waits for the boot task to end, and leaves the work to it if it does not.
$boot = ${win.BOOT_TIME}
if ((Test-Path ${RUNTIME_PENDING}) -and ((Get-Content -Raw ${RUNTIME_PENDING}).Trim() -ne $boot)) {
  for ($i = 0; -not ((Test-Path ${PROVISION_BOOT_DONE}) -and ((Get-Content -Raw ${PROVISION_BOOT_DONE}).Trim() -eq $boot)); $i++) {
    if ($i -ge ${BOOT_TASK_WAIT_POLLS}) {
      Write-Output "provisioned; rebooted, and the boot task still finishes the runtime (see ${PROVISION_BOOT_LOG}): left to it"
      return
    }
    Start-Sleep -Seconds 10
  }
}
function Write-Part([string]$Name, [string]$Script) {
  $file = "${PROVISION_DIR}\\$Name.ps1"
  Set-FileText $file $Script | Out-Null
  return $file
}
function Invoke-Part([string]$Name, [string]$Script) {
  $file = Write-Part $Name $Script
  Write-Output "== $Name"
  & $file
}
# The runtime's downloads use the network, the OpenSSH capability and the Containers feature use
# Windows' servicing stack: the runtime runs beside them, as a background job (a child process: its
# exit is its own). Before the feature is active it stops after the binaries.
$runtime = Write-Part prepare-runtime ${data("prepare-runtime")}
$job = Start-Job -ArgumentList $runtime -ScriptBlock {
  param([string]$File)
  Set-ExecutionPolicy -Scope Process -ExecutionPolicy Bypass -Force
  $env:HYBRID_K8S_REBOOT_BY_CALLER = '1'
  & $File
}
try {
  Invoke-Part openssh ${data("openssh")}
  Invoke-Part prepare-features ${data("prepare-features")}
} finally {
  Wait-Job $job | Out-Null
  Write-Output "== prepare-runtime"
  Receive-Job $job -ErrorAction SilentlyContinue
}
if ($job.State -ne 'Completed') { throw "prepare-runtime failed: $($job.ChildJobs[0].JobStateInfo.Reason.Message) (${PROVISION_DIR}\\prepare-runtime.ps1)" }
Register-Detached ${PROVISION_BOOT_TASK} ${psData(renderProvisionBootTask(), `${PROVISION_BOOT_TASK}.ps1`)} -AtStartup
if ((Test-Path ${win.BOOT_MARKER}) -and ((Get-Content -Raw ${win.BOOT_MARKER}).Trim() -eq ${win.BOOT_TIME})) {
  Set-Content -Path ${RUNTIME_PENDING} -Value ${win.BOOT_TIME}
  Set-Service sshd -StartupType Manual
  Stop-Service sshd -Force
  Register-Detached hybrid-k8s-reboot 'Start-Sleep -Seconds ${REBOOT_DELAY_SECONDS}; Restart-Computer -Force'
  Start-ScheduledTask -TaskName hybrid-k8s-reboot
  Write-Output "provisioned; rebooting in ${REBOOT_DELAY_SECONDS} s to activate the Containers feature"
} else {
  Write-Output "provisioned; no reboot needed"
}
`;
}

/** The VM's user data for the provisioning script: base64 of its gzip (deterministic: no file name, no time). */
export function provisionUserData(script: string): string {
    const data = gzipSync(Buffer.from(script, "utf8"), { level: 9 }).toString("base64");
    if (data.length > USER_DATA_MAX) {
        throw new RangeError(`the provisioning script is too long for a VM's user data (${data.length} > ${USER_DATA_MAX} characters of base64)`);
    }
    return data;
}

/** SHA-256 (hex) of the bytes a user data string stands for. */
export function userDataDigest(userData: string): string {
    return createHash("sha256").update(Buffer.from(userData, "base64")).digest("hex");
}

/**
 * The extension's command: reads the VM's user data from the instance metadata service (retrying
 * while the service or a just-updated user data is not there yet), checks its SHA-256, unpacks and
 * runs it. A VM update that has not reached the node fails the check and is never run. The digest
 * makes the command, and so the extension's settings, change exactly when the script does: the
 * extension runs again then, and only then.
 */
export function renderProvisionRunner(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
        throw new Error(`not a SHA-256: ${sha256}`);
    }
    return `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$expected = '${sha256}'
for ($i = 1; ; $i++) {
  $actual = ''
  try {
    $data = [Convert]::FromBase64String((Invoke-RestMethod -UseBasicParsing -Headers @{ Metadata = 'true' } -Uri '${IMDS_USER_DATA}'))
    $actual = [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($data)).Replace('-', '').ToLower()
  } catch { $actual = "unreadable ($_)" }
  if ($actual -eq $expected) { break }
  if ($i -ge 30) { throw "the VM's user data is not the provisioning script this extension runs (SHA-256 $actual, expected $expected); run pulumi up again" }
  Start-Sleep -Seconds 10
}
$z = New-Object IO.Compression.GZipStream((New-Object IO.MemoryStream(,$data)), ([IO.Compression.CompressionMode]::Decompress))
$script = (New-Object IO.StreamReader($z, [Text.Encoding]::UTF8)).ReadToEnd()
& ([scriptblock]::Create($script))
`;
}

/** What the node's VM and its extension carry for the provisioning: user data and the command. */
export function provisionCommand(input: ProvisionInput): { script: string; userData: string; commandToExecute: string } {
    const script = renderProvision(input);
    const userData = provisionUserData(script);
    const commandToExecute = powershellCommand(renderProvisionRunner(userDataDigest(userData)));
    if (commandToExecute.length > CMD_EXE_MAX) {
        throw new RangeError(`the extension's command is too long for cmd.exe (${commandToExecute.length} > ${CMD_EXE_MAX} characters)`);
    }
    return { script, userData, commandToExecute };
}

/**
 * The stock path's first SSH step: it proves the provisioning's reboot happened (the Containers
 * feature is active and the boot time differs from the one recorded before the reboot: windows.ts
 * renderFeaturesReady, unchanged) and says whether the boot task finished the runtime (if it did
 * not, prepare-runtime, the same script, finishes it).
 */
export function renderProvisionedReady(): string {
    return `${win.renderFeaturesReady()}if (Test-Path ${RUNTIME_PENDING}) { Write-Output "the runtime's set-up at boot did not finish (see ${PROVISION_BOOT_LOG}); prepare-runtime finishes it" }
Write-Output "ready: $env:COMPUTERNAME"
`;
}

export type WindowsImageKind = "stock" | "prebuilt";

/** One resource of a Windows node's chain, for the wiring (components/windowsNode.ts) and the model. */
export interface WindowsStep {
    /** The resource's name suffix: `<node>-<step>`. */
    step: "vm" | "provision" | "openssh" | "ready" | "prepare-features" | "features-ready" | "prepare-runtime" | "join";
    kind: "VirtualMachine" | "VirtualMachineExtension" | "Command";
    /** What it waits for: this node's steps by suffix, the master's (`master.<field>`), the cluster's. */
    dependsOn: string[];
    /** The script or payload it runs. */
    runs: string;
}

/**
 * Each image kind's chain. stock: the provisioning extension does what the SSH steps did around
 * the reboot; prepare-features and features-ready are gone (their scripts are parts of the
 * provisioning, the ready step does features-ready's check); prepare-runtime's SSH run is its second
 * run. prebuilt: as today (images/: the image holds sshd, the feature, the runtime; every step verifies).
 */
export function windowsSteps(kind: WindowsImageKind): WindowsStep[] {
    const common: WindowsStep[] = [
        { step: "prepare-runtime", kind: "Command", dependsOn: [kind === "stock" ? "ready" : "features-ready", "master.versionCheck"], runs: "windows.ts renderPrepareRuntime (second run on both kinds: verifies)" },
        { step: "join", kind: "Command", dependsOn: ["prepare-runtime", "podcidr", "clusterReady"], runs: "windows.ts renderJoin" },
    ];
    if (kind === "stock") {
        return [
            { step: "vm", kind: "VirtualMachine", dependsOn: ["nic"], runs: "userData: provisionCommand().userData (no customData)" },
            // installs kubelet: only a version the running API server allows, as prepare-runtime today
            { step: "provision", kind: "VirtualMachineExtension", dependsOn: ["vm", "master.versionCheck"], runs: "CustomScriptExtension 1.10, settings.commandToExecute: provisionCommand().commandToExecute" },
            { step: "ready", kind: "Command", dependsOn: ["provision", "master.ready"], runs: "renderProvisionedReady (polling connection; triggers: the user data's digest)" },
            ...common,
        ];
    }
    return [
        { step: "vm", kind: "VirtualMachine", dependsOn: ["nic"], runs: "customData: image.ts imageCustomData (the admin's key)" },
        { step: "ready", kind: "Command", dependsOn: ["vm", "master.ready"], runs: "windows.ts renderWindowsReady (polling connection)" },
        { step: "prepare-features", kind: "Command", dependsOn: ["ready"], runs: "windows.ts renderPrepareFeatures (verifies)" },
        { step: "features-ready", kind: "Command", dependsOn: ["prepare-features"], runs: "windows.ts renderFeaturesReady (verifies)" },
        ...common,
    ];
}

/** A Windows node's runtime step input: its CNI config from the address plan, its versions, what it pre-pulls. */
export function nodeRuntimeInput(input: { spec: TopologySpec; node: NodeAddress; addresses: AddressPlan; versions: win.WindowsVersions; prePull: string[] }): win.RuntimeInput {
    const { spec, node, addresses } = input;
    const cniConfig = windowsCniConf({ spec, node, podCidr: addresses.podCidr, serviceCidr: addresses.serviceCidr, vnetCidr: addresses.vnetCidr });
    return { spec, node, versions: input.versions, cniConfig, prePull: input.prePull };
}
