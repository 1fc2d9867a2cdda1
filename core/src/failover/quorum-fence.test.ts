import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fail } from '@handyrep/plugin-sdk';
import { SYNC_KEY } from '../replication/sync-standbys.js';
import { fakeClusterPerTest } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import type { FailoverCheckResult } from './failover-check.js';

// Issue 13: a master that answers nothing is fenced by the synchronous quorum
// (QuorumFence), through failover_check, the real DI container and a fake cluster.

const open = fakeClusterPerTest();

async function check(c: FakeCluster): Promise<FailoverCheckResult> {
  return (await c.hr.failoverCheck()) as FailoverCheckResult;
}

/** A quorum cluster whose set ANY 1 (pg2, pg3) has been recorded and applied by a healthy check. */
async function openWithSet(): Promise<FakeCluster> {
  const c = await open({ config: { failover: { synchronous_mode: 'quorum', synchronous_count: 1 } } });
  const healthy = await check(c);
  assert.equal(healthy.result, 'SUCCESS', healthy.details);
  assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: ['pg2', 'pg3'], k: 1 });
  return c;
}

/** Times the members were detached (primary_conninfo emptied), by server. */
function detaches(c: FakeCluster): string[] {
  return c.eventsOf('sql').filter((event) => /ALTER SYSTEM SET primary_conninfo = E?''$/.test(event.detail ?? '')).map((event) => event.server ?? '');
}

describe('QuorumFence', () => {
  it('a silent master with |S| − k + 1 members answering: both detached, the most advanced promoted, fenced_by quorum (despite unreachable_master_policy = abort)', async () => {
    const c = await openWithSet();
    c.set('pg3', { lsn: '0/3000200' });
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    let detachedAtPromotion: (string | null)[] = [];
    c.hooks.promote = async (_server, fallback) => {
      detachedAtPromotion = ['pg2', 'pg3'].map((name) => c.server(name).upstream);
      return fallback();
    };
    const result = await check(c);
    assert.equal(result.failover?.result, 'SUCCESS', result.details);
    assert.equal(result.failover?.fenced_by, 'quorum');
    assert.equal(result.failover?.new_master, 'pg3', 'the detached member that received the most WAL');
    assert.deepEqual(detaches(c).sort(), ['pg2', 'pg3']);
    assert.deepEqual(detachedAtPromotion, [null, null], 'both detached from the old master before the promotion');
    assert.deepEqual(c.calls('promote'), ['pg3']);
    assert.deepEqual(c.calls('faststop'), [], 'a host silent on PostgreSQL and SSH is not fenced over the network');
    const steps = result.failover?.steps.map((s) => s.step) ?? [];
    assert.ok(steps.indexOf('prepare pg3') < steps.indexOf('promote pg3'), 'its own synchronous_standby_names cleared first');
    assert.equal(c.server('pg2').upstream, 'pg3', 'remastered afterwards');
    assert.deepEqual((await c.savedState()).extra[SYNC_KEY], { members: [], k: 0 }, 'quorum: asynchronous until the replicas stream again');
  });

  it('without a quorum (a member silent too) nothing is detached and the failover is refused, naming the missing quorum', async () => {
    const c = await openWithSet();
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    c.set('pg2', { pg: 'silent', ssh: 'timeout' });
    const result = await check(c);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /no quorum: 1 member\(s\) of the synchronous set ANY 1 \(pg2, pg3\) reachable \(pg3\), 2 needed/);
    assert.match(result.details, /unreachable_master_policy = abort/);
    assert.deepEqual(detaches(c), []);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(c.server('pg3').upstream, 'pg1', 'pg3 was left attached');
  });

  it('a member whose WAL receiver does not stop is re-attached and the fence fails', async () => {
    const c = await openWithSet();
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    // pg2 keeps a WAL receiver whatever it is told.
    c.hooks.sql = (query) => {
      if (query.target.server === 'pg2' && /count\(\*\)::int AS n FROM pg_stat_wal_receiver/.test(query.text)) throw new Error('pg2: could not read pg_stat_wal_receiver');
    };
    const result = await check(c);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /no quorum fence: only 1 of 2 needed members .* could be detached .*re-attached the others/);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(c.server('pg3').upstream, 'pg1', 'pg3 was re-attached to its previous upstream');
  });

  it('a quorum fence after which nobody could be promoted is undone: the members point at the old master again', async () => {
    const c = await openWithSet();
    c.set('pg1', { pg: 'silent', ssh: 'timeout' });
    // Both promotions fail before reaching the server, and both candidates stay in recovery.
    c.hooks.promote = async (server) => fail(`${server}: cannot run pg_ctl`, { promote_sent: false });
    const result = await check(c);
    assert.equal(result.failover?.result, 'FAIL', result.details);
    assert.deepEqual(detaches(c).sort(), ['pg2', 'pg3'], 'the fence detached both');
    const steps = result.failover?.steps.map((s) => `${s.step}:${s.result}`) ?? [];
    assert.ok(steps.includes('undo_quorum_fence:SUCCESS'), steps.join(', '));
    assert.equal(c.server('pg2').upstream, 'pg1');
    assert.equal(c.server('pg3').upstream, 'pg1');
  });
});
