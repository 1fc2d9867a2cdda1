import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fakeClusterPerTest } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import type { FakeClusterOptions } from '../test-support/fake-cluster.js';
import { SYNC_KEY } from './sync-standbys.js';

// Issue 13: SyncStandbys keeps synchronous_standby_names = ANY k (S) on the
// master, changing the recorded (S, k) only in the safe order, driven by
// failover_check through the real DI container and a fake cluster.

const open = fakeClusterPerTest();

const quorum = (mode = 'quorum', count = 1): FakeClusterOptions => ({ config: { failover: { synchronous_mode: mode, synchronous_count: count } } });

/** The recorded set in the server file right now (synchronously, e.g. from inside a SQL call). */
function recordedOnDisk(c: FakeCluster): unknown {
  return (JSON.parse(readFileSync(c.serverFile, 'utf8')) as { extra: Record<string, unknown> }).extra[SYNC_KEY];
}

/** Records, at each ALTER SYSTEM SET synchronous_standby_names on the master, what the server file said then. */
function watchApplies(c: FakeCluster, master = 'pg1'): { applied: string; recorded: unknown }[] {
  const seen: { applied: string; recorded: unknown }[] = [];
  c.hooks.sql = (query) => {
    const match = /ALTER SYSTEM SET synchronous_standby_names = E?'(.*)'/.exec(query.text);
    if (match && query.target.server === master) seen.push({ applied: match[1] ?? '', recorded: recordedOnDisk(c) });
  };
  return seen;
}

describe('SyncStandbys: the synchronous set on the master', () => {
  it('a healthy check records the streaming replicas, then applies ANY k (S) on the master: recorded before applied', async () => {
    const c = await open(quorum());
    const applies = watchApplies(c);
    const checked = await c.hr.failoverCheck();
    assert.equal(checked.result, 'SUCCESS', checked.details);
    assert.equal(c.server('pg1').synchronousStandbyNames, 'ANY 1 ("pg2", "pg3")');
    assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: ['pg2', 'pg3'], k: 1 });
    assert.equal(applies.length, 1);
    // Widened first: the members are recorded (with the smaller k) before the master waits for them.
    assert.deepEqual(applies[0]?.recorded, { members: ['pg2', 'pg3'], k: 0 });
  });

  it('a member that fails leaves the set: applied first, recorded only after the rest caught up (the record stays wider meanwhile)', async () => {
    const c = await open(quorum());
    await c.hr.failoverCheck();
    const applies = watchApplies(c);
    c.set('pg3', { pg: 'down' });
    await c.hr.failoverCheck();
    assert.equal(c.server('pg1').synchronousStandbyNames, 'ANY 1 ("pg2")');
    assert.deepEqual(applies, [{ applied: 'ANY 1 ("pg2")', recorded: { members: ['pg2', 'pg3'], k: 1 } }]);
    assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: ['pg2'], k: 1 });
  });

  it('quorum lowers k to 0 when no member is left (and alerts); quorum_strict keeps k, a failed member staying in the set', async () => {
    const c = await open(quorum());
    await c.hr.failoverCheck();
    c.set('pg2', { pg: 'down' });
    c.set('pg3', { pg: 'down' });
    await c.hr.failoverCheck();
    assert.equal(c.server('pg1').synchronousStandbyNames, '');
    assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: [], k: 0 });
    assert.ok(c.alerts('status_warning').some((alert) => /commits are now asynchronous/.test(alert.detail ?? '')));
    await c.close();

    const strict = await open(quorum('quorum_strict'));
    await strict.hr.failoverCheck();
    strict.set('pg3', { pg: 'down' });
    strict.set('pg2', { pg: 'down' });
    await strict.hr.failoverCheck();
    // Strict: S shrinks to k members at most, never below, so writes wait for a standby instead of going asynchronous.
    assert.equal(strict.server('pg1').synchronousStandbyNames, 'ANY 1 ("pg2")');
    // pg2 cannot catch up (it is down): the narrower set is not recorded, the wider record stays.
    assert.deepEqual((await strict.savedState()).extra[SYNC_KEY], { members: ['pg2', 'pg3'], k: 1 });
    assert.equal(strict.alerts('status_warning').length, 0, 'k was not lowered');
  });

  it('synchronous_mode off touches nothing', async () => {
    const c = await open();
    await c.hr.failoverCheck();
    assert.equal(c.server('pg1').synchronousStandbyNames, '');
    assert.equal((await c.savedState()).extra[SYNC_KEY], undefined);
    assert.equal(c.eventsOf('sql').filter((event) => /synchronous_standby_names/.test(event.detail ?? '')).length, 0);
  });
});

describe('SyncStandbys: synchronous_mode turned off', () => {
  it('hands the master back asynchronous once, then leaves synchronous_standby_names alone', async () => {
    const c = await open(quorum());
    await c.hr.failoverCheck();
    assert.equal(c.server('pg1').synchronousStandbyNames, 'ANY 1 ("pg2", "pg3")');
    const { readFile, writeFile } = await import('node:fs/promises');
    const text = await readFile(c.configFile, 'utf8');
    assert.match(text, /synchronous_mode\s*=\s*quorum/);
    await writeFile(c.configFile, text.replace(/synchronous_mode\s*=\s*quorum/, 'synchronous_mode = off'));
    await c.reopen();
    const checked = await c.hr.failoverCheck();
    assert.equal(checked.result, 'SUCCESS', checked.details);
    assert.equal(c.server('pg1').synchronousStandbyNames, '', 'asynchronous again');
    assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: [], k: 0 });
    // An operator's own setting afterwards is not touched.
    c.server('pg1').synchronousStandbyNames = 'FIRST 1 (pg3)';
    await c.hr.failoverCheck();
    assert.equal(c.server('pg1').synchronousStandbyNames, 'FIRST 1 (pg3)');
  });
});
