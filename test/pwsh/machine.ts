// A stubbed Windows node for the run tests: a folder with drive C: and the machine's state
// (test/pwsh/stub.ps1 holds the shims, test/pwsh/run.ps1 runs one step on it).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { powershellCommand, powershellUnpacker } from "../../components/scripts/shell";
import { runPwsh } from "./pwsh";

export interface Call {
    cmd: string;
    args: string[];
}

export interface Service {
    status: "Running" | "Stopped";
    start: string;
    deps: string[];
    nssm?: boolean;
}

export interface MachineState {
    features: Record<string, string>;
    services: Record<string, Service>;
    firewall: string[];
    routes: string[];
    registry: Record<string, string>;
    tasks: Record<string, { file: string; command?: string | null; atStartup: boolean }>;
    hns: { networks: Array<{ Name: string; Type: string }>; endpoints: Array<{ Name: string; IPAddress: string; Attached: boolean }> };
    images: string[];
    bootTime: string;
    rebootPending: boolean;
    /** The pod network's HNS name, created when flanneld (or the tor service) starts. */
    podNetwork: string;
    /** URL → file served instead of a stub artifact. */
    web: Record<string, string>;
    /** URLs (substrings) whose download fails. */
    failUrls: string[];
    /** Shim name → how many times it fails. */
    fail: Record<string, number>;
    joinConfig?: string;
    /** The VM's user data (base64), as the instance metadata service serves it. */
    userData?: string;
    /** The kubeadm.exe (its content) that ran `kubeadm upgrade node`. */
    kubeadmUpgradeBy?: string;
    /** Sandboxes of the sample on this node, and the pod IP crictl reports for them. */
    pods: string[];
    podIp: string;
    /** whoami /groups reports a token without elevation. */
    notElevated?: boolean;
    calls: Call[];
}

export interface StepRun {
    code: number;
    stdout: string;
    stderr: string;
    /** The shim calls of this run only. */
    calls: Call[];
}

const RUNNER = path.join(__dirname, "run.ps1");

export class StubWindows {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "win-"));

    /** A copy of this machine, as it is now (tests share machines prepared up to a step). */
    clone(): StubWindows {
        const copy = Object.create(StubWindows.prototype) as StubWindows;
        Object.defineProperty(copy, "dir", { value: fs.mkdtempSync(path.join(os.tmpdir(), "win-")) });
        fs.cpSync(this.dir, copy.dir, { recursive: true, verbatimSymlinks: true });
        return copy;
    }

    constructor(podNetwork: string, init: Partial<MachineState> = {}) {
        fs.mkdirSync(path.join(this.dir, "c", "Windows", "System32"), { recursive: true });
        this.write({
            features: { Containers: "Available" },
            services: { sshd: { status: "Running", start: "Automatic", deps: [] }, hns: { status: "Running", start: "Automatic", deps: [] } },
            firewall: [],
            routes: [],
            registry: {},
            tasks: {},
            hns: { networks: [], endpoints: [] },
            images: [],
            bootTime: "2026-11-25T08:00:00.0000000Z",
            rebootPending: false,
            podNetwork,
            web: { [HNS_URL]: path.join(__dirname, "..", "fixtures", "hns.psm1") },
            failUrls: [],
            fail: {},
            pods: [],
            podIp: "",
            calls: [],
            ...init,
        });
    }

    get state(): MachineState {
        return JSON.parse(fs.readFileSync(path.join(this.dir, "state.json"), "utf8")) as MachineState;
    }

    write(state: MachineState): void {
        fs.writeFileSync(path.join(this.dir, "state.json"), JSON.stringify(state, null, 1));
    }

    /** Changes the state between runs. */
    set(change: (s: MachineState) => void): void {
        const s = this.state;
        change(s);
        this.write(s);
    }

    /** A file on drive C: (a Windows path), or undefined. */
    file(windowsPath: string): string | undefined {
        const p = path.join(this.dir, "c", ...windowsPath.replace(/^C:\\/, "").split("\\"));
        return fs.existsSync(p) ? fs.readFileSync(p, "utf8") : undefined;
    }

    /** Runs one step's script, as the SSH session would, with stdin. */
    run(script: string, stdin = ""): StepRun {
        const before = this.state.calls.length;
        const file = path.join(this.dir, `step-${before}.ps1`);
        fs.writeFileSync(file, powershellUnpacker(powershellCommand(script)));
        const res = runPwsh(["-File", RUNNER, "-Machine", this.dir, "-Script", file], stdin);
        return { ...res, calls: this.state.calls.slice(before) };
    }

    /**
     * Reboots the machine (finishes pending features, starts automatic services, runs startup
     * tasks). Startup tasks named in `hold` have not run yet when it returns: runTask runs one later.
     */
    boot(hold: string[] = []): StepRun {
        const before = this.state.calls.length;
        const res = runPwsh(["-File", RUNNER, "-Machine", this.dir, "-Boot", ...(hold.length ? ["-HoldTasks", hold.join(",")] : [])]);
        return { ...res, calls: this.state.calls.slice(before) };
    }

    /** Runs a registered task's script, as the Task Scheduler does (a startup task held at boot). */
    runTask(name: string): StepRun {
        const before = this.state.calls.length;
        const res = runPwsh(["-File", RUNNER, "-Machine", this.dir, "-Task", name]);
        return { ...res, calls: this.state.calls.slice(before) };
    }
}

const HNS_URL = "https://raw.githubusercontent.com/microsoft/SDN/242fb0c3190dbb08d7f9406727be18322218e537/Kubernetes/windows/hns.psm1";

/** The names of the calls of one kind. */
export function calls(run: StepRun, cmd: string): string[][] {
    return run.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}

/** Asserts that a step succeeded, showing its output when it did not. */
export function ok(run: StepRun, what: string): void {
    assert.strictEqual(run.code, 0, `${what} failed: ${run.stderr}\n${run.stdout}`);
}

/** Calls that change a machine: downloads, installs, service restarts and deletions, reboots, joins, networks, firewall rules, tasks, pulls and image removals. */
export function changes(run: StepRun): string[] {
    const kinds = new Set([
        "curl.exe",
        "install",
        "Restart-Service",
        "service-stopped",
        "Restart-Computer",
        "Install-WindowsFeature",
        "Add-WindowsCapability",
        "kubeadm.exe",
        "New-HnsNetwork",
        "sc.exe",
        "Remove-HnsNetwork",
        "Remove-HnsEndpoint",
        "New-NetFirewallRule",
        "Remove-NetFirewallRule",
        "Unregister-ScheduledTask",
        "containerd.exe",
    ]);
    return run.calls.filter((c) => kinds.has(c.cmd) || (c.cmd === "crictl.exe" && (c.args[0] === "pull" || c.args[0] === "rmi"))).map((c) => `${c.cmd} ${c.args.join(" ")}`);
}
