import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import * as yaml from "js-yaml";
import { validateObject } from "./k8sSchema";
import { drawnEdges } from "../plan/writers";
import { cachedPlan, runPlan } from "./planRun";

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
            assert.deepStrictEqual(Object.keys(r).filter((k) => k !== "parent").sort(), ["dependsOn", "inputs", "name", "options", "type", "urn"]);
            assert.match(r.urn, /^urn:pulumi:dev::hybrid-k8s::/);
            for (const d of r.dependsOn) {
                assert.ok(run.graph!.byUrn.has(d), `${r.name} depends on unknown ${d}`);
            }
        }
        assert.ok(doc.resources.some((r) => r.type === "hybrid-k8s:index:Network"));
        for (const f of ["graph.mmd", "graph.dot"]) {
            assert.ok(fs.statSync(path.join(run.out, f)).size > 100, f);
        }
        assert.match(fs.readFileSync(path.join(run.out, "graph.mmd"), "utf8"), /^flowchart LR/);
        // what runs on each machine: cloud-init, the OpenSSH extension, every command step
        const scripts = fs.readdirSync(path.join(run.out, "scripts"));
        for (const f of ["k8s-master-vm.cloud-init.yaml", "k8s-win-1-openssh.ps1", "k8s-master-init.sh", "k8s-win-2-join.ps1", "k8s-win-1-podcidr.delete.sh"]) {
            assert.ok(scripts.includes(f), f);
        }
        assert.match(fs.readFileSync(path.join(run.out, "scripts", "k8s-master-vm.cloud-init.yaml"), "utf8"), /^#cloud-config\n[\s\S]*MaxStartups/);
        assert.ok(fs.readdirSync(path.join(run.out, "manifests")).includes("flannel-ds.yaml"));
        assert.match(fs.readFileSync(path.join(run.out, "graph.dot"), "utf8"), /^digraph/);
    });

    it("graph.dot is valid Graphviz, and the drawn edges keep every dependency (only implied edges are left out)", () => {
        const run = cachedPlan([]);
        const dot = spawnSync("dot", ["-Tsvg", path.join(run.out, "graph.dot")], { encoding: "utf8" });
        assert.ifError(dot.error);
        assert.strictEqual(dot.status, 0, dot.stderr);
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

    it("invalid config fails with the key named and writes no plan", () => {
        const run = runPlan(["--config", "hybrid-k8s:podCidr=10.240.0.0/16"]);
        assert.strictEqual(run.code, 1);
        assert.match(run.stderr, /hybrid-k8s:podCidr: "10\.240\.0\.0\/16" overlaps vnetCidr/);
        assert.strictEqual(run.doc, undefined);
        assert.deepStrictEqual(fs.readdirSync(run.out), []);
    });

    it("a sentinel admin password and private key appear nowhere in out/", () => {
        const password = "Sentinel-Pa55word-4711";
        const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nSENTINELKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----";
        const run = runPlan(["--secret", `adminPassword=${password}`, "--secret", `sshPrivateKey=${key}`]);
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
        for (const f of files) {
            const text = fs.readFileSync(f, "utf8");
            assert.ok(!text.includes(password), `password in ${f}`);
            assert.ok(!text.includes("SENTINELKEYMATERIAL"), `private key in ${f}`);
        }
        assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password));
    });

    it("rejects a secret passed with --config, and unknown options", () => {
        assert.strictEqual(runPlan(["--config", "adminPassword=Xyz-12345"]).code, 2);
        const bad = runPlan(["--frobnicate"]);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.stderr, /unknown option --frobnicate/);
    });
});
