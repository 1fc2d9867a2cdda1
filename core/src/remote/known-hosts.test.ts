import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, hasErrorCode } from '@handyrep/plugin-sdk';
import { MemoryLogger } from '@handyrep/plugin-sdk/testing';
import { HostKeyChecker } from './host-key-checker.js';
import {
  checkHostKey,
  keyFingerprint,
  keyTypeOfBlob,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.js';
import { runChecked } from './test-support/processes.js';

/** An SSH public key blob: string type, then a 32-byte body (shaped like ed25519). */
function blob(type: string, fill: number): Buffer {
  const name = Buffer.from(type);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(name.length);
  const bodyLength = Buffer.alloc(4);
  bodyLength.writeUInt32BE(32);
  return Buffer.concat([head, name, bodyLength, Buffer.alloc(32, fill)]);
}

const noKeygen = existsSync('/usr/bin/ssh-keygen') ? false : 'needs ssh-keygen (openssh-client)';

const KEY_A = blob('ssh-ed25519', 1);
const KEY_B = blob('ssh-ed25519', 2);
const KEY_RSA = blob('ssh-rsa', 3);
const a64 = KEY_A.toString('base64');
const b64 = KEY_B.toString('base64');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handyrep-known-hosts-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('knownHostsName', () => {
  it('uses the bare name on port 22 and [host]:port otherwise, lower-cased', () => {
    assert.equal(knownHostsName('DB1.Example', 22), 'db1.example');
    assert.equal(knownHostsName('127.0.0.5', 2222), '[127.0.0.5]:2222');
  });
});

describe('parseKnownHosts / checkHostKey', () => {
  it('matches plain names and addresses, comma lists, case-insensitively', () => {
    const entries = parseKnownHosts(`db1,10.0.0.1,DB2.example ssh-ed25519 ${a64} comment here\n`);
    assert.equal(entries.length, 1);
    for (const name of ['db1', '10.0.0.1', 'db2.example']) {
      assert.equal(checkHostKey(entries, name, KEY_A).status, 'known', name);
    }
    assert.equal(checkHostKey(entries, 'db3', KEY_A).status, 'unknown');
  });

  it('keeps [host]:port entries apart from the same host on port 22', () => {
    const entries = parseKnownHosts(`[127.0.0.5]:2222 ssh-ed25519 ${a64}\n127.0.0.5 ssh-ed25519 ${b64}\n`);
    assert.equal(checkHostKey(entries, knownHostsName('127.0.0.5', 2222), KEY_A).status, 'known');
    assert.equal(checkHostKey(entries, knownHostsName('127.0.0.5', 22), KEY_B).status, 'known');
    assert.equal(checkHostKey(entries, knownHostsName('127.0.0.5', 2222), KEY_B).status, 'changed');
    assert.equal(checkHostKey(entries, knownHostsName('127.0.0.5', 2200), KEY_A).status, 'unknown');
  });

  it('supports wildcards and negated patterns', () => {
    const entries = parseKnownHosts(`*.db.example,!bad.db.example ssh-ed25519 ${a64}\n`);
    assert.equal(checkHostKey(entries, 'one.db.example', KEY_A).status, 'known');
    assert.equal(checkHostKey(entries, 'bad.db.example', KEY_A).status, 'unknown');
    assert.equal(checkHostKey(entries, 'one.db.example.evil', KEY_A).status, 'unknown');
  });

  it('reports a different key for a known host as changed, with the line numbers', () => {
    const entries = parseKnownHosts(`# comment\n\ndb1 ssh-ed25519 ${a64}\n`);
    const verdict = checkHostKey(entries, 'db1', KEY_B);
    assert.equal(verdict.status, 'changed');
    assert.deepEqual(verdict.status === 'changed' ? verdict.entries.map((entry) => entry.line) : [], [3]);
  });

  it('treats a key of another type for a known host as changed, not unknown', () => {
    const entries = parseKnownHosts(`db1 ssh-rsa ${KEY_RSA.toString('base64')}\n`);
    assert.equal(checkHostKey(entries, 'db1', KEY_A).status, 'changed');
  });

  it('skips comments, blank and malformed lines but keeps the good ones', () => {
    const text = [
      '# a comment',
      '',
      '   ',
      'onlyhost',
      'db1 ssh-ed25519 !!!notbase64',
      `db1 ssh-rsa ${a64}`, // label disagrees with the blob
      '@unknown-marker db1 ssh-ed25519 ' + a64,
      '|1|broken ssh-ed25519 ' + a64,
      `db1 ssh-ed25519 ${a64}`,
    ].join('\r\n');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.line, 9);
  });

  it('refuses a key marked @revoked even when it is also listed as known', () => {
    const entries = parseKnownHosts(`db1 ssh-ed25519 ${a64}\n@revoked * ssh-ed25519 ${a64}\n`);
    const verdict = checkHostKey(entries, 'db1', KEY_A);
    assert.equal(verdict.status, 'revoked');
    assert.equal(verdict.status === 'revoked' ? verdict.entry.line : 0, 2);
  });

  it('ignores @cert-authority lines', () => {
    const entries = parseKnownHosts(`@cert-authority db1 ssh-ed25519 ${a64}\n`);
    assert.equal(entries.length, 1);
    assert.equal(checkHostKey(entries, 'db1', KEY_A).status, 'unknown');
    assert.deepEqual(knownKeyTypes(entries, 'db1'), []);
  });

  it('lists the key types on record for a host, in file order', () => {
    const entries = parseKnownHosts(`db1 ssh-rsa ${KEY_RSA.toString('base64')}\ndb1 ssh-ed25519 ${a64}\ndb2 ssh-ed25519 ${b64}\n`);
    assert.deepEqual(knownKeyTypes(entries, 'db1'), ['ssh-rsa', 'ssh-ed25519']);
  });

  it('matches hashed entries written by ssh-keygen -H (HMAC-SHA1)', { skip: noKeygen }, async () => {
    const file = join(dir, 'hashed');
    await writeFile(file, `[127.0.0.5]:2222 ssh-ed25519 ${a64}\ndb1,10.1.2.3 ssh-ed25519 ${b64}\n`);
    await runChecked(['ssh-keygen', '-q', '-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    assert.ok(text.includes('|1|'), text);
    assert.ok(!text.includes('db1') && !text.includes('127.0.0.5'), 'host names must be hashed');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 3); // a list is hashed into one line per name
    assert.equal(checkHostKey(entries, '[127.0.0.5]:2222', KEY_A).status, 'known');
    assert.equal(checkHostKey(entries, 'db1', KEY_B).status, 'known');
    assert.equal(checkHostKey(entries, '10.1.2.3', KEY_B).status, 'known');
    assert.equal(checkHostKey(entries, 'db1', KEY_A).status, 'changed');
    assert.equal(checkHostKey(entries, '127.0.0.5', KEY_A).status, 'unknown');
  });
});

describe('key helpers', () => {
  it('reads the type from a blob and rejects garbage', () => {
    assert.equal(keyTypeOfBlob(KEY_A), 'ssh-ed25519');
    assert.equal(keyTypeOfBlob(Buffer.from([0, 0])), undefined);
    assert.equal(keyTypeOfBlob(Buffer.from([0, 0, 0, 200, 1, 2])), undefined);
  });

  it('computes the same fingerprint as ssh-keygen -l', { skip: noKeygen }, async () => {
    const key = join(dir, 'fp_key');
    await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const [, base64] = (await readFile(`${key}.pub`, 'utf8')).split(' ');
    const listed = await runChecked(['ssh-keygen', '-l', '-E', 'sha256', '-f', `${key}.pub`]);
    assert.ok(listed.includes(keyFingerprint(Buffer.from(base64 ?? '', 'base64'))), listed);
  });

  it('writes a line that parses back', () => {
    const line = knownHostsLine('[127.0.0.5]:2222', KEY_A);
    assert.equal(line, `[127.0.0.5]:2222 ssh-ed25519 ${a64}`);
    assert.equal(checkHostKey(parseKnownHosts(line), '[127.0.0.5]:2222', KEY_A).status, 'known');
  });
});

describe('HostKeyChecker', () => {
  it('strict: refuses an unknown host, naming the server, host and file', async () => {
    const file = join(dir, 'strict_hosts');
    await writeFile(file, '');
    const check = await new HostKeyChecker(file, 'strict', new MemoryLogger()).prepare('db1', '127.0.0.5', 2222);
    await assert.rejects(check.verify(KEY_A), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.SSH_HOST_KEY));
      const message = (err as Error).message;
      assert.match(message, /db1/);
      assert.match(message, /\[127\.0\.0\.5\]:2222/);
      assert.ok(message.includes(file));
      return true;
    });
  });

  it('strict: a missing file refuses like an empty one', async () => {
    const check = await new HostKeyChecker(join(dir, 'nope', 'known_hosts'), 'strict', new MemoryLogger()).prepare('db1', 'h', 22);
    await assert.rejects(check.verify(KEY_A), (err: unknown) => hasErrorCode(err, ErrorCodes.SSH_HOST_KEY));
  });

  it('prefers the algorithms of known key types', async () => {
    const file = join(dir, 'algos');
    await writeFile(file, `h ssh-rsa ${KEY_RSA.toString('base64')}\n`);
    const check = await new HostKeyChecker(file, 'strict', new MemoryLogger()).prepare('db1', 'h', 22);
    assert.deepEqual(check.algorithms?.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.ok(check.algorithms?.includes('ssh-ed25519'));
  });

  it('accept-new: creates the file 0600, appends once, then refuses a changed key', async () => {
    const file = join(dir, 'sub', 'accept_hosts');
    const logger = new MemoryLogger();
    const checker = new HostKeyChecker(file, 'accept-new', logger);
    const first = await checker.prepare('db1', '127.0.0.5', 2222);
    await Promise.all([first.verify(KEY_A), first.verify(KEY_A)]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), `[127.0.0.5]:2222 ssh-ed25519 ${a64}\n`);
    const second = await checker.prepare('db1', '127.0.0.5', 2222);
    await second.verify(KEY_A);
    await assert.rejects(second.verify(KEY_B), (err: unknown) => hasErrorCode(err, ErrorCodes.SSH_HOST_KEY));
    assert.equal((await readFile(file, 'utf8')).split('\n').filter(Boolean).length, 1);
    assert.ok(logger.lines.some((line) => line.level === 'info' && line.message.includes('added')));
  });

  it('accept-new: adds a newline when the file does not end with one', async () => {
    const file = join(dir, 'no_newline');
    await writeFile(file, `other ssh-ed25519 ${b64}`);
    const check = await new HostKeyChecker(file, 'accept-new', new MemoryLogger()).prepare('db1', 'db1', 22);
    await check.verify(KEY_A);
    assert.equal(await readFile(file, 'utf8'), `other ssh-ed25519 ${b64}\ndb1 ssh-ed25519 ${a64}\n`);
  });

  it('off: accepts anything and warns once per host', async () => {
    const logger = new MemoryLogger();
    const checker = new HostKeyChecker(join(dir, 'unused'), 'off', logger);
    for (let i = 0; i < 3; i++) await (await checker.prepare('db1', 'h', 22)).verify(i === 0 ? KEY_A : KEY_B);
    await (await checker.prepare('db2', 'h2', 22)).verify(KEY_A);
    assert.equal(logger.lines.filter((line) => line.level === 'warn').length, 2);
  });
});
