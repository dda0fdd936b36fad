// The gallery the images are published to, and what Azure VM Image Builder (AIB) needs to write
// there: a resource group, a user-assigned identity and a custom role on that group. Shared by the
// Windows node image and the Linux master image (images/nodeImage.ts).
//
// AIB over Packer: it is the managed service Azure documents for this (learn.microsoft.com/azure/
// virtual-machines/image-builder-overview), declared as one azure-native resource, so the build
// needs no build machine, no Packer install and no credentials besides the identity it declares.
import * as authorization from "@pulumi/azure-native/authorization";
import * as compute from "@pulumi/azure-native/compute";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { digest } from "../components/scripts/shell";
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

export interface ImageGalleryArgs {
    /** Azure region of everything, and the one region versions are replicated to. Defaults to the provider's. */
    location?: pulumi.Input<string>;
    /** Gallery name: letters, digits, '.' and '_' (Azure's rule). Defaults to hybridk8s_images. */
    galleryName?: string;
    tags?: Record<string, string>;
}

export class ImageGallery extends pulumi.ComponentResource {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly location: pulumi.Output<string>;
    readonly galleryName: pulumi.Output<string>;
    /** AIB's identity (its resource id). */
    readonly identityId: pulumi.Output<string>;
    /** The identity's role on the group: AIB checks it when a template is created. */
    readonly ready: pulumi.Resource;
    readonly tags: Record<string, string>;

    constructor(name: string, args: ImageGalleryArgs, opts?: pulumi.ComponentResourceOptions) {
        const galleryName = args.galleryName ?? "hybridk8s_images";
        check(/^[A-Za-z0-9][A-Za-z0-9._]{0,79}$/.test(galleryName), "galleryName", `"${galleryName}" may hold only letters, digits, '.' and '_'`);
        super("hybrid-k8s:index:ImageGallery", name, {}, opts);
        const parent = { parent: this };
        const tags = (this.tags = args.tags ?? {});

        const rg = new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags }, parent);
        this.resourceGroupName = rg.name;
        this.location = rg.location;
        const common = { resourceGroupName: rg.name, location: rg.location, tags };

        const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, common, parent);
        this.identityId = identity.id;
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

        this.ready = assignment;
        const g = new compute.Gallery(`${name}-gallery`, { ...common, galleryName, description: "hybrid-k8s node images" }, parent);
        this.galleryName = g.name;
        this.registerOutputs({ resourceGroupName: this.resourceGroupName, galleryName: this.galleryName });
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
