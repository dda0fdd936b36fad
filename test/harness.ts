// Test harness: one recording mock monitor for the whole mocha run (the Pulumi runtime is
// global), and helpers to create components and read back what they registered.
import * as pulumi from "@pulumi/pulumi";
import { installRecordingMonitor, RecordedResource, RecordingMonitor } from "../plan/monitor";
import { PlanMocks } from "../plan/mocks";

let monitor: RecordingMonitor | undefined;

/** Installs the mocks (once) and returns the monitor that records every registration. */
export function mockRuntime(): RecordingMonitor {
    if (!monitor) {
        pulumi.runtime.setAllConfig({}, []);
        monitor = installRecordingMonitor(new PlanMocks(), "hybrid-k8s", "test");
    }
    return monitor;
}

/** Waits until every registration started so far has been answered. */
export async function settle(): Promise<void> {
    // waitForRPCs is @internal in the SDK's typings; it is what `disconnect` awaits.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}

/** Records whose name starts with `prefix` (each test uses its own prefix). */
export function recorded(prefix: string): RecordedResource[] {
    return mockRuntime().records.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
}

export function byName(prefix: string, name: string): RecordedResource {
    const r = recorded(prefix).find((x) => x.name === name);
    if (!r) {
        throw new Error(`no resource ${name}; have ${recorded(prefix).map((x) => x.name).join(", ")}`);
    }
    return r;
}
