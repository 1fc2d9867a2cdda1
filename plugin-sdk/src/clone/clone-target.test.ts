import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimeoutError } from '../errors.js';
import { pgServer } from '../helpers/pg-server.js';
import { createTestContext, testServer } from '../testing/test-context.js';
import type { TestServer } from '../testing/test-context.js';
import { cloneFailure } from './clone-outcome.js';
import { cloneRefusal, isRegistryMaster, prepareCloneTarget, removeFailedCopy, resolveCloneServers } from './clone-target.js';

const servers: TestServer[] = [
  { name: 'db1', role: 'master', pgdata: '/srv/pg/db1', pg_bin: '/bin' },
  { name: 'db2', role: 'replica', pgdata: '/srv/pg/db2', pg_bin: '/bin' },
  { name: 'db3', role: 'replica', pgdata: '/srv/pg/db3', pg_bin: '/bin' },
];
const target = pgServer(testServer(servers[2] as TestServer));
const probe = (stdout: string) => ({ stdout });

describe('clone servers and refusals', () => {
  it('resolves target, source and upstream; refuses a missing name, an unknown server and a self-clone', () => {
    const { context } = createTestContext({ servers });
    const resolved = resolveCloneServers(context, { target: 'db3', source: 'db2', upstream: 'db1', reclone: false });
    assert.deepEqual([resolved.target.name, resolved.source.name, resolved.upstream.name], ['db3', 'db2', 'db1']);
    assert.throws(() => resolveCloneServers(context, { target: '', source: 'db2', upstream: 'db1', reclone: false }), { code: 'HR_BAD_ARGUMENT', message: "clone: 'target' must be a server name" });
    assert.throws(() => resolveCloneServers(context, { target: 'nope', source: 'db2', upstream: 'db1', reclone: false }), { code: 'HR_UNKNOWN_SERVER' });
    assert.throws(() => resolveCloneServers(context, { target: 'db3', source: 'db3', upstream: 'db1', reclone: false }), /db3 cannot be cloned from itself/);
    assert.throws(() => resolveCloneServers(context, { target: 'db3', source: 'db2', upstream: 'db3', reclone: false }), /db3 cannot stream from itself/);
  });

  it('knows the master by role or as the enabled master', () => {
    const { context } = createTestContext({ servers });
    assert.equal(isRegistryMaster(context, pgServer(testServer(servers[0] as TestServer))), true);
    assert.equal(isRegistryMaster(context, target), false);
  });

  it('refuses a running server, a non-directory, an unreadable one and a non-empty one without reclone', () => {
    const state = { directory: 'empty', postmasterPid: undefined, pgVersion: undefined } as const;
    assert.equal(cloneRefusal(target, state, false), undefined);
    assert.equal(cloneRefusal(target, { ...state, directory: 'missing' }, false), undefined);
    assert.match(cloneRefusal(target, { ...state, postmasterPid: 7 }, true) ?? '', /postmaster PID 7\) is running on db3 with \/srv\/pg\/db3; stop it first/);
    assert.match(cloneRefusal(target, { ...state, directory: 'notdir' }, true) ?? '', /is not a directory/);
    assert.match(cloneRefusal(target, { ...state, directory: 'unreadable' }, true) ?? '', /cannot be read by the SSH user/);
    assert.match(cloneRefusal(target, { ...state, directory: 'nonempty', pgVersion: '15' }, false) ?? '', /is not empty \(PostgreSQL 15 data\); pass reclone/);
    assert.equal(cloneRefusal(target, { ...state, directory: 'nonempty', pgVersion: '15' }, true), undefined);
  });

  it('a reclone refuses a non-empty directory without PG_VERSION unless forced', () => {
    const state = { directory: 'nonempty', postmasterPid: undefined, pgVersion: undefined } as const;
    assert.match(cloneRefusal(target, state, true) ?? '', /\/srv\/pg\/db3 on db3 is not empty but holds no PostgreSQL data directory \(no PG_VERSION\).*Pass force with reclone.*nothing touched/);
    assert.equal(cloneRefusal(target, state, true, true), undefined);
  });
});

