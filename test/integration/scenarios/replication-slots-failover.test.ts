// Issue 18, replication slots, on a real cluster: remaster drops the slot a
// replica no longer uses (on the upstream it left, or on its upstream with
// use_slots off), which would otherwise hold WAL back for ever; the
// master host lost (postgres killed, sshd down) and an automatic failover
// with remaster leaves the new master with an active slot for every
// remaining replica, and the rejoined old master streams through its own
// slot and keeps none of the old topology; `remove` drops the removed
// replica's slot at once while a slot someone else made is reported, never
// dropped; a replica disabled for longer than slot_retention_hours that
// still streams (its shutdown failed) keeps its active slot, with one alert
// and not one per check, and loses it once it stops.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusDictionary } from '@handyrep/core';
import { assertNoSplitBrain, FAST_FAILOVER, openScenario, report, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';
import { assertStreamingThroughOwnSlots, describeSlots, receiverSlot, slotsOn } from './slot-support.js';

/** 1.8 s: a retention a test can wait out. */
const RETENTION_HOURS = 0.0005;
const FOREIGN_SLOT = 'backup_tool';

function handyrepLog(scenario: Scenario): string {
  return readFileSync(join(scenario.cluster.baseDir, 'handyrep.log'), 'utf8');
}

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

describe('replication slots through an automatic failover, remove and a disabled replica that still streams (issue 18)', () => {
  let scenario: Scenario;
  let newMaster = '';
  let survivor = '';

  before(async () => {
    scenario = await openScenario({
      writer: false,
      overrides: { failover: { use_slots: true, slot_retention_hours: RETENTION_HOURS }, server_defaults: { clone_method: 'clone_basebackup' } },
    });
  });

  after(async () => {
    await scenario?.cluster.faults.sshUp('pg1').catch(() => undefined);
    await scenario?.hr.stopMonitor().catch(() => undefined);
    await scenario?.close();
  });

  it('remaster leaves no unused slot behind: on the upstream it left, nor on its upstream with use_slots off', async () => {
    const { cluster, hr } = scenario;
    // The harness cloned the replicas without slots: remaster gives each its slot on pg1, as a HandyRep clone would.
    for (const replica of ['pg2', 'pg3']) {
      const remastered = await hr.remaster(replica);
      assert.equal(remastered.result, 'SUCCESS', remastered.details);
    }
    await assertStreamingThroughOwnSlots(cluster, 'pg1', ['pg2', 'pg3']);

    const cascaded = await hr.remaster('pg3', 'pg2');
    assert.equal(cascaded.result, 'SUCCESS', cascaded.details);
    await assertStreamingThroughOwnSlots(cluster, 'pg2', ['pg3']);
    const onMaster = await slotsOn(cluster, 'pg1');
    assert.ok(!onMaster.some((slot) => slot.slot_name === 'pg3'), `pg3's slot on pg1, which it left, is dropped (it would hold pg1's WAL for ever): ${describeSlots(onMaster)}; ${cascaded.details}`);
    const back = await hr.remaster('pg3', 'pg1');
    assert.equal(back.result, 'SUCCESS', back.details);
    await assertStreamingThroughOwnSlots(cluster, 'pg1', ['pg2', 'pg3']);
    const onPg2 = await slotsOn(cluster, 'pg2');
    assert.deepEqual(onPg2, [], `pg3's slot on the replica it left is dropped: ${back.details}`);
    report('slots: remaster round trip', { cascaded: cascaded.details, back: back.details });

    const withoutSlots = cluster.writeConfig(join(cluster.baseDir, 'handyrep-no-slots.conf'), { ...FAST_FAILOVER, failover: { ...FAST_FAILOVER['failover'], use_slots: false, slot_retention_hours: RETENTION_HOURS }, server_defaults: { clone_method: 'clone_basebackup' } });
    assert.equal((await hr.reloadConf(withoutSlots)).result, 'SUCCESS');
    const plain = await hr.remaster('pg3');
    assert.equal(plain.result, 'SUCCESS', plain.details);
    assert.equal(await receiverSlot(cluster, 'pg3'), '', 'pg3 streams without a slot');
    assert.ok(!(await slotsOn(cluster, 'pg1')).some((slot) => slot.slot_name === 'pg3'), `with use_slots off its unused slot is dropped: ${plain.details}`);
    assert.equal((await hr.reloadConf(scenario.configFile)).result, 'SUCCESS');
    const again = await hr.remaster('pg3');
    assert.equal(again.result, 'SUCCESS', again.details);
    await assertStreamingThroughOwnSlots(cluster, 'pg1', ['pg2', 'pg3']);
  });

  it('after the master host is lost, the automatic failover leaves an active slot on the new master for every remaining replica; the rejoined old master streams through its own and keeps none of the old ones', async () => {
    const { cluster, hr } = scenario;

    const monitor = hr.startMonitor();
    const failovers: { details: string; writable_after_ms?: number; steps: { step: string; result: string }[] }[] = [];
    monitor.onCheck((result) => {
      if (result.failover) failovers.push(result.failover);
    });
    assert.ok(await waitFor(async () => (await statusOf(hr)).servers['pg1']?.status === 'healthy', 10_000), 'first check ran');

    await cluster.faults.sshDown('pg1');
    const faultAt = Date.now();
    await cluster.faults.kill('pg1');
    assert.ok(await waitFor(() => failovers.length > 0, 30_000, 50), 'the failover finished');
    const failedOverAfter = Date.now() - faultAt;
    await hr.stopMonitor();
    const failover = failovers[0];
    assert.ok(failover);
    newMaster = hr.getMasterName() ?? '';
    assert.ok(['pg2', 'pg3'].includes(newMaster), `a replica is the master: ${failover.details}`);
    survivor = newMaster === 'pg2' ? 'pg3' : 'pg2';
    const slotStep = failover.steps.findIndex((step) => step.step === 'create_slots');
    const firstRemaster = failover.steps.findIndex((step) => step.step.startsWith('remaster '));
    assert.ok(slotStep >= 0 && failover.steps[slotStep]?.result === 'SUCCESS', JSON.stringify(failover.steps));
    assert.ok(firstRemaster > slotStep, `the slot exists before the replica is remastered: ${JSON.stringify(failover.steps)}`);
    const onNew = await assertStreamingThroughOwnSlots(cluster, newMaster, [survivor]);
    report('slots: automatic failover', { fault_to_failover_done_ms: failedOverAfter, writable_after_ms: failover.writable_after_ms ?? 'n/a', new_master: newMaster, slots: describeSlots(onNew) });
    assert.equal((await statusOf(hr)).servers['pg1']?.enabled, false, 'the old master is disabled');

    await cluster.faults.sshUp('pg1');
    const rejoinAt = Date.now();
    const rejoined = (await hr.rejoin('pg1')) as { result: string; details: string; method?: string };
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    const after = await assertStreamingThroughOwnSlots(cluster, newMaster, [survivor, 'pg1']);
    assert.ok(!after.some((slot) => slot.slot_name === newMaster), `the new master holds no slot of its own: ${describeSlots(after)}`);
    const onOld = await slotsOn(cluster, 'pg1');
    assert.deepEqual(onOld, [], `the rejoined old master keeps no slot of the old topology: ${describeSlots(onOld)}`);
    report('slots: old master rejoined', { rejoin_ms: Date.now() - rejoinAt, method: String(rejoined.method), on_new_master: describeSlots(after), on_pg1: describeSlots(onOld) });
    await assertNoSplitBrain(scenario);
  });

  it("remove drops the removed replica's slot on the master at once; a slot HandyRep did not make is reported once and never dropped", async () => {
    const { cluster, hr } = scenario;
    await cluster.query(newMaster, 'SELECT pg_create_physical_replication_slot($1, true)', [FOREIGN_SLOT], { timeoutMs: 3000 });
    const disabled = await hr.disable(survivor);
    assert.equal(disabled.result, 'SUCCESS', disabled.details);
    assert.ok(await waitFor(async () => (await slotsOn(cluster, newMaster)).some((slot) => slot.slot_name === survivor && !slot.active), 10_000, 100), `${survivor} was shut down: its slot is inactive`);
    const removed = await hr.remove(survivor);
    assert.equal(removed.result, 'SUCCESS', removed.details);
    assert.match(removed.details, new RegExp(`its slot ${survivor} was dropped on ${newMaster}`));
    const left = await slotsOn(cluster, newMaster);
    assert.ok(!left.some((slot) => slot.slot_name === survivor), `no periodic check ran, and the slot is gone: ${describeSlots(left)}`);
    assert.match(handyrepLog(scenario), new RegExp(`ALERT status_warning: replication slot ${survivor} dropped on ${newMaster}: ${survivor} was removed`));

    for (let check = 0; check < 3; check += 1) {
      const checked = await hr.failoverCheck();
      assert.equal(checked.result, 'SUCCESS', checked.details);
    }
    const kept = await slotsOn(cluster, newMaster);
    assert.ok(kept.some((slot) => slot.slot_name === FOREIGN_SLOT), `the foreign slot is never dropped: ${describeSlots(kept)}`);
    const shown = ((await hr.getStatus()) as StatusDictionary).cluster.replication_slots?.find((slot) => slot.slot_name === FOREIGN_SLOT);
    assert.equal(shown?.server, null, `get_status shows it with no server: ${JSON.stringify(shown)}`);
    const warnings = count(handyrepLog(scenario), new RegExp(`replication slot ${FOREIGN_SLOT} on ${newMaster} belongs to no server HandyRep knows`));
    assert.equal(warnings, 1, 'reported once, not at every check');
    report('slots: remove', { on_new_master: describeSlots(kept), foreign_warnings_in_3_checks: warnings });
    await cluster.query(newMaster, 'SELECT pg_drop_replication_slot($1)', [FOREIGN_SLOT], { timeoutMs: 3000 });
  });

  it('a replica disabled for longer than slot_retention_hours but still streaming keeps its active slot, with one alert; the slot goes once the replica stops', async () => {
    const { cluster, hr } = scenario;
    // Its sshd down, disable cannot shut pg1 down: it goes on streaming through its slot.
    await cluster.faults.sshDown('pg1');
    const disabled = await hr.disable('pg1');
    assert.equal(disabled.result, 'SUCCESS', disabled.details);
    const disabledAt = Date.now();
    assert.equal(await receiverSlot(cluster, 'pg1'), 'pg1', `pg1 still streams through its slot: ${disabled.details}`);

    const monitor = hr.startMonitor();
    let checks = 0;
    let checksAfterRetention = 0;
    monitor.onCheck(() => {
      checks += 1;
      if (Date.now() - disabledAt > RETENTION_HOURS * 3_600_000) checksAfterRetention += 1;
    });
    const kept = new RegExp(`ALERT status_warning: replication slot pg1 on ${newMaster} is kept although pg1 has been disabled for`);
    const dropped = new RegExp(`ALERT status_warning: replication slot pg1 dropped on ${newMaster}: pg1 has been disabled for`);
    assert.ok(await waitFor(() => checksAfterRetention >= 6, 30_000, 100), `six checks after the retention passed (ran ${checks})`);
    const busy = await slotsOn(cluster, newMaster);
    assert.ok(busy.some((slot) => slot.slot_name === 'pg1' && slot.active), `the active slot is kept: ${describeSlots(busy)}`);
    assert.equal(await receiverSlot(cluster, 'pg1'), 'pg1', 'pg1 still streams through it');
    const log = handyrepLog(scenario);
    assert.equal(count(log, kept), 1, `one alert for the kept slot over ${checksAfterRetention} checks, not one per check`);
    assert.equal(count(log, dropped), 0);
    report('slots: disabled but streaming', { checks_after_retention: checksAfterRetention, kept_alerts: count(log, kept) });

    await cluster.faults.sshUp('pg1');
    await cluster.faults.stop('pg1');
    const stoppedAt = Date.now();
    assert.ok(await waitFor(async () => !(await slotsOn(cluster, newMaster)).some((slot) => slot.slot_name === 'pg1'), 20_000, 100), 'the slot is dropped once inactive');
    report('slots: dropped once the replica stopped', { ms: Date.now() - stoppedAt });
    await hr.stopMonitor();
    assert.ok(await waitFor(() => count(handyrepLog(scenario), dropped) === 1, 5000, 100), 'with its alert');
  });
});
