// The image program's configuration (namespace hybrid-k8s-images): the source image, the versions
// baked in and the topology the image's External HNS network is made for. Defaults are the
// cluster's (components/config.ts KEYS), so an image built with defaults matches a cluster planned
// with defaults. Pure: text in, typed config or every problem out.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigError, ConfigIssue, isWindowsServerImage, MarketplaceImage, parseImage, Topology, TOPOLOGIES, versionProblem, WINDOWS_IMAGE_OFFER, WINDOWS_IMAGE_PUBLISHER } from "../components/config";
import { WindowsVersions } from "../components/scripts/windows";
import { WINDOWS_SERVER, WindowsServerVersion } from "../components/versions";

export const IMAGE_PROJECT = "hybrid-k8s-images";

export interface ImageConfig {
    release: WindowsServerVersion;
    source: MarketplaceImage;
    /** The Linux master image's source and versions; undefined: no master image (masterImage false). */
    master?: { source: MarketplaceImage; kubernetesVersion: string; containerdVersion: string; flannelVersion: string; flannelCniPluginVersion: string };
    topology: Topology;
    versions: WindowsVersions;
    buildVmSize: string;
    pullSampleImage: boolean;
}

interface Declared {
    type: "string" | "boolean";
    default: string | boolean;
}

/** The keys and defaults images/Pulumi.yaml declares (one list: the program reads that file). */
export function declaredKeys(): Record<string, Declared> {
    const doc = yaml.load(fs.readFileSync(path.join(__dirname, "Pulumi.yaml"), "utf8")) as { config: Record<string, Declared> };
    return doc.config;
}

/** `raw`: values by key without the namespace, as set; unset keys take Pulumi.yaml's defaults. */
export function parseImageConfig(raw: Record<string, string>): ImageConfig {
    const keys = declaredKeys();
    const issues: ConfigIssue[] = [];
    const bad = (key: string, message: string) => issues.push({ key, message, namespace: IMAGE_PROJECT });
    for (const key of Object.keys(raw)) {
        if (!(key in keys)) {
            bad(key, `is not a key of ${IMAGE_PROJECT} (${Object.keys(keys).join(", ")}).`);
        }
    }
    const str = (key: string) => raw[key] ?? String(keys[key].default);

    const release = str("windowsServerVersion") as WindowsServerVersion;
    if (!(release in WINDOWS_SERVER)) {
        bad("windowsServerVersion", `"${release}" is not a Windows Server release the nodes support; use ${Object.keys(WINDOWS_SERVER).join(" or ")}.`);
    }
    const defaultSource = (WINDOWS_SERVER[release] ?? WINDOWS_SERVER["2022"]).image;
    const sourceText = str("windowsImage") || defaultSource;
    const source = parseImage(sourceText);
    if (!source || "id" in source || !isWindowsServerImage(source, release)) {
        bad("windowsImage", `"${sourceText}" is not a Windows Server ${release} marketplace image (${WINDOWS_IMAGE_PUBLISHER}:${WINDOWS_IMAGE_OFFER}:${release}-…:version); leave it empty for ${defaultSource}.`);
    }
    const topology = str("topology") as Topology;
    if (!TOPOLOGIES.includes(topology)) {
        bad("topology", `"${topology}" is not one of ${TOPOLOGIES.join(", ")}.`);
    }
    // the same order as the cluster's (index.ts): the runtime step records them as JSON, and a node
    // made from the image skips its downloads only when that record is equal
    const versions: WindowsVersions = {
        kubernetesVersion: str("kubernetesVersion"),
        containerdVersion: str("windowsContainerdVersion"),
        flannelVersion: str("flannelVersion"),
        flannelCniPluginVersion: str("flannelCniPluginVersion"),
        cniPluginsVersion: str("cniPluginsVersion"),
        sdnPluginsVersion: str("sdnPluginsVersion"),
    };
    // the cluster's own checks (supported Kubernetes minors, containerd's config format)
    for (const key of ["kubernetesVersion", "windowsContainerdVersion", "flannelVersion", "flannelCniPluginVersion", "cniPluginsVersion", "sdnPluginsVersion"] as const) {
        const problem = versionProblem(key, str(key));
        if (problem) {
            bad(key, problem);
        }
    }
    const masterImage = str("masterImage");
    if (masterImage !== "true" && masterImage !== "false") {
        bad("masterImage", `"${masterImage}" is not a boolean; use true or false.`);
    }
    const linuxSource = parseImage(str("linuxImage"));
    if (masterImage === "true" && (!linuxSource || "id" in linuxSource)) {
        bad("linuxImage", `"${str("linuxImage")}" is not a marketplace image publisher:offer:sku:version, e.g. ${String(keys.linuxImage.default)}.`);
    }
    const containerdProblem = versionProblem("containerdVersion", str("containerdVersion"));
    if (containerdProblem) {
        bad("containerdVersion", containerdProblem);
    }
    const pull = str("pullSampleImage");
    if (pull !== "true" && pull !== "false") {
        bad("pullSampleImage", `"${pull}" is not a boolean; use true or false.`);
    }
    const buildVmSize = str("buildVmSize");
    if (!/^Standard_[A-Za-z0-9_]+$/.test(buildVmSize)) {
        bad("buildVmSize", `"${buildVmSize}" is not a VM size like Standard_D4s_v5.`);
    }
    if (issues.length) {
        throw new ConfigError(issues);
    }
    const master =
        masterImage === "true"
            ? { source: linuxSource as MarketplaceImage, kubernetesVersion: versions.kubernetesVersion, containerdVersion: str("containerdVersion"), flannelVersion: versions.flannelVersion, flannelCniPluginVersion: versions.flannelCniPluginVersion }
            : undefined;
    return { release, source: source as MarketplaceImage, master, topology, versions, buildVmSize, pullSampleImage: pull === "true" };
}
