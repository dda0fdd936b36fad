// Mocks that answer like the real providers would: ARM ids, names, the location, and for values
// that only exist after a real deployment (public IPs, command output) marked placeholders.
import { MockCallArgs, MockCallResult, MockResourceArgs, MockResourceResult, Mocks } from "@pulumi/pulumi/runtime/mocks";

/** Marks a value that a real `pulumi up` computes; the plan shows it as-is. */
export function afterApply(what: string): string {
    return `<after-apply:${what}>`;
}

export const MOCK_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
/** The region when the stack sets none (unit tests); plans pass the stack's azure-native:location. */
export const MOCK_LOCATION = "westeurope";

/** `azure-native:network:VirtualNetwork` → provider namespace and ARM type for the id. */
const ARM_TYPES: Record<string, string> = {
    "azure-native:resources:ResourceGroup": "",
    "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "azure-native:network:Subnet": "Microsoft.Network/virtualNetworks/vnet/subnets",
    "azure-native:network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "azure-native:network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "azure-native:network:NatGateway": "Microsoft.Network/natGateways",
    "azure-native:network:RouteTable": "Microsoft.Network/routeTables",
    "azure-native:network:NetworkInterface": "Microsoft.Network/networkInterfaces",
    "azure-native:compute:VirtualMachine": "Microsoft.Compute/virtualMachines",
    "azure-native:compute:VirtualMachineExtension": "Microsoft.Compute/virtualMachines/vm/extensions",
    "azure-native:compute:Gallery": "Microsoft.Compute/galleries",
    "azure-native:managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azure-native:virtualmachineimages:VirtualMachineImageTemplate": "Microsoft.VirtualMachineImages/imageTemplates",
};

/**
 * Command output by step, keyed by the command name's suffix. Only steps whose stdout feeds
 * other resources need one; everything else prints nothing.
 */
export type StdoutMock = (name: string, inputs: Record<string, unknown>) => string;
const STDOUT: Array<[RegExp, StdoutMock]> = [
    [
        /-kubeconfig$/,
        (name) => `apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: https://${afterApply("master public IP")}:6443
    certificate-authority-data: ${afterApply("cluster CA")}
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ${afterApply(`admin certificate (${name})`)}
    client-key-data: ${afterApply("admin key")}
contexts:
- name: kubernetes-admin@kubernetes
  context: {cluster: kubernetes, user: kubernetes-admin}
current-context: kubernetes-admin@kubernetes
`,
    ],
    // the init step names the cluster by its CA's public-key hash (scripts/linux.ts renderMasterInit)
    [/-init$/, () => `control plane already initialised\ncluster-ca sha256:${afterApply("cluster CA public-key hash")}\ncontrol plane ready`],
    // an existing cluster's CA, read (scripts/linux.ts renderClusterCa)
    [/-cluster-ca$/, () => `cluster-ca sha256:${afterApply("cluster CA public-key hash")}`],
    // an existing host's machine identity (machines/existing/existingHost.ts)
    [/-identity$/, () => afterApply("machine identity")],
    // the step that mints a token keeps the join command on the master and prints only where it went
    [/-new-token$/, (name) => `the join command for ${name.replace(/-new-token$/, "")} written to /etc/kubernetes/hybrid-k8s/secrets`],
    [/-token$/, () => `kubeadm join 10.240.0.4:6443 --token ${afterApply("token")} --discovery-token-ca-cert-hash sha256:${afterApply("CA hash")}`],
    [/-agent-kubeconfigs$/, () => JSON.stringify({ kubeProxy: afterApply("kube-proxy kubeconfig"), flannel: afterApply("flannel kubeconfig") })],
];

function armId(type: string, name: string, inputs: Record<string, unknown>): string {
    const rg = typeof inputs.resourceGroupName === "string" ? inputs.resourceGroupName : "rg";
    const base = `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${type.endsWith("ResourceGroup") ? name : rg}`;
    // an image definition lives under its gallery
    const arm = type === "azure-native:compute:GalleryImage" ? `Microsoft.Compute/galleries/${String(inputs.galleryName)}/images` : ARM_TYPES[type];
    if (arm === undefined) {
        return `${base}/providers/${type}/${name}`;
    }
    return arm === "" ? base : `${base}/providers/${arm}/${name}`;
}

/** Resources the program names itself: Azure's name is that input, not Pulumi's resource name. */
const NAME_INPUTS: Record<string, string> = {
    "azure-native:compute:Gallery": "galleryName",
    "azure-native:compute:GalleryImage": "galleryImageName",
    "azure-native:virtualmachineimages:VirtualMachineImageTemplate": "imageTemplateName",
};

export class PlanMocks implements Mocks {
    /** `location`: the provider's default region, as azure-native takes it from `azure-native:location`. */
    constructor(private readonly location: string = MOCK_LOCATION) {}

    newResource(args: MockResourceArgs): MockResourceResult {
        const inputs = args.inputs as Record<string, unknown>;
        if (args.type.startsWith("azure-native:")) {
            const named = NAME_INPUTS[args.type] ? inputs[NAME_INPUTS[args.type]] : undefined;
            const name = typeof named === "string" ? named : args.name;
            const state: Record<string, unknown> = { ...inputs, name, location: inputs.location ?? this.location };
            if (args.type === "azure-native:network:PublicIPAddress") {
                state.ipAddress = afterApply(`public IP of ${args.name}`);
            }
            if (args.type === "azure-native:managedidentity:UserAssignedIdentity") {
                state.principalId = afterApply(`principal id of ${args.name}`);
            }
            return { id: armId(args.type, name, inputs), state };
        }
        if (args.type === "command:remote:Command" || args.type === "command:local:Command") {
            const match = STDOUT.find(([re]) => re.test(args.name));
            const stdout = match ? match[1](args.name, inputs) : "";
            return { id: `${args.name}-id`, state: { ...inputs, stdout, stderr: "" } };
        }
        // Kubernetes objects and providers: the API returns what was sent.
        return { id: `${args.name}-id`, state: { ...inputs } };
    }

    call(args: MockCallArgs): MockCallResult {
        // The program makes no provider function calls; one that appears must get a mock here.
        throw new Error(`no mock for provider function ${args.token}`);
    }
}
