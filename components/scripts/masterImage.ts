// The prebuilt Linux master image: the master's own prepare step (containerd, kubeadm, kubelet
// and kubectl at their versions, the kernel settings), then the control plane's and flannel's
// images pulled, so a master made from it takes the prepare step's second-run path (nothing to
// download or install) and kubeadm init finds its images in place. What a master knows and an
// image cannot (its address, the cluster's CIDRs, the certificates) stays with the steps.
//
// Pure: scripts in, steps out. images/index.ts turns the steps into an image template.
import { flannelImages } from "../manifests/flannel";
import { ImageStep } from "./image";
import { bashPrelude, MasterPrepareInput, PRELUDE, renderMasterPrepare } from "./linux";
import { sh } from "./shell";

export interface MasterImageInput extends MasterPrepareInput {
    flannelVersion: string;
    flannelCniPluginVersion: string;
}

/** containerd's CRI socket (containerd defaults/defaults_unix.go DefaultAddress). */
const CONTAINERD_SOCKET = "unix:///run/containerd/containerd.sock";

/**
 * The images init and flannel start from. `kubeadm config images pull` pulls every image the
 * version's control plane runs, the pause image among them, through the CRI (kubernetes
 * cmd/kubeadm/app/cmd/config.go NewCmdConfigImagesPull: --kubernetes-version, --cri-socket); init's
 * preflight then finds them present and pulls nothing (cmd/kubeadm/app/preflight/checks.go
 * ImagePullCheck skips an image the runtime has under the IfNotPresent policy, init's default). flannel's two images go into containerd's k8s.io
 * namespace, the one the CRI serves (ctr ships in containerd's release tarball).
 */
export function renderMasterImagePull(input: MasterImageInput): string {
    const { image, cniImage } = flannelImages(input.flannelVersion, input.flannelCniPluginVersion);
    return `${PRELUDE}retry kubeadm config images pull --kubernetes-version ${sh(`v${input.kubernetesVersion}`)} --cri-socket ${CONTAINERD_SOCKET}
for ref in ${sh(image)} ${sh(cniImage)}; do
  retry ctr -n k8s.io images pull "$ref" >/dev/null
  echo "pulled $ref"
done
`;
}

/**
 * What a build leaves that no master may share: the machine id (an empty /etc/machine-id makes
 * systemd generate a new one at the first boot; it would first take /var/lib/dbus/machine-id, so
 * that goes too: systemd man/machine-id.xml), apt's downloaded packages.
 * AIB then deprovisions the VM (waagent -deprovision+user) before it captures it.
 */
export function renderMasterImageCleanup(): string {
    return `${bashPrelude()}apt-get clean
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id
echo "image cleaned: machine id emptied, apt cache cleared"
`;
}

/** The build, in order: the master's own prepare step, the pulls, the cleanup. */
export function masterImageSteps(input: MasterImageInput): ImageStep[] {
    return [
        { name: "prepare", kind: "Shell", script: renderMasterPrepare({ kubernetesVersion: input.kubernetesVersion, containerdVersion: input.containerdVersion }) },
        { name: "pull", kind: "Shell", script: renderMasterImagePull(input) },
        { name: "cleanup", kind: "Shell", script: renderMasterImageCleanup() },
    ];
}
