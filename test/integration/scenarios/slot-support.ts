// Replication-slot checks shared by the slot scenarios and the container
// suites: what a master's pg_replication_slots holds, and whether each
// replica streams through its own slot there (seen from both ends).
import assert from 'node:assert/strict';
import type { Cluster } from '../../harness/index.js';
import { waitFor } from './scenario-support.js';

/** One row of a server's pg_replication_slots. */
export interface SlotRow {
  slot_name: string;
  active: boolean;
}

/** The physical slots on `host` ([] when it does not answer). */
export async function slotsOn(cluster: Cluster, host: string): Promise<SlotRow[]> {
  const rows = await cluster.query(host, 'SELECT slot_name, active FROM pg_replication_slots ORDER BY 1', [], { timeoutMs: 3000 }).catch(() => []);
  return rows.map((row) => ({ slot_name: String(row['slot_name']), active: row['active'] === true }));
}

/** The slot `replica`'s WAL receiver streams through ('' when it does not stream or uses none). */
export async function receiverSlot(cluster: Cluster, replica: string): Promise<string> {
  const rows = await cluster.query(replica, "SELECT coalesce(slot_name, '') AS slot_name FROM pg_stat_wal_receiver WHERE status = 'streaming'", [], { timeoutMs: 3000 }).catch(() => []);
  return String(rows[0]?.['slot_name'] ?? '');
}

/**
 * Waits (bounded) until `master` has an active slot named after each of
 * `replicas` and each replica's WAL receiver reports that slot; fails with
 * what both ends showed. Returns the master's slots.
 */
export async function assertStreamingThroughOwnSlots(cluster: Cluster, master: string, replicas: readonly string[], timeoutMs = 20_000): Promise<SlotRow[]> {
  let slots: SlotRow[] = [];
  let receivers: Record<string, string> = {};
  const ok = await waitFor(async () => {
    slots = await slotsOn(cluster, master);
    receivers = Object.fromEntries(await Promise.all(replicas.map(async (replica) => [replica, await receiverSlot(cluster, replica)] as const)));
    return replicas.every((replica) => receivers[replica] === replica && slots.some((slot) => slot.slot_name === replica && slot.active));
  }, timeoutMs, 200);
  assert.ok(ok, `each of ${replicas.join(', ')} streams through its own active slot on ${master}: slots ${JSON.stringify(slots)}, receivers ${JSON.stringify(receivers)}`);
  return slots;
}

/** `slot:active|inactive,...` for the figures lines. */
export function describeSlots(slots: readonly SlotRow[]): string {
  return slots.map((slot) => `${slot.slot_name}:${slot.active ? 'active' : 'inactive'}`).join(',') || 'none';
}
