import 'reflect-metadata';
import { BadArgumentError, ErrorCodes, errorMessage, fail, hasErrorCode, success } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ReturnDictionary, ServerDefinition, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { newlyReported, planSlotUpkeep, slotNameOf, slotSharedWith, trackDisabled } from './slot-rules.js';
import type { SlotDrop, SlotOnServer, SlotServer } from './slot-rules.js';
import { boundedSqlTarget, quickSqlTarget } from '../config/sql-target.js';

/** Where the slot bookkeeping lives in the saved state's `extra`. */
export const SLOTS_KEY = 'replication_slots';

/** What the saved state keeps about slots: names HandyRep created, and since when each server is disabled. */
interface SlotRecord {
  created: string[];
  disabled_since: Record<string, number>;
}

/** One slot on the master, as get_status and /metrics show it. */
export interface SlotStatus {
  slot_name: string;
  /** The server it belongs to; null for a slot HandyRep does not know. */
  server: string | null;
  active: boolean;
  retained_wal_bytes: number | null;
}

const SLOT_ROLES: readonly string[] = ['master', 'replica'];

const READ_SLOTS =
  'SELECT slot_name, slot_type, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text AS retained FROM pg_replication_slots ORDER BY slot_name';

/** Creates the slot unless it exists, reserving WAL at once (the replica may connect only later). */
const CREATE_SLOT =
  'SELECT (pg_create_physical_replication_slot($1::text, true)).slot_name AS created WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1::text)';

/** How often, and how far apart, a slot a remastered replica left is tried while its old walsender still holds it. */
const RELEASE_ATTEMPTS = 10;
const RELEASE_RETRY_MS = 200;

/** Drops the slot only while no walsender uses it. */
const DROP_INACTIVE_SLOT = 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1::text AND NOT active';

function asRecord(value: unknown): SlotRecord {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Partial<SlotRecord>;
  const created = Array.isArray(record.created) ? record.created.filter((name): name is string => typeof name === 'string') : [];
  const disabled: Record<string, number> = {};
  for (const [name, at] of Object.entries(record.disabled_since ?? {})) if (typeof at === 'number') disabled[name] = at;
  return { created, disabled_since: disabled };
}

/**
 * Physical replication slots (issue 18): each replica streams through its own
 * slot on its master. Clone, remaster, enable and failover call `ensure`
 * before a replica points at an upstream; the periodic check calls `upkeep`,
 * which drops what slot-rules.ts says and keeps the figures get_status and
 * /metrics show.
 */
