// SCENARIOS.md 7-10: the lag gate (automatic refuses, manual override
// works), nofailover never chosen, WAL position beats priority and equal
// positions fall back to priority, and a failed promotion moves on.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertNoSplitBrain, openScenario, report, statusOf } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

function failoverOf(result: unknown): { new_master: string | null; steps: { step: string; result: string; details: string }[] } | undefined {
  return (result as { failover?: { new_master: string | null; steps: { step: string; result: string; details: string }[] } }).failover;
}

describe('scenarios 7-10: which replica is promoted', () => {
  const open: Scenario[] = [];

  after(async () => {
    for (const scenario of open) await scenario.close();
  });

  it('7: all replicas past the failover lag limit: no automatic failover, clear FAIL; manual override works', async () => {
    const scenario = await openScenario({ writer: false, overrides: { server_defaults: { failover_lag_limit: 4, lag_limit: 2 } } });
    open.push(scenario);
    const { cluster, hr } = scenario;
    await cluster.faults.pauseReplay('pg2');
    await cluster.faults.pauseReplay('pg3');
    await cluster.faults.generateWal('pg1', 12);
    const verified = await hr.verifyAll();
    assert.equal(verified.result, 'SUCCESS');
    const status = await statusOf(hr);
    assert.equal(status.servers['pg2']?.status, 'lagged', status.servers['pg2']?.status_message);
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const check = await hr.failoverCheck();
    assert.equal(check.result, 'FAIL');
    assert.match(check.details, /no eligible replica/);
    assert.match(check.details, /failover_lag_limit|lag limit|lag/);
    for (const replica of ['pg2', 'pg3']) assert.equal(await cluster.inRecovery(replica), true);
    assert.equal((await statusOf(hr)).cluster.status, 'down');

    const refused = await hr.manualFailover('pg2');
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /behind|lag/);
    const forced = await hr.manualFailover('pg2', null, true);
    assert.equal(forced.result, 'SUCCESS', forced.details);
    assert.equal(await cluster.inRecovery('pg2'), false);
    assert.equal(hr.getMasterName(), 'pg2');
    await assertNoSplitBrain(scenario);
  });

  it('8: a nofailover replica is never chosen, even as the only survivor', async () => {
    const scenario = await openScenario({ writer: false, overrides: { 'servers.pg3': { nofailover: true } } });
    open.push(scenario);
    const { cluster, hr } = scenario;
    assert.equal((await hr.failoverCheck(true)).result, 'SUCCESS');
    await cluster.faults.kill('pg2');
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const check = await hr.failoverCheck();
    assert.equal(check.result, 'FAIL');
    assert.match(check.details, /pg3: [^;]*nofailover/);
    assert.equal(await cluster.inRecovery('pg3'), true, 'pg3 was not promoted');
    await assertNoSplitBrain(scenario);
  });

  it('9: the replica with more WAL wins over a better failover_priority', async () => {
    const scenario = await openScenario({
      writer: false,
      overrides: { 'servers.pg2': { failover_priority: 1 }, 'servers.pg3': { failover_priority: 2 } },
    });
    open.push(scenario);
    const { cluster, hr } = scenario;
    await cluster.faults.hangWalReceiver('pg2');
    await cluster.faults.generateWal('pg1', 2);
    await cluster.waitCaughtUp(['pg3']);
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    // pg2's WAL receiver stays stopped through the failover: resumed, it would
    // read what the kernel had buffered for it and catch up.
    const check = await hr.failoverCheck().finally(() => cluster.faults.resumeWalReceiver('pg2'));
    assert.equal(check.result, 'SUCCESS', check.details);
    assert.equal(failoverOf(check)?.new_master, 'pg3');
    assert.equal(hr.getMasterName(), 'pg3');
    await assertNoSplitBrain(scenario);
  });

  it('9: equal WAL positions fall back to failover_priority', async () => {
    const scenario = await openScenario({
      writer: false,
      overrides: { 'servers.pg2': { failover_priority: 5 }, 'servers.pg3': { failover_priority: 2 } },
    });
    open.push(scenario);
    const { cluster, hr } = scenario;
    await cluster.waitCaughtUp();
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const check = await hr.failoverCheck();
    assert.equal(check.result, 'SUCCESS', check.details);
    assert.equal(failoverOf(check)?.new_master, 'pg3');
    await assertNoSplitBrain(scenario);
  });

  it('10: when the first candidate cannot be promoted, the next one is', async () => {
    const scenario = await openScenario({
      writer: false,
      overrides: { 'servers.pg2': { failover_priority: 1 }, 'servers.pg3': { failover_priority: 2 } },
    });
    open.push(scenario);
    const { cluster, hr } = scenario;
    await cluster.waitCaughtUp();
    // promote_pg_ctl needs SSH: with pg2's sshd down its promotion fails.
    await cluster.faults.sshDown('pg2');
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');
    const started = Date.now();
    const check = await hr.failoverCheck();
    report('scenario 10 (second candidate)', { failover_ms: Date.now() - started });
    assert.equal(check.result, 'SUCCESS', check.details);
    const steps = failoverOf(check)?.steps ?? [];
    assert.deepEqual(
      steps.filter((step) => step.step.startsWith('promote')).map((step) => `${step.step}:${step.result}`),
      ['promote pg2:FAIL', 'promote pg3:SUCCESS'],
    );
    assert.equal(await cluster.inRecovery('pg2'), true, 'pg2 stayed a replica');
    assert.equal(hr.getMasterName(), 'pg3');
    await assertNoSplitBrain(scenario);
  });
});
