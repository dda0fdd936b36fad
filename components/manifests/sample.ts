// The sample Windows service (pure): the seed's PowerShell web server (microsoft/SDN
// Kubernetes/WebServer.yaml), on Windows nodes, with the host port the seed's checks use.
import { WindowsServerRelease } from "../versions";
import { K8sObject } from "./flannel";

/** Windows Server Core matching the host build (process isolation): ltsc2022 or ltsc2025. */
export function sampleImage(release: WindowsServerRelease): string {
    return `mcr.microsoft.com/windows/servercore:${release.containerTag}`;
}
export const SAMPLE_NAME = "win-webserver";
export const SAMPLE_NAMESPACE = "default";
export const SAMPLE_CONTAINER = "windowswebserver";
export const SAMPLE_HOST_PORT = 4444;

/**
 * A minimal HTTP server in PowerShell: answers every request with the pod's name and the
 * caller's address. Kubernetes expands $(VAR) in commands, so every $ is written as $$.
 */
const SERVER = [
    "$listener = New-Object System.Net.HttpListener",
    "$listener.Prefixes.Add('http://*:80/')",
    "$listener.Start()",
    "Write-Host 'Listening at http://*:80/'",
    "while ($listener.IsListening) {",
    "  $context = $listener.GetContext()",
    "  $body = '<html><body><h1>Windows Container Web Server</h1><p>pod {0}, caller {1}</p></body></html>' -f $env:COMPUTERNAME, $context.Request.RemoteEndPoint.Address",
    "  $buffer = [System.Text.Encoding]::UTF8.GetBytes($body)",
    "  $context.Response.ContentLength64 = $buffer.Length",
    "  $context.Response.OutputStream.Write($buffer, 0, $buffer.Length)",
    "  $context.Response.Close()",
    "}",
].join("; ").replace(/\$/g, "$$$$");

export interface SampleInput {
    windowsNodeCount: number;
    /** The nodes' Windows Server release: the image tag and the build the pods are pinned to. */
    windowsServer: WindowsServerRelease;
    /** The Service's cluster IP, fixed so checks on hosts without kubectl know it. */
    clusterIp: string;
}

/**
 * Replicas: one per Windows node, at least 2 for the cross-node checks. The host port allows one
 * pod per node, so with a single Windows node there is a single replica.
 */
export function sampleReplicas(windowsNodeCount: number): number {
    return windowsNodeCount >= 2 ? windowsNodeCount : 1;
}

export function sampleObjects(input: SampleInput): { deployment: K8sObject; service: K8sObject } {
    const labels = { app: SAMPLE_NAME };
    return {
        deployment: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: SAMPLE_NAME, namespace: SAMPLE_NAMESPACE, labels },
            spec: {
                replicas: sampleReplicas(input.windowsNodeCount),
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        // kubelet labels each Windows node with its build; the image must match it
                        nodeSelector: { "kubernetes.io/os": "windows", "node.kubernetes.io/windows-build": input.windowsServer.build },
                        // spread the replicas over the Windows nodes (the host port allows one per node anyway)
                        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels } }],
                        containers: [
                            {
                                name: SAMPLE_CONTAINER,
                                image: sampleImage(input.windowsServer),
                                imagePullPolicy: "IfNotPresent",
                                command: ["powershell.exe", "-NoProfile", "-Command", SERVER],
                                ports: [{ name: "http", containerPort: 80, hostPort: SAMPLE_HOST_PORT, protocol: "TCP" }],
                                readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
                            },
                        ],
                    },
                },
            },
        },
        service: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: SAMPLE_NAME, namespace: SAMPLE_NAMESPACE, labels },
            spec: {
                type: "ClusterIP",
                clusterIP: input.clusterIp,
                selector: labels,
                ports: [{ name: "http", port: 80, targetPort: 80, protocol: "TCP" }],
            },
        },
    };
}
