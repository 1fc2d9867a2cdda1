// SCENARIOS.md 14: HandyRep killed in the middle of a failover and started
// again: no second promotion; the cluster ends with exactly one master and
// the status says so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import { assertNoSplitBrain, openScenario, startMonitorProcess, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';


function journalStage(serverFile: string): string | undefined {
  try {
    const state = JSON.parse(readFileSync(serverFile, 'utf8')) as { extra?: { failover_journal?: { stage?: string } } };
    return state.extra?.failover_journal?.stage;
  } catch {
    return undefined;
  }
}

describe('scenario 14: HandyRep killed during a failover', () => {
  let scenario: Scenario;

  before(async () => {
    // An interrupted promotion is waited for up to promotion_timeout before the candidate counts as not promoted.
    scenario = await openScenario({ writer: false, overrides: { failover: { promotion_timeout: 8 } } });
    // The monitor runs in another process; this one only observes.
    await scenario.hr.close();
  });

  after(async () => {
    await scenario?.close();
  });

  it('does not promote twice after a restart and ends with exactly one master', async () => {
    const { cluster } = scenario;
    const serverFile = `${cluster.baseDir}/servers.save`;
    const monitor = await startMonitorProcess(scenario.configFile);
    try {
      await cluster.faults.sshDown('pg1');
      await cluster.faults.kill('pg1');
      assert.ok(await waitFor(() => journalStage(serverFile) === 'promoting', 15_000, 2), 'the failover reached the promotion');
      await monitor.kill();
    } finally {
      await monitor.kill();
    }

    scenario.hr = await HandyRep.open(scenario.configFile);
    const hr = scenario.hr;
    hr.startMonitor();
    assert.ok(await waitFor(async () => {
      const masters = await cluster.findMasters(500);
      return masters.length === 1 && masters[0] !== 'pg1' && hr.getMasterName() === masters[0];
    }, 45_000, 200), 'exactly one master, and the registry names it');
    // Long enough for a second promotion to show if one were to happen.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await hr.stopMonitor();
    const masters = await cluster.findMasters(1000);
    assert.equal(masters.length, 1, `masters: ${masters.join(', ')}`);
    assert.equal(hr.getMasterName(), masters[0]);
    const status = await statusOf(hr);
    assert.equal(status.servers[masters[0] ?? '']?.role, 'master');
    assert.equal(status.servers['pg1']?.enabled, false);
    assert.equal(journalStage(serverFile), undefined, 'the journal was resolved');
    await assertNoSplitBrain(scenario);
  });
});
