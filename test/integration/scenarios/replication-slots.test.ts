// Issue 18, replication slots, on a real cluster: a replica stopped for
// longer than wal_keep_size covers streams again thanks to its slot, and
// without one (use_slots = false, the control run) its WAL is gone; after a
// failover with remaster the new master holds an active slot for every
// remaining replica and no old slot is active anywhere; a replica disabled
// for longer than slot_retention_hours loses its slot to the daemon's
// periodic check, with an alert, and gets it back by reclone and enable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { StatusDictionary } from '@handyrep/core';
import { startDaemon } from '@handyrep/core/daemon';
import type { Daemon } from '@handyrep/core/daemon';
import { createCluster } from '../../harness/index.js';
import type { Cluster, ConfOverrides } from '../../harness/index.js';
import { FAST_FAILOVER, report, waitFor } from './scenario-support.js';

const ADMIN = 'Admin-Pass-1';
const READ = 'Read-Pass-2';
/** 1.8 s: long enough to see the slot kept for a moment, short enough for a test. */
const RETENTION_HOURS = 0.0005;
/** WAL written while a replica is stopped: several times max_wal_size, so without a slot its segments are recycled. */
const WAL_MB = 96;
const WAL_REMOVED = /requested WAL segment \S+ has already been removed/;

interface SlotRow {
  slot_name: string;
  active: boolean;
  retained: number;
}

function overrides(useSlots: boolean): ConfOverrides {
  return {
    ...FAST_FAILOVER,
    handyrep: { ...FAST_FAILOVER['handyrep'], authentication_method: 'simple_password_auth' },
    failover: { ...FAST_FAILOVER['failover'], auto_failover: false, use_slots: useSlots, slot_retention_hours: RETENTION_HOURS },
    server_defaults: { clone_method: 'clone_basebackup' },
    passwords: { admin_password: ADMIN, read_password: READ },
  };
}

async function slotsOn(cluster: Cluster, host: string): Promise<SlotRow[]> {
  const rows = await cluster.query(
    host,
    "SELECT slot_name, active, coalesce(pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, restart_lsn), 0)::bigint::text AS retained FROM pg_replication_slots ORDER BY 1",
    [],
    { timeoutMs: 3000 },
  );
  return rows.map((row) => ({ slot_name: String(row['slot_name']), active: row['active'] === true, retained: Number(row['retained']) }));
}

