import 'reflect-metadata';
import { ErrorCodes, errorMessage, hasErrorCode } from '@handyrep/plugin-sdk';
import type { Clock, Logger, ServerDefinition, SqlClient, SqlTarget } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AlertService } from '../alerts/alert-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { boundedSqlTarget, quickSqlTarget } from '../config/sql-target.js';
import { Tokens } from '../di/tokens.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { alterSystemStatement } from './primary-conninfo.js';
import { ReplicationSlots } from './replication-slots.js';
import type { SlotStatus } from './replication-slots.js';
import { adoptionCandidates, adoptionNeed } from './slot-adoption-rules.js';
import type { AdoptionServer, WalReceiver } from './slot-adoption-rules.js';
import { slotNameOf } from './slot-rules.js';

/** How long a replica may take to stream through its slot once it names it: the lock is held meanwhile, and others wait at most 15 s for a brief holder. */
const CONFIRM_TIMEOUT_MS = 8_000;
const CONFIRM_POLL_MS = 200;

/** PostgreSQL 13 restarts the WAL receiver when primary_slot_name changes on reload; older servers read it only at start. */
const RELOADS_SLOT_NAME = 130000;

const READ_RECEIVER = "SELECT status, sender_host, sender_port, slot_name, current_setting('server_version_num') AS version FROM pg_stat_wal_receiver";

/** A replica's WAL receiver, and its server's version. */
type ReceiverOnServer = WalReceiver & { version: number };

/** Runs `work` under the action lock as brief housekeeping, as `label`. */
export type BriefLock = <T>(label: string, work: () => Promise<T>) => Promise<T>;

/** What one adoption attempt came to. */
type Outcome = { adopted: true } | { adopted: false; reason: string; restartNeeded?: boolean };

/**
 * Replicas HandyRep did not clone or remaster (a cluster it was put in
 * front of) stream without a slot until their next clone, remaster or
 * failover. On each healthy check this gives each one its slot: created on
 * the master (WAL reserved at once), named in the replica's
 * primary_slot_name, reloaded, and confirmed from both ends. Under the
 * action lock as brief housekeeping; skipped while another action runs.
 */
