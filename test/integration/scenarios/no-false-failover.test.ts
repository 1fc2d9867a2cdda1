// SCENARIOS.md 5 and 6: a blip shorter than the retry window, and SSH down
// on the master with SQL fine: no failover; SSH down shows as a warning.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCommitsKept, assertNoSplitBrain, openScenario, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

describe('scenarios 5 and 6: no false failover', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario();
  });

  after(async () => {
    await scenario?.cluster.faults.healAll().catch(() => undefined);
    await scenario?.cluster.faults.sshUp('pg1').catch(() => undefined);
    await scenario?.close();
  });

  it('5: a 1-second network blip of the master causes no failover', async () => {
    const { cluster, hr } = scenario;
    const monitor = hr.startMonitor();
    const verdicts: string[] = [];
    monitor.onCheck((result) => verdicts.push(`${result.result}:${result.verdict ?? ''}`));
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000));
    await cluster.faults.partition('pg1');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await cluster.faults.heal('pg1');
    // Several full detection windows.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    await hr.stopMonitor();
    assert.deepEqual(await cluster.findMasters(1000), ['pg1']);
    assert.equal(hr.getMasterName(), 'pg1');
    assert.ok(!verdicts.some((verdict) => verdict.endsWith(':dead')), verdicts.join(' '));
  });

  it('6: SSH down on the master with SQL fine is a warning, never a failover', async () => {
    const { cluster, hr } = scenario;
    await cluster.faults.sshDown('pg1');
    try {
      const check = await hr.failoverCheck(true);
      assert.equal(check.result, 'SUCCESS', check.details);
      const status = await statusOf(hr);
      assert.equal(status.servers['pg1']?.status, 'warning');
      assert.match(status.servers['pg1']?.status_message ?? '', /cannot ssh/);
      assert.equal(status.cluster.status, 'warning');
      const verify = await hr.verifyMaster();
      assert.equal(verify.result, 'SUCCESS');
      assert.match(String((verify as { ssh?: string }).ssh), /ECONNREFUSED|refused|connect/);
    } finally {
      await cluster.faults.sshUp('pg1');
    }
    assert.deepEqual(await cluster.findMasters(1000), ['pg1']);
    await assertNoSplitBrain(scenario);
    const commits = await assertCommitsKept(scenario, 'pg1');
    assert.equal(commits.missing, 0);
  });
});
