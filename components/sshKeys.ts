// SSH key checks (pure): what config validation needs to refuse a key before any VM exists.
// Wire format: openssh-portable sshkey.c (a public key blob starts with its type name as an SSH
// string; `sshkey_from_blob_internal` refuses a blob whose embedded type differs from the one
// read; an ed25519 key is ED25519_PK_SZ = 32 bytes) and RFC 4253 section 6.6 (ssh-rsa: string
// "ssh-rsa", mpint e, mpint n). Private keys: sshkey.c's MARK_BEGIN/MARK_END armour around
// AUTH_MAGIC "openssh-key-v1\0", then the cipher name ("none" when not encrypted).

/** Key types a VM accepts: Azure takes RSA (2048 bits or more) and Ed25519 for Linux VMs. */
export const SSH_KEY_TYPES = ["ssh-ed25519", "ssh-rsa"] as const;
export const MIN_RSA_BITS = 2048;

/** Reads SSH strings (uint32 length + bytes) from a blob; undefined when it runs short. */
class Reader {
    private at = 0;
    constructor(private readonly buf: Buffer) {}
    string(): Buffer | undefined {
        if (this.at + 4 > this.buf.length) {
            return undefined;
        }
        const len = this.buf.readUInt32BE(this.at);
        if (this.at + 4 + len > this.buf.length) {
            return undefined;
        }
        const out = this.buf.subarray(this.at + 4, this.at + 4 + len);
        this.at += 4 + len;
        return out;
    }
    get done(): boolean {
        return this.at === this.buf.length;
    }
}

function base64(text: string): Buffer | undefined {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
        return undefined;
    }
    return Buffer.from(text, "base64");
}

/** Bits of an SSH mpint (leading zero bytes do not count). */
function mpintBits(b: Buffer): number {
    let i = 0;
    while (i < b.length && b[i] === 0) {
        i++;
    }
    if (i === b.length) {
        return 0;
    }
    return (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]));
}

/** Why an OpenSSH public key line ("type base64 [comment]", already trimmed) is unusable, or undefined. */
export function publicKeyProblem(line: string): string | undefined {
    if (/[\r\n]/.test(line)) {
        return "holds more than one line; paste exactly one key (the single line of your .pub file)";
    }
    const [label, blobText] = line.split(/\s+/, 3);
    if (!(SSH_KEY_TYPES as readonly string[]).includes(label)) {
        return `starts with ${JSON.stringify(label.slice(0, 40))}, not a key type Azure VMs accept (${SSH_KEY_TYPES.join(", ")})`;
    }
    const blob = blobText === undefined ? undefined : base64(blobText);
    if (!blob) {
        return `has no base64 key data after "${label}"`;
    }
    const r = new Reader(blob);
    const type = r.string()?.toString("latin1");
    if (type !== label) {
        return type === undefined ? "has key data that is not an SSH key blob" : `is labelled "${label}" but its key data is a "${type.slice(0, 40)}" key`;
    }
    if (label === "ssh-ed25519") {
        const pk = r.string();
        if (!pk || pk.length !== 32 || !r.done) {
            return "has ssh-ed25519 key data of the wrong length (a 32-byte key is expected)";
        }
    } else {
        const e = r.string();
        const n = r.string();
        if (!e || !n || !r.done) {
            return "has truncated ssh-rsa key data";
        }
        const bits = mpintBits(n);
        if (bits < MIN_RSA_BITS) {
            return `is a ${bits}-bit RSA key; Azure needs at least ${MIN_RSA_BITS} bits (or use ssh-ed25519)`;
        }
    }
    return undefined;
}

const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n-----END \1-----\s*$/;
const OPENSSH_MAGIC = "openssh-key-v1\0";

/** Why a private key is unusable by the remote commands, or undefined. Never quotes the key. */
export function privateKeyProblem(text: string): string | undefined {
    const m = PEM.exec(text.trim());
    if (!m) {
        return "is not a PEM/OpenSSH private key (-----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----)";
    }
    const [, kind, body] = m;
    if (!/PRIVATE KEY$/.test(kind)) {
        return `is a PEM "${kind}" block, not a private key`;
    }
    if (kind === "ENCRYPTED PRIVATE KEY" || /Proc-Type: 4,ENCRYPTED/.test(body)) {
        return "is encrypted with a passphrase; the remote commands need an unencrypted key";
    }
    const lines = body.split(/\r?\n/).filter((l) => l !== "" && !l.includes(":"));
    const der = base64(lines.join(""));
    if (!der) {
        return "has a body that is not base64";
    }
    if (kind === "OPENSSH PRIVATE KEY") {
        if (der.subarray(0, OPENSSH_MAGIC.length).toString("latin1") !== OPENSSH_MAGIC) {
            return "has an OPENSSH armour but not the openssh-key-v1 format";
        }
        const cipher = new Reader(der.subarray(OPENSSH_MAGIC.length)).string()?.toString("latin1");
        if (cipher !== "none") {
            return "is encrypted with a passphrase; the remote commands need an unencrypted key";
        }
    }
    return undefined;
}

function sshString(b: Buffer | string): Buffer {
    const data = typeof b === "string" ? Buffer.from(b, "latin1") : b;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, data]);
}

/** A well-formed ed25519 public key line with the given 32 key bytes (plan placeholders, tests). */
export function ed25519PublicKey(key: Buffer, comment: string): string {
    return `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(key)]).toString("base64")} ${comment}`;
}

/** A well-formed, unencrypted OpenSSH private key container around `payload` (placeholders, tests). */
export function openSshPrivateKey(payload: string): string {
    const der = Buffer.concat([Buffer.from(OPENSSH_MAGIC, "latin1"), sshString("none"), sshString("none"), sshString(""), sshString(payload)]);
    const lines = der.toString("base64").match(/.{1,70}/g) ?? [];
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
