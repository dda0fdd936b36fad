// The seed's validation checklist as scripts. Each prints one JSON line per result,
// {"check", "pass", "detail", "informational"?}; in enforce mode a failed check exits non-zero
// with the check's name and what was seen. Master-side checks are bash (kubectl, curl);
// Windows-side checks are PowerShell (crictl, Test-Connection, Invoke-WebRequest; ping to a
// service IP fails by design on Windows, so services are probed over HTTP).
import { NodeAddress } from "../addressing";
import { ValidationMode } from "../config";
import { SAMPLE_CONTAINER, SAMPLE_HOST_PORT, SAMPLE_NAME, SAMPLE_NAMESPACE } from "../manifests/sample";
import { TopologySpec } from "../topology";
import { bashPrelude, KUBECTL } from "./linux";
import { ps } from "./shell";

export const CHECKS = ["node-ping", "pod-gateway", "windows-pods", "pod-from-master", "host-port", "pod-to-pod", "service-ip", "service-dns"] as const;
export type CheckName = (typeof CHECKS)[number];

export interface CheckResult {
    check: string;
    pass: boolean;
    detail: string;
    /** Measured and reported, never failing the update (the seed's known limitations). */
    informational?: boolean;
}


function bashReport(mode: ValidationMode): string {
    return `K="${KUBECTL}"
mode=${mode}
# report NAME PASS DETAIL: one JSON line; a failure ends the step in enforce mode
report() {
  local detail=\${3//\\"/\\'}
  printf '{"check":"%s","pass":%s,"detail":"%s"}\\n' "$1" "$2" "$detail"
  if [ "$2" != true ] && [ "$mode" = enforce ]; then echo "check $1 failed: $3" >&2; exit 1; fi
}
# the sample's pods: "name node ip" per line
pods() { $K -n ${SAMPLE_NAMESPACE} get pods -l app=${SAMPLE_NAME} -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\\n"}{end}'; }
# HTTP status of a URL fetched from inside a sample pod
from_pod() { $K -n ${SAMPLE_NAMESPACE} exec "$1" -- powershell.exe -NoProfile -Command "(Invoke-WebRequest -UseBasicParsing -TimeoutSec 10 $2).StatusCode" 2>/dev/null | tr -d '\\r'; }
`;
}

export interface MasterCheckInput {
    mode: ValidationMode;
    master: NodeAddress;
    windows: readonly NodeAddress[];
    clusterIp: string;
    spec: TopologySpec;
}

/** Master-side scripts, one per check (keys are check names). */
export function renderMasterChecks(input: MasterCheckInput): Partial<Record<CheckName, string>> {
    const head = bashPrelude(false) + bashReport(input.mode);
    const winIps = input.windows.map((n) => n.privateIp).join(" ");
    const dns = `${SAMPLE_NAME}.${SAMPLE_NAMESPACE}.svc.cluster.local`;
    return {
        "node-ping": `${head}
failed=""
for ip in ${winIps}; do ping -c 2 -W 2 "$ip" >/dev/null 2>&1 || failed="$failed $ip"; done
if [ -z "$failed" ]; then report node-ping true "master pings ${winIps}"; else report node-ping false "master cannot ping:$failed"; fi
`,
        "pod-gateway": `${head}
# the master's own pod bridge gateway (${input.master.podGateway} on ${input.spec.linuxCniName === "vxlan0" ? "cni0" : "the bridge"})
if ping -c 2 -W 2 ${input.master.podGateway} >/dev/null 2>&1; then report pod-gateway true "master reaches its pod gateway ${input.master.podGateway}"; else report pod-gateway false "master cannot ping its pod gateway ${input.master.podGateway}"; fi
`,
        "pod-from-master": `${head}
failed=""; ok=""
while read -r name node ip; do
  [ -n "$ip" ] || continue
  if curl -fsS -m 10 -o /dev/null "http://$ip:80/"; then ok="$ok $name@$node"; else failed="$failed $name@$node($ip)"; fi
done < <(pods)
if [ -n "$ok" ] && [ -z "$failed" ]; then report pod-from-master true "curl pod:80 from the master:$ok"; else report pod-from-master false "curl pod:80 from the master failed:\${failed:- no pods}"; fi
`,
        "host-port": `${head}
failed=""
for ip in ${winIps}; do curl -fsS -m 10 -o /dev/null "http://$ip:${SAMPLE_HOST_PORT}/" || failed="$failed $ip"; done
if [ -z "$failed" ]; then report host-port true "curl node:${SAMPLE_HOST_PORT} from the master: ${winIps}"; else report host-port false "no answer on port ${SAMPLE_HOST_PORT} from:$failed"; fi
`,
        "pod-to-pod": `${head}
windows_nodes=${input.windows.length}
mapfile -t list < <(pods)
if [ "$windows_nodes" -lt 2 ]; then report pod-to-pod true "one Windows node: no pair of nodes to cross"; exit 0; fi
if [ "\${#list[@]}" -lt 2 ]; then report pod-to-pod false "fewer than 2 sample pods running"; fi
read -r a anode _ <<< "\${list[0]}"
target=""
for line in "\${list[@]}"; do read -r _ node ip <<< "$line"; if [ "$node" != "$anode" ]; then target="$ip"; tnode="$node"; break; fi; done
if [ -z "$target" ]; then report pod-to-pod false "all sample pods run on $anode"; fi
status=$(from_pod "$a" "http://$target/")
if [ "$status" = 200 ]; then report pod-to-pod true "$a on $anode reached $target on $tnode"; else report pod-to-pod false "$a on $anode could not reach $target on $tnode (status '$status')"; fi
`,
        "service-ip": `${head}
if curl -fsS -m 10 -o /dev/null "http://${input.clusterIp}/"; then master=ok; else master=failed; fi
read -r a _ <<< "$(pods | head -n 1)"
status=$(from_pod "$a" "http://${input.clusterIp}/")
if [ "$master" = ok ] && [ "$status" = 200 ]; then report service-ip true "service ${input.clusterIp}:80 answers the master and pod $a"; else report service-ip false "service ${input.clusterIp}:80: from the master $master, from pod $a status '$status'"; fi
`,
        "service-dns": `${head}
read -r a _ <<< "$(pods | head -n 1)"
status=$(from_pod "$a" "http://${dns}/")
if [ "$status" = 200 ]; then report service-dns true "${dns} resolves and answers in pod $a"; else report service-dns false "${dns} from pod $a: status '$status'"; fi
`,
    };
}

