import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TimeoutError } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { RecordedCommand } from '@handyrep/plugin-sdk/testing';
import type { ArchiveLocalDirConfig } from './config.js';
import { LocalDirArchive } from './local-dir-archive.js';

const scratch = mkdtempSync(join(tmpdir(), 'archive-local-dir-plugin-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const CONFIG: ArchiveLocalDirConfig = { script_path: '', fsync: true, copy_timeout_seconds: 30, command_timeout_seconds: 7, query_timeout_seconds: 2 };
let counter = 0;

/** Runs what the plugin sends to "the master" on this machine, so the shell text is checked by a real shell. */
function runHere(command: RecordedCommand) {
  if (command.file !== undefined) {
    writeFileSync(command.file.path, command.file.content);
    if (command.file.mode !== undefined) chmodSync(command.file.path, command.file.mode);
    return { exitCode: 0 };
  }
  const result = spawnSync('/bin/sh', ['-c', command.command], { encoding: 'utf8', timeout: 10_000 });
  return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr };
}

function setup(archive: Record<string, unknown> = {}, config: Partial<ArchiveLocalDirConfig> = {}) {
  const base = join(scratch, `host ${++counter} 'x'`);
  const pgdata = join(base, 'data');
  mkdirSync(pgdata, { recursive: true });
  const archiveDirectory = join(base, 'archive');
  const test = createTestContext<ArchiveLocalDirConfig>({
    name: 'archive_local_dir',
    config: { ...CONFIG, ...config },
    servers: [{ name: 'db1', role: 'master', hostname: '10.0.0.1', pgdata }],
    settings: { archive: { archiving: true, archive_directory: archiveDirectory, archive_touch_file: '', ...archive } },
  });
  test.shell.respond(runHere);
  return { ...test, base, pgdata, archiveDirectory, archive: new LocalDirArchive(test.context) };
}

describe('archive_local_dir against a real shell', () => {
  it('pushScript writes an executable 0700 script beside pgdata, runs its check (creating the directory) and reports archive_command', async () => {
    const s = setup();
    const result = await s.archive.pushScript('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    const script = join(s.base, 'handyrep_archive.sh');
    assert.equal(statSync(script).mode & 0o777, 0o700);
    assert.ok(statSync(s.archiveDirectory).isDirectory());
    const fields = result as unknown as Record<string, unknown>;
    assert.equal(fields['script_path'], script);
    assert.equal(fields['archive_command'], `'${script.replace(/'/g, `'\\''`)}' %p %f`);
    assert.equal(typeof fields['duration_ms'], 'number');
    assert.match(result.details, /archive_mode = on, archive_command = /);
    const [write, check] = s.shell.commands;
    assert.equal(write?.file?.mode, 0o700);
    assert.equal(write?.server, 'db1');
    assert.equal(check?.command, `'${script.replace(/'/g, `'\\''`)}' --check`);
  });

  it('stop creates the touch file (the script then copies nothing), start removes it; both are idempotent', async () => {
    const s = setup();
    await s.archive.pushScript('db1');
    const touch = join(s.base, 'handyrep_noarchiving');
    const stopped = await s.archive.stop('db1');
    assert.equal(stopped.result, 'SUCCESS', stopped.details);
    assert.ok(existsSync(touch));
    assert.match(stopped.details, /created the touch file/);
    assert.match((await s.archive.stop('db1')).details, /already there/);
    writeFileSync(join(s.pgdata, 'seg'), 'wal');
    const archived = spawnSync(join(s.base, 'handyrep_archive.sh'), ['seg', '000000010000000000000001'], { cwd: s.pgdata, encoding: 'utf8' });
    assert.equal(archived.status, 0);
    assert.equal(existsSync(join(s.archiveDirectory, '000000010000000000000001')), false);
    const started = await s.archive.start('db1');
    assert.equal(started.result, 'SUCCESS', started.details);
    assert.equal(existsSync(touch), false);
    assert.match(started.details, /removed the touch file/);
    assert.match((await s.archive.start('db1')).details, /no touch file .* was present/);
    spawnSync(join(s.base, 'handyrep_archive.sh'), ['seg', '000000010000000000000001'], { cwd: s.pgdata });
    assert.equal(readFileSync(join(s.archiveDirectory, '000000010000000000000001'), 'utf8'), 'wal');
  });

  it('start refuses when no script was pushed; the configured touch file and script path are honoured', async () => {
    const touch = join(scratch, 'custom touch $(x)');
    const s = setup({ archive_touch_file: touch }, { script_path: join(scratch, `custom ${counter + 1}.sh`) });
    const early = await s.archive.start('db1');
    assert.equal(early.result, 'FAIL');
    assert.match(early.details, /no archive script at .*start_archiving pushes it/);
    assert.equal((await s.archive.pushScript('db1')).result, 'SUCCESS');
    assert.ok(existsSync(join(scratch, `custom ${counter}.sh`)));
    assert.equal((await s.archive.stop('db1')).result, 'SUCCESS');
    assert.ok(existsSync(touch));
    assert.equal((await s.archive.start('db1')).result, 'SUCCESS');
    assert.equal(existsSync(touch), false);
  });

  it('a failing directory check, a failed write and an unreachable master are FAILs with clear details', async () => {
    const s = setup();
    writeFileSync(join(s.base, 'blocker'), '');
    const blocked = setup({ archive_directory: join(s.base, 'blocker', 'archive') });
    const check = await blocked.archive.pushScript('db1');
    assert.equal(check.result, 'FAIL');
    assert.match(check.details, /archive script written to .* but the archive directory check failed: [\s\S]*not a writable directory/);
    const readOnly = setup();
    readOnly.shell.when(/^writeFile /, { exitCode: 1, stderr: 'Permission denied' });
    const unwritable = await readOnly.archive.pushScript('db1');
    assert.equal(unwritable.result, 'FAIL');
    assert.match(unwritable.details, /^pushScript on db1 failed: writeFile .* failed: Permission denied/);
    assert.equal(readOnly.shell.commands.length, 1, 'no check after a failed write');
    const unreachable = setup();
    unreachable.shell.when(/./, new TimeoutError("no ssh connection to 10.0.0.1 within 7000 ms"));
    const timedOut = await unreachable.archive.stop('db1');
    assert.equal(timedOut.result, 'FAIL');
    assert.match(timedOut.details, /^stop on db1 failed: no ssh connection/);
    assert.equal((timedOut as unknown as { error_code: string }).error_code, 'HR_TIMEOUT');
    const noDir = setup({ archive_directory: '' });
    const unset = await noDir.archive.pushScript('db1');
    assert.equal(unset.result, 'FAIL');
    assert.match(unset.details, /archive_directory must be set/);
    assert.equal(noDir.shell.commands.length, 0, 'nothing run with an unusable setting');
  });

  it('every remote call carries the configured time-out', async () => {
    const s = setup();
    const seen: (number | undefined)[] = [];
    const original = s.context.shell;
    const spy = {
      ...original,
      run: (server: string, argv: readonly string[], options?: { timeoutMs?: number }) => (seen.push(options?.timeoutMs), original.run(server, argv, options)),
      runScript: (server: string, script: string, options?: { timeoutMs?: number }) => (seen.push(options?.timeoutMs), original.runScript(server, script, options)),
      writeFile: (server: string, path: string, content: string, options?: { timeoutMs?: number; mode?: number }) => (seen.push(options?.timeoutMs), original.writeFile(server, path, content, options)),
    };
    const archive = new LocalDirArchive({ ...s.context, shell: spy });
    await archive.pushScript('db1');
    await archive.stop('db1');
    await archive.start('db1');
    await archive.poll('db1');
    assert.ok(seen.length >= 5);
    assert.ok(seen.every((ms) => ms === 7000), JSON.stringify(seen));
  });
});

describe('archive_local_dir poll', () => {
  const row = {
    archived_count: '5', failed_count: '0', last_archived_wal: '000000010000000000000005', last_archived_epoch: 1_767_268_800,
    last_failed_wal: null, last_failed_epoch: null, archive_mode: 'on', archive_command: '', in_recovery: false, ready_count: 0,
  };

  it('reads pg_stat_archiver on the server with the query time-outs and checks the touch file', async () => {
    const s = setup();
    s.sql.when(/pg_stat_archiver/, [{ ...row, archive_command: `${join(s.base, 'handyrep_archive.sh')} %p %f` }]);
    const active = await s.archive.poll('db1');
    assert.equal(active.result, 'SUCCESS', active.details);
    assert.equal((active as unknown as { archiving: string }).archiving, 'active');
    assert.deepEqual(s.sql.queries[0]?.target, { server: 'db1', connectTimeoutMs: 2000, statementTimeoutMs: 2000 });
    writeFileSync(join(s.base, 'handyrep_noarchiving'), '');
    const stopped = await s.archive.poll('db1');
    assert.equal((stopped as unknown as { archiving: string }).archiving, 'stopped');
    assert.match(stopped.details, /stopped on db1 by the touch file/);
  });

  it('failures since the previous poll are warned; an unreachable database is a FAIL', async () => {
    const s = setup();
    let failed = 1;
    s.sql.respond(() => [{ ...row, failed_count: String(failed), last_failed_wal: 'X', last_failed_epoch: row.last_archived_epoch - 10 }]);
    assert.deepEqual((await s.archive.poll('db1') as unknown as { warnings: string[] }).warnings.filter((w) => /failed archive/.test(w)), []);
    failed = 3;
    const second = (await s.archive.poll('db1')) as unknown as { warnings: string[] };
    assert.match(second.warnings.join(' '), /2 failed archive attempt/);
    const down = setup();
    down.sql.when(/pg_stat_archiver/, new Error('connect ECONNREFUSED 10.0.0.1:5432'));
    const result = await down.archive.poll('db1');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /cannot read archiving status on db1: connect ECONNREFUSED/);
  });
});
