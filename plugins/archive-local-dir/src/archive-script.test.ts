import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { archiveScript } from './archive-script.js';

const scratch = mkdtempSync(join(tmpdir(), 'archive-local-dir-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SEGMENT = '000000010000000000000003';
let counter = 0;

/** A fresh setup: a pgdata-like source directory, an archive directory path (not yet created) and a script. */
function setup(options: { dirName?: string; fsync?: boolean; copyTimeoutSeconds?: number } = {}) {
  const base = join(scratch, `case-${++counter}`);
  mkdirSync(join(base, 'pgdata', 'pg_wal'), { recursive: true });
  const archiveDirectory = join(base, options.dirName ?? 'archive');
  const touchFile = join(base, 'handyrep_noarchiving');
  const scriptPath = join(base, 'handyrep_archive.sh');
  writeFileSync(scriptPath, archiveScript({ scriptPath, touchFile, archiveDirectory }, { fsync: options.fsync ?? true, copyTimeoutSeconds: options.copyTimeoutSeconds ?? 30 }));
  chmodSync(scriptPath, 0o700);
  const segment = (name: string, content: string | Buffer): string => {
    writeFileSync(join(base, 'pgdata', 'pg_wal', name), content);
    return `pg_wal/${name}`;
  };
  // As PostgreSQL runs archive_command: via /bin/sh, in pgdata, %p relative to it.
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(scriptPath, args, { cwd: join(base, 'pgdata'), encoding: 'utf8', env, timeout: 20_000 });
  return { base, archiveDirectory, touchFile, scriptPath, segment, run };
}

describe('archive script run by a real shell', () => {
  it('--check creates the archive directory with mode 0700 and succeeds', () => {
    const s = setup();
    assert.equal(existsSync(s.archiveDirectory), false);
    const check = s.run(['--check']);
    assert.equal(check.status, 0, check.stderr);
    assert.equal(statSync(s.archiveDirectory).mode & 0o777, 0o700);
  });

  it('copies a segment byte for byte, leaves no temp file, and a retry of the same file is success', () => {
    const s = setup();
    s.run(['--check']);
    const content = Buffer.alloc(64 * 1024, 7);
    content.write('segment three');
    const p = s.segment(SEGMENT, content);
    const first = s.run([p, SEGMENT]);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(readFileSync(join(s.archiveDirectory, SEGMENT)), content);
    assert.equal(statSync(join(s.archiveDirectory, SEGMENT)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(s.archiveDirectory), [SEGMENT]);
    const again = s.run([p, SEGMENT]);
    assert.equal(again.status, 0, again.stderr);
  });

  it('never overwrites a different file of the same name: non-zero exit, archive unchanged', () => {
    const s = setup();
    s.run(['--check']);
    writeFileSync(join(s.archiveDirectory, SEGMENT), 'the archived one');
    const p = s.segment(SEGMENT, 'another cluster');
    const result = s.run([p, SEGMENT]);
    assert.equal(result.status, 3);
    assert.match(result.stderr, /already exists and differs/);
    assert.equal(readFileSync(join(s.archiveDirectory, SEGMENT), 'utf8'), 'the archived one');
    assert.deepEqual(readdirSync(s.archiveDirectory), [SEGMENT]);
  });

  it('with the touch file present exits 0 without copying; history and backup files are archived too', () => {
    const s = setup();
    s.run(['--check']);
    writeFileSync(s.touchFile, '');
    const p = s.segment(SEGMENT, 'x');
    assert.equal(s.run([p, SEGMENT]).status, 0);
    assert.deepEqual(readdirSync(s.archiveDirectory), []);
    rmSync(s.touchFile);
    for (const name of [SEGMENT, '00000002.history', '000000010000000000000003.00000028.backup', '000000010000000000000004.partial']) {
      const result = s.run([s.segment(name, name), name]);
      assert.equal(result.status, 0, `${name}: ${result.stderr}`);
    }
    assert.equal(readdirSync(s.archiveDirectory).length, 4);
  });

  it('refuses odd file names, a missing source and a wrong argument count', () => {
    const s = setup();
    s.run(['--check']);
    const p = s.segment(SEGMENT, 'x');
    for (const name of ['../escape', '.hidden', 'a b', '', 'x;touch y', '0000000100000000000000*']) {
      const result = s.run([p, name]);
      assert.equal(result.status, 2, `${JSON.stringify(name)}: ${result.stderr}`);
    }
    assert.equal(s.run(['pg_wal/missing', SEGMENT]).status, 2);
    const usage = s.run([p]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage/);
    assert.deepEqual(readdirSync(s.archiveDirectory), []);
    assert.equal(existsSync(join(s.base, 'escape')), false);
  });

  it('an archive directory path full of shell syntax is used literally, nothing in it is executed', () => {
    const marker = join(scratch, 'pwned-local');
    const s = setup({ dirName: `it's "dir" $(touch ${marker}) \`touch ${marker}\` ; touch ${marker} & #` });
    assert.equal(s.run(['--check']).status, 0);
    const result = s.run([s.segment(SEGMENT, 'x'), SEGMENT]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(join(s.archiveDirectory, SEGMENT), 'utf8'), 'x');
    assert.equal(existsSync(marker), false);
  });

  it('--check fails when the archive directory cannot be created', () => {
    const s = setup({ dirName: 'file/sub' });
    writeFileSync(join(s.base, 'file'), 'a plain file where a directory should be');
    const check = s.run(['--check']);
    assert.notEqual(check.status, 0);
    assert.match(check.stderr, /not a writable directory/);
  });

  it('a failing fsync fails the copy (PostgreSQL retries) and leaves no temp file; fsync = false skips it', () => {
    const bin = join(scratch, 'failing-sync-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'sync'), '#!/bin/sh\necho "sync: I/O error" >&2\nexit 1\n');
    chmodSync(join(bin, 'sync'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
    const s = setup();
    s.run(['--check']);
    const failing = s.run([s.segment(SEGMENT, 'x'), SEGMENT], env);
    assert.equal(failing.status, 4);
    assert.deepEqual(readdirSync(s.archiveDirectory), []);
    const noSync = setup({ fsync: false });
    noSync.run(['--check']);
    assert.equal(noSync.run([noSync.segment(SEGMENT, 'x'), SEGMENT], env).status, 0);
  });

  it('a copy that outlasts copy_timeout_seconds is killed and fails with a retryable status, temp file removed', () => {
    const bin = join(scratch, 'slow-sync-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'sync'), '#!/bin/sh\nsleep 30\n');
    chmodSync(join(bin, 'sync'), 0o755);
    const s = setup({ copyTimeoutSeconds: 1 });
    s.run(['--check']);
    const started = Date.now();
    const result = s.run([s.segment(SEGMENT, 'x'), SEGMENT], { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.ok(result.status !== null && result.status > 0 && result.status <= 125, `status ${result.status}`);
    assert.deepEqual(readdirSync(s.archiveDirectory), []);
  });
});