describe('prepareCloneTarget', () => {
  it('an empty target is ready, untouched', async () => {
    const { context, shell } = createTestContext({ servers });
    shell.when(/probe-data-directory/, probe('state=empty\npid=\npg_version=\n'));
    assert.deepEqual(await prepareCloneTarget(context, target, false, 1000), { ready: true, emptied: false });
    assert.equal(shell.commands.length, 1);
  });

  it('a reclone onto a directory without PG_VERSION empties nothing unless forced', async () => {
    const { context, shell } = createTestContext({ servers });
    shell.when(/probe-data-directory/, probe('state=nonempty\npid=\npg_version=\n'));
    const refused = await prepareCloneTarget(context, target, true, 1000);
    assert.equal(refused.ready, false);
    assert.ok(!shell.commands.some((command) => /empty-data-directory/.test(command.command)), 'nothing emptied');
    assert.deepEqual(await prepareCloneTarget(context, target, true, 1000, true), { ready: true, emptied: true });
  });

  it('a refusal carries no extra keys and runs nothing more', async () => {
    const { context, shell } = createTestContext({ servers });
    shell.when(/probe-data-directory/, probe('state=nonempty\npid=\npg_version=15\n'));
    const prepared = await prepareCloneTarget(context, target, false, 1000);
    assert.equal(prepared.ready, false);
    assert.deepEqual(prepared.ready ? undefined : prepared.fields, {});
    assert.equal(shell.commands.length, 1);
  });

  it('a reclone empties the directory and logs it; a failed emptying says why, passwords masked', async () => {
    const { context, shell, logger } = createTestContext({ servers, secrets: { replication_password: 'pw9' } });
    shell.when(/probe-data-directory/, probe('state=nonempty\npid=\npg_version=15\n'));
    assert.deepEqual(await prepareCloneTarget(context, target, true, 1000), { ready: true, emptied: true });
    assert.match(logger.lines[0]?.message ?? '', /emptied \/srv\/pg\/db3 on db3 for a reclone/);
    shell.when(/empty-data-directory/, { exitCode: 1, stderr: 'find: pw9 denied\n' });
    assert.deepEqual(await prepareCloneTarget(context, target, true, 1000), {
      ready: false,
      details: 'emptying /srv/pg/db3 on db3 for the reclone failed: find: *** denied',
      fields: { exit_code: 1, stderr: 'find: *** denied' },
    });
    shell.when(/empty-data-directory/, { exitCode: 3, stderr: 'a postmaster (PID 9) runs' });
    const raced = await prepareCloneTarget(context, target, true, 1000);
    assert.equal(raced.ready ? '' : raced.details, 'a PostgreSQL server started on db3 meanwhile: not emptying /srv/pg/db3');
  });
});

describe('after a failed copy', () => {
  it('removeFailedCopy says whether the copy is gone and never throws', async () => {
    const { context, shell } = createTestContext({ servers, secrets: { superuser_password: 'su' } });
    assert.deepEqual(await removeFailedCopy(context, target, 1000), { removed: true, text: 'the partial copy was removed' });
    shell.when(/empty-data-directory/, { exitCode: 1, stderr: 'denied su' });
    assert.deepEqual(await removeFailedCopy(context, target, 1000), { removed: false, text: 'removing the partial copy failed (denied ***): do not start db3, reclone it' });
    shell.when(/empty-data-directory/, new TimeoutError('no answer'));
    assert.match((await removeFailedCopy(context, target, 1000)).text, /failed \(no answer\): do not start db3/);
  });

  it('cloneFailure is a FAIL with the request, the duration and the error code, passwords masked', () => {
    const { context } = createTestContext({ secrets: { replication_password: 'pw9' } });
    assert.deepEqual(cloneFailure('clone of db3', { target: 'db3', source: 'db1' }, new TimeoutError('pw9 timed out'), 12, context.secrets), {
      result: 'FAIL',
      details: 'clone of db3 failed: *** timed out',
      duration_ms: 12,
      target: 'db3',
      source: 'db1',
      error_code: 'HR_TIMEOUT',
    });
  });
});
