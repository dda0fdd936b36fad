// Runs rendered bash against a PATH of fake commands that record their calls, inside a sandbox
// folder standing in for the machine's file system.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Paths the scripts write to, redirected into the sandbox. */
const ROOTED = ["/etc/kubernetes", "/etc/cni", "/etc/systemd", "/etc/containerd", "/etc/modules-load.d", "/etc/sysctl.d", "/etc/apt", "/usr/local/sbin", "/var/lib/cni", "/run/flannel", "/etc/machine-id", "/var/lib/dbus"];

export interface Sandbox {
    dir: string;
    /** Writes a fake command: a bash body that can use $SANDBOX, and "$@". Every call is logged. */
    fake(name: string, body: string): void;
    run(script: string, stdin?: string): { code: number; stdout: string; stderr: string };
    /** The recorded calls of one fake, one argument string per call. */
    calls(name: string): string[];
    file(p: string): string;
    exists(p: string): boolean;
}

export function sandbox(): Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sh-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, "calls"));
    // folders that exist on any real machine
    for (const p of ["usr/local/sbin", "etc/systemd/system", "etc/modules-load.d", "etc/sysctl.d", "etc/apt/sources.list.d"]) {
        fs.mkdirSync(path.join(dir, p), { recursive: true });
    }
    const sb: Sandbox = {
        dir,
        fake(name, body) {
            fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "$*" >> "$SANDBOX/calls/${name}"\n${body}\n`, { mode: 0o755 });
        },
        run(script, stdin) {
            let text = script;
            for (const p of ROOTED) {
                text = text.split(p).join(`${dir}${p}`);
            }
            const file = path.join(dir, "script.sh");
            fs.writeFileSync(file, text);
            const res = spawnSync("bash", [file], {
                input: stdin ?? "",
                encoding: "utf8",
                env: { PATH: `${bin}:/usr/bin:/bin`, SANDBOX: dir, HOME: dir },
                timeout: 60000,
            });
            return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
        },
        calls(name) {
            const f = path.join(dir, "calls", name);
            return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter((l) => l !== "") : [];
        },
        file(p) {
            return fs.readFileSync(path.join(dir, p), "utf8");
        },
        exists(p) {
            return fs.existsSync(path.join(dir, p));
        },
    };
    // Harmless stand-ins for system commands every script may touch.
    for (const c of ["systemctl", "modprobe", "sysctl", "swapoff", "sleep", "apt-get", "apt-mark", "iptables"]) {
        sb.fake(c, "exit 0");
    }
    return sb;
}

/** shellcheck's findings for a script (empty when clean). */
export function shellcheck(script: string): string {
    const res = spawnSync("shellcheck", ["-S", "style", "-s", "bash", "-"], { input: script, encoding: "utf8" });
    if (res.error) {
        throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${res.error.message}`);
    }
    return res.stdout;
}
