// The stock image's Windows chain with the provisioning extension (components/scripts/provision.ts
// windowsSteps("stock")), applied to a plan (pure). Until components/windowsNode.ts declares that
// chain itself, the benchmark models it on the plan's graph through this rewrite: each node's
// OpenSSH extension becomes its provisioning extension (which also waits for the master's version
// check: it installs kubelet), prepare-features and features-ready go (their scripts are parts of the
// provisioning; the ready step does features-ready's check), and prepare-runtime waits for ready.
// A plan that has the provisioning extension already is returned as it is.
import type { PlanDocument, PlanResource } from "./evaluate";

const EXTENSION = "azure-native:compute:VirtualMachineExtension";

/** The name the URN ends with, replaced. */
function renamed(urn: string, from: string, to: string): string {
    return urn.endsWith(`::${from}`) ? `${urn.slice(0, -from.length)}${to}` : urn;
}

export function foldStockPath(doc: PlanDocument): PlanDocument {
    const byName = new Map(doc.resources.map((r) => [r.name, r]));
    const extensions = doc.resources.filter((r) => r.type === EXTENSION && r.name.endsWith("-openssh"));
    if (!extensions.length || doc.resources.some((r) => r.type === EXTENSION && r.name.endsWith("-provision"))) {
        return doc;
    }
    const versionCheck = doc.resources.find((r) => r.type === "command:remote:Command" && r.name.endsWith("-version-check"));
    const replace = new Map<string, string>();
    const drop = new Set<string>();
    for (const ext of extensions) {
        const node = ext.name.slice(0, -"-openssh".length);
        const ready = byName.get(`${node}-ready`);
        if (!ready) {
            throw new Error(`${ext.name} has no ${node}-ready step`);
        }
        replace.set(ext.urn, renamed(ext.urn, ext.name, `${node}-provision`));
        for (const step of ["prepare-features", "features-ready"]) {
            const r = byName.get(`${node}-${step}`);
            if (r) {
                drop.add(r.urn);
                replace.set(r.urn, ready.urn);
            }
        }
    }
    const resources: PlanResource[] = doc.resources
        .filter((r) => !drop.has(r.urn))
        .map((r) => {
            const urn = replace.get(r.urn) ?? r.urn;
            const deps = r.dependsOn.map((d) => replace.get(d) ?? d);
            if (r.type === EXTENSION && replace.has(r.urn) && versionCheck) {
                // it installs kubelet: only a version the running API server allows
                deps.push(versionCheck.urn);
            }
            return { ...r, urn, name: urn === r.urn ? r.name : urn.slice(urn.lastIndexOf("::") + 2), dependsOn: [...new Set(deps.filter((d) => d !== urn))] };
        });
    return { ...doc, resources };
}
