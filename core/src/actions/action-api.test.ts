import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReturnDictionary } from '@handyrep/plugin-sdk';
import type { FailoverResult } from '../failover/failover-executor.js';
import { fakeClusterPerTest } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import { ActionApi } from './action-api.js';

// Issue 12: the Action API through the real DI container and a fake cluster.
// Values set by alter_server_def as strings are stored converted: already covered by
// registry/server-props-conversion.test.ts (library API and state file); here only
// what that file does not cover: that the converted value is what the failover rules see.

const open = fakeClusterPerTest();

type ManualResult = FailoverResult | ReturnDictionary<{ code?: string }>;

async function manualFailover(c: FakeCluster, newmaster: string | null, ignoreLagLimit = false): Promise<ManualResult> {
  return c.hr.manualFailover(newmaster, null, ignoreLagLimit);
}

/** Nothing was touched: the master still runs and is registered, nobody stopped or promoted. */
async function assertNothingDone(c: FakeCluster): Promise<void> {
  assert.deepEqual(c.calls('promote'), [], 'no promotion');
  assert.deepEqual(c.calls('stop'), [], 'the master was not stopped');
  assert.deepEqual(c.calls('faststop'), []);
  assert.equal(c.server('pg1').pg, 'up');
  assert.equal(c.hr.getMasterName(), 'pg1');
  assert.equal((await c.savedState()).extra['failover_journal'], undefined, 'no journal left behind');
}

describe('ActionApi.manualFailover: refusals', () => {
  it('an unknown newmaster is refused before anything starts', async () => {
    const c = await open();
    const result = await manualFailover(c, 'pg9');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.details, "unknown server 'pg9'");
    assert.equal((result as { code?: string }).code, 'HR_UNKNOWN_SERVER');
    assert.equal(c.alerts('failover_started').length, 0);
    await assertNothingDone(c);
  });

  it('the master itself is refused', async () => {
    const c = await open();
    const result = await manualFailover(c, 'pg1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.details, 'pg1 is already the master');
    assert.equal(c.alerts('failover_started').length, 0);
    await assertNothingDone(c);
  });

  it('a server that does not run PostgreSQL is refused', async () => {
    const c = await open({
      servers: [
        { name: 'pg1', role: 'master' },
        { name: 'pg2', role: 'replica' },
        { name: 'bouncer', role: 'pgbouncer', props: { port: 6432, enabled: false } },
      ],
    });
    const result = await manualFailover(c, 'bouncer');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /bouncer has role pgbouncer; only master and replica servers run PostgreSQL/);
    await assertNothingDone(c);
  });

  it('a replica that received less WAL than another and does not stream is refused, naming the one ahead; the master keeps running', async () => {
    const c = await open();
    c.set('pg1', { lsn: '0/5000000' });
    c.set('pg3', { lsn: '0/5000000' });
    // Not streaming: the old master's clean stop would not send it the rest.
    c.set('pg2', { upstream: null });
    const result = (await manualFailover(c, 'pg2')) as FailoverResult;
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /pg2 has received less WAL than pg3; promoting it would lose commits \(override the lag limit to do it anyway\)/);
    assert.deepEqual(result.steps.map((s) => s.step), ['write_journal', 'select_candidates']);
    await assertNothingDone(c);
  });

  it('... unless ignore_lag_limit: then it is a planned switchover to it (clean stop first, fenced_by clean_stop)', async () => {
    const c = await open();
    c.set('pg1', { lsn: '0/5000000' });
    c.set('pg3', { lsn: '0/5000000' });
    const result = (await manualFailover(c, 'pg2', true)) as FailoverResult;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.new_master, 'pg2');
    assert.equal(result.fenced_by, 'clean_stop');
    const order = c.events.filter((e) => e.what === 'stop' || e.what === 'promote').map((e) => `${e.what} ${e.server}`);
    assert.deepEqual(order, ['stop pg1', 'promote pg2'], 'stopped cleanly before the promotion');
    assert.equal(c.hr.getMasterName(), 'pg2');
  });

  it('a streaming replica momentarily behind another is accepted for a planned switchover (the clean stop sends it the rest)', async () => {
    const c = await open();
    c.set('pg1', { lsn: '0/5000000' });
    c.set('pg3', { lsn: '0/5000000' });
    const result = (await manualFailover(c, 'pg2')) as FailoverResult;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.fenced_by, 'clean_stop');
    const order = c.events.filter((e) => e.what === 'stop' || e.what === 'promote').map((e) => `${e.what} ${e.server}`);
    assert.deepEqual(order, ['stop pg1', 'promote pg2']);
  });

  it('a replica over its failover_lag_limit is refused, and says how to override', async () => {
    const c = await open({
      servers: [
        { name: 'pg1', role: 'master' },
        { name: 'pg2', role: 'replica', props: { failover_lag_limit: 10 } },
        { name: 'pg3', role: 'replica' },
      ],
    });
    c.set('pg1', { lsn: '0/5000000' });
    c.set('pg3', { lsn: '0/5000000' });
    const result = await manualFailover(c, 'pg2');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /pg2 is 32 MB behind, over its failover_lag_limit of 10 MB \(override the lag limit to promote it anyway\)/);
    await assertNothingDone(c);
  });

  it('a replica made nofailover through alter_server_def ("true" as a string) is refused even with ignore_lag_limit', async () => {
    const c = await open();
    const altered = await c.hr.alterServerDef('pg2', { nofailover: 'true' });
    assert.equal(altered.result, 'SUCCESS', altered.details);
    const result = await manualFailover(c, 'pg2', true);
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /pg2 is marked nofailover/);
    await assertNothingDone(c);
  });

  it('a disabled replica is refused', async () => {
    const c = await open();
    c.runtime.registry.disable('pg3');
    const result = await manualFailover(c, 'pg3');
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /pg3 is not an enabled replica/);
    await assertNothingDone(c);
  });

  it('a second action while a manual failover runs is refused, naming it; only one promotion happens', async () => {
    const c = await open();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let promoting: () => void = () => undefined;
    const promotionStarted = new Promise<void>((resolve) => {
      promoting = resolve;
    });
    c.hooks.promote = async (_server, fallback) => {
      promoting();
      await released;
      return fallback();
    };
    const first = manualFailover(c, 'pg2');
    await promotionStarted;
    const second = await manualFailover(c, 'pg3');
    assert.equal(second.result, 'FAIL');
    assert.match(second.details, /cannot start manual failover: manual failover is running since/);
    release();
    const done = await first;
    assert.equal(done.result, 'SUCCESS', done.details);
    assert.deepEqual(c.calls('promote'), ['pg2']);
  });
});

