import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError, shellQuote } from '@handyrep/plugin-sdk';
import { createTestContext } from '@handyrep/plugin-sdk/testing';
import type { ArchiveDeleteFindConfig } from './config.js';
import { FindCleanup } from './find-cleanup.js';

const SERVERS = [
  { name: 'db1', role: 'master', hostname: '10.0.0.1' },
  { name: 'vault', role: 'archive', hostname: '10.0.0.9' },
];

function setup(archive: Record<string, unknown>) {
  const test = createTestContext<ArchiveDeleteFindConfig>({
    name: 'archive_delete_find',
    config: { command_timeout_seconds: 42 },
    servers: SERVERS,
    settings: { archive: { archiving: true, archive_directory: '/srv/wal', archive_server: 'vault', archive_delete_hours: 48, ...archive } },
  });
  return { ...test, cleanup: new FindCleanup(test.context) };
}

describe('archive_delete_find with a fake shell', () => {
  it('runs on the archive server with the time-out and reports deleted, remaining and the range', async () => {
    const s = setup({});
    s.shell.respond((command) =>
      /find -H/.test(command.command)
        ? { stdout: '/srv/wal/000000010000000000000002\n/srv/wal/000000010000000000000001\nhandyrep-remaining 7\n' }
        : undefined,
    );
    const result = await s.cleanup.cleanup();
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.deleted, 2);
    assert.equal(result.remaining, 7);
    assert.equal(result.deleted_first, '000000010000000000000001');
    assert.equal(result.server, 'vault');
    assert.match(result.details, /deleted 2 WAL file\(s\) older than 48 hour\(s\) from \/srv\/wal on vault \(000000010000000000000001 \.\. 000000010000000000000002\); 7 WAL file\(s\) remain/);
    const [command] = s.shell.commands;
    assert.equal(command?.server, 'vault');
    assert.match(command?.command ?? '', /-mmin \+2880 -delete -print/);
  });

  it('passes the time-out to the shell', async () => {
    const s = setup({});
    let timeout: number | undefined;
    const shell = { ...s.shell, runScript: async (_server: string, _script: string, options?: { timeoutMs?: number }) => ((timeout = options?.timeoutMs), { exitCode: 0, stdout: 'handyrep-remaining 0\n', stderr: '', durationMs: 1 }) };
    await new FindCleanup({ ...s.context, shell: shell as unknown as typeof s.context.shell }).cleanup();
    assert.equal(timeout, 42_000);
  });

  it('cleans the master when no archive server is set; quotes the directory', async () => {
    const dir = "/srv/it's $(wal)";
    const s = setup({ archive_server: '', archive_directory: dir });
    await s.cleanup.cleanup();
    assert.equal(s.shell.commands[0]?.server, 'db1');
    assert.ok(s.shell.commands[0]?.command.includes(`dir=${shellQuote(dir)}\n`));
  });

  it('hours = 0 disables cleanup; bad settings are FAIL with nothing run', async () => {
    const disabled = setup({ archive_delete_hours: 0 });
    const result = await disabled.cleanup.cleanup();
    assert.equal(result.result, 'SUCCESS');
    assert.equal(result.deleted, 0);
    assert.match(result.details, /disabled/);
    for (const archive of [{ archive_directory: '' }, { archive_directory: 'relative' }, { archive_directory: '/a\nb' }, { archive_server: 'nope' }, { archive_delete_hours: -1 }]) {
      const s = setup(archive);
      const bad = await s.cleanup.cleanup();
      assert.equal(bad.result, 'FAIL', JSON.stringify(archive));
      assert.match(bad.details, /^archive cleanup not run: /);
      assert.equal(s.shell.commands.length, 0);
    }
  });

  it('a missing directory, a partial failure and a time-out are FAILs that say what happened', async () => {
    const missing = setup({});
    missing.shell.when(/find/, { exitCode: 3, stderr: 'archive directory /srv/wal does not exist' });
    assert.match((await missing.cleanup.cleanup()).details, /does not exist on vault; nothing deleted/);
    const partial = setup({});
    partial.shell.when(/find/, { exitCode: 1, stdout: '/srv/wal/000000010000000000000001\nhandyrep-remaining 3\n', stderr: "find: cannot delete '/srv/wal/000000010000000000000002': Permission denied" });
    const incomplete = await partial.cleanup.cleanup();
    assert.equal(incomplete.result, 'FAIL');
    assert.equal(incomplete.deleted, 1);
    assert.match(incomplete.details, /failed \(exit 1\) after deleting 1 WAL file\(s\): find: cannot delete .*Permission denied/);
    const slow = setup({});
    slow.shell.when(/find/, new TimeoutError("'LC_ALL=C' on vault timed out after 42000 ms"));
    const timedOut = await slow.cleanup.cleanup();
    assert.equal(timedOut.result, 'FAIL');
    assert.equal(timedOut.error_code, 'HR_TIMEOUT');
    assert.match(timedOut.details, /some files may have been deleted/);
  });
});
