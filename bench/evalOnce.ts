// One evaluation of the program under the mock runtime, for the benchmark: prints
// {"ms", "maxRssMb", "resources"} and writes plan.json to the folder given.
import * as fs from "fs";
import * as path from "path";
import { PROJECT } from "../components/config";
import { PLACEHOLDERS, readStackFile } from "../plan/cli";
import { evaluate } from "../plan/evaluate";

async function main() {
    const [count, out] = process.argv.slice(2);
    const config: Record<string, string> = { ...readStackFile("dev").values, [`${PROJECT}:windowsNodeCount`]: count };
    const secretKeys: string[] = [];
    for (const [key, p] of Object.entries(PLACEHOLDERS)) {
        config[key] ??= p.value;
        if (p.secret) {
            secretKeys.push(key);
        }
    }
    const start = process.hrtime.bigint();
    const { document } = await evaluate({ project: PROJECT, stack: "dev", config, secretKeys });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    fs.writeFileSync(path.join(out, "plan.json"), JSON.stringify(document));
    process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, resources: document.resources.length }) + "\n");
}

main().then(
    () => process.exit(0),
    (e: unknown) => {
        process.stderr.write(String(e instanceof Error ? e.stack : e) + "\n");
        process.exit(1);
    },
);