describe('ActionApi: manual failover without a name, and other guards', () => {
  it('without newmaster the selection picks the best replica (planned switchover while the master runs)', async () => {
    const c = await open();
    c.set('pg3', { lsn: '0/3000100' }); // ahead of pg2: chosen whatever the priority
    const result = (await manualFailover(c, null)) as FailoverResult;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.new_master, 'pg3');
    assert.equal(result.fenced_by, 'clean_stop');
  });

  it('with the master down it is an unplanned failover (fenced, not stopped cleanly)', async () => {
    const c = await open();
    c.kill('pg1');
    const result = (await manualFailover(c, 'pg2')) as FailoverResult;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(c.calls('stop'), [], 'no clean stop of a dead master');
    assert.deepEqual(c.calls('faststop'), ['pg1']);
    assert.equal(result.fenced_by, 'refused_port');
  });

  it('alter_server_def naming a plugin that is not loaded is refused and changes nothing', async () => {
    const c = await open();
    const before = await c.hr.getServerInfo('pg2');
    const result = await c.hr.alterServerDef('pg2', { promotion_method: 'promote_nowhere', failover_priority: 7 });
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /promotion_method = promote_nowhere: that plugin is not loaded/);
    assert.deepEqual(await c.hr.getServerInfo('pg2'), before);
  });

  it('shutdown and disable of the master need force; promote of the master is refused', async () => {
    const c = await open();
    const api = c.resolve(ActionApi);
    assert.match((await api.shutdown('pg1')).details, /pg1 is the master; .*Pass force/);
    assert.match((await api.disable('pg1')).details, /pg1 is the enabled master; .*Pass force/);
    assert.equal((await api.promote('pg1')).details, 'pg1 is not a replica');
    assert.deepEqual(c.calls('stop'), []);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(c.hr.getMasterName(), 'pg1');
  });
});
