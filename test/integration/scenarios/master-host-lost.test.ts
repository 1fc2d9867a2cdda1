// SCENARIOS.md 2: master host lost (postgres killed and its sshd down) with
// auto_failover on: the most advanced replica is promoted within the
// detection window plus a small overhead, the other follows it, pgbouncer
// points at the new master, the old master is disabled. Detection is
// event-driven: certain death acts at once. The writer writes through pgbouncer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';

describe('scenario 2: master host lost', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({ pgbouncer: true });
  });

  after(async () => {
    await scenario?.close();
  });

  it('promotes a replica at once, remasters the other, disables the old master', async () => {
    const { cluster, hr } = scenario;
    const monitor = hr.startMonitor();
    const failovers: { details: string; writable_after_ms?: number }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');
    await scenario.writer?.waitForAcks(20);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    await cluster.faults.sshDown('pg1');
    const faultAt = Date.now();
    await cluster.faults.kill('pg1');

    let newMaster = '';
    const promoted = await waitFor(async () => {
      const masters = await cluster.findMasters(500);
      newMaster = masters.find((name) => name !== 'pg1') ?? '';
      return newMaster !== '';
    }, 20_000, 20);
    const writableAfterMs = Date.now() - faultAt;
    assert.ok(promoted, 'a replica became writable');
    assert.ok(await waitFor(() => hr.getMasterName() === newMaster, 10_000), 'the registry names the new master');
    report('scenario 2 (host lost)', { fault_to_writable_ms: writableAfterMs });

    const other = newMaster === 'pg2' ? 'pg3' : 'pg2';
    assert.ok(await waitFor(async () => {
      const rows = await cluster.query(newMaster, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'", [], { timeoutMs: 2000 }).catch(() => []);
      return rows.some((row) => row['application_name'] === other);
    }, 15_000, 200), `${other} streams from ${newMaster}`);

    assert.ok(await waitFor(() => failovers.length > 0, 20_000), 'the failover finished');
    report('scenario 2 failover', { handyrep_writable_after_ms: failovers[0]?.writable_after_ms ?? 'n/a' });
    const writer = scenario.writer;
    assert.ok(writer);
    const acksBefore = writer.acked.length;
    assert.ok(await waitFor(() => writer.acked.length > acksBefore + 10, 15_000), 'writes through pgbouncer succeed again');
    const resumed = writer.acked.find((ack) => ack.t > faultAt);
    report('scenario 2 through pgbouncer', { fault_to_first_write_ms: resumed ? resumed.t - faultAt : 'n/a' });
    const routed = await cluster.pgbouncerAdmin(cluster.pgbouncers[0]?.name ?? '', 'SHOW DATABASES');
    assert.equal(routed.find((row) => row['name'] === 'appdb')?.['host'], cluster.host(newMaster).address, 'pgbouncer routes appdb to the new master');

    await hr.stopMonitor();
    const status = await statusOf(hr);
    assert.equal(status.servers['pg1']?.enabled, false);
    assert.equal(status.servers['pg1']?.status, 'down');
    assert.equal(status.servers[newMaster]?.role, 'master');
    assert.equal(status.servers[newMaster]?.enabled, true);
    assert.notEqual(status.cluster.status, 'down', status.cluster.status_message);
    assert.equal(failovers.length, 1, 'exactly one failover');
    await assertNoSplitBrain(scenario);
    const commits = await assertCommitsKept(scenario, newMaster, faultAt);
    report('scenario 2 commits', commits);
  });
});
