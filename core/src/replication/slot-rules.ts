import { createHash } from 'node:crypto';

/** PostgreSQL's rule for replication slot names: lower-case letters, digits and underscores, at most NAMEDATALEN - 1. */
export const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

const MAX_SLOT_NAME = 63;

/**
 * The slot name a server gets when its definition names none: the server's
 * name lower-cased with every other character turned into `_`; when that
 * changed the name or it is too long, an 8-digit hash of the name is
 * appended, so `Db-1` and `db_1` never share a slot.
 */
export function defaultSlotName(serverName: string): string {
  const plain = serverName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (plain === serverName && plain.length > 0 && plain.length <= MAX_SLOT_NAME) return plain;
  const hash = createHash('sha256').update(serverName).digest('hex').slice(0, 8);
  return `${plain.slice(0, MAX_SLOT_NAME - hash.length - 1)}_${hash}`;
}

/** The slot a server streams through: its `slot_name` when set, else the derived name. */
export function slotNameOf(server: { name: string; slot_name?: unknown }): string {
  const configured = server.slot_name;
  return typeof configured === 'string' && configured !== '' ? configured : defaultSlotName(server.name);
}

/**
 * The other servers whose slot is also `slot`'s (a `slot_name` set twice, or
 * in `[server_defaults]`): two replicas on one slot would take turns holding
 * it, and each would be refused while the other streams.
 */
export function slotSharedWith(server: string, servers: readonly { name: string; slot_name?: unknown }[]): string[] {
  const own = servers.find((candidate) => candidate.name === server);
  if (!own) return [];
  const slot = slotNameOf(own);
  return servers.filter((candidate) => candidate.name !== server && slotNameOf(candidate) === slot).map((candidate) => candidate.name);
}

/** A replication slot as the master reports it. */
export interface SlotOnServer {
  slot_name: string;
  slot_type: 'physical' | 'logical';
  active: boolean;
  /** WAL bytes the slot holds back: pg_current_wal_lsn() − restart_lsn; null when it reserves none. */
  retained_wal_bytes: number | null;
}

/** What the rules need to know about one server. */
export interface SlotServer {
  name: string;
  slot: string;
  enabled: boolean;
  /** When it was first seen disabled (ms since the epoch); absent while enabled. */
  disabledSince?: number;
}

/** One pass of the periodic slot upkeep, as input. */
export interface SlotUpkeepInput {
  master: string;
  servers: readonly SlotServer[];
  slots: readonly SlotOnServer[];
  /** Slot names HandyRep created (or took over from a removed server). */
  created: readonly string[];
  now: number;
  retentionMs: number;
}

/** A slot to drop, and why. */
export interface SlotDrop {
  slot: string;
  server: string | null;
  reason: string;
}

/** What one pass does. */
export interface SlotUpkeepPlan {
  drop: SlotDrop[];
  /** Slots of no server that HandyRep did not create: reported, never dropped. */
  foreign: string[];
  /** Active slots that the rules would drop, left alone until they are inactive. */
  busy: SlotDrop[];
}

/**
 * Which of the master's slots to drop: the master's own (left from an older
 * topology), those of a server disabled for longer than the retention, and
 * those HandyRep created whose server no longer exists. Slots of enabled
 * servers, of servers disabled for less than the retention, and of no
 * server that HandyRep did not create are kept. An active slot is never
 * dropped (PostgreSQL refuses it anyway): it is reported as busy.
 */
export function planSlotUpkeep(input: SlotUpkeepInput): SlotUpkeepPlan {
  const owner = new Map(input.servers.map((server) => [server.slot, server]));
  const created = new Set(input.created);
  const plan: SlotUpkeepPlan = { drop: [], foreign: [], busy: [] };
  for (const slot of input.slots) {
    const server = slot.slot_type === 'physical' ? owner.get(slot.slot_name) : undefined;
    let drop: SlotDrop | undefined;
    if (!server) {
      if (slot.slot_type === 'physical' && created.has(slot.slot_name)) drop = { slot: slot.slot_name, server: null, reason: 'its server was removed' };
      else plan.foreign.push(slot.slot_name);
    } else if (server.name === input.master) {
      drop = { slot: slot.slot_name, server: server.name, reason: `${server.name} is the master now; its slot is left from an older topology` };
    } else if (!server.enabled && server.disabledSince !== undefined && input.now - server.disabledSince >= input.retentionMs) {
      const hours = (input.now - server.disabledSince) / 3_600_000;
      drop = { slot: slot.slot_name, server: server.name, reason: `${server.name} has been disabled for ${hours.toFixed(4)} h (slot_retention_hours ${(input.retentionMs / 3_600_000).toString()})` };
    }
    if (drop) (slot.active ? plan.busy : plan.drop).push(drop);
  }
  return plan;
}

/**
 * The saved disabled-since times brought up to date: a disabled server keeps
 * its time (or gets `now` when first seen disabled), an enabled or removed
 * one loses it.
 */
export function trackDisabled(previous: Readonly<Record<string, number>>, servers: readonly { name: string; enabled: boolean }[], now: number): Record<string, number> {
  const next: Record<string, number> = {};
  for (const server of servers) {
    if (!server.enabled) next[server.name] = previous[server.name] ?? now;
  }
  return next;
}

/**
 * Which of `current` (slot names in a state worth one report: foreign, or
 * busy though due to be dropped) were not in it at the previous pass, and
 * the set to remember for the next one. A slot that leaves the state is
 * forgotten, so it is reported again if it comes back: one report per
 * episode, not one per periodic check.
 */
export function newlyReported(previous: ReadonlySet<string>, current: readonly string[]): { fresh: string[]; seen: Set<string> } {
  return { fresh: current.filter((name) => !previous.has(name)), seen: new Set(current) };
}
