// SCENARIOS.md 4: the master cut off from HandyRep only, replicas still
// streaming: no failover, the status says HandyRep cannot reach the master
// but replicas can. Cut off from everyone: treated as lost; with the default
// policy (unreachable_master_policy = abort) nobody is promoted while the old
// master could still accept writes, and the result says why.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertNoSplitBrain, openScenario, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

describe('scenario 4: master cut off', () => {
  const open: Scenario[] = [];

  after(async () => {
    for (const scenario of open) {
      await scenario.cluster.faults.healAll().catch(() => undefined);
      await scenario.close();
    }
  });

  it('does not fail over when only HandyRep is cut off, and says so', async () => {
    const scenario = await openScenario({ writer: false });
    open.push(scenario);
    const { cluster, hr } = scenario;
    assert.equal((await hr.failoverCheck()).result, 'SUCCESS');
    await cluster.faults.partitionFromHandyrep('pg1');
    try {
      const result = await hr.failoverCheck();
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, /replicas? pg[23](, pg[23])? still stream/);
      const status = await statusOf(hr);
      assert.equal(status.servers['pg1']?.status, 'warning');
      assert.match(status.servers['pg1']?.status_message ?? '', /HandyRep cannot reach the master/);
      assert.equal(status.cluster.status, 'warning');
      assert.equal(hr.getMasterName(), 'pg1');
    } finally {
      await cluster.faults.healFromHandyrep('pg1');
    }
    assert.deepEqual(await cluster.findMasters(1000), ['pg1']);
    await assertNoSplitBrain(scenario);
  });

  it('does not promote while a master cut off from everyone could still accept writes (default policy)', async () => {
    const scenario = await openScenario({ writer: false });
    open.push(scenario);
    const { cluster, hr } = scenario;
    assert.equal((await hr.failoverCheck()).result, 'SUCCESS');
    await cluster.faults.partition('pg1');
    try {
      const result = await hr.failoverCheck();
      assert.equal(result.result, 'FAIL', result.details);
      assert.match(result.details, /unreachable_master_policy = abort/);
      for (const replica of ['pg2', 'pg3']) assert.equal(await cluster.inRecovery(replica), true, `${replica} was not promoted`);
      assert.equal(hr.getMasterName(), 'pg1');
    } finally {
      await cluster.faults.heal('pg1');
    }
    assert.ok(await waitFor(async () => (await cluster.findMasters(1000)).length === 1, 5000));
    await assertNoSplitBrain(scenario);
  });
});
