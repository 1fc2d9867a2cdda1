import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { archiveScript, sshArgv } from './archive-script.js';
import type { RemoteScriptOptions } from './archive-script.js';
import type { ArchiveTarget } from './archive-target.js';

const scratch = mkdtempSync(join(tmpdir(), 'archive-remote-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SEGMENT = '000000010000000000000003';
const TARGET: ArchiveTarget = { server: 'arch1', host: '10.0.0.9', user: 'walkeeper', port: 2222 };
const OPTIONS: RemoteScriptOptions = {
  fsync: true,
  copyTimeoutSeconds: 30,
  connectTimeoutSeconds: 4,
  identityFile: '/etc/handyrep/archive key',
  knownHostsFile: '/etc/handyrep/known_hosts',
  strictHostKeyChecking: 'yes',
};

// A stand-in ssh: records its argv (one per line), then runs the remote command with sh -c like a login shell, in a "remote home".
const fakeBin = join(scratch, 'bin');
mkdirSync(fakeBin);
writeFileSync(
  join(fakeBin, 'ssh'),
  [
    '#!/bin/sh',
    'printf "%s\\n" "$@" > "$FAKE_SSH_LOG"',
    'if [ -n "${FAKE_SSH_EXIT-}" ]; then echo "ssh: connect to host 10.0.0.9 port 2222: Connection refused" >&2; exit "$FAKE_SSH_EXIT"; fi',
    'while [ "$#" -gt 0 ]; do if [ "$1" = -- ]; then shift; break; fi; shift; done',
    'shift',
    'cd "$FAKE_SSH_HOME" && exec sh -c "$*"',
    '',
  ].join('\n'),
);
chmodSync(join(fakeBin, 'ssh'), 0o755);

let counter = 0;

function setup(options: { dirName?: string; env?: Record<string, string>; script?: Partial<RemoteScriptOptions> } = {}) {
  const base = join(scratch, `case-${++counter}`);
  const remoteHome = join(base, 'remote-home');
  mkdirSync(join(base, 'pgdata', 'pg_wal'), { recursive: true });
  mkdirSync(remoteHome);
  const archiveDirectory = join(base, options.dirName ?? 'remote-archive');
  const touchFile = join(base, 'handyrep_noarchiving');
  const scriptPath = join(base, 'handyrep_archive.sh');
  const log = join(base, 'ssh-argv');
  writeFileSync(scriptPath, archiveScript({ scriptPath, touchFile, archiveDirectory }, TARGET, { ...OPTIONS, ...options.script }));
  chmodSync(scriptPath, 0o700);
  const env = { ...process.env, PATH: `${fakeBin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, FAKE_SSH_LOG: log, FAKE_SSH_HOME: remoteHome, ...options.env };
  const segment = (name: string, content: string | Buffer): string => {
    writeFileSync(join(base, 'pgdata', 'pg_wal', name), content);
    return `pg_wal/${name}`;
  };
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync(scriptPath, args, { cwd: join(base, 'pgdata'), encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 20_000 });
  const sshArgs = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(0, -1) : []);
  return { base, remoteHome, archiveDirectory, touchFile, log, segment, run, sshArgs };
}

describe('ssh argument vector', () => {
  it('batch mode, time-outs, host key policy, key and known_hosts, port and user, then -- and the host', () => {
    assert.deepEqual(sshArgv(TARGET, OPTIONS), [
      'ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=4', '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=3',
      '-o', 'StrictHostKeyChecking=yes', '-o', 'UserKnownHostsFile=/etc/handyrep/known_hosts',
      '-i', '/etc/handyrep/archive key', '-o', 'IdentitiesOnly=yes', '-p', '2222', '-l', 'walkeeper', '--', '10.0.0.9',
    ]);
    const defaults = sshArgv(TARGET, { ...OPTIONS, identityFile: '', knownHostsFile: '', strictHostKeyChecking: 'accept-new' });
    assert.ok(!defaults.includes('-i') && !defaults.some((a) => a.startsWith('UserKnownHostsFile')));
    assert.ok(defaults.includes('StrictHostKeyChecking=accept-new'));
  });
});

describe('remote archive script run by a real shell (stand-in ssh)', () => {
  it('--check creates the remote directory over ssh with the configured options', () => {
    const s = setup();
    const check = s.run(['--check']);
    assert.equal(check.status, 0, check.stderr);
    assert.equal(statSync(s.archiveDirectory).mode & 0o777, 0o700);
    const argv = s.sshArgs();
    assert.deepEqual(argv.slice(argv.indexOf('--'), argv.indexOf('--') + 2), ['--', '10.0.0.9']);
    assert.ok(argv.includes('/etc/handyrep/archive key'), 'identity path passed as one argument');
  });

  it('streams a segment byte for byte, a retry of the same file is success, a different file is never overwritten', () => {
    const s = setup();
    s.run(['--check']);
    const content = Buffer.alloc(128 * 1024, 3);
    const p = s.segment(SEGMENT, content);
    const first = s.run([p, SEGMENT]);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(readFileSync(join(s.archiveDirectory, SEGMENT)), content);
    assert.deepEqual(readdirSync(s.archiveDirectory), [SEGMENT]);
    assert.equal(s.run([p, SEGMENT]).status, 0);
    const other = s.segment(SEGMENT, 'different');
    const clash = s.run([other, SEGMENT]);
    assert.equal(clash.status, 3);
    assert.match(clash.stderr, /already exists and differs/);
    assert.deepEqual(readFileSync(join(s.archiveDirectory, SEGMENT)), content);
  });

  it('a directory with quotes, $(...), backticks and ; is passed through two shells literally', () => {
    const marker = join(scratch, 'pwned-remote');
    const s = setup({ dirName: `wal "a" 'b' $(touch ${marker}) \`touch ${marker}\`; touch ${marker} #` });
    assert.equal(s.run(['--check']).status, 0);
    const result = s.run([s.segment(SEGMENT, 'x'), SEGMENT]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(join(s.archiveDirectory, SEGMENT), 'utf8'), 'x');
    assert.equal(existsSync(marker), false);
    assert.deepEqual(readdirSync(s.remoteHome), []);
  });

  it('the touch file skips the transfer (no ssh at all); odd names are refused before ssh', () => {
    const s = setup();
    s.run(['--check']);
    rmSync(s.log);
    writeFileSync(s.touchFile, '');
    assert.equal(s.run([s.segment(SEGMENT, 'x'), SEGMENT]).status, 0);
    assert.equal(existsSync(s.log), false, 'ssh not run while stopped');
    rmSync(s.touchFile);
    for (const name of ['x;touch y', '$(id)', '../up', '.hidden', 'a b']) {
      assert.equal(s.run([s.segment(SEGMENT, 'x'), name]).status, 2, name);
    }
    assert.equal(existsSync(s.log), false, 'ssh not run for a refused name');
    assert.deepEqual(readdirSync(s.archiveDirectory), []);
  });

  it('an ssh failure (exit 255) becomes a retryable exit 1 with a message naming the archive host', () => {
    const s = setup();
    const result = s.run([s.segment(SEGMENT, 'x'), SEGMENT], { FAKE_SSH_EXIT: '255' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Connection refused[\s\S]*sending 000000010000000000000003 to walkeeper@10\.0\.0\.9:2222 failed \(exit 255\)/);
    const check = s.run(['--check'], { FAKE_SSH_EXIT: '255' });
    assert.equal(check.status, 1);
    assert.match(check.stderr, /check on walkeeper@10\.0\.0\.9:2222 failed/);
  });

  it('a transfer that outlasts copy_timeout_seconds is killed and retryable', () => {
    const slow = join(scratch, 'slow-bin');
    mkdirSync(slow, { recursive: true });
    writeFileSync(join(slow, 'ssh'), '#!/bin/sh\nsleep 30\n');
    chmodSync(join(slow, 'ssh'), 0o755);
    const s = setup({ script: { copyTimeoutSeconds: 1 } });
    const started = Date.now();
    const result = s.run([s.segment(SEGMENT, 'x'), SEGMENT], { PATH: `${slow}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });
    assert.ok(Date.now() - started < 10_000);
    assert.ok(result.status !== null && result.status > 0 && result.status <= 125, `status ${result.status}`);
  });
});
