import 'reflect-metadata';
import { errorMessage, ErrorCodes, fail, HandyRepError, success, UnknownServerError } from '@handyrep/plugin-sdk';
import type {
  Clock,
  Logger,
  PollPlugin,
  PollResult,
  ReplicationStatusPlugin,
  ReturnDictionary,
  RemoteShell,
  ServerDefinition,
  ServerStatusName,
  SqlClient,
  SqlTarget,
} from '@handyrep/plugin-sdk';
import { inject, injectable } from 'tsyringe';
import type { LoadedConfig } from '../config/load-config.js';
import { Tokens } from '../di/tokens.js';
import { ClusterIssues } from '../cluster/cluster-issues.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import type { ServerRegistry } from '../registry/server-registry.js';
import { CLUSTER_ROLES, computeClusterStatus } from '../status/cluster-status.js';
import { serverStatus, statusAfterPoll } from '../status/server-status.js';
import { outcomeOfError, outcomeOfPoll } from './probe-outcome.js';
import type { ProbeOutcome } from './probe-outcome.js';
import { boundedSqlTarget } from '../config/sql-target.js';

/** What one poll of one server found. */
export interface ServerPoll {
  /** The poll plugin's answer. */
  poll: PollResult;
  /** The answer as a probe outcome. */
  outcome: ProbeOutcome;
  /** When the poll started (ms since the epoch). */
  startedAt: number;
}

/** `verify_*` return dictionaries: `ssh`/`psql` carry the error messages of those checks, when they failed. */
export type VerifyResult = ReturnDictionary<{ ssh?: string; psql?: string; status: ServerStatusName; lag_mb?: number | null }>;

const VIABLE: readonly string[] = ['healthy', 'lagged'];

/** How long a lag measurement stays a usable estimate for a failover. */
const LAG_MEMORY_MS = 10 * 60 * 1000;

function isReturnDictionary(value: ServerDefinition | ReturnDictionary): value is ReturnDictionary {
  return typeof (value as { result?: unknown }).result === 'string' && typeof (value as { details?: unknown }).details === 'string';
}

/**
 * The spec's Availability API checks: polls and verifications of servers,
 * each updating the server's status and then the cluster's.
 */
@injectable()
export class AvailabilityService {
  private readonly lastLag = new Map<string, { lagMb: number; at: number }>();
  private readonly lastPollMs = new Map<string, number>();

  constructor(
    @inject(Tokens.registry) private readonly registry: ServerRegistry,
    @inject(Tokens.plugins) private readonly plugins: PluginHost,
    @inject(Tokens.shell) private readonly shell: RemoteShell,
    @inject(Tokens.sql) private readonly sql: SqlClient,
    @inject(Tokens.logger) private readonly logger: Logger,
    @inject(Tokens.config) private readonly loaded: LoadedConfig,
    @inject(Tokens.clock) private readonly clock: Clock,
    @inject(ClusterIssues) private readonly issues: ClusterIssues,
  ) {}

  private get settings(): LoadedConfig['config']['handyrep'] {
    return this.loaded.config.handyrep;
  }

  private pollPlugin(): PollPlugin {
    const plugin = this.plugins.cluster('poll');
    if (!plugin) throw new HandyRepError(ErrorCodes.NOT_SUPPORTED, 'no [failover] poll_method is configured');
    return plugin;
  }

  private replicationStatus(): ReplicationStatusPlugin | undefined {
    return this.plugins.cluster('replication_status');
  }

  /** Servers the spec checks: enabled, with a role that is polled (archive and user roles are not). */
  checkedServers(): ServerDefinition[] {
    return this.registry.list().filter((server) => server.enabled && CLUSTER_ROLES.includes(String(server.role)));
  }

  private setStatus(name: string, status: ServerStatusName, message: string): void {
    // A check that finishes after its server was disabled (a late verification of a master just failed over) says nothing about it any more.
    if (!this.registry.get(name).enabled) return;
    this.registry.setStatus(name, serverStatus(status, message, this.clock.now()));
  }

  /** Recomputes the cluster status from the servers and the cluster-level issues. */
  refreshCluster(): void {
    this.registry.setClusterStatus(computeClusterStatus(this.registry.list(), this.issues.list(), this.clock.now()));
  }

