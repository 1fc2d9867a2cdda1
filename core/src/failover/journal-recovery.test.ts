import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeClusterPerTest, T0 } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import type { FailoverCheckResult } from './failover-check.js';
import { JOURNAL_KEY } from './failover-journal.js';
import type { FailoverJournal } from './failover-journal.js';

// Issue 12, item 4: a failover journal left by a process that died mid-failover
// is resolved from the candidate's real state, at start and on every check,
// never by promoting again; an in-flight promotion gets promotion_timeout.

const open = fakeClusterPerTest();

const journal = (over: Partial<FailoverJournal> = {}): FailoverJournal => ({
  id: 'crashed-failover',
  trigger: 'automatic',
  old_master: 'pg1',
  candidate: 'pg2',
  stage: 'promoting',
  started_at: T0,
  promoting_at: T0,
  ...over,
});

/** The master died, and so did the HandyRep failing over from it, leaving `left` in the server file; HandyRep starts again. */
async function restartAfterCrash(c: FakeCluster, left: FailoverJournal): Promise<void> {
  c.kill('pg1');
  await c.reopen((state) => {
    state.extra[JOURNAL_KEY] = left;
  });
}

async function check(c: FakeCluster): Promise<FailoverCheckResult> {
  return (await c.hr.failoverCheck()) as FailoverCheckResult;
}

async function journalOnDisk(c: FakeCluster): Promise<unknown> {
  return (await c.savedState()).extra[JOURNAL_KEY];
}

describe('JournalRecovery at start', () => {
  it('the candidate left recovery (it was promoted): the registry is completed, nothing is promoted again', async () => {
    const c = await open();
    c.set('pg2', { inRecovery: false });
    await restartAfterCrash(c, journal());
    assert.equal(c.hr.getMasterName(), 'pg2');
    const saved = await c.savedState();
    assert.equal(saved.extra[JOURNAL_KEY], undefined);
    assert.equal(saved.servers['pg1']?.definition['enabled'], false);
    assert.equal(saved.servers['pg1']?.definition['role'], 'replica');
    assert.deepEqual(c.calls('promote'), []);
    // The next check finds a healthy master: no failover.
    const checked = await check(c);
    assert.equal(checked.result, 'SUCCESS', checked.details);
    assert.deepEqual(c.calls('promote'), []);
  });

  it('interrupted after a quorum fence, before any promotion: nothing promoted, and the issue names the detached members', async () => {
    const c = await open();
    await restartAfterCrash(c, journal({ stage: 'started', candidate: null, detached: ['pg2', 'pg3'] }));
    assert.equal(await journalOnDisk(c), undefined);
    const issues = c.resolve(ClusterIssues).list().join(' | ');
    assert.match(issues, /nothing was promoted; pg2, pg3 had been detached from it by a quorum fence: the next failover uses them, or HandyRep re-attaches them while pg1 stays the healthy master/);
    assert.deepEqual(c.calls('promote'), []);
  });

  it('the candidate is down: disabled for a rejoin, the journal cleared; the next failover goes elsewhere', async () => {
    const c = await open();
    c.set('pg2', { pg: 'down' });
    await restartAfterCrash(c, journal());
    assert.equal(await journalOnDisk(c), undefined);
    const info = (await c.hr.getServerInfo('pg2')) as Record<string, { enabled: boolean; status: string; status_message: string }>;
    assert.equal(info['pg2']?.enabled, false);
    assert.equal(info['pg2']?.status, 'down');
    assert.match(info['pg2']?.status_message ?? '', /rejoin or clone it before enabling it/);
    assert.equal(c.hr.getMasterName(), 'pg1', 'nothing else was promoted');

    const checked = await check(c);
    assert.equal(checked.failover?.new_master, 'pg3', checked.details);
    assert.deepEqual(c.calls('promote'), ['pg3']);
  });

  it('the candidate is still in recovery within promotion_timeout: failovers are refused; once it has passed, it was not promoted and the failover runs', async () => {
    const c = await open({ config: { failover: { promotion_timeout: 5 } } });
    c.clock.advance(1000); // 1 s after the promotion was requested
    await restartAfterCrash(c, journal());
    assert.deepEqual(await journalOnDisk(c), journal(), 'kept: the promotion may still complete');

    const refused = await check(c);
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /an earlier failover from pg1 \(candidate pg2\) is unresolved; failovers are refused/);
    assert.deepEqual(c.calls('promote'), []);

    c.clock.advance(5000); // promotion_timeout has passed since the request, pg2 still in recovery
    const ran = await check(c);
    assert.equal(ran.failover?.result, 'SUCCESS', ran.details);
    assert.equal(await journalOnDisk(c), undefined);
    assert.deepEqual(c.calls('promote'), ['pg2'], 'one promotion, by the new failover');
  });

  it('a candidate that does not answer keeps failovers refused, however long it takes', async () => {
    const c = await open({ config: { failover: { promotion_timeout: 5 } } });
    c.set('pg2', { pg: 'silent' });
    await restartAfterCrash(c, journal());
    c.clock.advance(10 * 60_000);
    const refused = await check(c);
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /is unresolved/);
    assert.deepEqual(await journalOnDisk(c), journal());
    assert.deepEqual(c.calls('promote'), []);
  });

  it('a journal from before any promotion (stage started) is closed at start: nothing was promoted', async () => {
    const c = await open();
    await restartAfterCrash(c, journal({ stage: 'started', candidate: null }));
    assert.equal(await journalOnDisk(c), undefined);
    assert.equal(c.hr.getMasterName(), 'pg1');
    assert.deepEqual(c.calls('promote'), []);
  });
});
