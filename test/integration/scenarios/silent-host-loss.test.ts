// SCENARIOS.md 17 (issue 13): a master host that vanishes silently — every
// packet to and from its address dropped, then its postgres and sshd killed —
// is failed over with synchronous_mode = quorum without HandyRep reaching it:
// the reachable members of the synchronous set are detached and the most
// advanced is promoted. No acknowledged commit is lost. When the master and
// one member of S = 2, k = 1 vanish together there is no quorum, and the
// default unreachable_master_policy = abort keeps the master, saying why.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertNoSplitBrain, openScenario, report, standbyNames, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

const QUORUM = { failover: { synchronous_mode: 'quorum' } };


describe('scenario 17: silent host loss with synchronous_mode = quorum', { timeout: 600_000 }, () => {
  const open: Scenario[] = [];
  after(async () => {
    for (const scenario of open) await scenario.close();
  });

  it('fails over by quorum fence without reaching the old master, and loses no acknowledged commit', async () => {
    const scenario = await openScenario({ overrides: QUORUM });
    open.push(scenario);
    const { cluster, hr } = scenario;
    const monitor = hr.startMonitor();
    const failovers: { result: string; details: string; fenced_by?: string; writable_after_ms?: number }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await standbyNames(scenario, 'pg1')) === 'ANY 1 ("pg2", "pg3")', 30_000, 200), `the master's synchronous set: '${await standbyNames(scenario, 'pg1')}'`);
    const writer = scenario.writer;
    assert.ok(writer);
    await writer.waitForAcks(30);

    const faultAt = Date.now();
    await cluster.faults.partition('pg1');
    await cluster.faults.sshDown('pg1');
    await cluster.faults.kill('pg1');

    let newMaster = '';
    assert.ok(await waitFor(async () => {
      newMaster = (await cluster.findMasters(500)).find((name) => name !== 'pg1') ?? '';
      return newMaster !== '';
    }, 30_000, 20), 'a replica became writable');
    report('scenario 17 (silent host loss, quorum)', { fault_to_writable_ms: Date.now() - faultAt });
    assert.ok(await waitFor(() => failovers.length > 0, 20_000), 'the failover finished');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await hr.stopMonitor();
    assert.equal(failovers.length, 1, `exactly one failover: ${failovers.map((f) => f.details).join(' | ')}`);
    assert.equal(failovers[0]?.result, 'SUCCESS', failovers[0]?.details);
    assert.equal(failovers[0]?.fenced_by, 'quorum', failovers[0]?.details);
    report('scenario 17 failover', { handyrep_writable_after_ms: failovers[0]?.writable_after_ms ?? 'n/a' });
    assert.equal(hr.getMasterName(), newMaster);
    await assertNoSplitBrain(scenario);
    await writer.stop();
    const check = await cluster.checkCommits(writer, newMaster);
    report('scenario 17 commits', { acked: writer.acked.length, missing: check.missing.length });
    assert.deepEqual(check.missing.map((ack) => ack.id), [], 'every acknowledged commit is on the new master');
  });

  it('master and one member of S = 2, k = 1 vanish together: no quorum, no failover under abort, and the result says why', async () => {
    const scenario = await openScenario({ writer: false, overrides: QUORUM });
    open.push(scenario);
    const { cluster, hr } = scenario;
    assert.equal((await hr.failoverCheck()).result, 'SUCCESS');
    assert.equal(await standbyNames(scenario, 'pg1'), 'ANY 1 ("pg2", "pg3")');
    await cluster.faults.partition('pg1');
    await cluster.faults.partition('pg3');
    const checks = [];
    for (let i = 0; i < 3; i += 1) checks.push(await hr.failoverCheck());
    const last = checks[checks.length - 1];
    console.log(`# scenario 17 (no quorum): ${checks.map((c) => `${c.result} ${c.details}`).join('\n#   ')}`);
    assert.ok(checks.every((check) => check.result === 'FAIL'), 'no failover');
    assert.match(checks.map((c) => c.details).join(' '), /no quorum: 1 member\(s\) of the synchronous set ANY 1 \(pg2, pg3\) reachable \(pg2\), 2 needed/);
    assert.match(last?.details ?? '', /not re-run|no quorum/);
    await cluster.faults.heal('pg1');
    await cluster.faults.heal('pg3');
    assert.equal(await cluster.inRecovery('pg1'), false, 'pg1 is still the master');
    assert.equal(await cluster.inRecovery('pg2'), true);
    assert.equal(hr.getMasterName(), 'pg1');
    await assertNoSplitBrain(scenario);
  });
});