  /** Polls one server with the poll plugin and applies the poll rule to its status. Never throws for an unreachable server. */
  async pollServer(server: ServerDefinition): Promise<ServerPoll> {
    const startedAt = this.clock.now();
    let poll: PollResult;
    try {
      poll = await this.pollPlugin().poll(server.name);
    } catch (err) {
      if (err instanceof HandyRepError && err.code === ErrorCodes.NOT_SUPPORTED) throw err;
      poll = fail(errorMessage(err), { state: 'no_response', failure: 'error', duration_ms: this.clock.now() - startedAt });
    }
    this.lastPollMs.set(server.name, poll.duration_ms);
    const ok = poll.result === 'SUCCESS';
    const role = String(server.role);
    const message = ok ? `${role} responding to polling` : `${role} not responding to polling: ${poll.details}`;
    const current = this.registry.get(server.name);
    if (current.enabled) this.registry.setStatus(server.name, statusAfterPoll(current, ok, message, this.clock.now()));
    return { poll, outcome: outcomeOfPoll(poll), startedAt };
  }

  /** Whether the master is in recovery, from the poll when it could tell, else by a quick query. */
  async masterInRecovery(master: ServerDefinition, poll: PollResult): Promise<boolean | undefined> {
    if (poll.in_recovery !== undefined) return poll.in_recovery;
    try {
      const rows = await this.sql.query<{ in_recovery: boolean }>(
        { server: master.name, connectTimeoutMs: this.settings.connect_timeout * 1000, statementTimeoutMs: this.settings.connect_timeout * 1000 },
        'SELECT pg_is_in_recovery() AS in_recovery',
      );
      return rows[0]?.in_recovery;
    } catch (err) {
      this.logger.warn(`could not ask master ${master.name} whether it is in recovery: ${errorMessage(err)}`, { server: master.name });
      return undefined;
    }
  }

  /** `poll_master`: polls the master and checks it is not a replica. Never turns warning into healthy. */
  async pollMaster(): Promise<ReturnDictionary> {
    const master = this.soleMaster();
    if (isReturnDictionary(master)) return master;
    const { poll } = await this.pollServer(master);
    let result: ReturnDictionary;
    if (poll.result !== 'SUCCESS') {
      result = fail(`master ${master.name} is not responding to polling: ${poll.details}`);
    } else if ((await this.masterInRecovery(master, poll)) === true) {
      this.setStatus(master.name, 'warning', 'master is in recovery: it is a replica, not a master');
      result = fail(`master ${master.name} is in recovery: it is a replica, not a master`);
    } else {
      result = success(`master ${master.name} is responding to polling`);
    }
    this.refreshCluster();
    return result;
  }

  /** `poll(servername)`. */
  async poll(name: string): Promise<ReturnDictionary> {
    const server = this.checkedServer(name);
    if (isReturnDictionary(server)) return server;
    if (server.role === 'master') return this.pollMaster();
    const { poll } = await this.pollServer(server);
    this.refreshCluster();
    return poll.result === 'SUCCESS'
      ? success(`${server.name} is responding to polling`)
      : fail(`${server.name} is not responding to polling: ${poll.details}`);
  }

  /** `poll_all`: every checked server at once; SUCCESS when the one master runs. */
  async pollAll(): Promise<ReturnDictionary<{ failover_ok: boolean }>> {
    const servers = this.checkedServers();
    const polls = new Map(await Promise.all(servers.map(async (server) => [server.name, await this.pollServer(server)] as const)));
    const masters = this.registry.masters();
    let result: ReturnDictionary;
    if (masters.length === 0) {
      result = fail('no master is configured');
    } else if (masters.length > 1) {
      result = fail(`several masters are configured: ${masters.map((m) => m.name).join(', ')}`);
    } else {
      const master = masters[0] as ServerDefinition;
      const poll = polls.get(master.name)?.poll;
      if (!poll || poll.result !== 'SUCCESS') {
        result = fail(`master ${master.name} is not responding to polling${poll ? `: ${poll.details}` : ''}`);
      } else if ((await this.masterInRecovery(master, poll)) === true) {
        this.setStatus(master.name, 'warning', 'master is in recovery: it is a replica, not a master');
        result = fail(`master ${master.name} is in recovery: it is a replica, not a master`);
      } else {
        result = success(`master ${master.name} is responding to polling`);
      }
    }
    const failoverOk = masters.length === 1 && this.registry.byRole('replica').some((replica) => VIABLE.includes(replica.status));
    this.refreshCluster();
    return { ...result, failover_ok: failoverOk };
  }

