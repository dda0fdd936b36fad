// The Windows scripts for existing hosts run by PowerShell against a stubbed Windows (test/pwsh):
// the undo on a node the real steps set up (first run, a second run that changes nothing, a run that
// fails half way and its retry, a half-installed node), after which the node steps run again; and
// the one-time OpenSSH script on a stock 2022 and a stock 2025 host. PowerShell's parser judges them
// as it judges the node steps (5.1 syntax and commands).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ex from "../components/scripts/existing";
import { MAX_WINDOWS_COMMAND, powershellCommand } from "../components/scripts/shell";
import { hostileSshKey } from "./fixtures";
import { commandProblems } from "./pwsh/commands";
import { calls, changes, ok, StubWindows } from "./pwsh/machine";
import { nodeUpTo, scripts, stdin, TestTopology } from "./pwsh/nodes";
import { parseScripts } from "./pwsh/pwsh";

const undo = ex.renderWindowsUndo({ nodeName: "k8s-win-1" });
const KEYS = "C:\\ProgramData\\ssh\\administrators_authorized_keys";

/** Every file and folder on the machine's drive C:, relative. */
function tree(m: StubWindows): string[] {
    const root = path.join(m.dir, "c");
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            out.push(path.relative(root, p));
            if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
        }
    };
    walk(root);
    return out.sort();
}

/** What the steps leave: nothing of it may remain after the undo; OpenSSH and the Containers feature stay. */
function assertUndone(m: StubWindows): void {
    const st = m.state;
    assert.deepStrictEqual(Object.keys(st.services).sort(), ["hns", "sshd"], "only Windows' own services remain");
    assert.strictEqual(st.services.sshd.status, "Running");
    assert.strictEqual(st.features.Containers, "Installed");
    assert.deepStrictEqual(st.hns.networks, [], "pod networks and External are gone");
    assert.deepStrictEqual(st.hns.endpoints, []);
    assert.deepStrictEqual(st.firewall, ["sshd"], "only sshd's rule remains");
    assert.deepStrictEqual(Object.keys(st.tasks), []);
    assert.deepStrictEqual(st.images, []);
    const left = tree(m).filter((f) => !f.startsWith("Windows") && !f.startsWith(path.join("ProgramData", "ssh")) && f !== "ProgramData" && f !== "Program Files");
    assert.deepStrictEqual(left, [], "no folder or file of the steps is left");
    assert.strictEqual(m.file(KEYS), `${hostileSshKey()}\n`, "the admin's key stays");
}

/** The node steps again, on the undone machine: it is usable. */
function stepsAgain(m: StubWindows, topology: TestTopology): void {
    const s = scripts(topology);
    ok(m.run(s.features), "prepare-features after the undo");
    m.boot();
    ok(m.run(s.featuresReady), "features-ready after the undo");
    ok(m.run(s.runtime), "prepare-runtime after the undo");
    const join = m.run(s.join, stdin());
    ok(join, "join after the undo");
    assert.deepStrictEqual(calls(join, "kubeadm.exe").map((a) => a[0]), ["join"], "a clean join, nothing to reset first");
    for (const svc of ["containerd", "kubelet", "kube-proxy"]) {
        assert.strictEqual(m.state.services[svc].status, "Running", svc);
    }
}

