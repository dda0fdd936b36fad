// flannel for the vxlan and host-gw topologies: namespace, service account, RBAC, the
// net-conf/cni-conf ConfigMap and the Linux DaemonSet, as typed Kubernetes resources.
// Windows nodes run flanneld.exe as a host service (see windowsNode.ts).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { FlannelInput, flannelObjects, K8sObject } from "./manifests/flannel";
import { checkCidr, checkFlannelCniVersion, checkVersion } from "./validate";

export interface FlannelArgs extends FlannelInput {
    provider: k8s.Provider;
    /**
     * What the DaemonSet waits for besides its own objects: the master's pod CIDR registration
     * (flannel reads spec.podCIDR and would crash-loop until it is set). Defaults to none.
     */
    nodesReady?: pulumi.Input<pulumi.Resource>[];
    /**
     * What these objects die with (the master VM): destroying the cluster then skips their deletes
     * instead of calling an API server that is gone. Defaults to none.
     */
    deletedWith?: pulumi.Resource;
}

export class Flannel extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    readonly serviceAccount: k8s.core.v1.ServiceAccount;
    readonly daemonSet: k8s.apps.v1.DaemonSet;
    /** Everything a Windows join must wait for. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: FlannelArgs, opts?: pulumi.ComponentResourceOptions) {
        checkVersion(args.flannelVersion, "flannelVersion");
        checkFlannelCniVersion(args.cniPluginVersion, "cniPluginVersion");
        checkCidr(args.podCidr, "podCidr");
        super("hybrid-k8s:index:Flannel", name, {}, opts);
        const o = flannelObjects(args);
        // the objects live in the master's etcd: they go with the master VM, without an API call
        const res = { parent: this, provider: args.provider, deletedWith: args.deletedWith };
        // Kubernetes objects take plain objects; the pure renderer's output is that shape.
        const as = <T>(obj: K8sObject) => obj as unknown as T;
        this.namespace = new k8s.core.v1.Namespace(`${name}-ns`, as(o.namespace), res);
        const inNs = { ...res, dependsOn: [this.namespace] }; // namespaced objects need their namespace first
        this.serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, as(o.serviceAccount), inNs);
        const role = new k8s.rbac.v1.ClusterRole(`${name}-role`, as(o.clusterRole), res);
        // the binding names the role and the service account
        const binding = new k8s.rbac.v1.ClusterRoleBinding(`${name}-binding`, as(o.clusterRoleBinding), { ...res, dependsOn: [role, this.serviceAccount] });
        const cfg = new k8s.core.v1.ConfigMap(`${name}-cfg`, as(o.configMap), inNs);
        this.daemonSet = new k8s.apps.v1.DaemonSet(`${name}-ds`, as(o.daemonSet), {
            ...res,
            // the pods need their config, RBAC and the node's pod CIDR before they can become ready
            dependsOn: [cfg, binding, this.serviceAccount, ...(args.nodesReady ?? [])],
        });
        this.ready = [this.daemonSet, binding, cfg];
        this.registerOutputs({});
    }
}
