// SCENARIOS.md 1: master postgres killed (kill -9), host still reachable,
// restart_master on: restarted in place, no failover.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

describe('scenario 1: master crash with restart_master', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({ overrides: { failover: { restart_master: true } } });
  });

  after(async () => {
    await scenario?.close();
  });

  it('restarts the master in place and does not fail over', async () => {
    const { cluster, hr } = scenario;
    hr.startMonitor();
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');
    await scenario.writer?.waitForAcks(20);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const faultAt = Date.now();
    await cluster.faults.kill('pg1');
    assert.ok(await waitFor(async () => (await cluster.inRecovery('pg1', 500)) === false, 20_000, 20), 'pg1 accepts connections again');
    report('scenario 1 (crash, restart_master)', { fault_to_accepting_ms: Date.now() - faultAt });
    assert.ok(await waitFor(async () => (await cluster.findMasters(500)).length === 1, 5000));
    // Long enough for a wrong decision to show.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await hr.stopMonitor();

    assert.deepEqual(await cluster.findMasters(1000), ['pg1'], 'pg1 is still the only master');
    assert.equal(hr.getMasterName(), 'pg1');
    for (const replica of ['pg2', 'pg3']) assert.equal(await cluster.inRecovery(replica), true, `${replica} is still a replica`);
    const status = await statusOf(hr);
    assert.equal(status.servers['pg1']?.enabled, true);
    assert.match(status.servers['pg1']?.status_message ?? '', /restarted|responding|verified/);
    await assertNoSplitBrain(scenario);
    const commits = await assertCommitsKept(scenario, 'pg1');
    report('scenario 1 commits', commits);
  });
});
