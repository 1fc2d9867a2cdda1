import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How one host-pattern field of a known_hosts line names its hosts. */
export type KnownHostPatterns =
  | { kind: 'hashed'; salt: Buffer; hash: Buffer }
  | { kind: 'list'; patterns: readonly { pattern: string; negated: boolean }[] };

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** 1-based line number, for messages. */
  line: number;
  /** `revoked` (never accept this key) or `cert-authority` (a CA key, which HandyRep does not use); absent on plain lines. */
  marker?: 'revoked' | 'cert-authority';
  /** Which hosts the line is about. */
  hosts: KnownHostPatterns;
  /** Key type as written, e.g. `ssh-ed25519`. */
  keyType: string;
  /** The decoded public key blob (what the server presents during key exchange). */
  key: Buffer;
}

/** What a known_hosts file says about the key a host presented. */
export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  | { status: 'changed'; entries: readonly KnownHostEntry[] }
  | { status: 'unknown' };

/**
 * Parses known_hosts text. Lines that cannot be understood are skipped (as
 * OpenSSH does), so one bad line never hides the good ones.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const entry = parseLine(lines[index] ?? '', index + 1);
    if (entry) entries.push(entry);
  }
  return entries;
}

function parseLine(raw: string, line: number): KnownHostEntry | undefined {
  const text = raw.trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const fields = text.split(/[ \t]+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const name = fields.shift();
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hostField, keyType, keyText] = fields;
  if (!hostField || !keyType || !keyText) return undefined;
  const hosts = parseHostField(hostField);
  if (!hosts) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) return undefined;
  const key = Buffer.from(keyText, 'base64');
  // The blob names its own type; a line whose label disagrees is corrupt.
  if (keyTypeOfBlob(key) !== keyType) return undefined;
  return marker === undefined ? { line, hosts, keyType, key } : { line, marker, hosts, keyType, key };
}

function parseHostField(field: string): KnownHostPatterns | undefined {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return undefined;
    const saltBytes = Buffer.from(salt, 'base64');
    const hashBytes = Buffer.from(hash, 'base64');
    if (hashBytes.length !== 20) return undefined;
    return { kind: 'hashed', salt: saltBytes, hash: hashBytes };
  }
  if (field.startsWith('|')) return undefined;
  const patterns = field
    .split(',')
    .filter((part) => part !== '')
    .map((part) =>
      part.startsWith('!') ? { pattern: part.slice(1).toLowerCase(), negated: true } : { pattern: part.toLowerCase(), negated: false },
    );
  return patterns.length === 0 ? undefined : { kind: 'list', patterns };
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** True when `entry` is about the host looked up as `name` (see knownHostsName). */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  const hosts = entry.hosts;
  if (hosts.kind === 'hashed') {
    const digest = createHmac('sha1', hosts.salt).update(name).digest();
    return timingSafeEqual(digest, hosts.hash);
  }
  let matched = false;
  for (const { pattern, negated } of hosts.patterns) {
    if (!wildcardMatch(pattern, name)) continue;
    // A matching negation vetoes the whole line, whatever else matches.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH host patterns: `*` any run of characters, `?` exactly one. */
function wildcardMatch(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** Decides what the known_hosts entries say about `key` presented by the host looked up as `name`. */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const forHost = entries.filter((entry) => entryMatchesHost(entry, name));
  const revoked = forHost.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((entry) => entry.marker === undefined);
  const known = plain.find((entry) => entry.key.equals(key));
  if (known) return { status: 'known', entry: known };
  // Any other key on record for this host, even of another type, means the
  // host's identity changed: OpenSSH warns here, HandyRep refuses.
  if (plain.length > 0) return { status: 'changed', entries: plain };
  return { status: 'unknown' };
}

/** Key types recorded for the host looked up as `name`, in file order, for host-key algorithm preference. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types: string[] = [];
  for (const entry of entries) {
    if (entry.marker !== undefined || types.includes(entry.keyType)) continue;
    if (entryMatchesHost(entry, name)) types.push(entry.keyType);
  }
  return types;
}

/** The key type a public key blob names (its first SSH string), or undefined when the blob is malformed. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/** The OpenSSH `SHA256:...` fingerprint of a public key blob, for messages and logs. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The line accept-new appends for a newly seen host key (plain, not hashed, so operators can read it). */
export function knownHostsLine(name: string, blob: Buffer): string {
  const type = keyTypeOfBlob(blob);
  if (type === undefined) throw new TypeError('malformed host key blob');
  return `${name} ${type} ${blob.toString('base64')}`;
}
