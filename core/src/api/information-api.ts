import 'reflect-metadata';
import { BadArgumentError, fail, success } from '@handyrep/plugin-sdk';
import type { ClusterStatusName, ReturnDictionary, ServerDefinition, StatusFields } from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import { AvailabilityService } from '../availability/availability-service.js';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import { ActingGuard } from '../cluster/acting-guard.js';
import { MaintenanceMode } from '../cluster/maintenance-mode.js';
import type { CoreLogger } from '../logging/create-logger.js';
import { readLog } from '../logging/log-reader.js';
import { createRedactor, isSecretKey } from '../logging/redact.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { ASYNC, asSyncSet } from '../replication/sync-rules.js';
import { SCHEDULE_KEY, asScheduledSwitchover } from '../failover/scheduled-switchover.js';
import type { ScheduledSwitchover } from '../failover/scheduled-switchover.js';
import { describe, SYNC_KEY } from '../replication/sync-standbys.js';
import { ReplicationSlots } from '../replication/replication-slots.js';
import type { SlotStatus } from '../replication/replication-slots.js';
import { formatStatusTimestamp } from '../status/status-time.js';
import { booleanArgument, choiceArgument, integerArgument, stringArgument } from './arguments.js';

/**
 * One server as `get_status` lists it: identity and status, as in the spec's
 * example, plus `lag_mb` for a replica whose lag was measured on the master in
 * the last ten minutes (at a verification; absent otherwise).
 */
export interface ServerStatusEntry extends StatusFields {
  hostname: string;
  enabled: boolean;
  role: string;
  lag_mb?: number;
}

/**
 * `get_status`'s dictionary. The cluster carries the spec's four status
 * fields, plus `paused_since` (`YYYY-MM-DD HH:MM:SS`, UTC) only while
 * maintenance mode is on, and which HandyRep instance acts: `this_instance_acts`
 * and `acting_instance` (null for a single instance or when unknown).
 */
export interface StatusDictionary {
  cluster: StatusFields<ClusterStatusName> & {
    paused_since?: string;
    /** With synchronous_mode on: the recorded synchronous set, e.g. `ANY 1 (pg2, pg3)`, or `asynchronous`. */
    synchronous_standbys?: string;
    /** The master's replication slots at the last check: owner, active, WAL held back (with use_slots, or when the master has any). */
    replication_slots?: SlotStatus[];
    /** The switchover scheduled with manual_failover's `at`, while one is pending. */
    scheduled_switchover?: ScheduledSwitchover;
    this_instance_acts: boolean;
    acting_instance: string | null;
  };
  servers: Record<string, ServerStatusEntry>;
}

/** `get_setting`'s return dictionary. */
export type SettingDictionary = ReturnDictionary<{ setting?: string; value?: unknown }>;

const CHECK_TYPES = ['cached', 'poll', 'verify'] as const;
const SECTIONS_FOR_HINTS = ['handyrep', 'failover', 'archive'] as const;

/**
 * The spec's Information API on cached state. The `poll`/`verify` variants
 * need the Availability API and answer FAIL until it exists.
 */