  private async sshCheck(name: string): Promise<{ outcome: ProbeOutcome; error?: string }> {
    try {
      const result = await this.shell.run(name, ['true'], { timeoutMs: this.settings.ssh_timeout * 1000 });
      return result.exitCode === 0 ? { outcome: 'ok' } : { outcome: 'error', error: `test command exited ${String(result.exitCode)}: ${result.stderr.trim()}` };
    } catch (err) {
      return { outcome: outcomeOfError(err), error: errorMessage(err) };
    }
  }

  /** Probes SSH on a server without touching its status (for the failover decision). */
  async probeSsh(name: string): Promise<ProbeOutcome> {
    return (await this.sshCheck(name)).outcome;
  }

  private sqlTarget(name: string): SqlTarget {
    return boundedSqlTarget(name, this.settings);
  }

  /** `verify_master`: SSH, a SQL connection, not in recovery, and a test write. */
  async verifyMaster(): Promise<VerifyResult> {
    const master = this.soleMaster();
    if (isReturnDictionary(master)) return { ...master, status: 'unknown' };
    const verified = await this.verifyMasterServer(master);
    this.refreshCluster();
    return verified;
  }

  private async verifyMasterServer(master: ServerDefinition): Promise<VerifyResult> {
    const [ssh, sqlCheck] = await Promise.all([this.sshCheck(master.name), this.masterSqlCheck(master.name)]);
    const sshField = ssh.error === undefined ? {} : { ssh: ssh.error };
    if (sqlCheck.error !== undefined) return this.unreachable(master, 'master', ssh.outcome, { outcome: sqlCheck.outcome, error: sqlCheck.error }, sshField);
    if (sqlCheck.inRecovery) {
      const message = 'master is in recovery: it is a replica, not a master';
      this.setStatus(master.name, 'down', message);
      return fail(message, { ...sshField, psql: message, status: 'down' });
    }
    if (sqlCheck.writeError !== undefined) {
      const message = `master accepts connections but blocks writes: ${sqlCheck.writeError}`;
      this.setStatus(master.name, 'warning', message);
      return fail(message, { ...sshField, psql: sqlCheck.writeError, status: 'warning' });
    }
    if (ssh.error !== undefined) {
      const message = `master verified, but cannot ssh to it: ${ssh.error}`;
      this.setStatus(master.name, 'warning', message);
      return success(message, { ...sshField, status: 'warning' });
    }
    this.setStatus(master.name, 'healthy', 'master verified: connections, writes and ssh work');
    return success('master verified', { status: 'healthy' });
  }

  private async masterSqlCheck(name: string): Promise<{ outcome: ProbeOutcome; error?: string; inRecovery?: boolean; writeError?: string }> {
    try {
      return await this.sql.withSession(this.sqlTarget(name), async (session) => {
        const rows = await session.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery');
        const inRecovery = rows[0]?.in_recovery === true;
        if (inRecovery) return { outcome: 'ok' as const, inRecovery };
        try {
          // pg_is_in_recovery() alone does not prove writes work (read-only, full disk).
          await session.query('CREATE TEMP TABLE handyrep_write_check (checked_at timestamptz)');
          await session.query('INSERT INTO handyrep_write_check VALUES (now())');
          return { outcome: 'ok' as const, inRecovery };
        } catch (err) {
          return { outcome: 'ok' as const, inRecovery, writeError: errorMessage(err) };
        }
      });
    } catch (err) {
      return { outcome: outcomeOfError(err), error: errorMessage(err) };
    }
  }

  /**
   * A server whose SQL connection failed: verified `down` when its port refuses
   * or its control plugin (over a working SSH) says it is stopped, otherwise
   * `unavailable` — we cannot tell.
   */
  private async unreachable(
    server: ServerDefinition,
    role: 'master' | 'replica',
    ssh: ProbeOutcome,
    sql: { outcome: ProbeOutcome; error: string },
    sshField: { ssh?: string },
  ): Promise<VerifyResult> {
    const down = sql.outcome === 'refused' || (ssh === 'ok' && (await this.controlSaysStopped(server.name)));
    const status: ServerStatusName = down ? 'down' : 'unavailable';
    const message = down ? `${role} is down: ${sql.error}` : `cannot connect to ${role}: ${sql.error}`;
    this.setStatus(server.name, status, message);
    return fail(message, { ...sshField, psql: sql.error, status });
  }

