// flannel's Kubernetes objects (pure), after upstream kube-flannel.yml (flannel-io/flannel
// Documentation/kube-flannel.yml, v0.27.x): namespace kube-flannel, DaemonSet kube-flannel-ds,
// pinned to Linux nodes. Windows nodes run flanneld as a host service instead.
import { flannelCniConf, flannelNetConf } from "./cni";
import { FlannelBackend, TopologySpec } from "../topology";

export const FLANNEL_NAMESPACE = "kube-flannel";
export const FLANNEL_SERVICE_ACCOUNT = "flannel";
/** The Secret holding a long-lived token of the flannel service account, for flanneld on Windows. */
export const FLANNEL_TOKEN_SECRET = "flannel-windows-token";

export interface FlannelInput {
    spec: TopologySpec & { flannelBackend: FlannelBackend };
    podCidr: string;
    flannelVersion: string;
    cniPluginVersion: string;
}

export interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    [key: string]: unknown;
}

const labels = { "app.kubernetes.io/name": "flannel", "app.kubernetes.io/part-of": "hybrid-k8s", "k8s-app": "flannel", tier: "node", app: "flannel" };

export function flannelObjects(input: FlannelInput): Record<"namespace" | "serviceAccount" | "clusterRole" | "clusterRoleBinding" | "configMap" | "daemonSet", K8sObject> {
    const ns = FLANNEL_NAMESPACE;
    const { image, cniImage } = flannelImages(input.flannelVersion, input.cniPluginVersion);
    return {
        namespace: {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: ns, labels: { "k8s-app": "flannel", "pod-security.kubernetes.io/enforce": "privileged" } },
        },
        serviceAccount: {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: FLANNEL_SERVICE_ACCOUNT, namespace: ns, labels },
        },
        clusterRole: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: "flannel", labels },
            rules: [
                { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
                { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
            ],
        },
        clusterRoleBinding: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: "flannel", labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "flannel" },
            subjects: [{ kind: "ServiceAccount", name: FLANNEL_SERVICE_ACCOUNT, namespace: ns }],
        },
        configMap: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "kube-flannel-cfg", namespace: ns, labels },
            data: {
                "cni-conf.json": flannelCniConf(input.spec),
                "net-conf.json": flannelNetConf(input.podCidr, input.spec.flannelBackend),
            },
        },
        daemonSet: {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "kube-flannel-ds", namespace: ns, labels },
            spec: {
                selector: { matchLabels: { app: "flannel" } },
                template: {
                    metadata: { labels },
                    spec: {
                        // Linux only: Windows nodes run flanneld.exe as a host service.
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        hostNetwork: true,
                        priorityClassName: "system-node-critical",
                        tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
                        serviceAccountName: FLANNEL_SERVICE_ACCOUNT,
                        initContainers: [
                            {
                                name: "install-cni-plugin",
                                image: cniImage,
                                command: ["cp"],
                                args: ["-f", "/flannel", "/opt/cni/bin/flannel"],
                                volumeMounts: [{ name: "cni-plugin", mountPath: "/opt/cni/bin" }],
                            },
                            {
                                name: "install-cni",
                                image,
                                command: ["cp"],
                                args: ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
                                volumeMounts: [
                                    { name: "cni", mountPath: "/etc/cni/net.d" },
                                    { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                                ],
                            },
                        ],
                        containers: [
                            {
                                name: "kube-flannel",
                                image,
                                command: ["/opt/bin/flanneld"],
                                args: ["--ip-masq", "--kube-subnet-mgr"],
                                resources: { requests: { cpu: "100m", memory: "50Mi" } },
                                securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
                                env: [
                                    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                                    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                                    { name: "EVENT_QUEUE_DEPTH", value: "5000" },
                                    { name: "CONT_WHEN_CACHE_NOT_READY", value: "false" },
                                ],
                                volumeMounts: [
                                    { name: "run", mountPath: "/run/flannel" },
                                    { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                                    { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "run", hostPath: { path: "/run/flannel" } },
                            { name: "cni-plugin", hostPath: { path: "/opt/cni/bin" } },
                            { name: "cni", hostPath: { path: "/etc/cni/net.d" } },
                            { name: "flannel-cfg", configMap: { name: "kube-flannel-cfg" } },
                            { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
                        ],
                    },
                },
            },
        },
    };
}

/** flannel's images (kube-flannel.yml): the DaemonSet's and its CNI plugin's. */
export function flannelImages(flannelVersion: string, cniPluginVersion: string): { image: string; cniImage: string } {
    return { image: `ghcr.io/flannel-io/flannel:v${flannelVersion}`, cniImage: `ghcr.io/flannel-io/flannel-cni-plugin:v${cniPluginVersion}` };
}
