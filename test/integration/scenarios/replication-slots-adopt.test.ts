// Issue 18, replication slots, on a real cluster: a replica HandyRep did not
// clone or remaster streams without a slot (the harness builds its replicas
// that way, as an existing cluster HandyRep is put in front of would be).
// The healthy check gives each its own slot on the master: the slot is
// created, the replica's primary_slot_name set and reloaded, and it streams
// through the slot without a restart (same postmaster), logged once. A
// replica set back by hand to stream without a slot, its slot dropped, is
// adopted again by the monitor; one streaming through a slot someone else
// set up is left on it; with use_slots off nothing is touched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusDictionary } from '@handyrep/core';
import { FAST_FAILOVER, openScenario, report, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';
import { assertStreamingThroughOwnSlots, describeSlots, receiverSlot, slotsOn } from './slot-support.js';

function handyrepLog(scenario: Scenario): string {
  return readFileSync(join(scenario.cluster.baseDir, 'handyrep.log'), 'utf8');
}

function adoptedLines(scenario: Scenario, replica: string): number {
  return handyrepLog(scenario).match(new RegExp(`${replica} now streams through slot ${replica}`, 'g'))?.length ?? 0;
}

/** Sets `replica` back to streaming without a slot, by hand, and drops its slot on `master` once inactive. */
async function streamWithoutSlot(scenario: Scenario, replica: string, master: string): Promise<void> {
  const { cluster } = scenario;
  await cluster.query(replica, "ALTER SYSTEM SET primary_slot_name = ''", [], { timeoutMs: 5000 });
  await cluster.query(replica, 'SELECT pg_reload_conf()', [], { timeoutMs: 5000 });
  assert.ok(await waitFor(async () => (await cluster.query(master, 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [replica], { timeoutMs: 3000 })).length > 0, 15_000, 100), `${replica}'s slot becomes inactive`);
  await cluster.query(master, 'SELECT pg_drop_replication_slot($1)', [replica], { timeoutMs: 5000 });
  assert.ok(await waitFor(async () => (await cluster.query(replica, "SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming' AND coalesce(slot_name, '') = ''", [], { timeoutMs: 3000 })).length > 0, 15_000, 100), `${replica} streams without a slot`);
}

describe('replicas streaming without their slot get it from the periodic check (issue 18)', () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({ writer: false, overrides: { failover: { use_slots: true } } });
  });

  after(async () => {
    await scenario?.hr.stopMonitor().catch(() => undefined);
    await scenario?.close();
  });

  it('the first healthy check gives the harness-built replicas their slots, without restarting them', async () => {
    const { cluster, hr } = scenario;
    assert.equal(await receiverSlot(cluster, 'pg2'), '', 'the harness built pg2 streaming without a slot');
    assert.deepEqual(await slotsOn(cluster, 'pg1'), [], 'no slot on pg1 yet');
    const pids = { pg2: cluster.postmasterPid('pg2'), pg3: cluster.postmasterPid('pg3') };
    const started = Date.now();
    const checked = await hr.failoverCheck();
    const checkMs = Date.now() - started;
    assert.equal(checked.result, 'SUCCESS', checked.details);
    const slots = await assertStreamingThroughOwnSlots(cluster, 'pg1', ['pg2', 'pg3'], 5000);
    assert.deepEqual({ pg2: cluster.postmasterPid('pg2'), pg3: cluster.postmasterPid('pg3') }, pids, 'no replica was restarted');
    assert.equal(adoptedLines(scenario, 'pg2'), 1);
    assert.equal(adoptedLines(scenario, 'pg3'), 1);
    const status = (await hr.getStatus()) as StatusDictionary;
    const shown = (status.cluster.replication_slots ?? []).filter((slot) => slot.active).map((slot) => `${slot.slot_name}:${String(slot.server)}`);
    assert.deepEqual(shown.sort(), ['pg2:pg2', 'pg3:pg3'], 'get_status shows the adopted slots active after that same check');
    report('slots: adopted at the first check', { check_ms: checkMs, slots: describeSlots(slots) });
  });

  it('a replica set back by hand to stream without a slot is adopted again by the monitor, logged once', async () => {
    const { cluster, hr } = scenario;
    await streamWithoutSlot(scenario, 'pg2', 'pg1');
    const pid = cluster.postmasterPid('pg2');
    const monitor = hr.startMonitor();
    let checks = 0;
    monitor.onCheck(() => {
      checks += 1;
    });
    const started = Date.now();
    assert.ok(await waitFor(async () => (await receiverSlot(cluster, 'pg2')) === 'pg2', 30_000, 100), `pg2 streams through its slot again (${checks} checks)`);
    const adoptedMs = Date.now() - started;
    await assertStreamingThroughOwnSlots(cluster, 'pg1', ['pg2', 'pg3'], 5000);
    const checksAtAdoption = checks;
    assert.ok(await waitFor(() => checks >= checksAtAdoption + 4, 30_000, 100), `four more checks (ran ${checks})`);
    await hr.stopMonitor();
    assert.equal(cluster.postmasterPid('pg2'), pid, 'pg2 was not restarted');
    assert.equal(adoptedLines(scenario, 'pg2'), 2, 'one line for this adoption, one for the first: not one per check');
    assert.equal(adoptedLines(scenario, 'pg3'), 1, 'pg3, which kept its slot, was left alone');
    report('slots: adopted again by the monitor', { ms: adoptedMs, checks_until_adopted: checksAtAdoption, checks_after: checks - checksAtAdoption });
  });

  it('a replica streaming through a slot someone else set up is left on it, logged once', async () => {
    const { cluster, hr } = scenario;
    await cluster.query('pg1', "SELECT pg_create_physical_replication_slot('handmade', true)", [], { timeoutMs: 5000 });
    await cluster.query('pg3', "ALTER SYSTEM SET primary_slot_name = 'handmade'", [], { timeoutMs: 5000 });
    await cluster.query('pg3', 'SELECT pg_reload_conf()', [], { timeoutMs: 5000 });
    assert.ok(await waitFor(async () => (await receiverSlot(cluster, 'pg3')) === 'handmade', 15_000, 100), 'pg3 streams through the hand-made slot');
    for (let check = 0; check < 4; check += 1) assert.equal((await hr.failoverCheck()).result, 'SUCCESS');
    assert.equal(await receiverSlot(cluster, 'pg3'), 'handmade', 'pg3 was not moved off the slot someone chose');
    assert.equal(adoptedLines(scenario, 'pg3'), 1, 'no adoption of pg3 after the first');
    const notes = handyrepLog(scenario).match(/pg3 streams from the master through slot handmade, not its own slot pg3: left as it is/g)?.length ?? 0;
    assert.equal(notes, 1, 'logged once over four checks');
    // Back to its own slot for the next case, as remaster would.
    await cluster.query('pg3', "ALTER SYSTEM SET primary_slot_name = 'pg3'", [], { timeoutMs: 5000 });
    await cluster.query('pg3', 'SELECT pg_reload_conf()', [], { timeoutMs: 5000 });
    assert.ok(await waitFor(async () => (await receiverSlot(cluster, 'pg3')) === 'pg3', 15_000, 100), 'pg3 streams through its own slot again');
    assert.ok(await waitFor(async () => (await cluster.query('pg1', "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'handmade' AND NOT active", [], { timeoutMs: 3000 })).length > 0, 15_000, 100), 'the hand-made slot is no longer used');
    await cluster.query('pg1', "SELECT pg_drop_replication_slot('handmade')", [], { timeoutMs: 5000 });
  });

  it('with use_slots off a replica streaming without its slot is left alone', async () => {
    const { cluster, hr } = scenario;
    const withoutSlots = cluster.writeConfig(join(cluster.baseDir, 'handyrep-no-slots.conf'), { ...FAST_FAILOVER, failover: { ...FAST_FAILOVER['failover'], use_slots: false } });
    assert.equal((await hr.reloadConf(withoutSlots)).result, 'SUCCESS');
    await streamWithoutSlot(scenario, 'pg3', 'pg1');
    for (let check = 0; check < 3; check += 1) assert.equal((await hr.failoverCheck()).result, 'SUCCESS');
    assert.equal(await receiverSlot(cluster, 'pg3'), '', 'pg3 still streams without a slot');
    const slots = await slotsOn(cluster, 'pg1');
    assert.ok(!slots.some((slot) => slot.slot_name === 'pg3'), `no slot made for pg3: ${describeSlots(slots)}`);
    assert.equal(adoptedLines(scenario, 'pg3'), 1);
  });
});