describe("existing Windows hosts: the undo and the OpenSSH script under PowerShell against a stubbed Windows", function () {
    this.timeout(600000);

    it("PowerShell parses them, with no 5.1-only syntax and only commands 5.1 has", () => {
        const report = parseScripts({ undo, "remove-external": ex.renderRemoveExternalTask(), "enable-openssh": ex.renderEnableOpenSsh(hostileSshKey()) });
        const where = (x: { file: string; line: number }) => `${x.file}:${x.line}`;
        assert.deepStrictEqual(report.errors.map((e) => `${where(e)}: ${e.id}: ${e.message}`), []);
        assert.deepStrictEqual(report.syntax.map((s) => `${where(s)}: ${s.what}: ${s.text}`), []);
        assert.deepStrictEqual(commandProblems(report, where), []);
        // the undo travels as one command line, as every Windows step (shell.ts powershellCommand)
        assert.ok(powershellCommand(undo).length < MAX_WINDOWS_COMMAND);
        // the task's script travels inside the undo as its action's -EncodedCommand
        const encoded = /-EncodedCommand ([A-Za-z0-9+/=]+)'/.exec(undo)![1];
        assert.strictEqual(Buffer.from(encoded, "base64").toString("utf16le"), ex.renderRemoveExternalTask());
    });

    for (const topology of ["vxlan", "host-gw", "tor"] as const) {
        it(`${topology}: undoes a joined node, a second run changes nothing, and the node steps then run again`, () => {
            const m = nodeUpTo(topology, "done");
            if (topology === "tor") {
                // what the running hybrid-k8s-l2bridge service did: the network's host endpoint
                ok(m.run(scripts("tor").l2bridge), "l2bridge");
            }
            const first = m.run(undo);
            ok(first, "undo");
            assert.deepStrictEqual(calls(first, "kubeadm.exe"), [["reset", "-f", "--cri-socket", "npipe:////./pipe/containerd-containerd"]]);
            assert.ok(calls(first, "crictl.exe").some((a) => a[0] === "rmi" && a[1] === "--all"), "images removed through containerd");
            const deleted = calls(first, "sc.exe").map((a) => a[1]);
            assert.deepStrictEqual(deleted, ["kube-proxy", "kubelet", ...(topology === "tor" ? ["hybrid-k8s-l2bridge"] : ["flanneld"]), "containerd"], "in reverse boot order");
            assert.deepStrictEqual(calls(first, "Remove-HnsNetwork").map((a) => a[0]), [scripts(topology).spec.windowsNetworkName, "External"], "the pod network, then External last");
            if (topology === "tor") {
                assert.deepStrictEqual(calls(first, "Remove-HnsEndpoint"), [["cbr0_ep"]], "the host endpoint before its network");
            }
            assert.match(first.stdout, /undone on k8s-win-1: OpenSSH and the Containers feature stay/);
            assertUndone(m);

            const before = tree(m);
            const second = m.run(undo);
            ok(second, "undo again");
            assert.deepStrictEqual(changes(second), []);
            assert.strictEqual(second.stdout.trim(), "nothing to undo on k8s-win-1");
            assert.deepStrictEqual(tree(m), before);

            stepsAgain(m, topology);
        });
    }

    it("an undo that fails half way (a service that cannot be deleted) fails naming it; the retry finishes it", () => {
        const m = nodeUpTo("vxlan", "done");
        m.set((st) => (st.fail.sc = 2));
        const failed = m.run(undo);
        assert.strictEqual(failed.code, 1);
        assert.match(failed.stderr, /sc\.exe delete kube-proxy failed with exit code 1061/);
        const retry = m.run(undo);
        assert.strictEqual(retry.code, 1, "still failing once more");
        const done = m.run(undo);
        ok(done, "undo retried");
        assertUndone(m);
        assert.strictEqual(m.run(undo).stdout.trim(), "nothing to undo on k8s-win-1");
    });

    it("a half-installed node (its join failed half way) is undone, and then joins", () => {
        const s = scripts("host-gw");
        const m = nodeUpTo("host-gw", "join");
        m.set((st) => (st.fail["kubeadm-join"] = 1));
        assert.strictEqual(m.run(s.join, stdin()).code, 1, "the join fails half way");
        const res = m.run(undo);
        ok(res, "undo");
        assert.deepStrictEqual(calls(res, "kubeadm.exe").map((a) => a[0]), ["reset"], "what the failed join wrote is reset");
        assertUndone(m);
        stepsAgain(m, "host-gw");
    });

    it("a node whose runtime never got installed (a download failed) is undone, and then set up", () => {
        const s = scripts("vxlan");
        const m = nodeUpTo("vxlan", "runtime");
        m.set((st) => st.failUrls.push("kube-proxy.exe"));
        assert.strictEqual(m.run(s.runtime).code, 1);
        m.set((st) => (st.failUrls = []));
        const res = m.run(undo);
        ok(res, "undo");
        assert.deepStrictEqual(calls(res, "kubeadm.exe"), [], "nothing was joined: no reset");
        assertUndone(m);
        stepsAgain(m, "vxlan");
    });

    describe("the one-time OpenSSH script", () => {
        const script = ex.renderEnableOpenSsh(hostileSshKey());

        it("stock 2022 (no OpenSSH server): installs it, starts it at boot, the key as data with the ACL first, PowerShell as shell; a re-run changes nothing", () => {
            const m = new StubWindows("flannel.4096", { services: { hns: { status: "Running", start: "Automatic", deps: [] } } });
            const first = m.run(script);
            ok(first, "enable-openssh");
            assert.deepStrictEqual(calls(first, "Add-WindowsCapability"), [["OpenSSH.Server~~~~0.0.1.0"]]);
            assert.deepStrictEqual(m.state.services.sshd, { status: "Running", start: "Automatic", deps: [] });
            assert.strictEqual(m.file(KEYS), `${hostileSshKey()}\n`);
            assert.deepStrictEqual(calls(first, "icacls.exe"), [[KEYS, "0"]], "the ACL is set while the file is empty");
            assert.match(m.state.registry["HKLM:\\SOFTWARE\\OpenSSH\\DefaultShell"], /WindowsPowerShell\\v1\.0\\powershell\.exe$/);
            assert.deepStrictEqual(m.state.firewall, ["sshd"]);
            assert.ok(!first.stdout.includes("pwned"), "nothing in the key comment ran");
            const second = m.run(script);
            ok(second, "enable-openssh again");
            assert.deepStrictEqual(changes(second), []);
            assert.match(second.stdout, /key already in/);
            assert.strictEqual(m.file(KEYS), `${hostileSshKey()}\n`);
        });

        it("stock 2025 (OpenSSH installed, its service disabled): enables and starts it without adding the capability", () => {
            const m = new StubWindows("flannel.4096", { services: { hns: { status: "Running", start: "Automatic", deps: [] }, sshd: { status: "Stopped", start: "Disabled", deps: [] } } });
            const res = m.run(script);
            ok(res, "enable-openssh");
            assert.deepStrictEqual(calls(res, "Add-WindowsCapability"), []);
            assert.deepStrictEqual(m.state.services.sshd, { status: "Running", start: "Automatic", deps: [] });
            assert.strictEqual(m.file(KEYS), `${hostileSshKey()}\n`);
        });

        it("keeps the keys already there and adds the key once, whatever its comment", () => {
            const m = new StubWindows("flannel.4096");
            const other = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ other-admin";
            const [type, blob] = hostileSshKey().split(" ");
            fs.mkdirSync(path.join(m.dir, "c", "ProgramData", "ssh"), { recursive: true });
            // written as Windows PowerShell 5.1's Out-File writes by default: UTF-16LE with a byte order mark
            fs.writeFileSync(path.join(m.dir, "c", "ProgramData", "ssh", "administrators_authorized_keys"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${other}\r\n${type} ${blob} old-comment\r\n`, "utf16le")]));
            const res = m.run(script);
            ok(res, "enable-openssh");
            assert.strictEqual(m.file(KEYS), `${other}\n${type} ${blob} old-comment\n`, "both keys, rewritten as UTF-8 without a byte order mark, none twice");
            const fresh = new StubWindows("flannel.4096");
            fs.mkdirSync(path.join(fresh.dir, "c", "ProgramData", "ssh"), { recursive: true });
            fs.writeFileSync(path.join(fresh.dir, "c", "ProgramData", "ssh", "administrators_authorized_keys"), `${other}\n`);
            ok(fresh.run(script), "enable-openssh beside another key");
            assert.strictEqual(fresh.file(KEYS), `${other}\n${hostileSshKey()}\n`);
        });

        it("refuses to run without elevation, changing nothing", () => {
            const m = new StubWindows("flannel.4096", { services: { hns: { status: "Running", start: "Automatic", deps: [] } }, notElevated: true });
            const res = m.run(script);
            assert.strictEqual(res.code, 1);
            assert.match(res.stderr, /Run this script in Windows PowerShell opened with "Run as administrator"/);
            assert.deepStrictEqual(changes(res), []);
            assert.strictEqual(m.state.services.sshd, undefined);
        });
    });
});
