import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as os from "os";
import * as yaml from "js-yaml";
import { validateObject } from "./k8sSchema";
import { collapseWindowsNodes, drawnEdges, MERMAID_MAX_EDGES, renderableMermaid, renderSvg, WINDOWS_NODE_TYPE } from "../plan/writers";
import { PlanDocument } from "../plan/evaluate";
import { cachedPlan, planInProcess, SENTINEL_KEY_MATERIAL, SENTINEL_PASSWORD, sentinelPrivateKey } from "./planRun";

const ROOT = path.resolve(__dirname, "..");

function tmp(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "plan-test-"));
}

describe("npm run plan (end to end)", () => {
    it("plans the dev stack: tree on stdout, plan.json with the contract's shape, graphs", () => {
        const run = cachedPlan([]);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.match(run.stdout, /hybrid-k8s \/ dev: \d+ resources/);
        assert.match(run.stdout, /hybrid-k8s:index:Network cluster/);
        const doc = run.doc!;
        assert.strictEqual(doc.project, "hybrid-k8s");
        assert.strictEqual(doc.stack, "dev");
        assert.strictEqual(doc.config["hybrid-k8s:topology"], "vxlan");
        for (const r of doc.resources) {
            // a remote command also has its SSH target (test/existing.test.ts checks where each goes)
            const remote = r.type === "command:remote:Command";
            assert.deepStrictEqual(Object.keys(r).filter((k) => k !== "parent").sort(), ["dependsOn", "inputs", "name", "options", ...(remote ? ["target"] : []), "type", "urn"]);
            if (remote) {
                assert.strictEqual(r.inputs.connection, "[secret]", `${r.name}: its connection holds the key`);
            }
            assert.match(r.urn, /^urn:pulumi:dev::hybrid-k8s::/);
            for (const d of r.dependsOn) {
                assert.ok(run.graph!.byUrn.has(d), `${r.name} depends on unknown ${d}`);
            }
        }
        assert.ok(doc.resources.some((r) => r.type === "hybrid-k8s:index:Network"));
        for (const f of ["graph.mmd", "graph.dot", "graph.svg"]) {
            assert.ok(fs.statSync(path.join(run.out, f)).size > 100, f);
        }
        assert.match(fs.readFileSync(path.join(run.out, "graph.mmd"), "utf8"), /^flowchart LR/);
        // what runs on each machine: cloud-init, the OpenSSH extension, every command step
        const scripts = fs.readdirSync(path.join(run.out, "scripts"));
        for (const f of ["k8s-master-vm.cloud-init.yaml", "k8s-win-1-provision.ps1", "k8s-win-1-vm.user-data.ps1", "k8s-win-1-vm.user-data.openssh.ps1", "k8s-master-init.sh", "k8s-win-2-join.ps1", "k8s-win-1-podcidr.delete.sh"]) {
            assert.ok(scripts.includes(f), f);
        }
        assert.match(fs.readFileSync(path.join(run.out, "scripts", "k8s-master-vm.cloud-init.yaml"), "utf8"), /^#cloud-config\n[\s\S]*MaxStartups/);
        assert.ok(fs.readdirSync(path.join(run.out, "manifests")).includes("flannel-ds.yaml"));
        assert.match(fs.readFileSync(path.join(run.out, "graph.dot"), "utf8"), /^digraph/);
    });

    it("graph.dot is valid Graphviz (rendered with Graphviz's WebAssembly build, no system package), and graph.svg is its picture", async () => {
        const run = cachedPlan([]);
        const dot = fs.readFileSync(path.join(run.out, "graph.dot"), "utf8");
        const svg = await renderSvg(dot);
        assert.match(svg, /<svg[\s\S]*k8s&#45;master&#45;init[\s\S]*<\/svg>/);
        assert.strictEqual(fs.readFileSync(path.join(run.out, "graph.svg"), "utf8"), svg);
        await assert.rejects(renderSvg("digraph { a -> }"), "a syntax error is an error, not a picture");
    });

    it("the drawn edges keep every dependency (only implied edges are left out)", () => {
        const run = cachedPlan([]);
        const g = run.graph!;
        const drawn = new Map<string, string[]>();
        for (const [from, to] of drawnEdges(run.doc!)) {
            drawn.set(to, [...(drawn.get(to) ?? []), from]);
        }
        const reach = (urn: string, seen = new Set<string>()): Set<string> => {
            for (const d of drawn.get(urn) ?? []) {
                if (!seen.has(d)) {
                    seen.add(d);
                    reach(d, seen);
                }
            }
            return seen;
        };
        for (const r of run.doc!.resources) {
            assert.deepStrictEqual([...reach(r.urn)].sort(), [...g.ancestors(r.urn)].sort(), r.name);
        }
        assert.ok(drawnEdges(run.doc!).length < run.doc!.resources.reduce((n, r) => n + r.dependsOn.length, 0));
    });

    it("every manifest the plan writes is valid against the Kubernetes API schema", () => {
        for (const args of [[], ["--config", "topology=host-gw"]]) {
            const dir = path.join(cachedPlan(args).out, "manifests");
            const files = fs.readdirSync(dir);
            assert.ok(files.length >= 8, files.join(", "));
            for (const f of files) {
                validateObject(yaml.load(fs.readFileSync(path.join(dir, f), "utf8")) as { apiVersion: string; kind: string });
            }
        }
    });

    it("records implicit dependencies through Outputs, not only explicit dependsOn", () => {
        const g = cachedPlan([]).graph!;
        const subnet = g.one("cluster-nodes");
        // The subnet takes the NSG's and NAT gateway's ids as inputs: no dependsOn option is set.
        assert.ok(subnet.dependsOn.includes(g.one("cluster-nsg").urn));
        assert.ok(subnet.dependsOn.includes(g.one("cluster-nat").urn));
        assert.ok(g.one("cluster-nat").dependsOn.includes(g.one("cluster-nat-ip").urn));
    });

    it("host-gw shows the route table", () => {
        const run = cachedPlan(["--config", "hybrid-k8s:topology=host-gw"]);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.match(run.stdout, /RouteTable cluster-routes/);
        const routes = run.graph!.one("cluster-routes").inputs.routes as Array<Record<string, string>>;
        assert.strictEqual(routes.length, 3);
    });

    it("invalid config fails with the key named and writes no plan", async () => {
        const run = await planInProcess(["--config", "hybrid-k8s:podCidr=10.240.0.0/16"]);
        assert.strictEqual(run.code, 1);
        assert.match(run.stderr, /hybrid-k8s:podCidr: "10\.240\.0\.0\/16" overlaps vnetCidr/);
        assert.strictEqual(run.doc, undefined);
        assert.deepStrictEqual(fs.readdirSync(run.out), []);
    });

    it("a sentinel admin password and private key appear nowhere in out/, and azure-native:location reaches every Azure resource", () => {
        const run = cachedPlan(["--secret", `adminPassword=${SENTINEL_PASSWORD}`, "--secret", `sshPrivateKey=${sentinelPrivateKey()}`, "--config", "azure-native:location=eastus"]);
        assert.strictEqual(run.code, 0, run.stderr);
        const files: string[] = [];
        const walk = (dir: string) => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory()) {
                    walk(p);
                } else {
                    files.push(p);
                }
            }
        };
        walk(run.out);
        assert.ok(files.some((f) => f.endsWith(".ps1")));
        const keyBody = sentinelPrivateKey().split("\n")[1];
        for (const f of files) {
            const text = fs.readFileSync(f, "utf8");
            assert.ok(!text.includes(SENTINEL_PASSWORD), `password in ${f}`);
            assert.ok(!text.includes(SENTINEL_KEY_MATERIAL) && !text.includes(keyBody), `private key in ${f}`);
        }
        assert.ok(!run.stdout.includes(SENTINEL_PASSWORD) && !run.stderr.includes(SENTINEL_PASSWORD));
        // the region: the stack's azure-native:location, not a value the mocks pin
        assert.strictEqual(run.doc!.config["azure-native:location"], "eastus");
        const vm = run.graph!.one("k8s-master-vm");
        assert.strictEqual(vm.inputs.location, "eastus");
    });

    it("rejects a secret passed with --config, and unknown options (exit 2, the value not shown)", async () => {
        const secret = await planInProcess(["--config", "adminPassword=Xyz-12345"]);
        assert.strictEqual(secret.code, 2);
        assert.doesNotMatch(secret.stderr, /Xyz-12345/);
        const bad = await planInProcess(["--frobnicate"]);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.stderr, /unknown option --frobnicate/);
    });
});

