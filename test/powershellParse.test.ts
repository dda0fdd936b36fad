// PowerShell's own parser judges every script the Windows nodes run, as the plan renders it for
// each topology with 1 and 3 nodes and a hostile SSH key comment; the syntax and the commands
// must also exist in Windows PowerShell 5.1.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { windowsCniConf } from "../components/manifests/cni";
import * as prov from "../components/scripts/provision";
import { decodePowerShell, embeddedFiles, ps, psData } from "../components/scripts/shell";
import { topologySpec } from "../components/topology";
import { defaultAddresses, hostileSshKey, VERSIONS } from "./fixtures";
import { cachedPlan, hostilePlans, imagesPlan } from "./planRun";
import { commandProblems } from "./pwsh/commands";
import { parseFiles, parseScripts } from "./pwsh/pwsh";

describe("PowerShell parses every Windows script (pwsh)", function () {
    this.timeout(300000);
    const files: string[] = [];
    before(() => {
        for (const args of hostilePlans()) {
            const run = cachedPlan(args);
            assert.strictEqual(run.code, 0, run.stderr);
            const dir = path.join(run.out, "scripts");
            files.push(...fs.readdirSync(dir).filter((f) => f.endsWith(".ps1")).map((f) => path.join(dir, f)));
        }
        // the image program's build steps and what they carry (npm run plan:images)
        const images = imagesPlan();
        const dir = path.join(images.out, "scripts");
        files.push(...fs.readdirSync(dir).filter((f) => f.endsWith(".ps1")).map((f) => path.join(dir, f)));
    });

    it("every rendered script and every script it carries parses, with no 5.1-only syntax", () => {
        // the step scripts and what they carry (service start scripts, boot tasks) of each kind
        for (const kind of ["openssh", "ready", "prepare-features", "features-ready", "prepare-runtime", "join", "check-node", "start-kubelet", "start-kube-proxy", "start-flanneld", "start-hybrid-k8s-l2bridge", "external-network", "prepull", "image-setup", "hybrid-k8s-authorized-key", "image-cleanup", "provision", "user-data", "hybrid-k8s-provision-boot", "identity", "identity.delete", "enable-openssh", "upgrade"]) {
            assert.ok(files.some((f) => f.includes(`-${kind}.ps1`) || f.includes(`.${kind}.ps1`)), `the plan rendered ${kind}`);
        }
        const report = parseFiles(files);
        const where = (x: { file: string; line: number }) => `${path.basename(path.dirname(path.dirname(x.file)))}/${path.basename(x.file)}:${x.line}`;
        assert.deepStrictEqual(report.errors.map((e) => `${where(e)}: ${e.id}: ${e.message}`), []);
        assert.deepStrictEqual(report.syntax.map((s) => `${where(s)}: ${s.what}: ${s.text}`), []);

        assert.deepStrictEqual(commandProblems(report, where), []);
    });

    it("the stock image's provisioning scripts (provision.ts) and everything they carry parse, with 5.1 syntax and commands only", () => {
        // not in the plan until windowsNode.ts runs them: rendered here for each topology
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "provision-"));
        const written: string[] = [];
        const write = (name: string, text: string) => {
            const file = path.join(dir, name.endsWith(".ps1") ? name : `${name}.ps1`);
            fs.writeFileSync(file, text);
            written.push(file);
        };
        const plan = defaultAddresses(3);
        for (const topology of ["vxlan", "host-gw", "tor"] as const) {
            const spec = topologySpec(topology);
            const node = plan.windows[0];
            const cniConfig = windowsCniConf({ spec, node, podCidr: plan.podCidr, serviceCidr: plan.serviceCidr, vnetCidr: plan.vnetCidr });
            const p = prov.provisionCommand({ publicKey: hostileSshKey(), runtime: { spec, node, versions: VERSIONS, cniConfig, prePull: ["mcr.microsoft.com/windows/servercore:ltsc2022"] } });
            write(`${topology}-provision-command`, decodePowerShell(p.commandToExecute)!);
            write(`${topology}-provision`, p.script);
            for (const f of embeddedFiles(`${topology}-provision`, p.script)) {
                // the parts, the boot task; and what the parts carry in turn
                if (f.path.endsWith(".ps1")) {
                    write(f.path, f.content);
                    embeddedFiles(f.path.replace(/\.ps1$/, ""), f.content).filter((g) => g.path.endsWith(".ps1")).forEach((g) => write(g.path, g.content));
                }
            }
        }
        write("provisioned-ready", prov.renderProvisionedReady());
        for (const kind of ["provision-command", "provision", "openssh", "prepare-features", "prepare-runtime", "hybrid-k8s-provision-boot", "external-network", "prepull", "provisioned-ready"]) {
            assert.ok(written.some((f) => path.basename(f).includes(kind)), `rendered ${kind}`);
        }
        const report = parseFiles(written);
        const where = (x: { file: string; line: number }) => `${path.basename(x.file)}:${x.line}`;
        assert.deepStrictEqual(report.errors.map((e) => `${where(e)}: ${e.id}: ${e.message}`), []);
        assert.deepStrictEqual(report.syntax.map((s) => `${where(s)}: ${s.what}: ${s.text}`), []);
        assert.deepStrictEqual(commandProblems(report, where), []);
    });

    it("the hostile key comment reaches the node only as data (the provisioning's OpenSSH part, an existing host's enable-openssh)", () => {
        for (const name of ["k8s-win-1-vm.user-data.openssh.ps1", "win-a-enable-openssh.ps1"]) {
            const script = files.find((f) => f.endsWith(name));
            assert.ok(script, name);
            const text = fs.readFileSync(script, "utf8");
            assert.ok(!text.includes("laptop"), `${name}: the comment is not in the script's source`);
            assert.strictEqual(fs.readFileSync(script.replace(/\.ps1$/, ".authorized-key"), "utf8").trimEnd(), hostileSshKey());
        }
    });
});

