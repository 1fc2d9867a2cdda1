import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fail } from '@handyrep/plugin-sdk';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import { SYNC_KEY } from '../replication/sync-standbys.js';
import { fakeClusterPerTest, T0 } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import { DETACHED_KEY } from './detached-members.js';
import type { FailoverCheckResult } from './failover-check.js';
import { JOURNAL_KEY } from './failover-journal.js';

// Issue 13 follow-up: standbys a quorum fence detached and no promotion re-pointed
// are remembered in the saved state and re-attached while the master is healthy.

const open = fakeClusterPerTest();

async function check(c: FakeCluster): Promise<FailoverCheckResult> {
  return (await c.hr.failoverCheck()) as FailoverCheckResult;
}

async function recordOnDisk(c: FakeCluster): Promise<unknown> {
  return (await c.savedState()).extra[DETACHED_KEY];
}

function issues(c: FakeCluster): string {
  return c.resolve(ClusterIssues).list().join(' | ');
}

function reattachAlerts(c: FakeCluster): string[] {
  return c.alerts('status_warning').map((event) => event.detail ?? '').filter((detail) => /could not be re-attached/.test(detail));
}

/** A quorum cluster with the set ANY 1 (pg2, pg3) recorded and applied; `failover` adds [failover] settings. */
async function openWithSet(failover: Record<string, boolean> = {}): Promise<FakeCluster> {
  const c = await open({ config: { failover: { synchronous_mode: 'quorum', synchronous_count: 1, ...failover } } });
  const healthy = await check(c);
  assert.equal(healthy.result, 'SUCCESS', healthy.details);
  assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: ['pg2', 'pg3'], k: 1 });
  return c;
}

/** HandyRep died right after its quorum fence detached pg2 and pg3; the master pg1 stayed healthy; HandyRep starts again. */
async function restartAfterDetach(c: FakeCluster): Promise<void> {
  c.set('pg2', { upstream: null });
  c.set('pg3', { upstream: null });
  await c.reopen((state) => {
    state.extra[JOURNAL_KEY] = { id: 'died-after-detach', trigger: 'automatic', old_master: 'pg1', candidate: null, stage: 'started', started_at: T0, detached: ['pg2', 'pg3'] };
  });
}