describe("npm run plan: input it refuses, and what it never touches", () => {
    /** A project folder with one stack file. */
    function project(stack: string, text: string): string {
        const dir = tmp();
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
        return dir;
    }

    it("a mistyped secret key or namespace is an error whose value is never echoed, and nothing is written", async () => {
        for (const args of [["--secret", "adminPasword=Typo-Secret-1"], ["--config", "hybrid-k8:adminPassword=Typo-Secret-1"], ["--config", "HYBRID-K8S:adminPassword=Typo-Secret-1"]]) {
            const run = await planInProcess(args);
            assert.strictEqual(run.code, 1, args.join(" "));
            assert.match(run.stderr, /adminPass/);
            assert.doesNotMatch(run.stdout + run.stderr, /Typo-Secret-1/);
            assert.deepStrictEqual(fs.readdirSync(run.out), []);
        }
    });

    // [title, stack file, exit code, message]
    const STACK_FILES: Array<[string, string, number, RegExp]> = [
        ["a YAML syntax error is a message (position, no quoted line)", "config:\n  hybrid-k8s:adminPassword: [Plain-Secret-99\n", 1, /Pulumi\.bad\.yaml is not valid YAML: .* \(line \d+, column \d+\)/],
        ["a plain-text value for a secret key is refused, as Pulumi refuses it", "config:\n  hybrid-k8s:sshPrivateKey: Plain-Secret-99\n", 1, /sshPrivateKey: is a secret but its value \(not shown\) is stored in plain text/],
        ["a date is passed as the text Pulumi passes (not a JavaScript date)", "config:\n  hybrid-k8s:kubernetesVersion: 2024-01-01\n", 1, /kubernetesVersion: "2024-01-01" is not a version/],
        ["a YAML number is passed as its JSON text", "config:\n  hybrid-k8s:windowsNodeCount: 1.5\n", 1, /windowsNodeCount: "1\.5" is not a whole number/],
        ["a key without a value is a message", "config:\n  hybrid-k8s:topology:\n", 1, /hybrid-k8s:topology has no value/],
        ["a stack file that is not a map is a message", "- just\n- a list\n", 1, /must be a YAML map/],
    ];
    for (const [title, text, code, message] of STACK_FILES) {
        it(`stack file: ${title}`, async () => {
            const dir = project("bad", text);
            const run = await planInProcess(["--stack", "bad"], tmp(), dir);
            assert.strictEqual(run.code, code, run.stderr);
            assert.match(run.stderr, message);
            assert.doesNotMatch(run.stderr, /Plain-Secret-99|\n\s+at /);
            assert.deepStrictEqual(fs.readdirSync(run.out), []);
        });
    }

    for (const name of ["../../etc/x", "a/b", "", "x".repeat(101), "dev;rm"]) {
        it(`refuses the stack name ${JSON.stringify(name.slice(0, 20))} as Pulumi does (exit 2)`, async () => {
            const run = await planInProcess(["--stack", name]);
            assert.strictEqual(run.code, 2);
            assert.match(run.stderr, /stack name/);
        });
    }

    it("--out on a file is a message (exit 2), not a trace", async () => {
        const file = path.join(tmp(), "a-file");
        fs.writeFileSync(file, "mine");
        const run = await planInProcess(["--config", "topology=tor"], file);
        assert.strictEqual(run.code, 2);
        assert.match(run.stderr, /is a file, not a folder/);
        assert.strictEqual(fs.readFileSync(file, "utf8"), "mine");
    });

    it("--out on a non-empty folder it did not write is refused and left untouched (exit 2)", async () => {
        const dir = tmp();
        fs.mkdirSync(path.join(dir, "scripts"));
        fs.writeFileSync(path.join(dir, "scripts", "mine.sh"), "keep me");
        fs.writeFileSync(path.join(dir, "notes.txt"), "keep me");
        const run = await planInProcess([], dir);
        assert.strictEqual(run.code, 2);
        assert.match(run.stderr, /not empty and holds no plan/);
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["notes.txt", "scripts"]);
        assert.strictEqual(fs.readFileSync(path.join(dir, "scripts", "mine.sh"), "utf8"), "keep me");
    });

    it("a plan lists what it wrote, and a failed plan removes exactly that (and says so), keeping the user's files", async () => {
        const src = cachedPlan([]).out;
        const dir = tmp();
        fs.cpSync(src, dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "scripts", "mine.sh"), "keep me");
        fs.writeFileSync(path.join(dir, "notes.txt"), "keep me");
        const listed = JSON.parse(fs.readFileSync(path.join(dir, ".plan-files.json"), "utf8")) as string[];
        assert.ok(listed.includes("plan.json") && listed.includes("graph.svg") && listed.some((f) => f.startsWith("scripts/")));
        const run = await planInProcess(["--config", "podCidr=10.240.0.0/16"], dir);
        assert.strictEqual(run.code, 1);
        assert.match(run.stderr, new RegExp(`No plan written\\. Removed the previous plan's ${listed.length} files`));
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["notes.txt", "scripts"]);
        assert.deepStrictEqual(fs.readdirSync(path.join(dir, "scripts")), ["mine.sh"]);
    });

    it("--help prints the options and the exit codes (exit 0); --key=value works like --key value", async () => {
        const help = await planInProcess(["--help"]);
        assert.strictEqual(help.code, 0);
        assert.match(help.stdout, /--stack NAME[\s\S]*Exit codes:[\s\S]*1 {2}invalid configuration[\s\S]*2 {2}usage error/);
        const eq = await planInProcess(["--config=podCidr=10.240.0.0/16", "--stack=dev"]);
        assert.strictEqual(eq.code, 1);
        assert.match(eq.stderr, /podCidr/);
        const missing = await planInProcess(["--stack"]);
        assert.strictEqual(missing.code, 2);
        assert.match(missing.stderr, /--stack needs a value/);
    });

    it("every README example's options and config are accepted on a fresh clone (no Pulumi.<stack>.yaml needed)", async () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const examples = [...readme.matchAll(/^npm run plan -- (.+?)\s*(#.*)?$/gm)].map((m) => m[1].trim().split(/\s+/));
        assert.ok(examples.length >= 3, "README has plan examples");
        const { prepare } = await import("../plan/cli");
        for (const args of examples) {
            const out = args.indexOf("--out");
            if (out >= 0) {
                args[out + 1] = tmp();
            }
            assert.doesNotThrow(() => prepare(args), args.join(" "));
        }
    });
});

