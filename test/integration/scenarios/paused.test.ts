// Maintenance mode: while paused, checks go on and are reported, but nothing
// automatic happens; on resume the right action follows. The pause survives a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { assertNoSplitBrain, openScenario, statusOf } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

describe('paused cluster', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({ writer: false });
  });

  after(async () => {
    await scenario?.close();
  });

  it('does nothing automatic while paused, survives a restart, and fails over on resume', async () => {
    const { cluster } = scenario;
    assert.equal((await scenario.hr.pause()).result, 'SUCCESS');
    const since = scenario.hr.pausedSince();
    assert.ok(typeof since === 'number');
    await scenario.hr.close();
    scenario.hr = await HandyRep.open(scenario.configFile);
    assert.equal(scenario.hr.pausedSince(), since, 'the pause survived a restart');

    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const check = await scenario.hr.failoverCheck();
    assert.equal(check.result, 'FAIL');
    assert.match(check.details, /paused/);
    for (const replica of ['pg2', 'pg3']) assert.equal(await cluster.inRecovery(replica), true);
    const status = await statusOf(scenario.hr);
    assert.ok(['unavailable', 'down'].includes(status.servers['pg1']?.status ?? ''), 'checks still update statuses');
    assert.match(status.servers['pg1']?.status_message ?? '', /not responding|down/);

    assert.equal((await scenario.hr.resume()).result, 'SUCCESS');
    const after = await scenario.hr.failoverCheck();
    assert.equal(after.result, 'SUCCESS', after.details);
    assert.notEqual(scenario.hr.getMasterName(), 'pg1');
    await assertNoSplitBrain(scenario);
  });
});
