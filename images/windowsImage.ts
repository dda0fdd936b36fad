// A Windows node image built by Azure VM Image Builder (AIB) and published to an Azure Compute
// Gallery: resource group, a user-assigned identity with a role that lets AIB write image
// versions there, the gallery and its image definition, and the image template, which builds on
// creation (autoRun). The version's name is a hash of its inputs (components/scripts/image.ts
// imageVersionName): an unchanged input changes nothing here, a changed one is a new template
// that builds a new version.
//
// AIB over Packer: it is the managed service Azure documents for this (learn.microsoft.com/azure/
// virtual-machines/image-builder-overview), declared as one azure-native resource, so the build
// needs no build machine, no Packer install and no credentials besides the identity it declares.
import * as authorization from "@pulumi/azure-native/authorization";
import * as compute from "@pulumi/azure-native/compute";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import type * as inputs from "@pulumi/azure-native/types/input";
import * as vmi from "@pulumi/azure-native/virtualmachineimages";
import * as pulumi from "@pulumi/pulumi";
import { MarketplaceImage } from "../components/config";
import { ImageStep } from "../components/scripts/image";
import { digest, powershellCommand } from "../components/scripts/shell";
import { check } from "../components/validate";

/**
 * What AIB's identity needs on the gallery's resource group to distribute: managed images
 * write/read/delete, and for a gallery read the gallery and its images and read/write image
 * versions (learn.microsoft.com/azure/virtual-machines/linux/image-builder-permissions-cli,
 * "Permission to distribute images"; MicrosoftDocs/azure-docs image-builder-permissions-*.md).
 */
export const IMAGE_BUILDER_ACTIONS = [
    "Microsoft.Compute/galleries/read",
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
    "Microsoft.Compute/images/write",
    "Microsoft.Compute/images/read",
    "Microsoft.Compute/images/delete",
];

/**
 * The image definition of a release: windows-node-2022, windows-node-2025. The cluster reads the
 * release back from a gallery image version id (components/config.ts) and refuses another one.
 */
export function imageDefinitionName(release: string): string {
    return `windows-node-${release}`;
}

export interface WindowsImageArgs {
    /** The marketplace image the build starts from (Windows Server 2022 or 2025). */
    source: MarketplaceImage;
    /** The build, in order (components/scripts/image.ts imageSteps). */
    steps: ImageStep[];
    /** The image version's name, x.y.z (imageVersionName of the same source and steps). */
    version: string;
    /** The build VM's size. */
    vmSize: string;
    /** Azure region of everything, and the one region the version is replicated to. Defaults to the provider's. */
    location?: pulumi.Input<string>;
    /** Gallery name: letters, digits, '.' and '_' (Azure's rule). Defaults to hybridk8s_images. */
    galleryName?: string;
    /** Image definition name. Defaults to imageDefinitionName of the source's release (its SKU's first part). */
    imageName?: string;
    /** Minutes AIB may take for the whole build. Defaults to 180. */
    buildTimeoutInMinutes?: number;
    tags?: Record<string, string>;
}

/** AIB's PowerShell customizer runs `inline` as the lines of a script (Packer's powershell provisioner). */
function customizer(step: ImageStep): inputs.virtualmachineimages.ImageTemplatePowerShellCustomizerArgs | inputs.virtualmachineimages.ImageTemplateRestartCustomizerArgs {
    if (step.kind === "WindowsRestart") {
        // The features step has already asked for a reboot (a detached task, 10 s after it ends):
        // this waits for the VM to come back. A long timeout: the feature finishes installing at boot.
        return { type: "WindowsRestart", name: step.name, restartTimeout: "30m" };
    }
    // The same command text a node runs over SSH (compressed, unpacked by Windows PowerShell 5.1),
    // elevated as the steps need (features, services, scheduled tasks).
    return { type: "PowerShell", name: step.name, inline: [powershellCommand(step.script)], runElevated: true, validExitCodes: [0] };
}

export class WindowsImage extends pulumi.ComponentResource {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly galleryImageId: pulumi.Output<string>;
    /** The gallery image version the build publishes: the cluster's `windowsImage`. */
    readonly imageVersionId: pulumi.Output<string>;
    readonly templateName: string;