describe("the drawn graph at any size", () => {
    it("collapses the Windows nodes into one representative with the count; plan.json keeps every resource", () => {
        const run = cachedPlan(["--config", "windowsNodeCount=3"]);
        const { doc, count } = collapseWindowsNodes(run.doc!);
        assert.strictEqual(count, 3);
        const nodes = doc.resources.filter((r) => r.type === WINDOWS_NODE_TYPE);
        assert.strictEqual(nodes.length, 1);
        assert.match(nodes[0].name, /k8s-win-1 \(×3: k8s-win-1 … k8s-win-3, identical\)/);
        assert.ok(!doc.resources.some((r) => /^k8s-win-[23](-|$)/.test(r.name)), "nodes 2 and 3 are not drawn");
        assert.ok(doc.resources.some((r) => r.name === "k8s-win-1-join"));
        // the drawn graph does not grow with N
        assert.strictEqual(doc.resources.length, collapseWindowsNodes(cachedPlan([]).doc!).doc.resources.length);
        assert.strictEqual(run.doc!.resources.filter((r) => r.type === WINDOWS_NODE_TYPE).length, 3);
        const mmd = fs.readFileSync(path.join(run.out, "graph.mmd"), "utf8");
        assert.match(mmd, /×3/);
        assert.doesNotMatch(mmd, /k8s-win-3-join/);
        assert.match(run.stdout, /one Windows node for all 3/);
        // 2 + 3 x 4 vCPUs of Dsv5 exceed a typical per-family quota; the default 2 nodes (10) do not
        assert.match(run.stdout, /vCPU quota: 14 vCPUs of the Dsv5 family exceed a typical per-family quota of 10/);
        assert.doesNotMatch(cachedPlan([]).stdout, /vCPU quota/);
    });

    it(`Mermaid's edge limit (${MERMAID_MAX_EDGES}) is respected: a graph past it is not written as Mermaid`, () => {
        const chain = (n: number): PlanDocument => ({
            project: "p",
            stack: "s",
            config: {},
            outputs: {},
            resources: Array.from({ length: n + 1 }, (_, i) => ({ urn: `u${i}`, type: "t", name: `r${i}`, dependsOn: i ? [`u${i - 1}`] : [], inputs: {}, options: {} })),
        });
        assert.deepStrictEqual(renderableMermaid(chain(MERMAID_MAX_EDGES)).edges, MERMAID_MAX_EDGES);
        assert.ok(renderableMermaid(chain(MERMAID_MAX_EDGES)).content?.startsWith("flowchart LR"));
        assert.strictEqual(renderableMermaid(chain(MERMAID_MAX_EDGES + 1)).content, undefined);
        // collapsed, the planned graph stays far below the limit whatever the node count
        assert.ok(renderableMermaid(collapseWindowsNodes(cachedPlan(["--config", "windowsNodeCount=3"]).doc!).doc).edges < MERMAID_MAX_EDGES / 2);
    });
});

describe("README", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("documents every stack output the program exports", () => {
        const exported = [...fs.readFileSync(path.join(ROOT, "index.ts"), "utf8").matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
        assert.ok(exported.includes("resourceGroupName") && exported.includes("topology"));
        for (const name of exported) {
            assert.match(readme, new RegExp(`^\\| [^|]*\`${name}\`[^|]*\\|`, "m"), name);
        }
    });

    it("asks for the admin address over IPv4 (an IPv6 answer is refused) and says what the tests need", () => {
        for (const line of readme.split("\n").filter((l) => /adminCidr .*ifconfig/.test(l))) {
            assert.match(line, /curl -4/, line);
        }
        assert.match(readme, /Node\.js 20\.19 or newer[\s\S]*shellcheck/);
        assert.doesNotMatch(readme, /apt-get install[^\n]*graphviz/);
    });
});