describe("the parse check can fail", () => {
    it("rejects a drive-qualified variable in a double-quoted string, naming file and line", () => {
        const report = parseScripts({ broken: `$ErrorActionPreference = 'Stop'\n$state = 'x'\nthrow "the feature is $state: not installed"\n` });
        assert.deepStrictEqual(
            report.errors.map((e) => [e.file, e.line, e.id]),
            [["broken.ps1", 3, "InvalidVariableReferenceWithDrive"]],
        );
    });

    it("rejects syntax Windows PowerShell 5.1 lacks", () => {
        const report = parseScripts({ seven: "$a = $null ?? 1\n$b = $a ? 1 : 2\nGet-Item x && Get-Item y\n$c = ${a}?.Length\n$script:d = 1\n" });
        assert.deepStrictEqual(
            report.syntax.map((s) => s.what),
            ["null-coalescing ??", "ternary operator", "pipeline chain (&& / ||)", "null-conditional ?. / ?[]", "$script: scope (steps run as a script block)"],
        );
    });

    it("a curly quote breaks a string quoted only for ASCII quotes; ps() and psData() keep it a string", () => {
        const comment = "John\u2019s laptop'; Write-Output pwned; '";
        const asciiOnly = `'${comment.replace(/'/g, "''")}'`;
        assert.notDeepStrictEqual(parseScripts({ a: `$x = ${asciiOnly}\n` }).commands.map((c) => c.name), [], "with ASCII-only quoting the comment runs a command");
        for (const quoted of [ps(comment), psData(comment, "comment")]) {
            const report = parseScripts({ b: `function ConvertFrom-Base64($t) { $t }\n$x = ${quoted}\n` });
            assert.deepStrictEqual(report.errors, []);
            assert.deepStrictEqual(report.commands.map((c) => c.name).filter((n) => n !== "ConvertFrom-Base64"), []);
        }
    });
});
