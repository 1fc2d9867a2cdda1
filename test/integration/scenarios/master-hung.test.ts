// SCENARIOS.md 3: master hung (SIGSTOP): treated as down after the retry
// window; the old master is fenced before the promotion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

describe('scenario 3: master hung', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario();
  });

  after(async () => {
    await scenario?.cluster.faults.resume('pg1').catch(() => undefined);
    await scenario?.close();
  });

  it('fences the hung master, then promotes a replica after the retry window', async () => {
    const { cluster, hr } = scenario;
    const monitor = hr.startMonitor();
    const failovers: { steps: { step: string; result: string }[]; writable_after_ms?: number }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');
    await scenario.writer?.waitForAcks(20);

    const faultAt = Date.now();
    await cluster.faults.hang('pg1');
    let newMaster = '';
    assert.ok(await waitFor(async () => {
      newMaster = (await cluster.findMasters(500)).find((name) => name !== 'pg1') ?? '';
      return newMaster !== '';
    }, 30_000, 50), 'a replica became writable');
    report('scenario 3 (hung master)', { fault_to_writable_ms: Date.now() - faultAt, detection_window_ms: 1000 + 2 * 1000 + 1000 });
    assert.ok(await waitFor(() => failovers.length > 0, 20_000), 'the failover finished');
    await hr.stopMonitor();

    const steps = failovers[0]?.steps ?? [];
    const fence = steps.findIndex((step) => step.step === 'fence_old_master');
    const promote = steps.findIndex((step) => step.step.startsWith('promote'));
    assert.ok(fence >= 0 && promote > fence, `fenced before promoting: ${JSON.stringify(steps)}`);
    assert.equal(steps[fence]?.result, 'SUCCESS');
    assert.equal(cluster.isPostgresRunning('pg1'), false, 'the hung master was fenced (killed)');
    const status = await statusOf(hr);
    assert.equal(status.servers[newMaster]?.role, 'master');
    assert.equal(status.servers['pg1']?.enabled, false);
    await assertNoSplitBrain(scenario);
    report('scenario 3 commits', await assertCommitsKept(scenario, newMaster, faultAt));
  });
});