async function streamingFrom(cluster: Cluster, master: string): Promise<string[]> {
  const rows = await cluster.query(master, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1", [], { timeoutMs: 3000 }).catch(() => []);
  return rows.map((row) => String(row['application_name']));
}

async function assertStreaming(cluster: Cluster, master: string, replicas: string[], timeoutMs = 20_000): Promise<void> {
  const ok = await waitFor(async () => {
    const streaming = await streamingFrom(cluster, master);
    return replicas.every((replica) => streaming.includes(replica));
  }, timeoutMs, 200);
  assert.ok(ok, `${replicas.join(', ')} not streaming from ${master}: ${(await streamingFrom(cluster, master)).join(', ')}`);
}

async function assertActiveSlots(cluster: Cluster, master: string, expected: string[], timeoutMs = 20_000): Promise<SlotRow[]> {
  let slots: SlotRow[] = [];
  const ok = await waitFor(async () => {
    slots = await slotsOn(cluster, master).catch(() => []);
    return expected.every((name) => slots.some((slot) => slot.slot_name === name && slot.active));
  }, timeoutMs, 200);
  assert.ok(ok, `active slots ${expected.join(', ')} expected on ${master}: ${JSON.stringify(slots)}`);
  return slots;
}

async function primarySlotName(cluster: Cluster, host: string): Promise<string> {
  const rows = await cluster.query(host, 'SHOW primary_slot_name', [], { timeoutMs: 3000 });
  return String(rows[0]?.['primary_slot_name'] ?? '');
}

/** Writes WAL on the master, with checkpoints and segment switches so that nothing beyond the slots' needs is kept. */
async function churnWal(cluster: Cluster, master: string): Promise<void> {
  for (let round = 0; round < 4; round += 1) {
    await cluster.faults.generateWal(master, WAL_MB / 4);
    await cluster.query(master, 'SELECT pg_switch_wal()', [], { timeoutMs: 10_000 });
    await cluster.query(master, 'CHECKPOINT', [], { timeoutMs: 60_000 });
  }
}

/** `extra.replication_slots.disabled_since` of the saved state. */
function savedDisabledSince(cluster: Cluster): Record<string, number> {
  const saved = JSON.parse(readFileSync(join(cluster.baseDir, 'servers.save'), 'utf8')) as { extra?: { replication_slots?: { disabled_since?: Record<string, number> } } };
  return saved.extra?.replication_slots?.disabled_since ?? {};
}

function logSince(path: string, offset: number): string {
  return readFileSync(path, 'utf8').slice(offset);
}

function logSize(path: string): number {
  return readFileSync(path, 'utf8').length;
}

describe('replication slots (issue 18)', () => {
  let cluster: Cluster;
  let configFile: string;
  let hr: HandyRep | undefined;
  let daemon: Daemon | undefined;

  before(async () => {
    cluster = await createCluster({
      replicas: 2,
      pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' },
    });
    // No archive and (once the replicas are up) no wal_keep_size, a small max_wal_size: only a slot keeps WAL for a replica that is away.
    for (const setting of ["ALTER SYSTEM SET wal_keep_size = '0'", "ALTER SYSTEM SET max_wal_size = '32MB'", "ALTER SYSTEM SET min_wal_size = '32MB'", "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'"]) {
      await cluster.query('pg1', setting, [], { timeoutMs: 5000 });
    }
    await cluster.query('pg1', 'SELECT pg_reload_conf()', [], { timeoutMs: 5000 });
    configFile = cluster.writeConfig(undefined, overrides(true));
    hr = await HandyRep.open(configFile);
  });

  after(async () => {
    await daemon?.stop().catch(() => undefined);
    await hr?.close().catch(() => undefined);
    await cluster?.teardown();
  });

  it('a replica stopped for longer than wal_keep_size covers streams again through its slot; without a slot it cannot', async () => {
    const h = hr as HandyRep;
    const remastered = await h.remaster('pg2');
    assert.equal(remastered.result, 'SUCCESS', remastered.details);
    assert.equal(await primarySlotName(cluster, 'pg2'), 'pg2');
    await assertActiveSlots(cluster, 'pg1', ['pg2']);

    const pg2Log = cluster.host('pg2').logFile;
    await cluster.faults.stop('pg2');
    await churnWal(cluster, 'pg1');
    const held = (await slotsOn(cluster, 'pg1')).find((slot) => slot.slot_name === 'pg2');
    assert.ok(held && !held.active && held.retained > WAL_MB * 1024 * 1024 * 0.9, `the inactive slot holds the WAL written since: ${JSON.stringify(held)}`);
    const checked = await h.failoverCheck();
    assert.equal(checked.result, 'SUCCESS', checked.details);
    const shown = ((await h.getStatus()) as StatusDictionary).cluster.replication_slots?.find((slot) => slot.slot_name === 'pg2');
    assert.deepEqual({ ...shown, retained_wal_bytes: undefined }, { slot_name: 'pg2', server: 'pg2', active: false, retained_wal_bytes: undefined });
    assert.ok((shown?.retained_wal_bytes ?? 0) >= held.retained, 'get_status shows the retained WAL');
    report('slots: stopped replica', { retained_wal_bytes: held.retained, shown_bytes: String(shown?.retained_wal_bytes) });

    const pg2Before = logSize(pg2Log);
    const restartedAt = Date.now();
    await cluster.faults.start('pg2');
    await assertStreaming(cluster, 'pg1', ['pg2']);
    const caughtUp = await waitFor(async () => (await cluster.replayLagBytes('pg2', 'pg1')) === 0, 30_000, 200);
    assert.ok(caughtUp, 'pg2 replays everything written while it was stopped');
    report('slots: caught up after restart', { ms: Date.now() - restartedAt });
    assert.doesNotMatch(logSince(pg2Log, pg2Before), WAL_REMOVED);

    // Control run: the same stop without a slot (use_slots = false clears primary_slot_name on remaster).
    const withoutSlots = cluster.writeConfig(join(cluster.baseDir, 'handyrep-no-slots.conf'), overrides(false));
    const reloaded = await h.reloadConf(withoutSlots);
    assert.equal(reloaded.result, 'SUCCESS', reloaded.details);
    const plain = await h.remaster('pg3');
    assert.equal(plain.result, 'SUCCESS', plain.details);
    assert.equal(await primarySlotName(cluster, 'pg3'), '');
    assert.ok(!(await slotsOn(cluster, 'pg1')).some((slot) => slot.slot_name === 'pg3'), 'use_slots = false creates no slot');
    const pg3Log = cluster.host('pg3').logFile;
    await cluster.faults.stop('pg3');
    await churnWal(cluster, 'pg1');
    const pg3Before = logSize(pg3Log);
    await cluster.faults.start('pg3');
    const removed = await waitFor(() => WAL_REMOVED.test(logSince(pg3Log, pg3Before)), 30_000, 200);
    assert.ok(removed, `without a slot pg3 reports its WAL removed: ${logSince(pg3Log, pg3Before).slice(-2000)}`);
    assert.ok(!(await streamingFrom(cluster, 'pg1')).includes('pg3'), 'pg3 cannot stream: it needs a reclone');
    assert.ok((await streamingFrom(cluster, 'pg1')).includes('pg2'));

    const back = await h.reloadConf(configFile);
    assert.equal(back.result, 'SUCCESS', back.details);
  });

  it('reclone creates the slot first; after a failover with remaster the new master has an active slot for every remaining replica, and no old slot is active', async () => {
    const h = hr as HandyRep;
    await h.shutdown('pg3');
    const recloned = await h.clone('pg3', true);
    assert.equal(recloned.result, 'SUCCESS', recloned.details);
    assert.equal(await primarySlotName(cluster, 'pg3'), 'pg3');
    await assertActiveSlots(cluster, 'pg1', ['pg2', 'pg3']);

    const started = Date.now();
    const failover = await h.manualFailover('pg2', true);
    report('slots: failover with remaster', { ms: Date.now() - started });
    assert.equal(failover.result, 'SUCCESS', failover.details);
    const steps = 'steps' in failover ? failover.steps : [];
    const slotStep = steps.findIndex((step) => step.step === 'create_slots');
    const firstRemaster = steps.findIndex((step) => step.step.startsWith('remaster '));
    assert.ok(slotStep >= 0 && steps[slotStep]?.result === 'SUCCESS', JSON.stringify(steps));
    assert.ok(firstRemaster > slotStep, 'the slots exist before any replica is remastered');
    await assertActiveSlots(cluster, 'pg2', ['pg3']);
    assert.equal(await primarySlotName(cluster, 'pg3'), 'pg3');
    assert.equal(await cluster.isPostgresRunning('pg1'), false, 'the old master (and its slots) is stopped');

    const rejoined = await h.rejoin('pg1');
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    const onNew = await assertActiveSlots(cluster, 'pg2', ['pg1', 'pg3']);
    assert.ok(!onNew.some((slot) => slot.slot_name === 'pg2'), `the new master holds no slot of its own: ${JSON.stringify(onNew)}`);
    const onOld = await slotsOn(cluster, 'pg1');
    assert.deepEqual(onOld, [], `the rejoined old master keeps no slot of the old topology: ${JSON.stringify(onOld)}`);
    assert.match(rejoined.details, /its old slots pg2, pg3 dropped/);
    report('slots: after failover', { on_pg2: onNew.map((slot) => `${slot.slot_name}:${slot.active ? 'active' : 'inactive'}`).join(','), on_pg1: 'none' });
  });

  it("drops a replica's slot once it has been disabled for slot_retention_hours (daemon's periodic check, alert); reclone and enable bring it back", async () => {
    await (hr as HandyRep).close();
    hr = undefined;
    daemon = await startDaemon(configFile, { port: 0 });
    const d = daemon;
    const disabled = await d.hr.disable('pg3');
    assert.equal(disabled.result, 'SUCCESS', disabled.details);
    const disabledAt = Date.now();
    const recorded = await waitFor(() => typeof savedDisabledSince(cluster)['pg3'] === 'number', 10_000, 100);
    assert.ok(recorded, 'the time pg3 was disabled is saved in the state file, so a restart does not reset it');
    const logFile = join(cluster.baseDir, 'handyrep.log');
    const dropped = await waitFor(async () => !(await slotsOn(cluster, 'pg2')).some((slot) => slot.slot_name === 'pg3'), 30_000, 200);
    assert.ok(dropped, 'the periodic check drops the slot of a replica disabled for longer than slot_retention_hours');
    const after = Date.now() - disabledAt;
    report('slots: dropped after disable', { ms: after, retention_ms: RETENTION_HOURS * 3_600_000 });
    assert.ok(after >= RETENTION_HOURS * 3_600_000, 'not before the retention has passed');
    assert.match(readFileSync(logFile, 'utf8'), /ALERT status_warning: replication slot pg3 dropped on pg2: pg3 has been disabled for/);
    assert.ok((await slotsOn(cluster, 'pg2')).some((slot) => slot.slot_name === 'pg1' && slot.active), 'the enabled replica keeps its slot');

    const metrics = await fetch(`${d.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`read:${READ}`).toString('base64')}` } });
    const text = await metrics.text();
    assert.match(text, /handyrep_replication_slot_retained_wal_bytes\{slot="pg1",server="pg1"\} \d+/);
    assert.match(text, /handyrep_replication_slot_active\{slot="pg1",server="pg1"\} 1/);
    assert.doesNotMatch(text, /slot="pg3"/);

    const recloned = await d.hr.clone('pg3', true);
    assert.equal(recloned.result, 'SUCCESS', recloned.details);
    const enabled = await d.hr.enable('pg3');
    assert.equal(enabled.result, 'SUCCESS', enabled.details);
    await assertActiveSlots(cluster, 'pg2', ['pg1', 'pg3']);
    await assertStreaming(cluster, 'pg2', ['pg1', 'pg3']);
    const cleared = await waitFor(() => savedDisabledSince(cluster)['pg3'] === undefined, 10_000, 200);
    assert.ok(cleared, 'an enabled server has no disabled time in the state');
  });
});