    constructor(name: string, args: WindowsImageArgs, opts?: pulumi.ComponentResourceOptions) {
        check(/^\d+\.\d+\.\d+$/.test(args.version), "version", `"${args.version}" is not a gallery image version (Major.Minor.Patch)`);
        const galleryName = args.galleryName ?? "hybridk8s_images";
        check(/^[A-Za-z0-9][A-Za-z0-9._]{0,79}$/.test(galleryName), "galleryName", `"${galleryName}" may hold only letters, digits, '.' and '_'`);
        check(args.steps.length > 0, "steps", "an image needs at least one step");
        super("hybrid-k8s:index:WindowsImage", name, {}, opts);
        const parent = { parent: this };
        const tags = args.tags ?? {};

        const rg = new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags }, parent);
        this.resourceGroupName = rg.name;
        const common = { resourceGroupName: rg.name, location: rg.location, tags };

        const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, common, parent);
        // A custom role scoped to this resource group; its id is a GUID (ARM's rule), derived from
        // the project, stack and name so that a re-run keeps it.
        const roleGuid = uuidFrom(pulumi.getProject(), pulumi.getStack(), name);
        const role = new authorization.RoleDefinition(
            `${name}-role`,
            {
                roleDefinitionId: roleGuid,
                roleName: `hybrid-k8s image builder ${pulumi.getStack()}/${name}`,
                description: "Azure VM Image Builder: write image versions to the gallery in this resource group",
                scope: rg.id,
                assignableScopes: [rg.id],
                permissions: [{ actions: IMAGE_BUILDER_ACTIONS }],
            },
            parent,
        );
        const assignment = new authorization.RoleAssignment(
            `${name}-role-assignment`,
            {
                roleAssignmentName: uuidFrom(pulumi.getProject(), pulumi.getStack(), name, "assignment"),
                scope: rg.id,
                roleDefinitionId: role.id,
                principalId: identity.principalId,
                // a new identity's principal may not have replicated yet: the type lets ARM accept it
                // (learn.microsoft.com/azure/role-based-access-control/role-assignments-template, principalType)
                principalType: "ServicePrincipal",
            },
            parent,
        );

        const gallery = new compute.Gallery(`${name}-gallery`, { ...common, galleryName, description: "hybrid-k8s node images" }, parent);
        const galleryImage = new compute.GalleryImage(
            `${name}-definition`,
            {
                ...common,
                galleryName: gallery.name,
                galleryImageName: args.imageName ?? imageDefinitionName(args.source.sku.split("-")[0]),
                osType: "Windows",
                // AIB generalizes (sysprep) Windows images before it captures them
                osState: "Generalized",
                // the 2022 and 2025 azure-edition source images are Generation 2 (components/versions.ts)
                hyperVGeneration: "V2",
                identifier: { publisher: "hybrid-k8s", offer: "windows-node", sku: args.source.sku },
            },
            parent,
        );
        this.galleryImageId = galleryImage.id;
        this.imageVersionId = pulumi.interpolate`${galleryImage.id}/versions/${args.version}`;

        // AIB cannot update a template in place (learn.microsoft.com/azure/virtual-machines/linux/
        // image-builder-troubleshoot, "Update/upgrade of image templates is currently not supported"):
        // the version is in its name, so a changed input is a new template.
        this.templateName = `${name}-${args.version.replace(/\./g, "-")}`;
        new vmi.VirtualMachineImageTemplate(
            `${name}-template`,
            {
                ...common,
                imageTemplateName: this.templateName,
                identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
                source: { type: "PlatformImage", publisher: args.source.publisher, offer: args.source.offer, sku: args.source.sku, version: args.source.version },
                customize: args.steps.map(customizer),
                distribute: [
                    {
                        type: "SharedImage",
                        // an id that ends in /versions/<x.y.z> names the version AIB creates
                        // (learn.microsoft.com/azure/virtual-machines/linux/image-builder-json, distribute: sharedImage, galleryImageId)
                        galleryImageId: this.imageVersionId,
                        runOutputName: `${name}-${args.version.replace(/\./g, "-")}`,
                        targetRegions: [{ name: rg.location, replicaCount: 1 }],
                    },
                ],
                vmProfile: { vmSize: args.vmSize, osDiskSizeGB: 128 },
                buildTimeoutInMinutes: args.buildTimeoutInMinutes ?? 180,
                // The template alone does not build: with API 2024-02-01 (azure-native 3.x's) autoRun
                // starts a build when the template is created (azure-native virtualmachineimages
                // VirtualMachineImageTemplateArgs.autoRun; learn.microsoft.com/azure/templates/
                // microsoft.virtualmachineimages/2024-02-01/imagetemplates, properties.autoRun). The
                // build runs after the create returns: `az image builder wait` tracks it.
                autoRun: { state: "Enabled" },
            },
            {
                parent: this,
                // AIB checks its identity's rights when the template is created
                dependsOn: [assignment],
                // every field is immutable (see above); a new version also has a new name
                replaceOnChanges: ["*"],
            },
        );

        this.registerOutputs({ imageVersionId: this.imageVersionId, galleryImageId: this.galleryImageId });
    }
}

/** A stable GUID (version 4 layout) from text: ARM names role definitions and assignments by GUID. */
export function uuidFrom(...parts: string[]): string {
    const h = (digest(...parts) + digest(...parts, "more")).split("");
    h[12] = "4";
    h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    const s = h.join("");
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
