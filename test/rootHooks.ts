// Mocha root hook: when any loaded test file reads plans, render them all once, in parallel,
// before the first test (see test/planRun.ts).
import * as path from "path";

export const mochaHooks = {
    async beforeAll(this: { timeout(ms: number): void }): Promise<void> {
        const planRun = path.join(__dirname, "planRun.ts");
        if (require.cache[planRun]) {
            this.timeout(300_000);
            const { renderSharedPlans } = await import("./planRun");
            await renderSharedPlans();
        }
    },
};
