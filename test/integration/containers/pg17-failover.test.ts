// PostgreSQL 17 in containers (Debian trixie image), the failure scenarios:
// the master host lost (its container killed: postgres, sshd and sessions end
// at once), a hung master (fenced, then a replica promoted), and the fenced
// former master, which went on alone as a master meanwhile, brought back by
// rejoin with pg_rewind. Skipped without a Docker engine (failed instead
// under HANDYREP_REQUIRE_DOCKER, as in `npm test`).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, statusOf, waitFor } from '../scenarios/scenario-support.js';
import type { Scenario } from '../scenarios/scenario-support.js';
import { assertStreamingThroughOwnSlots, describeSlots, slotsOn } from '../scenarios/slot-support.js';
import { waitGone } from '../../harness/index.js';
import { containerSkipReason, onContainers, since } from './container-support.js';

const skip = await containerSkipReason();

async function newMasterOtherThan(scenario: Scenario, old: string, timeoutMs: number): Promise<string> {
  let found = '';
  await waitFor(async () => {
    found = (await scenario.cluster.findMasters(500)).find((name) => name !== old) ?? '';
    return found !== '';
  }, timeoutMs, 20);
  return found;
}

describe('PostgreSQL 17 in containers: master host lost', { skip, timeout: 300_000 }, () => {
  let scenario: Scenario | undefined;
  after(async () => {
    await scenario?.close();
  });

  it('promotes a replica at once, remasters the other, repoints pgbouncer, disables the old master', async () => {
    const started = Date.now();
    scenario = await openScenario({ pgbouncer: true, cluster: onContainers(17) });
    const { cluster, hr } = scenario;
    report('pg17 host lost: cluster and HandyRep up', { ms: since(started) });
    assert.match(String((await cluster.query('pg1', 'SHOW server_version'))[0]?.['server_version']), /^17\./);
    const monitor = hr.startMonitor();
    const failovers: { details: string; writable_after_ms?: number }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');
    const writer = scenario.writer;
    assert.ok(writer);
    await writer.waitForAcks(20);

    const faultAt = Date.now();
    await cluster.faults.hostDown('pg1');
    const newMaster = await newMasterOtherThan(scenario, 'pg1', 20_000);
    assert.ok(newMaster, 'a replica became writable');
    report('pg17 host lost', { fault_to_writable_ms: since(faultAt) });
    assert.ok(await waitFor(() => hr.getMasterName() === newMaster, 10_000), 'the registry names the new master');
    const other = newMaster === 'pg2' ? 'pg3' : 'pg2';
    assert.ok(await waitFor(async () => {
      const rows = await cluster.query(newMaster, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'", [], { timeoutMs: 2000 }).catch(() => []);
      return rows.some((row) => row['application_name'] === other);
    }, 15_000, 200), `${other} streams from ${newMaster}`);
    assert.ok(await waitFor(() => failovers.length > 0, 20_000), 'the failover finished');
    report('pg17 host lost failover', { handyrep_writable_after_ms: failovers[0]?.writable_after_ms ?? 'n/a' });
    const slots = await assertStreamingThroughOwnSlots(cluster, newMaster, [other]);
    report('pg17 host lost slots', { on_new_master: describeSlots(slots) });

    const acksBefore = writer.acked.length;
    assert.ok(await waitFor(() => writer.acked.length > acksBefore + 10, 15_000), 'writes through pgbouncer succeed again');
    const resumed = writer.acked.find((ack) => ack.t > faultAt);
    report('pg17 host lost through pgbouncer', { fault_to_first_write_ms: resumed ? resumed.t - faultAt : 'n/a' });
    const routed = await cluster.pgbouncerAdmin(cluster.pgbouncers[0]?.name ?? '', 'SHOW DATABASES');
    assert.equal(routed.find((row) => row['name'] === 'appdb')?.['host'], cluster.host(newMaster).address, 'pgbouncer routes appdb to the new master');

    await hr.stopMonitor();
    const status = await statusOf(hr);
    assert.equal(status.servers['pg1']?.enabled, false);
    assert.equal(status.servers['pg1']?.status, 'down');
    assert.equal(status.servers[newMaster]?.role, 'master');
    assert.equal(failovers.length, 1, 'exactly one failover');
    await assertNoSplitBrain(scenario);
    report('pg17 host lost commits', await assertCommitsKept(scenario, newMaster));
  });
});

describe('PostgreSQL 17 in containers: hung master, then rejoin by pg_rewind', { skip, timeout: 300_000 }, () => {
  let scenario: Scenario | undefined;
  after(async () => {
    await scenario?.cluster.faults.resume('pg1').catch(() => undefined);
    await scenario?.close();
  });

  it('fences the hung master and promotes a replica; the former master, diverged, rejoins by pg_rewind', async () => {
    const started = Date.now();
    scenario = await openScenario({ cluster: onContainers(17), overrides: { server_defaults: { clone_method: 'clone_basebackup' } } });
    const { cluster, hr } = scenario;
    report('pg17 hung master: cluster and HandyRep up', { ms: since(started) });
    const monitor = hr.startMonitor();
    const failovers: { steps: { step: string; result: string }[] }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');
    await scenario.writer?.waitForAcks(20);

    const faultAt = Date.now();
    await cluster.faults.hang('pg1');
    const newMaster = await newMasterOtherThan(scenario, 'pg1', 30_000);
    assert.ok(newMaster, 'a replica became writable');
    report('pg17 hung master', { fault_to_writable_ms: since(faultAt), detection_window_ms: 4000 });
    assert.ok(await waitFor(() => failovers.length > 0, 20_000), 'the failover finished');
    await hr.stopMonitor();
    const steps = failovers[0]?.steps ?? [];
    const fence = steps.findIndex((step) => step.step === 'fence_old_master');
    const promote = steps.findIndex((step) => step.step.startsWith('promote'));
    assert.ok(fence >= 0 && promote > fence, `fenced before promoting: ${JSON.stringify(steps)}`);
    assert.equal(cluster.isPostgresRunning('pg1'), false, 'the hung master was fenced (killed)');
    assert.equal((await statusOf(hr)).servers['pg1']?.enabled, false);
    await assertNoSplitBrain(scenario);
    report('pg17 hung master commits', await assertCommitsKept(scenario, newMaster));

    // The former master comes back on its own as a master of the old timeline and takes writes no one else has.
    const stopped = [...cluster.hostState('pg1').hungPids];
    await cluster.faults.resume('pg1');
    assert.deepEqual(await waitGone(stopped, 10_000), [], 'the stopped backends noticed their postmaster was gone');
    await cluster.faults.start('pg1');
    assert.equal(await cluster.inRecovery('pg1'), false, 'pg1 runs alone as a master');
    await cluster.query('pg1', 'CREATE TABLE lone_writes AS SELECT g AS id FROM generate_series(1, 1000) g');
    const rejoinAt = Date.now();
    const rejoined = (await hr.rejoin('pg1')) as { result: string; details: string; method?: string };
    report('pg17 rejoin', { rejoin_ms: since(rejoinAt), method: String(rejoined.method) });
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    assert.equal(rejoined.method, 'rewind', rejoined.details);
    assert.ok(await waitFor(async () => (await cluster.inRecovery('pg1', 1000)) === true, 30_000, 200), 'pg1 runs as a replica');
    await cluster.waitStreaming(['pg1'], newMaster);
    await cluster.waitCaughtUp(['pg1'], newMaster);
    const lone = await cluster.query('pg1', "SELECT to_regclass('public.lone_writes') IS NOT NULL AS present");
    assert.equal(lone[0]?.['present'], false, 'pg_rewind discarded what pg1 wrote alone');
    const received = Number((await cluster.query('pg1', 'SELECT received_tli FROM pg_stat_wal_receiver'))[0]?.['received_tli']);
    report('pg17 rejoin', { pg1_receives_timeline: received });
    assert.ok(received >= 2, `pg1 follows the new master's timeline (received_tli ${received})`);
    const slots = await assertStreamingThroughOwnSlots(cluster, newMaster, [newMaster === 'pg2' ? 'pg3' : 'pg2', 'pg1']);
    report('pg17 rejoin slots', { on_new_master: describeSlots(slots), on_pg1: describeSlots(await slotsOn(cluster, 'pg1')) });
    assert.equal(hr.getMasterName(), newMaster);
  });
});
