import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasErrorCode } from '@handyrep/plugin-sdk';
import { lockInChild } from '../test-support/lock-holder.js';
import type { LockChild } from '../test-support/lock-holder.js';
import { StateFileLock, StateLockedError, stateLockPath } from './state-file-lock.js';
import type { LockHolderRole } from './state-file-lock.js';

function isLocked(err: unknown): err is StateLockedError {
  return err instanceof StateLockedError && hasErrorCode(err, 'HR_STATE_LOCKED');
}

describe('state file lock (flock on <server_file>.lock)', { timeout: 60_000 }, () => {
  let dir = '';
  const children: LockChild[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-lock-'));
  });

  after(async () => {
    for (const child of children) await child.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const child = async (serverFile: string, role: LockHolderRole, env?: NodeJS.ProcessEnv): Promise<LockChild> => {
    const started = await lockInChild(serverFile, role, env);
    children.push(started);
    return started;
  };

  it('a second process is refused naming the daemon that holds the lock, and writes nothing', async () => {
    const serverFile = join(dir, 'a', 'servers.save');
    mkdirSync(join(dir, 'a'));
    const holder = await child(serverFile, { role: 'daemon', url: 'https://127.0.0.1:8754' });
    assert.equal(holder.outcome, 'locked');
    const record = readFileSync(`${serverFile}.lock`, 'utf8');
    const written = JSON.parse(record) as Record<string, unknown>;
    assert.equal(written['pid'], holder.pid);
    assert.equal(written['role'], 'daemon');
    assert.equal(written['url'], 'https://127.0.0.1:8754');
    assert.ok(!Number.isNaN(Date.parse(String(written['started']))), 'start time recorded');

    const second = await child(serverFile, { role: 'library', command: 'handyrep manual_failover h2' });
    assert.equal(
      second.outcome,
      `refused HR_STATE_LOCKED another HandyRep process (daemon pid ${holder.pid}, web API at https://127.0.0.1:8754) manages ${serverFile}; ` +
        `send actions to it: handyrep --url https://127.0.0.1:8754 <function> (lock ${serverFile}.lock held since ${String(written['started'])})`,
    );
    await second.stop();
    assert.equal(readFileSync(`${serverFile}.lock`, 'utf8'), record, 'the refused process did not touch the record');
    assert.equal(existsSync(serverFile), false);

    // In this process too, with the error's fields.
    await assert.rejects(StateFileLock.acquire(serverFile, { role: 'daemon' }), (err: unknown) => {
      assert.ok(isLocked(err));
      assert.equal(err.holder?.pid, holder.pid);
      assert.equal(err.serverFile, serverFile);
      assert.equal(err.lockFile, `${serverFile}.lock`);
      assert.match(err.message, /; a second daemon on the same state file does not start; send actions to it: handyrep --url https:\/\/127\.0\.0\.1:8754 <function>/);
      return true;
    });
    await holder.stop();
  });

  it('names a library holder by its command', async () => {
    const serverFile = join(dir, 'lib.save');
    const holder = await child(serverFile, { role: 'library', command: 'handyrep --config /etc/h.conf manual_failover h2' });
    await assert.rejects(StateFileLock.acquire(serverFile, { role: 'library' }), (err: unknown) => {
      assert.ok(isLocked(err));
      assert.match(err.message, new RegExp(`^another HandyRep process \\(library pid ${holder.pid}: handyrep --config /etc/h\\.conf manual_failover h2\\) manages ${serverFile}; try again when it has finished`));
      return true;
    });
    await holder.stop();
  });

  it('a holder killed with SIGKILL leaves the lock to the next process at once', async () => {
    const serverFile = join(dir, 'killed.save');
    const holder = await child(serverFile, { role: 'daemon' });
    assert.equal(holder.outcome, 'locked');
    await holder.stop('SIGKILL');
    const started = Date.now();
    const lease = await StateFileLock.acquire(serverFile, { role: 'library', command: 'test' });
    const ms = Date.now() - started;
    assert.ok(ms < 1000, `taken over in ${ms} ms`);
    const record = JSON.parse(readFileSync(`${serverFile}.lock`, 'utf8')) as Record<string, unknown>;
    assert.equal(record['pid'], process.pid, 'the new holder rewrote the record');
    assert.equal(record['role'], 'library');
    const refused = await child(serverFile, { role: 'library' });
    assert.match(refused.outcome, new RegExp(`^refused HR_STATE_LOCKED another HandyRep process \\(library pid ${process.pid}: test\\)`));
    lease.release();
  });

  it('is released when the last lease goes, and a released lease can be released again', async () => {
    const serverFile = join(dir, 'release.save');
    const first = await StateFileLock.acquire(serverFile, { role: 'library' });
    const second = first.lock.lease();
    first.release();
    first.release();
    assert.equal(first.lock.held, true, 'one lease left');
    const refused = await child(serverFile, { role: 'library' });
    assert.match(refused.outcome, /^refused HR_STATE_LOCKED another HandyRep process \(library pid \d+/);
    second.release();
    assert.equal(first.lock.held, false);
    const next = await child(serverFile, { role: 'library' });
    assert.equal(next.outcome, 'locked');
    await next.stop();
    assert.ok(existsSync(`${serverFile}.lock`), 'the lock file is never deleted');
  });

  it('a second lock in the same process is refused too (two instances on one file)', async () => {
    const serverFile = join(dir, 'same.save');
    const lease = await StateFileLock.acquire(serverFile, { role: 'library', command: 'embedding' });
    await assert.rejects(StateFileLock.acquire(serverFile, { role: 'library' }), (err: unknown) => {
      assert.ok(isLocked(err));
      assert.match(err.message, /^another HandyRep instance in this process \(library pid \d+: embedding\)/);
      return true;
    });
    lease.release();
    (await StateFileLock.acquire(serverFile, { role: 'library' })).release();
  });

  it('one lock for two spellings of the directory (symbolic link)', async () => {
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    assert.equal(stateLockPath(join(dir, 'link', 'servers.save')), join(dir, 'real', 'servers.save.lock'));
    const lease = await StateFileLock.acquire(join(dir, 'real', 'servers.save'), { role: 'library' });
    await assert.rejects(StateFileLock.acquire(join(dir, 'link', 'servers.save'), { role: 'library' }), isLocked);
    lease.release();
  });

  it('without the flock command: a clear HR_STATE_FILE error', async () => {
    const serverFile = join(dir, 'noflock.save');
    const refused = await child(serverFile, { role: 'library' }, { ...process.env, PATH: join(dir, 'empty-path') });
    assert.match(refused.outcome, /^refused HR_STATE_FILE cannot lock .*noflock\.save\.lock for .*noflock\.save: the flock command \(util-linux\) is not installed/);
  });

  it('a missing directory: HR_STATE_FILE naming the lock file', async () => {
    await assert.rejects(StateFileLock.acquire(join(dir, 'nowhere', 'servers.save'), { role: 'library' }), (err: unknown) => {
      assert.ok(hasErrorCode(err, 'HR_STATE_FILE'));
      assert.match((err as Error).message, /cannot open the lock file .*nowhere\/servers\.save\.lock/);
      return true;
    });
  });
});
