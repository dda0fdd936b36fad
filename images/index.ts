// The image program: a prebuilt Windows node image and a Linux master image, built by Azure VM
// Image Builder from the very scripts the cluster's machines run, published to an Azure Compute
// Gallery. Built once, shared by many clusters: set the cluster's `hybrid-k8s:windowsImage` to the
// `imageVersionId` output and `hybrid-k8s:linuxImage` to `masterImageVersionId`.
//
//   cd images && pulumi stack init dev && pulumi config set azure-native:location westeurope && pulumi up
//   npm run plan:images          # offline: the template and its scripts, as the plan shows the cluster's
import * as pulumi from "@pulumi/pulumi";
import { KEYS, MarketplaceImage, MASTER_IMAGE_DEFINITION, windowsImageDefinition } from "../components/config";
import { planAddresses } from "../components/addressing";
import { sampleImage } from "../components/manifests/sample";
import { WINDOWS_SERVER } from "../components/versions";
import { imageSteps, imageVersionName } from "../components/scripts/image";
import { topologySpec } from "../components/topology";
import { IMAGE_PROJECT, parseImageConfig } from "./config";
import { ImageGallery } from "./gallery";
import { NodeImage } from "./nodeImage";
import { masterImageSteps } from "../components/scripts/masterImage";

// every key of this project's namespace, as set (pulumi config or the plan's --config)
const raw: Record<string, string> = {};
for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(`${IMAGE_PROJECT}:`)) {
        raw[key.slice(IMAGE_PROJECT.length + 1)] = value;
    }
}
const cfg = parseImageConfig(raw);

// The build machine is node 1 of the cluster's default address plan: only the CNI config the
// runtime step writes depends on it, and the image removes that file before it is captured.
const addresses = planAddresses({ vnetCidr: String(KEYS.vnetCidr.default), podCidr: String(KEYS.podCidr.default), serviceCidr: String(KEYS.serviceCidr.default), windowsNodeCount: 1 });
const steps = imageSteps({
    spec: topologySpec(cfg.topology),
    versions: cfg.versions,
    // the sample's image for the image's release (ltsc2022 or ltsc2025: the host's build)
    prePull: cfg.pullSampleImage ? [sampleImage(WINDOWS_SERVER[cfg.release])] : [],
    buildNode: addresses.windows[0],
    cidrs: { podCidr: addresses.podCidr, serviceCidr: addresses.serviceCidr, vnetCidr: addresses.vnetCidr },
});
const sourceText = (i: MarketplaceImage) => `${i.publisher}:${i.offer}:${i.sku}:${i.version}`;
const version = imageVersionName(sourceText(cfg.source), steps);

// one gallery for both images, and one identity AIB builds them with
const gallery = new ImageGallery("winimg", { tags: { "hybrid-k8s-images": pulumi.getStack() } });
const image = new NodeImage("winimg", {
    gallery,
    os: "Windows",
    source: cfg.source,
    steps,
    version,
    vmSize: cfg.buildVmSize,
    imageName: windowsImageDefinition(cfg.release),
    offer: "windows-node",
    osDiskSizeGB: 128,
});

// The Linux master image: the master's prepare step and its images, for the cluster's linuxImage.
const m = cfg.master;
const masterSteps = m ? masterImageSteps(m) : [];
const masterVersion = m ? imageVersionName(sourceText(m.source), masterSteps) : undefined;
const master =
    m && masterVersion
        ? new NodeImage("masterimg", {
              gallery,
              os: "Linux",
              source: m.source,
              steps: masterSteps,
              version: masterVersion,
              vmSize: cfg.buildVmSize,
              imageName: MASTER_IMAGE_DEFINITION,
              offer: "linux-master",
              osDiskSizeGB: 64,
          })
        : undefined;

export const imageVersion = version;
/** The cluster's `hybrid-k8s:windowsImage`. */
export const imageVersionId = image.imageVersionId;
export const imageTemplateName = image.templateName;
export const resourceGroupName = gallery.resourceGroupName;
/** The cluster's `hybrid-k8s:linuxImage` (null without masterImage). */
export const masterImageVersionId = master ? master.imageVersionId : null;
export const masterImageVersion = masterVersion ?? null;
export const masterImageTemplateName = master ? master.templateName : null;
export const topology = cfg.topology;
export const windowsServerVersion = cfg.release;
