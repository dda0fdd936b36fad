// The sample Windows web server and its Service, after every Windows node has joined.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { K8sObject } from "./manifests/flannel";
import { SampleInput, sampleObjects } from "./manifests/sample";
import { digest } from "./scripts/shell";
import { check, checkCidr } from "./validate";

export interface SampleServiceArgs extends SampleInput {
    provider: k8s.Provider;
    /** The Windows joins: the pods need Windows nodes to run on. */
    joins: pulumi.Input<pulumi.Resource>[];
}

export class SampleService extends pulumi.ComponentResource {
    readonly deployment: k8s.apps.v1.Deployment;
    readonly service: k8s.core.v1.Service;
    readonly clusterIp: string;
    /** A hash of the sample's objects: changes exactly when the sample changes. */
    readonly fingerprint: string;

    constructor(name: string, args: SampleServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        check(Number.isInteger(args.windowsNodeCount) && args.windowsNodeCount >= 1, "windowsNodeCount", "the sample needs at least one Windows node");
        checkCidr(`${args.clusterIp}/32`, "clusterIp");
        super("hybrid-k8s:index:SampleService", name, {}, opts);
        const o = sampleObjects(args);
        const as = <T>(obj: K8sObject) => obj as unknown as T;
        this.clusterIp = args.clusterIp;
        this.fingerprint = digest(JSON.stringify(o));
        // Pulumi waits for the rollout: the Deployment is ready once a pod runs on the Windows nodes,
        // so it waits for the joins (the pods need Windows nodes to run on).
        this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, as(o.deployment), { parent: this, provider: args.provider, dependsOn: args.joins });
        this.service = new k8s.core.v1.Service(`${name}-service`, as(o.service), { parent: this, provider: args.provider });
        this.registerOutputs({ clusterIp: this.clusterIp });
    }
}