@injectable()
export class ReplicationSlots {
  private seen: SlotStatus[] = [];
  /** Foreign slots already logged, and slots due to be dropped but active already alerted: one report each per episode. */
  private reportedForeign = new Set<string>();
  private reportedBusy = new Set<string>();

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(AlertService) private readonly alerts: AlertService,
  ) {}

  /** `[failover] use_slots`. */
  inUse(): boolean {
    return this.loaded.config.failover.use_slots;
  }

  /** The slot `server` streams through. */
  slotName(server: string): string {
    return slotNameOf(this.registry.get(server));
  }

  private target(server: string): SqlTarget {
    return boundedSqlTarget(server, this.loaded.config.handyrep);
  }

  /** The periodic pass's reads and drops: quick, so a master that hangs right after its poll holds up the check for at most a few seconds. */
  private quickTarget(server: string): SqlTarget {
    return quickSqlTarget(server, this.loaded.config.handyrep);
  }

  private record(): SlotRecord {
    return asRecord(this.registry.getExtra(SLOTS_KEY));
  }

  private saveRecord(record: SlotRecord): void {
    const empty = record.created.length === 0 && Object.keys(record.disabled_since).length === 0;
    this.registry.setExtra(SLOTS_KEY, empty ? undefined : record);
  }

  /**
   * Creates the slots of `replicas` on `upstream` where they do not exist yet
   * (an existing one is reused). Returns the slots it created. Throws when
   * one cannot be created, or when a replica shares its slot name with another server.
   */
  async ensure(upstream: string, replicas: readonly string[]): Promise<string[]> {
    const servers = this.registry.list();
    for (const replica of replicas) {
      const sharing = slotSharedWith(replica, servers);
      if (sharing.length > 0) throw new BadArgumentError(`${replica}'s replication slot ${this.slotName(replica)} is also the slot of ${sharing.join(', ')}: give each server its own slot_name`);
    }
    const names = replicas.map((replica) => this.slotName(replica));
    const made: string[] = [];
    await this.sql.withSession(this.target(upstream), async (session) => {
      for (const name of names) {
        const rows = await session.query<{ created: string }>(CREATE_SLOT, [name]);
        if (rows.length > 0) made.push(name);
      }
    });
    const record = this.record();
    const missing = names.filter((name) => !record.created.includes(name));
    if (missing.length > 0) this.saveRecord({ ...record, created: [...record.created, ...missing] });
    if (made.length > 0) this.logger.info(`replication slot(s) ${made.join(', ')} created on ${upstream}`, { component: 'slots', server: upstream });
    return made;
  }

  /**
   * A removed server's slot: dropped on the master now if it is inactive;
   * otherwise (or when the master does not answer) left to the periodic
   * upkeep, which drops slots HandyRep created once no server owns them.
   */
  async forgetRemoved(server: ServerDefinition): Promise<string> {
    const slot = slotNameOf(server);
    const record = this.record();
    if (!record.created.includes(slot)) this.saveRecord({ ...record, created: [...record.created, slot] });
    const master = this.registry.master();
    if (!this.inUse() || !master) return `its slot ${slot} is dropped by the periodic check once the master answers`;
    try {
      const dropped = await this.dropInactive(master.name, { slot, server: server.name, reason: `${server.name} was removed` });
      return dropped ? `its slot ${slot} was dropped on ${master.name}` : `no inactive slot ${slot} on ${master.name}`;
    } catch (err) {
      return `its slot ${slot} could not be dropped on ${master.name} (${errorMessage(err)}); the periodic check retries`;
    }
  }

  private async dropInactive(master: string, drop: SlotDrop): Promise<boolean> {
    const rows = await this.sql.query(this.quickTarget(master), DROP_INACTIVE_SLOT, [drop.slot]);
    if (rows.length === 0) return false;
    const record = this.record();
    this.saveRecord({ ...record, created: record.created.filter((name) => name !== drop.slot) });
    await this.alerts.send('status_warning', 'warning', `replication slot ${drop.slot} dropped on ${master}: ${drop.reason}`, drop.server ?? master);
    return true;
  }

  /**
   * One periodic pass on the master: records since when each server is
   * disabled, reads the slots (for get_status and /metrics) and, with
   * use_slots, drops what the rules say inside `locked` (the action lock).
   * Never throws.
   */
  async upkeep(locked: <T>(work: () => Promise<T>) => Promise<T> = (work) => work()): Promise<ReturnDictionary<{ slots?: SlotStatus[] }>> {
    const master = this.registry.master();
    const now = this.clock.now();
    const servers = this.registry.list().filter((server) => SLOT_ROLES.includes(String(server.role)));
    const before = this.record();
    const disabledSince = trackDisabled(before.disabled_since, servers, now);
    if (JSON.stringify(disabledSince) !== JSON.stringify(before.disabled_since)) this.saveRecord({ ...before, disabled_since: disabledSince });
    if (!master) return success('no enabled master: replication slots not checked');
    try {
      const slots = await this.read(master.name);
      const owners: SlotServer[] = servers.map((server) => ({
        name: server.name,
        slot: slotNameOf(server),
        enabled: server.enabled,
        ...(disabledSince[server.name] === undefined ? {} : { disabledSince: disabledSince[server.name] }),
      }));
      const owner = new Map(owners.map((server) => [server.slot, server.name]));
      this.seen = slots.map((slot) => ({
        slot_name: slot.slot_name,
        server: slot.slot_type === 'physical' ? (owner.get(slot.slot_name) ?? null) : null,
        active: slot.active,
        retained_wal_bytes: slot.retained_wal_bytes,
      }));
      const plan = planSlotUpkeep({ master: master.name, servers: owners, slots, created: this.record().created, now, retentionMs: this.loaded.config.failover.slot_retention_hours * 3_600_000 });
      const foreign = newlyReported(this.reportedForeign, plan.foreign);
      this.reportedForeign = foreign.seen;
      for (const name of foreign.fresh) {
        this.logger.warn(`replication slot ${name} on ${master.name} belongs to no server HandyRep knows; it is left alone (drop it yourself if it is not needed: it holds WAL back)`, { component: 'slots' });
      }
      if (!this.inUse()) return success(`${slots.length} replication slot(s) on ${master.name}`, { slots: this.status() });
      await this.reportBusy(master.name, plan.busy);
      if (plan.drop.length === 0) return success(`${slots.length} replication slot(s) on ${master.name}`, { slots: this.status() });
      const dropped = await locked(async () => {
        const done: string[] = [];
        for (const drop of plan.drop) if (await this.dropInactive(master.name, drop)) done.push(drop.slot);
        return done;
      });
      this.seen = this.seen.filter((slot) => !dropped.includes(slot.slot_name));
      return success(`replication slot(s) dropped on ${master.name}: ${dropped.join(', ') || 'none'}`, { slots: this.status() });
    } catch (err) {
      if (hasErrorCode(err, ErrorCodes.ACTION_IN_PROGRESS)) return success(`replication slots: drop deferred, ${errorMessage(err)}`);
      return fail(`replication slots on ${master.name} not checked: ${errorMessage(err)}`);
    }
  }

  /**
   * Slots the rules would drop but a walsender still uses (a disabled server
   * that was not shut down, or was started again by hand) are kept: one
   * alert when that starts, not one per check; dropped once inactive.
   */
  private async reportBusy(master: string, busy: readonly SlotDrop[]): Promise<void> {
    const busyNow = newlyReported(this.reportedBusy, busy.map((drop) => drop.slot));
    this.reportedBusy = busyNow.seen;
    for (const drop of busy.filter((candidate) => busyNow.fresh.includes(candidate.slot))) {
      await this.alerts.send('status_warning', 'warning', `replication slot ${drop.slot} on ${master} is kept although ${drop.reason}: a replica still streams through it; it is dropped once inactive`, drop.server ?? master);
    }
  }

  /**
   * After `replica` was remastered: its slot on servers it no longer streams
   * from (its previous upstream; its current one when use_slots is off) would
   * hold their WAL back for ever, as the periodic check keeps an enabled
   * server's slot. Drops it there once inactive (a walsender that has not
   * noticed the disconnect yet gets a moment). Never throws: returns what it
   * did, for the remaster's details.
   */
  async releaseUnused(replica: string, servers: readonly string[]): Promise<string[]> {
    const slot = this.slotName(replica);
    const notes: string[] = [];
    for (const server of servers) {
      try {
        const outcome = await this.dropOnceInactive(server, slot);
        if (outcome === 'dropped') {
          notes.push(`its slot ${slot} on ${server}, no longer used, dropped`);
          this.logger.info(`replication slot ${slot} dropped on ${server}: ${replica} no longer streams through it`, { component: 'slots', server });
        } else if (outcome === 'active') {
          notes.push(`its slot ${slot} on ${server} is still active and was kept`);
        }
      } catch (err) {
        notes.push(`its slot ${slot} on ${server} could not be dropped (${errorMessage(err)})`);
        this.logger.warn(`replication slot ${slot} on ${server}, no longer used by ${replica}, could not be dropped: ${errorMessage(err)}`, { component: 'slots', server });
      }
    }
    return notes;
  }

  private async dropOnceInactive(server: string, slot: string): Promise<'dropped' | 'absent' | 'active'> {
    for (let attempt = 0; attempt < RELEASE_ATTEMPTS; attempt += 1) {
      if (attempt > 0) await this.clock.sleep(RELEASE_RETRY_MS);
      const dropped = await this.sql.query(this.quickTarget(server), DROP_INACTIVE_SLOT, [slot]);
      if (dropped.length > 0) return 'dropped';
      const left = await this.sql.query(this.quickTarget(server), 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1::text', [slot]);
      if (left.length === 0) return 'absent';
    }
    return 'active';
  }

  /**
   * A former master back as a replica keeps its old slots on disk (pg_rewind
   * leaves pg_replslot alone): they serve nobody and hold its WAL back. Drops
   * the inactive physical ones that belong to HandyRep; returns their names.
   */
  async dropStaleOn(server: string): Promise<string[]> {
    const ours = new Set([...this.registry.list().map((definition) => slotNameOf(definition)), ...this.record().created]);
    const rows = await this.sql.query<{ slot_name: string }>(this.target(server), "SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'physical' AND NOT active ORDER BY slot_name");
    const stale = rows.map((row) => row.slot_name).filter((name) => ours.has(name));
    for (const name of stale) await this.sql.query(this.target(server), DROP_INACTIVE_SLOT, [name]);
    if (stale.length > 0) this.logger.info(`stale replication slot(s) ${stale.join(', ')} dropped on ${server}, now a replica`, { component: 'slots', server });
    return stale;
  }

  private async read(server: string): Promise<SlotOnServer[]> {
    const rows = await this.sql.query<{ slot_name: string; slot_type: string; active: boolean; retained: string | null }>(this.quickTarget(server), READ_SLOTS);
    return rows.map((row) => ({
      slot_name: row.slot_name,
      slot_type: row.slot_type === 'logical' ? 'logical' : 'physical',
      active: row.active,
      retained_wal_bytes: row.retained === null ? null : Number(row.retained),
    }));
  }

  /** The master's slots as the last periodic pass saw them. */
  status(): SlotStatus[] {
    return this.seen.map((slot) => ({ ...slot }));
  }
}
