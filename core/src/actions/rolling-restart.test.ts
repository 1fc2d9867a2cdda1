import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeClusterPerTest } from '../test-support/fake-cluster.js';
import type { FakeCluster } from '../test-support/fake-cluster.js';
import type { RollingRestartResult } from './rolling-restart.js';

// restart_cluster's failure paths on the fake cluster (real DI container, fake
// plugins, SQL and clock): where it stops, what it names, and that the master
// is left alone or the cluster keeps one.

const open = fakeClusterPerTest();

async function restartCluster(c: FakeCluster, pendingOnly: boolean, switchover: boolean): Promise<RollingRestartResult> {
  const result = await c.hr.restartCluster(pendingOnly, switchover);
  assert.ok('steps' in result, JSON.stringify(result));
  return result as RollingRestartResult;
}

const actions = (result: RollingRestartResult): string[] => result.steps.map((step) => `${step.action} ${step.server} ${step.result}`);

describe('restart_cluster on the fake cluster', () => {
  it('a replica not caught up within restart_catchup_timeout stops the run at its catch_up, the master untouched', async () => {
    const c = await open({ config: { failover: { restart_catchup_timeout: 2 } } });
    // pg3 streams but its replay stays behind the master's position.
    c.set('pg3', { lsn: '0/1000000' });
    const result = await restartCluster(c, false, false);

    assert.equal(result.result, 'FAIL', result.details);
    assert.deepEqual(result.stopped_at, { server: 'pg3', action: 'catch_up' });
    assert.deepEqual(actions(result), ['check pg1 SUCCESS', 'restart pg3 SUCCESS', 'catch_up pg3 FAIL']);
    assert.match(result.details, /stopped at pg3: pg3 did not stream from pg1 and replay its WAL position within restart_catchup_timeout \(2 s\); the master pg1 was not touched/);
    assert.deepEqual(c.calls('restart'), ['pg3']);
    assert.deepEqual(c.calls('stop'), []);
    assert.equal(c.hr.getMasterName(), 'pg1');
    assert.equal(result.switchover, null);
  });

  it('a failed switchover stops the run at the switchover, named; the cluster keeps pg1 as its master and nothing rejoins', async () => {
    const c = await open({ servers: [{ name: 'pg1', role: 'master', props: { clone_method: 'clone_basebackup' } }, { name: 'pg2', role: 'replica' }, { name: 'pg3', role: 'replica' }] });
    c.hooks.promote = async () => ({ result: 'FAIL', details: 'promotion refused (test)', promote_sent: false });
    const result = await restartCluster(c, false, true);

    assert.equal(result.result, 'FAIL', result.details);
    assert.deepEqual(result.stopped_at, { server: 'pg1', action: 'switchover' });
    assert.deepEqual(actions(result).slice(-2), ['checkpoint pg1 SUCCESS', 'switchover pg1 FAIL']);
    assert.equal(result.switchover?.steps.find((step) => step.step === 'restart_old_master')?.result, 'SUCCESS', 'the switchover started pg1 again');
    assert.equal(c.calls('stop').includes('pg1'), true, 'the switchover had stopped pg1');
    assert.match(result.details, /stopped at pg1 \(switchover\)/);
    assert.equal(result.steps.some((step) => step.action === 'rejoin'), false, 'no rejoin after the failed switchover');
    assert.equal(result.switchover?.result, 'FAIL');
    assert.equal(result.master, 'pg1');
    assert.equal(c.hr.getMasterName(), 'pg1');
    assert.equal(c.server('pg1').pg, 'up', 'the old master runs again');
    assert.equal(c.server('pg1').inRecovery, false);
    assert.equal([...c.servers.values()].filter((server) => server.pg === 'up' && !server.inRecovery).length, 1, 'one writable master');
  });

  it('a failed rejoin of the old master stops the run at `rejoin`, naming why pg_rewind and the reclone failed; the new master stays', async () => {
    const c = await open({ clone: true, config: { failover: { use_slots: false } } });
    c.hooks.rewind = async () => ({ result: 'FAIL', details: 'pg_rewind of pg1 from pg2 failed: could not open file "postgresql.auto.conf" (test)', duration_ms: 1 });
    c.hooks.clone = async () => ({ result: 'FAIL', details: 'emptying the data directory of pg1 failed (test)', duration_ms: 1 });
    const result = await restartCluster(c, false, true);

    assert.equal(result.result, 'FAIL', result.details);
    assert.deepEqual(result.stopped_at, { server: 'pg1', action: 'rejoin' });
    assert.deepEqual(actions(result).slice(-3), ['checkpoint pg1 SUCCESS', 'switchover pg1 SUCCESS', 'rejoin pg1 FAIL']);
    assert.match(result.details, /stopped at pg1 \(rejoin\): .*pg_rewind failed: pg_rewind of pg1 from pg2 failed: could not open file "postgresql.auto.conf" \(test\).*emptying the data directory of pg1 failed \(test\)/);
    assert.deepEqual(c.calls('rewind'), ['pg1']);
    assert.deepEqual(c.calls('clone'), ['pg1']);
    const newMaster = result.master;
    assert.notEqual(newMaster, 'pg1');
    assert.equal(c.hr.getMasterName(), newMaster);
    assert.equal(result.restarted.includes('pg1'), false);
    assert.equal(c.server('pg1').pg, 'down', 'the old master is left down');
    assert.equal([...c.servers.values()].filter((server) => server.pg === 'up' && !server.inRecovery).length, 1, 'one writable master');
  });

  it('pending_only + switchover with nothing pending on the master: the replicas restart, the master is left alone, no switchover', async () => {
    const c = await open({ servers: [{ name: 'pg1', role: 'master', props: { clone_method: 'clone_basebackup' } }, { name: 'pg2', role: 'replica' }, { name: 'pg3', role: 'replica' }] });
    c.set('pg2', { pendingRestart: ['max_connections'] });
    c.set('pg3', { pendingRestart: ['shared_buffers'] });
    const result = await restartCluster(c, true, true);

    assert.equal(result.result, 'SUCCESS', result.details);
    assert.deepEqual(result.restarted.sort(), ['pg2', 'pg3']);
    assert.equal(result.steps.some((step) => step.server === 'pg1' && step.action !== 'check'), false, 'no step on the master but the check');
    assert.deepEqual(c.calls('restart').sort(), ['pg2', 'pg3']);
    assert.deepEqual(c.calls('stop'), []);
    assert.deepEqual(c.calls('promote'), []);
    assert.equal(result.switchover, null);
    assert.equal(c.hr.getMasterName(), 'pg1');
    assert.match(result.details, /master pg1 skipped \(no setting pending a restart/);
  });

  it("pending_only, master restarted in place: each restart step, the master's too, names the settings that were pending", async () => {
    const c = await open();
    c.set('pg1', { pendingRestart: ['max_connections'] });
    c.set('pg2', { pendingRestart: ['max_connections'] });
    const result = await restartCluster(c, true, false);

    assert.equal(result.result, 'SUCCESS', result.details);
    const restarts = result.steps.filter((step) => step.action === 'restart');
    assert.deepEqual(restarts.map((step) => step.server), ['pg2', 'pg1']);
    for (const step of restarts) assert.match(step.details, /\(settings pending a restart: max_connections\)$/, `${step.server}: ${step.details}`);
  });
});