  private async controlSaysStopped(name: string): Promise<boolean> {
    try {
      const control = this.plugins.forServer('control', name);
      const status = await control.status(name);
      return status.result === 'SUCCESS' && !status.running;
    } catch {
      return false;
    }
  }

  /** `verify_replica(replicaname)`: running, in recovery, replicating, reachable over SSH. */
  async verifyReplica(name: string): Promise<VerifyResult> {
    const server = this.checkedServer(name);
    if (isReturnDictionary(server)) return { ...server, status: 'unknown' };
    if (server.role !== 'replica') return fail(`${name} is a ${String(server.role)}, not a replica`, { status: server.status });
    const verified = await this.verifyReplicaServer(server);
    this.refreshCluster();
    return verified;
  }

  private async verifyReplicaServer(replica: ServerDefinition): Promise<VerifyResult> {
    const [ssh, sqlCheck] = await Promise.all([this.sshCheck(replica.name), this.replicaSqlCheck(replica.name)]);
    const sshField = ssh.error === undefined ? {} : { ssh: ssh.error };
    if (sqlCheck.error !== undefined) return this.unreachable(replica, 'replica', ssh.outcome, { outcome: sqlCheck.outcome, error: sqlCheck.error }, sshField);
    if (!sqlCheck.inRecovery) {
      const message = 'replica is not in recovery: it accepts writes like a master';
      this.setStatus(replica.name, 'warning', message);
      return fail(message, { ...sshField, status: 'warning' });
    }
    const lag = await this.replicaLag(replica);
    if (lag.lagMb !== null) this.lastLag.set(replica.name, { lagMb: lag.lagMb, at: this.clock.now() });
    const problems: string[] = [];
    let status: ServerStatusName = 'healthy';
    if (lag.error !== undefined) problems.push(lag.error);
    if (ssh.error !== undefined) problems.push(`cannot ssh to replica: ${ssh.error}`);
    if (problems.length > 0) status = 'warning';
    else if (lag.lagMb !== null && lag.lagMb > Number(replica['lag_limit'] ?? Number.POSITIVE_INFINITY)) {
      status = 'lagged';
      problems.push(`replica is ${lag.lagMb} MB behind (lag_limit ${String(replica['lag_limit'])} MB)`);
    }
    const message = problems.length > 0 ? problems.join('; ') : `replica verified${lag.lagMb === null ? '' : `, ${lag.lagMb} MB behind`}`;
    this.setStatus(replica.name, status, message);
    return success(message, { ...sshField, status, lag_mb: lag.lagMb });
  }

  private async replicaSqlCheck(name: string): Promise<{ outcome: ProbeOutcome; error?: string; inRecovery?: boolean }> {
    try {
      const rows = await this.sql.query<{ in_recovery: boolean }>(this.sqlTarget(name), 'SELECT pg_is_in_recovery() AS in_recovery');
      return { outcome: 'ok', inRecovery: rows[0]?.in_recovery === true };
    } catch (err) {
      return { outcome: outcomeOfError(err), error: errorMessage(err) };
    }
  }

  private async replicaLag(replica: ServerDefinition): Promise<{ lagMb: number | null; error?: string }> {
    const plugin = this.replicationStatus();
    const master = this.registry.master();
    if (!plugin || !master) return { lagMb: null };
    try {
      const lag = await plugin.lag(master.name, replica.name);
      if (lag.result !== 'SUCCESS') return { lagMb: null, error: `cannot read lag: ${lag.details}` };
      if (!lag.connected) return { lagMb: null, error: `not replicating from master ${master.name}` };
      return { lagMb: lag.lag_mb };
    } catch (err) {
      return { lagMb: null, error: `cannot read lag: ${errorMessage(err)}` };
    }
  }

  /** Replica lag last measured on the master (MB), per replica, when recent enough to estimate a failover's loss. */
  recentLag(): Map<string, number> {
    const now = this.clock.now();
    return new Map([...this.lastLag].filter(([, entry]) => now - entry.at <= LAG_MEMORY_MS).map(([name, entry]) => [name, entry.lagMb]));
  }

