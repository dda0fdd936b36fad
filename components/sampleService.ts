// The sample Windows web server and its Service, after every Windows node has joined.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { K8sObject } from "./manifests/flannel";
import { SampleInput, sampleObjects } from "./manifests/sample";
import { digest } from "./scripts/shell";
import { check, checkCidr } from "./validate";

/** The sample's rollout may include a first pull of servercore:ltsc2022 (several GB). */
export const SAMPLE_ROLLOUT_TIMEOUT = "30m";

export interface SampleServiceArgs extends SampleInput {
    provider: k8s.Provider;
    /** The Windows joins: the pods need Windows nodes to run on. */
    joins: pulumi.Input<pulumi.Resource>[];
    /**
     * What these objects die with (the master VM): destroying the cluster then skips their deletes
     * instead of calling an API server that is gone. Defaults to none.
     */
    deletedWith?: pulumi.Resource;
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
        // pulumi-kubernetes waits for the rollout (provider/pkg/await/deployment.go, 10 minutes by
        // default; customTimeouts replace it, provider/pkg/metadata/overrides.go TimeoutDuration).
        // The pods need Windows nodes, so the Deployment waits for the joins; its first pods may
        // still pull servercore (several GB) if the background pre-pull has not finished.
        this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, as(o.deployment), {
            parent: this,
            provider: args.provider,
            // the object lives in the master's etcd: it goes with the master VM, without an API call
            deletedWith: args.deletedWith,
            // the pods need Windows nodes to run on
            dependsOn: args.joins,
            customTimeouts: { create: SAMPLE_ROLLOUT_TIMEOUT, update: SAMPLE_ROLLOUT_TIMEOUT },
        });
        // pulumi-kubernetes also waits for a Service to have ready endpoints (provider/pkg/await/
        // service.go, DefaultServiceTimeoutMins = 10): created before its pods can exist, it would
        // time out on the first `pulumi up`. It waits for the Deployment, whose pods are then ready.
        this.service = new k8s.core.v1.Service(`${name}-service`, as(o.service), {
            parent: this,
            provider: args.provider,
            // the object lives in the master's etcd: it goes with the master VM, without an API call
            deletedWith: args.deletedWith,
            // its endpoints are the Deployment's pods: ready once the rollout finished
            dependsOn: [this.deployment],
        });
        this.registerOutputs({ clusterIp: this.clusterIp });
    }
}
