// One node image built by Azure VM Image Builder (AIB) into an ImageGallery (images/gallery.ts):
// its image definition and the image template, which builds on creation (autoRun). A Windows node
// image runs PowerShell and WindowsRestart steps, the Linux master image Shell steps. The version's
// name is a hash of its inputs (components/scripts/image.ts imageVersionName): an unchanged input
// changes nothing here, a changed one is a new template that builds a new version.
import * as compute from "@pulumi/azure-native/compute";
import type * as inputs from "@pulumi/azure-native/types/input";
import * as vmi from "@pulumi/azure-native/virtualmachineimages";
import * as pulumi from "@pulumi/pulumi";
import { MarketplaceImage } from "../components/config";
import { ImageStep } from "../components/scripts/image";
import { powershellCommand } from "../components/scripts/shell";
import { check } from "../components/validate";
import { ImageGallery } from "./gallery";

export interface NodeImageArgs {
    gallery: ImageGallery;
    os: "Windows" | "Linux";
    /** The marketplace image the build starts from. Both images' sources are Generation 2 (see hyperVGeneration). */
    source: MarketplaceImage;
    /** The build, in order (components/scripts/image.ts imageSteps, masterImage.ts masterImageSteps). */
    steps: ImageStep[];
    /** The image version's name, x.y.z (imageVersionName of the same source and steps). */
    version: string;
    /** The build VM's size. */
    vmSize: string;
    /** Image definition name (components/config.ts windowsImageDefinition, MASTER_IMAGE_DEFINITION). */
    imageName: string;
    /** The definition's identifier offer (publisher hybrid-k8s, sku the source's): unique in the gallery. */
    offer: string;
    /** OS disk of the build VM, GB. */
    osDiskSizeGB: number;
    /** Minutes AIB may take for the whole build. Defaults to 180. */
    buildTimeoutInMinutes?: number;
}

/**
 * One AIB customizer per step. PowerShell: AIB runs `inline` as the lines of a script (Packer's
 * powershell provisioner); the step runs as the same command text a node runs over SSH
 * (compressed, unpacked by Windows PowerShell 5.1), elevated as the steps need. Shell: AIB runs
 * `inline` as the build user (Packer's shell provisioner); the script travels as base64 data and
 * runs under sudo, as the master's own steps run as root.
 */
export function customizer(
    step: ImageStep,
): inputs.virtualmachineimages.ImageTemplatePowerShellCustomizerArgs | inputs.virtualmachineimages.ImageTemplateRestartCustomizerArgs | inputs.virtualmachineimages.ImageTemplateShellCustomizerArgs {
    if (step.kind === "WindowsRestart") {
        // The features step has already asked for a reboot (a detached task, 10 s after it ends):
        // this waits for the VM to come back. A long timeout: the feature finishes installing at boot.
        return { type: "WindowsRestart", name: step.name, restartTimeout: "30m" };
    }
    if (step.kind === "Shell") {
        const file = `/tmp/hybrid-k8s-${step.name}.sh`;
        return {
            type: "Shell",
            name: step.name,
            inline: [`echo '${Buffer.from(step.script, "utf8").toString("base64")}' | base64 -d > ${file}`, `sudo bash ${file}`, `rm -f ${file}`],
        };
    }
    return { type: "PowerShell", name: step.name, inline: [powershellCommand(step.script)], runElevated: true, validExitCodes: [0] };
}

export class NodeImage extends pulumi.ComponentResource {
    readonly galleryImageId: pulumi.Output<string>;
    /** The gallery image version the build publishes: the cluster's `windowsImage` or `linuxImage`. */
    readonly imageVersionId: pulumi.Output<string>;
    readonly templateName: string;

    constructor(name: string, args: NodeImageArgs, opts?: pulumi.ComponentResourceOptions) {
        check(/^\d+\.\d+\.\d+$/.test(args.version), "version", `"${args.version}" is not a gallery image version (Major.Minor.Patch)`);
        check(args.steps.length > 0, "steps", "an image needs at least one step");
        const kinds = args.os === "Windows" ? ["PowerShell", "WindowsRestart"] : ["Shell"];
        check(
            args.steps.every((s) => kinds.includes(s.kind)),
            "steps",
            `a ${args.os} image runs ${kinds.join(" and ")} steps only`,
        );
        super("hybrid-k8s:index:NodeImage", name, {}, opts);
        const parent = { parent: this };
        const g = args.gallery;
        const common = { resourceGroupName: g.resourceGroupName, location: g.location, tags: g.tags };

        const galleryImage = new compute.GalleryImage(
            `${name}-definition`,
            {
                ...common,
                galleryName: g.galleryName,
                galleryImageName: args.imageName,
                osType: args.os,
                // AIB generalizes images before it captures them (sysprep; waagent deprovision on Linux)
                osState: "Generalized",
                // the 2022 and 2025 azure-edition Windows images are Generation 2 (components/versions.ts);
                // so is Canonical's ubuntu-24_04-lts `server` SKU (its Gen1 twin is `server-gen1`:
                // actions/runner-images#13939, #13543)
                hyperVGeneration: "V2",
                identifier: { publisher: "hybrid-k8s", offer: args.offer, sku: args.source.sku },
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
                identity: { type: "UserAssigned", userAssignedIdentities: [g.identityId] },
                source: { type: "PlatformImage", publisher: args.source.publisher, offer: args.source.offer, sku: args.source.sku, version: args.source.version },
                customize: args.steps.map(customizer),
                distribute: [
                    {
                        type: "SharedImage",
                        // an id that ends in /versions/<x.y.z> names the version AIB creates
                        // (learn.microsoft.com/azure/virtual-machines/linux/image-builder-json, distribute: sharedImage, galleryImageId)
                        galleryImageId: this.imageVersionId,
                        runOutputName: this.templateName,
                        targetRegions: [{ name: g.location, replicaCount: 1 }],
                    },
                ],
                vmProfile: { vmSize: args.vmSize, osDiskSizeGB: args.osDiskSizeGB },
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
                dependsOn: [g.ready],
                // every field is immutable (see above); a new version also has a new name
                replaceOnChanges: ["*"],
            },
        );

        this.registerOutputs({ imageVersionId: this.imageVersionId, galleryImageId: this.galleryImageId });
    }
}
