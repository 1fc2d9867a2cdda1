// PostgreSQL 17 in containers (Debian trixie image), the planned actions:
// clone by pg_basebackup onto a spare host, remaster by reload (no restart:
// the postmaster keeps its PID; its slot on the upstream it left is
// dropped), and a planned switchover with remaster that loses no
// acknowledged commit, after which every replica streams through its slot.
// Skipped without a Docker engine (failed instead under
// HANDYREP_REQUIRE_DOCKER, as in `npm test`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serverSection } from '../../harness/index.js';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report } from '../scenarios/scenario-support.js';
import { assertStreamingThroughOwnSlots, describeSlots, slotsOn } from '../scenarios/slot-support.js';
import type { Scenario } from '../scenarios/scenario-support.js';
import { containerSkipReason, onContainers, since } from './container-support.js';

const skip = await containerSkipReason();

async function upstreamOf(scenario: Scenario, replica: string): Promise<string> {
  const rows = await scenario.cluster.query(replica, "SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'", [], { timeoutMs: 3000 }).catch(() => []);
  const address = String(rows[0]?.['sender_host'] ?? '');
  return scenario.cluster.postgresHosts.find((host) => host.address === address)?.name ?? '';
}

async function waitUpstream(scenario: Scenario, replica: string, upstream: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await upstreamOf(scenario, replica);
    if (now === upstream) return;
    if (Date.now() > deadline) assert.fail(`${replica} streams from '${now}', not ${upstream}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL 17 in containers: clone, remaster, switchover', { skip, timeout: 400_000 }, () => {
  let scenario: Scenario | undefined;

  before(async () => {
    const started = Date.now();
    scenario = await openScenario({
      cluster: onContainers(17, { spares: 1 }),
      overrides: { server_defaults: { clone_method: 'clone_basebackup' } },
    });
    report('pg17 planned actions: cluster and HandyRep up', { ms: since(started) });
    assert.match(String((await scenario.cluster.query('pg1', 'SHOW server_version'))[0]?.['server_version']), /^17\./);
  });

  after(async () => {
    await scenario?.close();
  });

  it('clones a new replica onto a spare host with pg_basebackup', async () => {
    assert.ok(scenario);
    const { cluster, hr } = scenario;
    const added = await hr.addServer('pg4', serverSection(cluster, 'pg4', 'replica'));
    assert.equal(added.result, 'SUCCESS', added.details);
    const started = Date.now();
    const cloned = (await hr.clone('pg4')) as { result: string; details: string; bytes_copied?: number };
    report('pg17 clone', { clone_ms: since(started), bytes: String(cloned.bytes_copied) });
    assert.equal(cloned.result, 'SUCCESS', cloned.details);
    assert.equal((await hr.enable('pg4')).result, 'SUCCESS');
    await cluster.waitStreaming(['pg4']);
    await cluster.waitCaughtUp(['pg4']);
    const version = await cluster.query('pg4', 'SELECT current_setting(\'server_version_num\')::int AS v, pg_is_in_recovery() AS r');
    assert.ok(Number(version[0]?.['v']) >= 170000);
    assert.equal(version[0]?.['r'], true);
  });

  it('remasters a replica to another upstream by reload, without restarting it', async () => {
    assert.ok(scenario);
    const { cluster, hr } = scenario;
    const pid = cluster.postmasterPid('pg3');
    assert.ok(pid);
    let started = Date.now();
    const cascaded = (await hr.remaster('pg3', 'pg4')) as { result: string; details: string; method?: string; duration_ms?: number };
    report('pg17 remaster to a cascading upstream', { remaster_ms: since(started), method: String(cascaded.method) });
    assert.equal(cascaded.result, 'SUCCESS', cascaded.details);
    assert.equal(cascaded.method, 'reload');
    await waitUpstream(scenario, 'pg3', 'pg4');
    assert.equal(cluster.postmasterPid('pg3'), pid, 'same postmaster: reloaded, not restarted');
    await assertStreamingThroughOwnSlots(cluster, 'pg4', ['pg3']);
    assert.ok(!(await slotsOn(cluster, 'pg1')).some((slot) => slot.slot_name === 'pg3'), `pg3's slot on the master it left is dropped: ${cascaded.details}`);
    await cluster.query('pg1', 'CREATE TABLE remastered AS SELECT 1 AS one');
    assert.ok(await waitForRow(scenario, 'pg3', 'remastered'), 'pg3 receives WAL through pg4');

    started = Date.now();
    const back = (await hr.remaster('pg3', 'pg1')) as { result: string; details: string; method?: string };
    report('pg17 remaster back to the master', { remaster_ms: since(started), method: String(back.method) });
    assert.equal(back.result, 'SUCCESS', back.details);
    await waitUpstream(scenario, 'pg3', 'pg1');
    assert.equal(cluster.postmasterPid('pg3'), pid);
    await assertStreamingThroughOwnSlots(cluster, 'pg1', ['pg3']);
    assert.deepEqual(await slotsOn(cluster, 'pg4'), [], `pg3's slot on the replica it left is dropped: ${back.details}`);
  });

  it('switches over with remaster and loses no acknowledged commit; the old master rejoins', async () => {
    assert.ok(scenario);
    const { hr } = scenario;
    await scenario.writer?.waitForAcks(50);
    const started = Date.now();
    const result = (await hr.manualFailover('pg2', true)) as { result: string; details: string; writable_after_ms?: number };
    report('pg17 switchover', { switchover_ms: since(started), writable_after_ms: String(result.writable_after_ms) });
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(hr.getMasterName(), 'pg2');
    for (const replica of ['pg3', 'pg4']) await waitUpstream(scenario, replica, 'pg2');
    const slots = await assertStreamingThroughOwnSlots(scenario.cluster, 'pg2', ['pg3', 'pg4']);
    report('pg17 switchover slots', { on_pg2: describeSlots(slots) });
    const commits = await assertCommitsKept(scenario, 'pg2');
    assert.equal(commits.missing, 0, 'zero acknowledged commits lost');
    report('pg17 switchover commits', commits);

    const rejoinAt = Date.now();
    const rejoined = (await hr.rejoin('pg1')) as { result: string; details: string; method?: string };
    report('pg17 switchover rejoin', { rejoin_ms: since(rejoinAt), method: String(rejoined.method) });
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    await waitUpstream(scenario, 'pg1', 'pg2');
    const after = await assertStreamingThroughOwnSlots(scenario.cluster, 'pg2', ['pg1', 'pg3', 'pg4']);
    const onOld = await slotsOn(scenario.cluster, 'pg1');
    report('pg17 switchover rejoin slots', { on_pg2: describeSlots(after), on_pg1: describeSlots(onOld) });
    assert.deepEqual(onOld, [], 'the rejoined old master keeps none of its slots as master');
    await assertNoSplitBrain(scenario);
  });
});

async function waitForRow(scenario: Scenario, host: string, table: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await scenario.cluster.query(host, `SELECT to_regclass('public.${table}') IS NOT NULL AS present`, [], { timeoutMs: 2000 }).catch(() => []);
    if (rows[0]?.['present'] === true) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