export interface WindowsCheckInput {
    mode: ValidationMode;
    node: NodeAddress;
    master: NodeAddress;
    clusterIp: string;
    spec: TopologySpec;
}

/**
 * The Windows side of the checks, on one node: it pings the master (node-ping), reaches its own
 * pod network (l2bridge: the host endpoint .2; overlay: a local pod, the only pods a Windows
 * overlay host reaches directly), counts the sample's sandboxes and containers with crictl
 * (the seed's `docker ps` counted both), and measures whether the host reaches the service IP
 * (the seed's known limitation, reported as found).
 */
export function renderWindowsChecks(input: WindowsCheckInput): string {
    const { node } = input;
    const overlay = input.spec.windowsNetworkType === "Overlay";
    return `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$mode = ${ps(input.mode)}
# one list shared with Report: the check runs as a script block, which has no script: scope
$failed = New-Object System.Collections.Generic.List[string]
function Report([string]$Check, [bool]$Pass, [string]$Detail, [bool]$Info = $false) {
  $r = [ordered]@{ check = $Check; pass = $Pass; detail = "${node.name}: $Detail" }
  if ($Info) { $r.informational = $true }
  Write-Output ($r | ConvertTo-Json -Compress)
  if (-not $Pass -and -not $Info) { $failed.Add("check $Check failed on ${node.name}: $Detail") }
}
function Get-Status([string]$Url) {
  try { return (Invoke-WebRequest -UseBasicParsing -TimeoutSec 10 $Url).StatusCode } catch { return $_.Exception.Message }
}
$crictl = @('--config', 'C:\\k\\crictl.yaml')
# from here on a check reports, never stops: crictl's stderr would stop Windows PowerShell 5.1
# under 'Stop' (PowerShell/PowerShell#3996)
$ErrorActionPreference = 'Continue'
$sandboxes = @(& C:\\k\\crictl.exe @crictl pods --label app=${SAMPLE_NAME} --state ready -q)
$containers = @(& C:\\k\\crictl.exe @crictl ps --label io.kubernetes.container.name=${SAMPLE_CONTAINER} --state running -q)

$master = Test-Connection -ComputerName ${ps(input.master.privateIp)} -Count 2 -Quiet
Report 'node-ping' $master "ping master ${input.master.privateIp}: $master"

# a local sample pod, reached from the host: on overlay the only pods a Windows host reaches
# directly; on l2bridge through the host endpoint (pinging .2 would only ping the node itself)
$podIp = ''
if ($sandboxes.Count -gt 0) { $podIp = ((& C:\\k\\crictl.exe @crictl inspectp $sandboxes[0]) | ConvertFrom-Json).status.network.ip }
$status = if ($podIp) { Get-Status "http://$podIp/" } else { 'no local sample pod' }
Report 'pod-gateway' ($status -eq 200) "local pod $podIp from the host (${overlay ? "overlay" : "l2bridge"}): $status"

Report 'windows-pods' (($sandboxes.Count -ge 1) -and ($containers.Count -ge $sandboxes.Count)) "$($sandboxes.Count) sample sandbox(es) ready, $($containers.Count) container(s) running"

$svc = Get-Status ${ps(`http://${input.clusterIp}/`)}
Report 'windows-node-to-service' ($svc -eq 200) "host to service ${input.clusterIp}: $svc" $true

if ($failed.Count -gt 0 -and $mode -eq 'enforce') { [Console]::Error.WriteLine(($failed -join '; ')); exit 1 }
`;
}

/** Merges check results by name: a check passes when every part of it passed. */
export function mergeResults(lines: string[]): Record<string, { pass: boolean; detail: string; informational?: boolean }> {
    const out: Record<string, { pass: boolean; detail: string; informational?: boolean }> = {};
    for (const line of lines.flatMap((l) => l.split(/\r?\n/))) {
        const text = line.trim();
        if (!text.startsWith("{")) {
            continue;
        }
        let r: CheckResult;
        try {
            r = JSON.parse(text) as CheckResult;
        } catch {
            continue;
        }
        const prev = out[r.check];
        out[r.check] = prev
            ? { pass: prev.pass && r.pass, detail: `${prev.detail}; ${r.detail}`, ...(r.informational ? { informational: true } : {}) }
            : { pass: r.pass, detail: r.detail, ...(r.informational ? { informational: true } : {}) };
    }
    return out;
}