  /** How long the latest poll of each server took (ms). */
  pollDurations(): Map<string, number> {
    return new Map(this.lastPollMs);
  }

  /** WAL archiving health (when HandyRep manages archiving) as a cluster-level issue: a failing archive_command warns. */
  private async checkArchiving(master: string): Promise<void> {
    if (!this.loaded.config.archive.archiving) return;
    const archive = this.plugins.cluster('archive');
    if (!archive) return;
    try {
      const health = await archive.poll(master);
      if (health.result === 'SUCCESS') this.issues.clear('archiving');
      else this.issues.set('archiving', `WAL archiving: ${health.details}`);
    } catch (err) {
      this.issues.set('archiving', `WAL archiving could not be checked: ${errorMessage(err)}`);
    }
  }

  /** Verifies a proxy by polling it (connecting through it). */
  private async verifyProxy(server: ServerDefinition): Promise<VerifyResult> {
    const { poll } = await this.pollServer(server);
    if (poll.result === 'SUCCESS') {
      if (server.status !== 'healthy') this.setStatus(server.name, 'healthy', 'proxy accepts connections');
      return success('proxy accepts connections', { status: 'healthy' });
    }
    this.setStatus(server.name, 'unavailable', `proxy not responding: ${poll.details}`);
    return fail(`proxy not responding: ${poll.details}`, { status: 'unavailable' });
  }

  /** `verify_server(servername)`: the check that fits the server's role. */
  async verifyServer(name: string): Promise<VerifyResult> {
    const server = this.checkedServer(name);
    if (isReturnDictionary(server)) return { ...server, status: 'unknown' };
    let result: VerifyResult;
    if (server.role === 'master') {
      const masters = this.registry.masters();
      result = masters.length === 1 ? await this.verifyMasterServer(server) : fail(`several masters are configured: ${masters.map((m) => m.name).join(', ')}`, { status: server.status });
    } else if (server.role === 'replica') result = await this.verifyReplicaServer(server);
    else result = await this.verifyProxy(server);
    this.refreshCluster();
    return result;
  }

  /** `verify_all`: every checked server, in parallel, with each one's details. */
  async verifyAll(): Promise<ReturnDictionary<{ failover_ok: boolean; servers: Record<string, VerifyResult> }>> {
    const servers = this.checkedServers();
    const masters = this.registry.masters();
    const results = await Promise.all(
      servers.map(async (server) => {
        let result: VerifyResult;
        if (server.role === 'master') {
          result = masters.length === 1 ? await this.verifyMasterServer(server) : fail('several masters are configured', { status: server.status });
        } else if (server.role === 'replica') result = await this.verifyReplicaServer(server);
        else result = await this.verifyProxy(server);
        return [server.name, result] as const;
      }),
    );
    const details = Object.fromEntries(results);
    let result: ReturnDictionary;
    if (masters.length === 0) result = fail('no master is configured');
    else if (masters.length > 1) result = fail(`several masters are configured: ${masters.map((m) => m.name).join(', ')}`);
    else {
      const master = details[(masters[0] as ServerDefinition).name];
      result = master?.result === 'SUCCESS' ? success('master is up and running') : fail(`master is not running: ${master?.details ?? 'not checked'}`);
    }
    const failoverOk = masters.length === 1 && this.registry.byRole('replica').some((replica) => VIABLE.includes(replica.status));
    const master = this.registry.master();
    if (master && master.status !== 'down' && master.status !== 'unavailable') await this.checkArchiving(master.name);
    this.refreshCluster();
    return { ...result, failover_ok: failoverOk, servers: details };
  }

  private soleMaster(): ServerDefinition | ReturnDictionary {
    const masters = this.registry.masters();
    if (masters.length === 0) return fail('no master is configured');
    if (masters.length > 1) return fail(`several masters are configured: ${masters.map((m) => m.name).join(', ')}`);
    return masters[0] as ServerDefinition;
  }

  private checkedServer(name: string): ServerDefinition | ReturnDictionary {
    if (typeof name !== 'string' || !this.registry.has(name)) return fail(new UnknownServerError(String(name)).message);
    const server = this.registry.get(name);
    if (!server.enabled) return fail(`${name} is disabled`);
    if (!CLUSTER_ROLES.includes(String(server.role))) {
      return fail(`${name} has role ${String(server.role)}, which is not polled or verified`);
    }
    return server;
  }
}