describe('DetachedMembers', () => {
  it('a journal closed before any promotion leaves its detached members recorded on disk; the next healthy check re-attaches them and clears the record and the issue', async () => {
    const c = await open();
    await restartAfterDetach(c);
    assert.equal((await c.savedState()).extra[JOURNAL_KEY], undefined, 'the journal is closed');
    assert.deepEqual(await recordOnDisk(c), ['pg2', 'pg3'], 'the record outlives the journal');
    assert.match(issues(c), /pg2, pg3 detached from their upstream by a quorum fence/);

    const checked = await check(c);
    assert.equal(checked.result, 'SUCCESS', checked.details);
    assert.equal(c.server('pg2').upstream, 'pg1');
    assert.equal(c.server('pg3').upstream, 'pg1');
    assert.ok(c.streaming('pg2') && c.streaming('pg3'), 'both stream from the master again');
    assert.equal(await recordOnDisk(c), undefined);
    assert.doesNotMatch(issues(c), /detached from their upstream/);
    assert.deepEqual(c.calls('promote'), []);
  });

  it('a member that cannot be re-attached stays recorded with an issue and one alert over several checks, and is re-attached once it can be', async () => {
    const c = await open();
    await restartAfterDetach(c);
    let broken = true;
    c.hooks.sql = (query) => {
      if (broken && query.target.server === 'pg3' && /ALTER SYSTEM SET primary_conninfo/.test(query.text)) throw new Error('pg3: disk full');
    };
    for (let i = 0; i < 3; i += 1) {
      const checked = await check(c);
      assert.equal(checked.result, 'SUCCESS', checked.details);
    }
    assert.equal(c.server('pg2').upstream, 'pg1', 'pg2 re-attached at the first check');
    assert.equal(c.server('pg3').upstream, null);
    assert.deepEqual(await recordOnDisk(c), ['pg3']);
    assert.match(issues(c), /pg3 detached from their upstream .*the last re-attachment failed \(pg3: .*disk full/);
    assert.equal(reattachAlerts(c).length, 1, `one alert, not one per check: ${reattachAlerts(c).join(' | ')}`);

    broken = false;
    await check(c);
    assert.equal(c.server('pg3').upstream, 'pg1');
    assert.equal(await recordOnDisk(c), undefined);
    assert.doesNotMatch(issues(c), /detached from their upstream/);
  });

  it('while a failover journal is unresolved, nothing is re-attached', async () => {
    const c = await open({ config: { failover: { promotion_timeout: 60 } } });
    c.set('pg2', { upstream: null });
    c.set('pg3', { upstream: null, pg: 'silent' });
    await c.reopen((state) => {
      state.extra[DETACHED_KEY] = ['pg2'];
      // A promotion of pg3 that may still complete: pg2 may be needed by what comes next.
      state.extra[JOURNAL_KEY] = { id: 'in-flight', trigger: 'automatic', old_master: 'pg1', candidate: 'pg3', stage: 'promoting', started_at: T0, promoting_at: T0, detached: ['pg2', 'pg3'] };
    });
    await check(c);
    assert.equal(c.server('pg2').upstream, null);
    assert.deepEqual(await recordOnDisk(c), ['pg2']);
  });

  it('when the next failover happens instead, it uses the detached members and clears the record', async () => {
    const c = await open();
    await restartAfterDetach(c);
    c.kill('pg1');
    const checked = await check(c);
    assert.equal(checked.failover?.result, 'SUCCESS', checked.details);
    assert.equal(checked.failover?.new_master, 'pg2');
    assert.equal(c.server('pg3').upstream, 'pg2', 'remastered by the failover');
    assert.equal(await recordOnDisk(c), undefined);
  });

  it('a failover without remaster keeps the members its fence detached recorded, and the checks re-attach them to the new master', async () => {
    const c = await openWithSet({ remaster: false });
    c.set('pg3', { lsn: '0/3000200' });
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    const result = await check(c);
    assert.equal(result.failover?.result, 'SUCCESS', result.details);
    assert.equal(result.failover?.fenced_by, 'quorum');
    assert.equal(c.hr.getMasterName(), 'pg3');
    assert.deepEqual(await recordOnDisk(c), ['pg2'], 'the promoted member left the record; pg2 follows nothing');
    await check(c);
    assert.equal(c.server('pg2').upstream, 'pg3');
    assert.equal(await recordOnDisk(c), undefined);
  });

  it('a fence undone after no promotion leaves nothing detached and nothing recorded', async () => {
    const c = await openWithSet();
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    c.hooks.promote = async (server) => fail(`${server}: cannot run pg_ctl`, { promote_sent: false });
    const result = await check(c);
    assert.equal(result.failover?.result, 'FAIL', result.details);
    assert.equal(c.server('pg2').upstream, 'pg1');
    assert.equal(c.server('pg3').upstream, 'pg1');
    assert.equal(await recordOnDisk(c), undefined);
  });

  it('a fence undo that failed partway records the member it could not re-attach; once the master answers again, a check re-attaches it', async () => {
    const c = await openWithSet();
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    c.hooks.promote = async (server) => fail(`${server}: cannot run pg_ctl`, { promote_sent: false });
    let undoing = false;
    c.hooks.sql = (query) => {
      if (query.target.server !== 'pg3' || !/ALTER SYSTEM SET primary_conninfo/.test(query.text)) return;
      // The detach empties it; the undo that follows cannot restore it.
      if (undoing) throw new Error('pg3: connection lost');
      undoing = true;
    };
    const result = await check(c);
    assert.equal(result.failover?.result, 'FAIL', result.details);
    assert.equal(c.server('pg2').upstream, 'pg1', 'pg2 re-attached by the undo');
    assert.equal(c.server('pg3').upstream, null, 'pg3 still detached');
    assert.deepEqual(await recordOnDisk(c), ['pg3']);

    c.hooks.sql = undefined;
    c.set('pg1', { pg: 'up', ssh: 'ok' });
    const healthy = await check(c);
    assert.equal(healthy.result, 'SUCCESS', healthy.details);
    assert.equal(c.server('pg3').upstream, 'pg1');
    assert.ok(c.streaming('pg3'));
    assert.equal(await recordOnDisk(c), undefined);
  });
});
