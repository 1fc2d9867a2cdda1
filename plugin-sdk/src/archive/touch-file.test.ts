import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TimeoutError } from '../errors.js';
import { createTestContext } from '../testing/test-context.js';
import type { ArchivePaths } from './archive-paths.js';
import { ArchiverMonitor, createTouchFileScript, removeTouchFileScript, startArchiving, stopArchiving } from './touch-file.js';

const scratch = mkdtempSync(join(tmpdir(), 'sdk-touch-file-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const paths: ArchivePaths = { scriptPath: '/pg/handyrep_archive.sh', touchFile: '/pg/NOARCH', archiveDirectory: '/archive' };
const request = { server: 'db1', paths, info: { script_path: paths.scriptPath }, commandTimeoutMs: 1000 };

function sh(script: string) {
  return spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
}

describe('touch file scripts (run by a real /bin/sh)', () => {
  const local = { scriptPath: join(scratch, "it's script.sh"), touchFile: join(scratch, 'no $(archiving)') };

  it('stop creates the touch file once; start refuses without the script, then removes it', () => {
    const stop = sh(createTouchFileScript(local.touchFile));
    assert.equal(stop.status, 0, stop.stderr);
    assert.ok(existsSync(local.touchFile));
    assert.equal(sh(createTouchFileScript(local.touchFile)).stdout, 'present\n');
    const missing = sh(removeTouchFileScript(local));
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /no archive script at/);
    writeFileSync(local.scriptPath, '#!/bin/sh\n', { mode: 0o700 });
    assert.equal(sh(removeTouchFileScript(local)).stdout, 'removed\n');
    assert.equal(existsSync(local.touchFile), false);
    assert.equal(sh(removeTouchFileScript(local)).stdout, '');
  });
});

describe('startArchiving and stopArchiving', () => {
  it('start: SUCCESS with the info keys and what the script does; a failed command is a FAIL with its stderr', async () => {
    const { context, shell } = createTestContext();
    shell.when(/rm -f/, { stdout: 'removed\n' });
    const started = await startArchiving(context, request, 'copies segments to /archive');
    assert.deepEqual(started, {
      result: 'SUCCESS',
      details: 'archiving started on db1: removed the touch file /pg/NOARCH; /pg/handyrep_archive.sh copies segments to /archive',
      script_path: paths.scriptPath,
      archiving: 'started',
      touch_file_removed: true,
    });
    assert.equal(shell.commands[0]?.command, removeTouchFileScript(paths));
    shell.when(/rm -f/, { exitCode: 3, stderr: 'no archive script at /pg/handyrep_archive.sh\n' });
    assert.deepEqual(await startArchiving(context, request, 'x'), {
      result: 'FAIL',
      details: 'could not start archiving on db1: no archive script at /pg/handyrep_archive.sh',
      script_path: paths.scriptPath,
      exit_code: 3,
      stderr: 'no archive script at /pg/handyrep_archive.sh',
      archiving: 'unknown',
    });
  });

  it('stop: says whether the touch file was already there; a failure mentions a full disk; SSH errors throw', async () => {
    const { context, shell } = createTestContext();
    assert.match((await stopArchiving(context, request)).details, /archiving stopped on db1: created the touch file \/pg\/NOARCH/);
    shell.when(/touch=/, { stdout: 'present\n' });
    assert.match((await stopArchiving(context, request)).details, /the touch file was already there \/pg\/NOARCH/);
    shell.when(/touch=/, { exitCode: 1, stderr: 'No space left on device' });
    assert.match((await stopArchiving(context, request)).details, /No space left on device \(a full disk prevents creating the touch file\)/);
    shell.when(/touch=/, new TimeoutError('ssh timed out'));
    await assert.rejects(stopArchiving(context, request), { code: 'HR_TIMEOUT' });
  });
});

describe('ArchiverMonitor', () => {
  const row = { archived_count: '5', failed_count: '1', last_archived_wal: 'A', last_archived_epoch: 100, last_failed_wal: 'B', last_failed_epoch: 50, archive_mode: 'on', archive_command: `${paths.scriptPath} %p %f`, in_recovery: false, ready_count: 0 };
  const pollRequest = { server: 'db1', paths, queryTimeoutMs: 500, commandTimeoutMs: 1000 };

  it('queries with the time-outs, checks the touch file and warns about failures new since the previous poll', async () => {
    const { context, sql, shell } = createTestContext();
    sql.when(/pg_stat_archiver/, [row]);
    shell.when(/^test -e/, { exitCode: 1 });
    const monitor = new ArchiverMonitor();
    const first = await monitor.poll(context, pollRequest);
    assert.ok(first.read);
    assert.equal(first.verdict.archiving, 'active');
    assert.deepEqual(first.verdict.warnings, []);
    assert.deepEqual(sql.queries[0]?.target, { server: 'db1', connectTimeoutMs: 500, statementTimeoutMs: 500 });
    assert.equal(shell.commands[0]?.command, 'test -e /pg/NOARCH');
    sql.when(/pg_stat_archiver/, [{ ...row, failed_count: '3' }]);
    const second = await monitor.poll(context, pollRequest);
    assert.match(second.read ? (second.verdict.warnings[0] ?? '') : '', /^2 failed archive attempt\(s\) since the previous poll/);
  });

  it('an unreadable pg_stat_archiver is read: false, stopped when the touch file is there', async () => {
    const { context, sql } = createTestContext();
    sql.when(/pg_stat_archiver/, new Error('connection refused'));
    assert.deepEqual(await new ArchiverMonitor().poll(context, pollRequest), {
      read: false,
      details: 'cannot read archiving status on db1: connection refused',
      archiving: 'stopped',
      touchFilePresent: true,
    });
    const { context: other, sql: otherSql, shell } = createTestContext();
    otherSql.when(/pg_stat_archiver/, []);
    shell.when(/^test -e/, new TimeoutError('ssh timed out'));
    assert.deepEqual(await new ArchiverMonitor().poll(other, pollRequest), {
      read: false,
      details: 'cannot read archiving status on db1: pg_stat_archiver returned no row',
      archiving: 'unknown',
      touchFilePresent: null,
    });
  });

  it('a query that never answers is cut off by the backstop with a TimeoutError message', async () => {
    const { context } = createTestContext();
    context.sql.query = () => new Promise<never>(() => undefined);
    const polled = await new ArchiverMonitor().poll(context, { ...pollRequest, queryTimeoutMs: 5 });
    assert.deepEqual(polled.read ? undefined : polled.details, 'cannot read archiving status on db1: pg_stat_archiver query on db1 got no answer within 1010 ms');
  });
});