@injectable()
export class SlotAdoption {
  /** Replicas whose adoption failed (or needs a restart), already reported: one report per episode, retried on every check. */
  private reported = new Set<string>();
  /**
   * Replicas streaming through a slot that is not their own (logged once),
   * with that slot: not asked again while it stays active on the master.
   */
  private onOtherSlot = new Map<string, string>();

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(AlertService) private readonly alerts: AlertService,
    @inject(ReplicationSlots) private readonly slots: ReplicationSlots,
  ) {}

  private quickTarget(server: string): SqlTarget {
    return quickSqlTarget(server, this.loaded.config.handyrep);
  }

  /**
   * Adopts every enabled replica that streams from the master without its
   * slot; `onMaster` is the master's slots as this check's upkeep read them.
   * Nothing with use_slots off. Never throws; returns the replicas adopted.
   */
  async adopt(onMaster: readonly SlotStatus[], locked: BriefLock): Promise<string[]> {
    const master = this.registry.master();
    if (!this.slots.inUse() || !master) return [];
    const servers: AdoptionServer[] = this.registry.list().map((server) => ({ name: server.name, role: String(server.role), enabled: server.enabled, slot: slotNameOf(server), status: server.status }));
    // A slot of a known server is physical (upkeep names no owner for a logical one).
    const active = onMaster.filter((slot) => slot.active && slot.server !== null).map((slot) => slot.slot_name);
    const candidates = adoptionCandidates(master.name, servers, active);
    // A replica no longer in need (adopted, disabled, removed) starts a new episode if it needs adopting again.
    for (const seen of [this.reported, this.onOtherSlot]) {
      for (const name of [...seen.keys()]) if (!candidates.some((candidate) => candidate.name === name)) seen.delete(name);
    }
    const activeOnMaster = new Set(onMaster.filter((slot) => slot.active).map((slot) => slot.slot_name));
    const adopted: string[] = [];
    for (const candidate of candidates) {
      // Still on the slot it was found on: asking again (a connection per check) would only say so again.
      const other = this.onOtherSlot.get(candidate.name);
      if (other !== undefined && activeOnMaster.has(other)) continue;
      const receiver = await this.receiverOf(candidate.name);
      // Not answering now: asked again at the next check, and an episode already reported stays reported.
      if (receiver === undefined) continue;
      const need = adoptionNeed(receiver, master, candidate.slot);
      if (need === 'other_slot') {
        this.noteOtherSlot(candidate.name, candidate.slot, receiver.slot_name ?? '');
        continue;
      }
      this.onOtherSlot.delete(candidate.name);
      if (need !== 'adopt') {
        this.reported.delete(candidate.name);
        continue;
      }
      let outcome: Outcome;
      try {
        outcome =
          receiver.version < RELOADS_SLOT_NAME
            ? { adopted: false, restartNeeded: true, reason: `PostgreSQL ${receiver.version} reads primary_slot_name only at start: set primary_slot_name = '${candidate.slot}' and restart ${candidate.name}, or remaster it` }
            : await locked(`giving ${candidate.name} its replication slot`, () => this.adoptOne(candidate.name, candidate.slot, master, receiver.slot_name ?? ''));
      } catch (err) {
        if (hasErrorCode(err, ErrorCodes.ACTION_IN_PROGRESS)) {
          this.logger.debug(`${candidate.name} streams without its slot; left to the next check: ${errorMessage(err)}`, { component: 'slots', server: candidate.name });
          return adopted;
        }
        outcome = { adopted: false, reason: errorMessage(err) };
      }
      if (outcome.adopted) {
        this.reported.delete(candidate.name);
        adopted.push(candidate.name);
        this.logger.info(`${candidate.name} now streams through slot ${candidate.slot}`, { component: 'slots', server: candidate.name });
      } else {
        await this.reportOnce(candidate.name, candidate.slot, outcome);
      }
    }
    return adopted;
  }

  /** Once per episode: a replica on a slot HandyRep did not give it is left there. */
  private noteOtherSlot(replica: string, slot: string, current: string): void {
    const known = this.onOtherSlot.get(replica);
    this.onOtherSlot.set(replica, current);
    if (known !== undefined) return;
    this.logger.info(
      `${replica} streams from the master through slot ${current}, not its own slot ${slot}: left as it is (remaster or clone it to move it to ${slot}; drop ${current} once nothing uses it)`,
      { component: 'slots', server: replica, slot: current },
    );
  }

  private async receiverOf(replica: string): Promise<ReceiverOnServer | undefined> {
    try {
      const rows = await this.sql.query<{ status: string; sender_host: string | null; sender_port: number | null; slot_name: string | null; version: string }>(this.quickTarget(replica), READ_RECEIVER);
      const row = rows[0];
      return row ? { ...row, sender_port: row.sender_port === null ? null : Number(row.sender_port), version: Number(row.version) } : undefined;
    } catch {
      return undefined;
    }
  }

  private async adoptOne(replica: string, slot: string, master: ServerDefinition, previousSlot: string): Promise<Outcome> {
    const target = boundedSqlTarget(replica, this.loaded.config.handyrep);
    const rows = await this.sql.query<{ in_recovery: boolean }>(target, 'SELECT pg_is_in_recovery() AS in_recovery');
    if (rows[0]?.in_recovery !== true) return { adopted: false, reason: `${replica} is not in recovery` };
    // The slot exists before the replica names it: a replica pointed at a missing slot cannot stream.
    await this.slots.ensure(master.name, [replica]);
    await this.setSlotName(target, slot);
    if (await this.streamsThrough(replica, slot, master.name)) return { adopted: true };
    // Not confirmed in time: the replica goes back to streaming as before, and the next check tries again.
    await this.setSlotName(target, previousSlot).catch(() => undefined);
    return { adopted: false, reason: `${replica} did not stream through slot ${slot} on ${master.name} within ${CONFIRM_TIMEOUT_MS / 1000} s; primary_slot_name set back to '${previousSlot}'` };
  }

  private async setSlotName(target: SqlTarget, slot: string): Promise<void> {
    await this.sql.withSession(target, async (session) => {
      await session.query(alterSystemStatement('primary_slot_name', slot));
      await session.query('SELECT pg_reload_conf()');
    });
  }

  /** Both ends agree: the replica's WAL receiver streams through `slot`, and the slot is active on the master. */
  private async streamsThrough(replica: string, slot: string, master: string): Promise<boolean> {
    const deadline = this.clock.now() + CONFIRM_TIMEOUT_MS;
    while (this.clock.now() < deadline) {
      try {
        const receiver = await this.receiverOf(replica);
        if (receiver?.status === 'streaming' && receiver.slot_name === slot) {
          const active = await this.sql.query<{ active: boolean }>(this.quickTarget(master), 'SELECT active FROM pg_replication_slots WHERE slot_name = $1::text', [slot]);
          if (active[0]?.active === true) return true;
        }
      } catch {
        // The master not answering for a moment is retried until the deadline.
      }
      await this.clock.sleep(CONFIRM_POLL_MS);
    }
    return false;
  }

  private async reportOnce(replica: string, slot: string, outcome: Extract<Outcome, { adopted: false }>): Promise<void> {
    if (this.reported.has(replica)) return;
    this.reported.add(replica);
    if (outcome.restartNeeded) {
      this.logger.warn(`${replica} streams without its slot ${slot}: ${outcome.reason}`, { component: 'slots', server: replica });
      return;
    }
    await this.alerts.send('status_warning', 'warning', `${replica} streams without its replication slot ${slot} and could not be given it (retried at every check): ${outcome.reason}`, replica);
  }
}