@injectable()
export class InformationApi {
  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.logger) private readonly logger: CoreLogger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(MaintenanceMode) private readonly maintenance: MaintenanceMode,
    @inject(AvailabilityService) private readonly availability: AvailabilityService,
    @inject(ActingGuard) private readonly guard: ActingGuard,
    @inject(ReplicationSlots) private readonly slots: ReplicationSlots,
  ) {}

  /** `get_status`: cluster and server status. */
  getStatus(checkType: unknown = 'cached'): StatusDictionary | ReturnDictionary {
    const type = choiceArgument('check_type', checkType, CHECK_TYPES, 'cached');
    if (type !== 'cached') return notYetAvailable(`get_status with check_type '${type}'`);
    const lag = this.availability.recentLag();
    const servers: Record<string, ServerStatusEntry> = {};
    for (const server of this.registry.list()) {
      const lagMb = lag.get(server.name);
      servers[server.name] = {
        hostname: server.hostname,
        enabled: server.enabled,
        role: String(server.role),
        status: server.status,
        status_no: server.status_no,
        status_ts: server.status_ts,
        status_message: server.status_message,
        ...(lagMb !== undefined && server.role === 'replica' ? { lag_mb: lagMb } : {}),
      };
    }
    const pausedSince = this.maintenance.since();
    const acting = this.guard.lastDecision();
    const slots = this.slots.status();
    const scheduled = asScheduledSwitchover(this.registry.getExtra(SCHEDULE_KEY));
    return {
      cluster: {
        ...this.registry.clusterStatus(),
        ...(pausedSince === undefined ? {} : { paused_since: formatStatusTimestamp(pausedSince) }),
        ...(this.loaded.config.failover.synchronous_mode === 'off' ? {} : { synchronous_standbys: describe(asSyncSet(this.registry.getExtra(SYNC_KEY)) ?? ASYNC) }),
        ...(this.slots.inUse() || slots.length > 0 ? { replication_slots: slots } : {}),
        ...(scheduled === undefined ? {} : { scheduled_switchover: scheduled }),
        this_instance_acts: acting.acting,
        acting_instance: acting.acting_instance,
      },
      servers,
    };
  }

  /** `get_cluster_status`: the cluster's four status fields. */
  getClusterStatus(verify: unknown = false): StatusFields<ClusterStatusName> | ReturnDictionary {
    if (booleanArgument('verify', verify, false)) return notYetAvailable('get_cluster_status with verify');
    return { ...this.registry.clusterStatus() };
  }

  /** `get_master_name`: the enabled master, or null when there is none (or it is disabled). */
  getMasterName(): string | null {
    return this.registry.master()?.name ?? null;
  }

  /** `get_server_info`: definitions and status of one server or all. */
  getServerInfo(servername: unknown = null, verify: unknown = false): Record<string, ServerDefinition> | ReturnDictionary {
    if (booleanArgument('verify', verify, false)) return notYetAvailable('get_server_info with verify');
    const redactor = createRedactor([]);
    const shown = (server: ServerDefinition): ServerDefinition => redactor.redactValue(server) as ServerDefinition;
    if (servername === null || servername === undefined) {
      return Object.fromEntries(this.registry.list().map((server) => [server.name, shown(server)]));
    }
    const name = stringArgument('servername', servername);
    if (!this.registry.has(name)) return fail(`unknown server '${name}'`);
    return { [name]: shown(this.registry.get(name)) };
  }

  /** `read_log`: the last `numlines` entries, newest first. */
  async readLog(numlines: unknown = 20): Promise<string[]> {
    const count = integerArgument('numlines', numlines, 20, 1, 10_000);
    return readLog({ logFile: this.logger.logFile, numlines: count, memory: this.logger.ring });
  }

  /**
   * `get_setting`: a string names a key of `[handyrep]`; a list is the full
   * path (`['failover', 'poll_interval']`). Nothing in `[passwords]`, and no
   * password-like key anywhere, is ever returned, whatever the spelling.
   */
  getSetting(settingName: unknown): SettingDictionary {
    const path = settingPath(settingName);
    const parts = path.flatMap((part) => part.split(/[.\s/\\]+/)).filter((part) => part !== '');
    if (parts.some((part) => part.trim().toLowerCase() === 'passwords' || isSecretKey(part))) {
      return fail('passwords are never returned: settings in [passwords] and password-like keys are refused');
    }
    let value: unknown = this.loaded.config;
    for (const part of path) {
      if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, part)) {
        return fail(`no setting ${describePath(path)}${this.hint(path)}`);
      }
      value = (value as Record<string, unknown>)[part];
    }
    const redactor = createRedactor([]);
    return success('', { setting: path.join('.'), value: redactor.redactValue(value) });
  }

  /** `set_verbose`: turns debug logging on or off at run time. */
  setVerbose(verbose: unknown = true): ReturnDictionary<{ verbose: boolean }> {
    const on = booleanArgument('verbose', verbose, true);
    this.logger.setVerbose(on);
    this.logger.info(`verbose logging ${on ? 'on' : 'off'}`, { component: 'api' });
    return success(`verbose logging ${on ? 'on' : 'off'}`, { verbose: on });
  }

  private hint(path: readonly string[]): string {
    if (path.length !== 2) return '';
    const key = path[1] ?? '';
    const found = SECTIONS_FOR_HINTS.filter(
      (section) => section !== path[0] && Object.prototype.hasOwnProperty.call(this.loaded.config[section], key),
    );
    return found.length > 0 ? `; did you mean ${found.map((section) => `[${section}] ${key}`).join(' or ')}?` : '';
  }
}

function settingPath(settingName: unknown): string[] {
  if (typeof settingName === 'string') return ['handyrep', stringArgument('setting_name', settingName)];
  if (Array.isArray(settingName) && settingName.length > 0 && settingName.every((part) => typeof part === 'string' && part !== '')) {
    return settingName as string[];
  }
  throw new BadArgumentError('setting_name must be a setting name or a non-empty list of section and key names');
}

function describePath(path: readonly string[]): string {
  return path.length >= 2 ? `[${path.slice(0, -1).join('.')}] ${path[path.length - 1] ?? ''}` : `[${path[0] ?? ''}]`;
}

function notYetAvailable(what: string): ReturnDictionary {
  return fail(`${what} needs the availability API, which this version does not have yet; cached status is available`);
}

/** True when an API result is a FAIL return dictionary. */
export function isFailure(value: unknown): value is ReturnDictionary {
  return typeof value === 'object' && value !== null && (value as { result?: unknown }).result === 'FAIL';
}

