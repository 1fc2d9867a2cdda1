// A real PostgreSQL streaming-replication cluster on this one machine: every
// "host" is its own loopback address with its own sshd (and postgres or
// pgbouncer), optionally an etcd cluster, all below one base directory.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresBinDir, type PostgresMajor } from '@handyrep/plugin-sdk/testing/postgres';
import { DockerLauncher, dockerAvailable } from './docker.js';
import { generateHandyrepConf, type ConfOverrides } from './config.js';
import { Faults } from './faults.js';
import { LocalLauncher, type Launcher, type ProcHandle, type ReaperHandle } from './launcher.js';
import {
  createObservers,
  type CommitCheck,
  type Observers,
  type SplitBrainWatcher,
  type WatcherOptions,
  type Writer,
  type WriterOptions,
} from './observers.js';
import { runQuery, type ConnTarget, type QueryOptions } from './pgclient.js';
import { isAlive, osUser, PG_BIN, readStat, sleep, tail, tcpReachable, waitFor, type RunResult } from './proc.js';

export { PG_BIN, tail, tcpReachable };
import { registerCluster, unregisterCluster } from './registry.js';
import { acquireFixedSlot, acquireSlot, type FixedLayout, type Slot } from './slots.js';
import { teardownCluster, type TeardownReport } from './teardown.js';

export type BackendName = 'local' | 'docker' | 'auto';

export interface ClusterOptions {
  /** Replicas of the master (default 2). */
  replicas?: number;
  /** Hosts with sshd and an empty pgdata path but no PostgreSQL, as clone targets (default 0). */
  spares?: number;
  /** pgbouncer hosts (default 0). */
  pgbouncer?: number;
  /** A single-member etcd (default false). */
  etcd?: boolean;
  /** Number of etcd members (overrides `etcd`). */
  etcdMembers?: number;
  /** archive_mode = on with a shared archive directory (default false). */
  archiveMode?: boolean;
  /** 'local' (default), 'docker', or 'auto' (docker when an engine answers, else local). */
  backend?: BackendName;
  /**
   * PostgreSQL major version (default 15). The local backend has only this
   * machine's 15; the docker backend runs the plugin SDK's images (15: Debian
   * bookworm, 17: Debian trixie).
   */
  postgresMajor?: PostgresMajor;
  /** fsync for PostgreSQL (default false: only an OS crash would lose data, and none is simulated). */
  fsync?: boolean;
  /** sshd port on every host (default 22). */
  sshPort?: number;
  /** Extra postgresql.conf settings for every server (replicated to clones). */
  pgSettings?: Record<string, string | number | boolean>;
  /** Test database (default 'appdb'). */
  database?: string;
  /** Prefix of the base directory name. */
  label?: string;
  /**
   * Fixed addresses `<addressPrefix>.x` and base directory instead of a numbered
   * slot (the sandbox; one holder at a time). Default: a slot, 127.77.<n>.x.
   */
  fixed?: FixedLayout;
  /** Maximum time for create() (default 90 s). */
  timeoutMs?: number;
}

export type HostRole = 'master' | 'replica' | 'spare' | 'pgbouncer';

export interface Host {
  name: string;
  kind: 'postgres' | 'pgbouncer';
  initialRole: HostRole;
  address: string;
  /** PostgreSQL port (pgbouncer hosts: their pgbouncer port). */
  pgPort: number;
  sshPort: number;
  /** Host directory (owned by postgres) holding pgdata, socket dir, logs. */
  dir: string;
  pgdata: string;
  socketDir: string;
  binDir: string;
  /** Log of postgres started by the harness (a pg_ctl started one logs where pg_ctl -l says). */
  logFile: string;
  /** Host-specific settings included from postgresql.conf as '../host.conf' (survives clones). */
  hostConf: string;
  /** pgbouncer hosts: config file, auth file and log. */
  pgbouncerIni?: string;
  pgbouncerAuthFile?: string;
  pgbouncerLog?: string;
}

export interface EtcdMember {
  name: string;
  address: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  pid: number;
}

/** Harness-internal per-host runtime state. */
export interface HostState {
  reaper?: ReaperHandle;
  sshdPid?: number;
  sshUp: boolean;
  postgres?: ProcHandle;
  /** faults.startUnreaped(): the parent that does not reap its postgres until told. */
  unreapingParent?: ProcHandle;
  pgbouncer?: ProcHandle;
  hungPids: number[];
  /** Every postmaster ever seen on this host: pid -> start time (guards against PID reuse). */
  seenPostmasters: Map<number, number>;
}

const PG_PORT = 5432;
const PGBOUNCER_PORT = 6432;
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;

const secret = () => randomBytes(12).toString('hex');

function pgValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

export class Cluster {
  readonly hosts: Host[] = [];
  readonly superuser = 'postgres';
  readonly superuserPassword = secret();
  readonly replicationUser = 'replicator';
  readonly replicationPassword = secret();
  readonly database: string;
  readonly baseDir: string;
  readonly sshDir: string;
  readonly sshKeyPath: string;
  readonly knownHostsPath: string;
  readonly authorizedKeysPath: string;
  /** Shared WAL archive directory (used when archiveMode). */
  readonly archiveDir: string;
  readonly options: Required<Pick<ClusterOptions, 'replicas' | 'spares' | 'pgbouncer' | 'archiveMode' | 'fsync' | 'sshPort'>> &
    ClusterOptions;
  etcd: { members: EtcdMember[]; endpoints: string[] } | null = null;
  readonly faults: Faults;
  readonly observers: Observers;
  readonly state = new Map<string, HostState>();
  readonly etcdProcs: ProcHandle[] = [];
  /** iptables rules currently added by this cluster (arguments after -A/-D). */
  readonly iptablesRules: string[][] = [];
  tornDown = false;
  private teardownPromise: Promise<TeardownReport> | null = null;

  constructor(
    readonly slot: Slot,
    readonly launcher: Launcher,
    opts: ClusterOptions,
  ) {
    this.options = {
      ...opts,
      replicas: opts.replicas ?? 2,
      spares: opts.spares ?? 0,
      pgbouncer: opts.pgbouncer ?? 0,
      archiveMode: opts.archiveMode ?? false,
      fsync: opts.fsync ?? false,
      sshPort: opts.sshPort ?? 22,
    };
    this.database = opts.database ?? 'appdb';
    this.baseDir = slot.baseDir;
    this.sshDir = join(this.baseDir, 'ssh');
    this.sshKeyPath = join(this.sshDir, 'id_ed25519');
    this.knownHostsPath = join(this.sshDir, 'known_hosts');
    this.authorizedKeysPath = join(this.sshDir, 'authorized_keys');
    this.archiveDir = join(this.baseDir, 'archive');
    this.faults = new Faults(this);
    this.observers = createObservers(this);
    const pgCount = 1 + this.options.replicas + this.options.spares;
    for (let i = 1; i <= pgCount; i++) {
      const name = `pg${i}`;
      const role: HostRole = i === 1 ? 'master' : i <= 1 + this.options.replicas ? 'replica' : 'spare';
      this.hosts.push(this.makeHost(name, 'postgres', role, slot.address(i)));
    }
    for (let j = 1; j <= this.options.pgbouncer; j++) {
      const h = this.makeHost(`bouncer${j}`, 'pgbouncer', 'pgbouncer', slot.address(10 + j));
      h.pgPort = PGBOUNCER_PORT;
      h.pgbouncerIni = join(h.dir, 'pgbouncer.ini');
      h.pgbouncerAuthFile = join(h.dir, 'userlist.txt');
      h.pgbouncerLog = join(h.dir, 'pgbouncer.log');
      this.hosts.push(h);
    }
    for (const h of this.hosts) this.state.set(h.name, { sshUp: false, hungPids: [], seenPostmasters: new Map() });
  }

  private makeHost(name: string, kind: Host['kind'], role: HostRole, address: string): Host {
    const dir = join(this.baseDir, name);
    return {
      name,
      kind,
      initialRole: role,
      address,
      pgPort: PG_PORT,
      sshPort: this.options.sshPort,
      dir,
      pgdata: join(dir, 'data'),
      socketDir: join(dir, 'sock'),
      binDir: this.launcher.kind === 'docker' ? postgresBinDir(this.options.postgresMajor ?? 15) : PG_BIN,
      logFile: join(dir, 'postgres.log'),
      hostConf: join(dir, 'host.conf'),
    };
  }

  // ----- lookup -----------------------------------------------------------

  host(name: string | Host): Host {
    if (typeof name !== 'string') return name;
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host '${name}' in this cluster (${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  hostState(name: string | Host): HostState {
    return this.state.get(this.host(name).name)!;
  }

  /** The initial master (pg1). After a failover use findMasters(). */
  get master(): Host {
    return this.hosts[0]!;
  }
  get replicas(): Host[] {
    return this.hosts.filter((h) => h.initialRole === 'replica');
  }
  get spares(): Host[] {
    return this.hosts.filter((h) => h.initialRole === 'spare');
  }
  get pgbouncers(): Host[] {
    return this.hosts.filter((h) => h.kind === 'pgbouncer');
  }
  get postgresHosts(): Host[] {
    return this.hosts.filter((h) => h.kind === 'postgres');
  }

  // ----- SQL ----------------------------------------------------------------

  /** Connection parameters for a host (pgbouncer hosts: through pgbouncer) as the superuser. */
  target(hostName: string | Host, database = this.database): ConnTarget {
    const h = this.host(hostName);
    return { host: h.address, port: h.pgPort, user: this.superuser, password: this.superuserPassword, database };
  }

  /** A libpq-style connection string for a host. */
  connectionString(hostName: string | Host, database = this.database): string {
    const t = this.target(hostName, database);
    return `postgresql://${t.user}:${t.password}@${t.host}:${t.port}/${t.database}?connect_timeout=3`;
  }

  /** Runs one statement on a host (fresh connection, connect + statement timeouts). */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    hostName: string | Host,
    sql: string,
    params: unknown[] = [],
    opts: QueryOptions = {},
  ): Promise<R[]> {
    return runQuery<R>(this.target(hostName), sql, params, opts);
  }

  /** psql -X -At -c sql on the test machine against a host (TCP, superuser). */
  async psql(hostName: string | Host, sql: string, opts: { database?: string; timeoutMs?: number } = {}): Promise<string> {
    const h = this.host(hostName);
    const r = await this.launcher.run(null, join(PG_BIN, 'psql'), ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      env: {
        PGHOST: h.address,
        PGPORT: String(h.pgPort),
        PGUSER: this.superuser,
        PGPASSWORD: this.superuserPassword,
        PGDATABASE: opts.database ?? this.database,
        PGCONNECT_TIMEOUT: '3',
        PGOPTIONS: h.kind === 'postgres' ? `-c statement_timeout=${opts.timeoutMs ?? 5000}` : '',
      },
      timeoutMs: (opts.timeoutMs ?? 5000) + 3000,
    });
    return r.stdout.trim();
  }

  /** Query pgbouncer's admin console (database 'pgbouncer') on a pgbouncer host. */
  pgbouncerAdmin(hostName: string | Host, command: string): Promise<Record<string, unknown>[]> {
    const h = this.host(hostName);
    if (h.kind !== 'pgbouncer') throw new Error(`${h.name} is not a pgbouncer host`);
    return runQuery(this.target(h, 'pgbouncer'), command, [], { simple: true, timeoutMs: 5000 });
  }

  /** Runs a command on a host over SSH as postgres, with the cluster's key and known_hosts. */
  ssh(hostName: string | Host, command: string, opts: { timeoutMs?: number; check?: boolean; input?: string } = {}): Promise<RunResult> {
    const h = this.host(hostName);
    return this.launcher.run(null, 'ssh', [...this.sshArgs(h), command], {
      timeoutMs: opts.timeoutMs ?? 15_000,
      check: opts.check ?? true,
      input: opts.input ?? '',
    });
  }

  /** ssh arguments up to (not including) the remote command. */
  sshArgs(hostName: string | Host, connectTimeoutS = 3): string[] {
    const h = this.host(hostName);
    return [
      '-F', '/dev/null',
      '-i', this.sshKeyPath,
      '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${this.knownHostsPath}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${connectTimeoutS}`,
      '-o', 'LogLevel=ERROR',
      '-p', String(h.sshPort),
      `postgres@${h.address}`,
    ];
  }

  // ----- postgres process state ---------------------------------------------

  /**
   * PID of the host's running postmaster: the harness's own child, or whatever
   * postmaster.pid names (e.g. one HandyRep started with pg_ctl over SSH), if
   * that process is alive (not a zombie) and is a postgres process.
   */
  postmasterPid(hostName: string | Host): number | null {
    const h = this.host(hostName);
    const st = this.hostState(h);
    if (st.postgres?.running) return st.postgres.pid;
    let pid: number;
    try {
      pid = Number(readFileSync(join(h.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return null;
    }
    if (!(pid > 0) || !isAlive(pid)) return null;
    const stat = readStat(pid);
    if (stat?.comm !== 'postgres') return null;
    st.seenPostmasters.set(pid, stat.startTime);
    return pid;
  }

  isPostgresRunning(hostName: string | Host): boolean {
    return this.postmasterPid(hostName) !== null;
  }

  /** Waits until a host accepts SQL connections (a standby: once consistent). */
  async waitPostgresReady(hostName: string | Host, timeoutMs = 30_000): Promise<void> {
    const h = this.host(hostName);
    const st = this.hostState(h);
    await waitFor(
      `${h.name} to accept connections`,
      async () => {
        if (st.postgres && !st.postgres.running && !this.postmasterPid(h)) {
          throw new Error(`postgres on ${h.name} exited; log ${h.logFile}:\n${tail(h.logFile)}`);
        }
        await this.query(h, 'SELECT 1', [], { database: 'postgres', timeoutMs: 2000 });
        return true;
      },
      timeoutMs,
      50,
    );
  }

  /** pg_is_in_recovery() on a host, or null when it does not answer. */
  async inRecovery(hostName: string | Host, timeoutMs = 2000): Promise<boolean | null> {
    try {
      const rows = await this.query<{ r: boolean }>(hostName, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs });
      return rows[0]!.r;
    } catch {
      return null;
    }
  }

  /** Names of PostgreSQL hosts that answer and are not in recovery. */
  async findMasters(timeoutMs = 2000): Promise<string[]> {
    const res = await Promise.all(this.postgresHosts.map(async (h) => ((await this.inRecovery(h, timeoutMs)) === false ? h.name : null)));
    return res.filter((x): x is string => x !== null);
  }

  /** pg_stat_replication on a host (the master, or a standby with cascading replicas), with lag in bytes. */
  replicationStatus(masterName: string | Host = this.master): Promise<
    Array<{ application_name: string; state: string; sent_lsn: string; write_lsn: string; flush_lsn: string; replay_lsn: string; sent_lag: string; replay_lag_bytes: string }>
  > {
    return this.query(
      masterName,
      // On a cascading standby "current" is what it has received itself.
      `WITH cur AS (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn)
       SELECT application_name, state, sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text,
              pg_wal_lsn_diff(cur.lsn, sent_lsn)::bigint::text AS sent_lag,
              pg_wal_lsn_diff(cur.lsn, replay_lsn)::bigint::text AS replay_lag_bytes
         FROM pg_stat_replication, cur ORDER BY application_name`,
    );
  }

  /** Bytes between the master's current WAL position and a replica's replay position (per pg_stat_replication). */
  async replayLagBytes(replicaName: string | Host, masterName: string | Host = this.master): Promise<number | null> {
    const r = this.host(replicaName).name;
    const rows = await this.replicationStatus(masterName);
    const row = rows.find((x) => x.application_name === r);
    return row ? Number(row.replay_lag_bytes) : null;
  }

  /** Waits until the master's pg_stat_replication shows every named replica streaming. */
  async waitStreaming(replicas: Array<string | Host> = this.replicas, masterName: string | Host = this.master, timeoutMs = 30_000): Promise<void> {
    const names = replicas.map((r) => this.host(r).name);
    if (names.length === 0) return;
    await waitFor(
      `${names.join(', ')} streaming from ${this.host(masterName).name}`,
      async () => {
        const rows = await this.replicationStatus(masterName);
        return names.every((n) => rows.some((x) => x.application_name === n && x.state === 'streaming'));
      },
      timeoutMs,
      50,
    );
  }

  /** Waits until every named replica has replayed everything the master has written (replay lag 0). */
  async waitCaughtUp(replicas: Array<string | Host> = this.replicas, masterName: string | Host = this.master, timeoutMs = 30_000): Promise<void> {
    const names = replicas.map((r) => this.host(r).name);
    await waitFor(
      `${names.join(', ')} caught up with ${this.host(masterName).name}`,
      async () => {
        const rows = await this.replicationStatus(masterName);
        return names.every((n) => rows.some((x) => x.application_name === n && Number(x.replay_lag_bytes) === 0));
      },
      timeoutMs,
      50,
    );
  }

  // ----- pgbouncer ----------------------------------------------------------

  /** Rewrites a pgbouncer host's [databases] to point at a PostgreSQL host and RELOADs it. */
  async pointPgbouncerAt(bouncer: string | Host, pgHost: string | Host): Promise<void> {
    const b = this.host(bouncer);
    writeFileSync(b.pgbouncerIni!, this.pgbouncerIni(b, this.host(pgHost)));
    await this.pgbouncerAdmin(b, 'RELOAD');
  }

  pgbouncerIni(b: Host, target: Host): string {
    const dbs = [this.database, 'postgres'];
    return [
      '[databases]',
      ...dbs.map((d) => `${d} = host=${target.address} port=${target.pgPort} dbname=${d}`),
      '',
      '[pgbouncer]',
      `listen_addr = ${b.address}`,
      `listen_port = ${b.pgPort}`,
      `unix_socket_dir = ${b.dir}`,
      'auth_type = scram-sha-256',
      `auth_file = ${b.pgbouncerAuthFile}`,
      `admin_users = ${this.superuser}`,
      `stats_users = ${this.superuser}`,
      'pool_mode = session',
      'max_client_conn = 200',
      'default_pool_size = 20',
      `pidfile = ${join(b.dir, 'pgbouncer.pid')}`,
      'server_connect_timeout = 3',
      'server_login_retry = 1',
      'ignore_startup_parameters = extra_float_digits,statement_timeout,options,application_name,lock_timeout,idle_in_transaction_session_timeout',
      '',
    ].join('\n');
  }

  // ----- etcd -------------------------------------------------------------

  /** Runs etcdctl (v3 API) against the cluster's etcd endpoints. */
  etcdctl(args: string[], timeoutMs = 10_000): Promise<RunResult> {
    if (!this.etcd) throw new Error('this cluster has no etcd (option etcd / etcdMembers)');
    return this.launcher.run(null, 'etcdctl', [`--endpoints=${this.etcd.endpoints.join(',')}`, '--dial-timeout=2s', ...args], {
      env: { ETCDCTL_API: '3' },
      timeoutMs,
    });
  }

  // ----- HandyRep config ---------------------------------------------------------

  /** The INI text of a handyrep.conf for this cluster (see config.ts). */
  handyrepConf(overrides: ConfOverrides = {}): string {
    return generateHandyrepConf(this, overrides);
  }

  /** Writes handyrep.conf (default <baseDir>/handyrep.conf); returns its path. */
  writeConfig(path = join(this.baseDir, 'handyrep.conf'), overrides: ConfOverrides = {}): string {
    writeFileSync(path, generateHandyrepConf(this, overrides), { mode: 0o600 });
    return path;
  }

  // ----- observers --------------------------------------------------------------

  startWriter(opts: WriterOptions = {}): Promise<Writer> {
    return this.observers.startWriter(opts);
  }

  startSplitBrainWatcher(opts: WatcherOptions = {}): Promise<SplitBrainWatcher> {
    return this.observers.startSplitBrainWatcher(opts);
  }

  /** Acknowledged commits of a writer that a host (the surviving master) does not hold. */
  checkCommits(writer: Writer, hostName: string | Host): Promise<CommitCheck> {
    return this.observers.checkCommits(writer, hostName);
  }

  // ----- lifecycle --------------------------------------------------------

  /** Stops everything this cluster started, removes its rules, files and slot. Idempotent. */
  teardown(): Promise<TeardownReport> {
    if (!this.teardownPromise) {
      this.teardownPromise = teardownCluster(this).finally(() => {
        this.tornDown = true;
        unregisterCluster(this);
      });
    }
    return this.teardownPromise;
  }

  /** Every PID the harness knows of for this cluster right now (for teardown checks). */
  knownPids(): number[] {
    const pids = new Set<number>();
    for (const h of this.hosts) {
      const st = this.hostState(h);
      if (st.reaper) pids.add(st.reaper.pid);
      if (st.sshdPid) pids.add(st.sshdPid);
      if (st.postgres) pids.add(st.postgres.pid);
      if (st.unreapingParent) pids.add(st.unreapingParent.pid);
      if (st.pgbouncer) pids.add(st.pgbouncer.pid);
      const pm = h.kind === 'postgres' ? this.postmasterPid(h) : null;
      if (pm) pids.add(pm);
      for (const [p, start] of st.seenPostmasters) if (readStat(p)?.startTime === start) pids.add(p);
    }
    for (const e of this.etcdProcs) pids.add(e.pid);
    for (const p of this.observers.pids()) pids.add(p);
    for (const p of this.launcher.ownPids()) pids.add(p);
    return [...pids];
  }

  // ----- bring-up (internal) ----------------------------------------------------

  async bringUp(): Promise<void> {
    const pgUser = osUser('postgres');
    mkdirSync(this.sshDir, { recursive: true, mode: 0o755 });
    for (const h of this.hosts) {
      mkdirSync(join(h.dir, 'sshd'), { recursive: true });
      chmodSync(h.dir, 0o755);
      chownSync(h.dir, pgUser.uid, pgUser.gid);
      if (h.kind === 'postgres') {
        mkdirSync(h.socketDir, { recursive: true });
        chownSync(h.socketDir, pgUser.uid, pgUser.gid);
        writeFileSync(h.logFile, '');
        chownSync(h.logFile, pgUser.uid, pgUser.gid);
        writeFileSync(
          h.hostConf,
          [
            `# host-specific settings of ${h.name} (harness); postgresql.conf includes ../host.conf`,
            `listen_addresses = '${h.address}'`,
            `port = ${h.pgPort}`,
            `unix_socket_directories = '${h.socketDir}'`,
            `cluster_name = '${h.name}'`,
            '',
          ].join('\n'),
        );
      }
      await this.launcher.addHost({ name: h.name, address: h.address, dir: h.dir }, this.baseDir);
    }
    if (this.options.archiveMode) {
      mkdirSync(this.archiveDir, { recursive: true });
      chownSync(this.archiveDir, pgUser.uid, pgUser.gid);
    }

    // SSH and etcd come up while the master is initialised.
    const sshReady = this.setupSsh();
    sshReady.catch(() => {});
    const etcdReady = this.setupEtcd();
    etcdReady.catch(() => {});

    await this.initMaster();
    await Promise.all(this.replicas.map((r) => this.cloneReplica(r)));
    await Promise.all(this.replicas.map((r) => this.faults.start(r)));
    await this.waitStreaming();
    if (this.replicas.length > 0) {
      // A little WAL so every replica reports write/flush/replay positions (not NULL) before create() returns.
      await this.query(this.master, 'SELECT pg_current_xact_id()');
      await this.waitCaughtUp();
    }
    for (const s of this.spares) {
      // An empty, postgres-owned place for a clone; pgdata itself does not exist yet.
      chownSync(s.dir, pgUser.uid, pgUser.gid);
    }
    await Promise.all(this.pgbouncers.map((b) => this.startPgbouncer(b)));
    await sshReady;
    await etcdReady;
  }

  private async initMaster(): Promise<void> {
    const m = this.master;
    const pwfile = join(m.dir, '.pwfile');
    const pg = osUser('postgres');
    writeFileSync(pwfile, `${this.superuserPassword}\n`, { mode: 0o600 });
    chownSync(pwfile, pg.uid, pg.gid);
    await this.launcher.run(
      m.name,
      join(m.binDir, 'initdb'),
      ['-D', m.pgdata, '-U', this.superuser, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-N', '-E', 'UTF8', '--locale=C.UTF-8'],
      { user: 'postgres', timeoutMs: 60_000 },
    );
    writeFileSync(pwfile, '');
    writeFileSync(
      join(m.pgdata, 'pg_hba.conf'),
      [
        '# handyrep test harness',
        'local   all          all                    trust',
        'local   replication  all                    trust',
        'host    all          all   127.0.0.0/8      scram-sha-256',
        'host    replication  all   127.0.0.0/8      scram-sha-256',
        '',
      ].join('\n'),
    );
    const settings: Record<string, string | number | boolean> = {
      wal_level: 'replica',
      max_wal_senders: 10,
      max_replication_slots: 10,
      hot_standby: true,
      hot_standby_feedback: true,
      wal_log_hints: true,
      wal_keep_size: '256MB',
      wal_receiver_status_interval: '1s',
      max_connections: 100,
      shared_buffers: '32MB',
      fsync: this.options.fsync,
      log_line_prefix: '%m [%p] %q%a ',
      archive_mode: this.options.archiveMode,
      ...(this.options.archiveMode
        ? {
            archive_command: `test ! -f ${this.archiveDir}/%f && cp %p ${this.archiveDir}/%f`,
            restore_command: `cp ${this.archiveDir}/%f %p`,
          }
        : {}),
      ...(this.options.pgSettings ?? {}),
    };
    appendFileSync(
      join(m.pgdata, 'postgresql.conf'),
      [
        '',
        '# ---- handyrep test harness ----',
        ...Object.entries(settings).map(([k, v]) => `${k} = ${pgValue(v)}`),
        '# host-specific: listen_addresses, port, unix_socket_directories, cluster_name',
        "include_if_exists = '../host.conf'",
        '',
      ].join('\n'),
    );
    await this.faults.start(m);
    const setup = [
      `CREATE ROLE ${this.replicationUser} WITH LOGIN REPLICATION PASSWORD '${this.replicationPassword}'`,
      `CREATE DATABASE ${this.database}`,
    ];
    for (const sql of setup) await this.query(m, sql, [], { database: 'postgres', timeoutMs: 20_000 });
    await this.query(
      m,
      `CREATE TABLE harness_writes (writer text NOT NULL, id bigint NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (writer, id));
       CREATE TABLE harness_probe (host text PRIMARY KEY, n bigint NOT NULL DEFAULT 1, at timestamptz NOT NULL DEFAULT clock_timestamp());
       CREATE TABLE harness_filler (id bigserial PRIMARY KEY, pad text NOT NULL);`,
      [],
      { timeoutMs: 20_000 },
    );
  }

  /** pg_basebackup -R -X stream from the master, with application_name = host name. */
  async cloneReplica(r: Host, from: Host = this.master): Promise<void> {
    await this.launcher.run(
      r.name,
      join(r.binDir, 'pg_basebackup'),
      ['-D', r.pgdata, '-X', 'stream', '-R', '-c', 'fast', '-N', '-d', this.primaryConninfo(r, from)],
      { user: 'postgres', timeoutMs: 120_000 },
    );
    this.setPrimaryConninfo(r, from);
  }

  primaryConninfo(replica: Host, upstream: Host): string {
    return `host=${upstream.address} port=${upstream.pgPort} user=${this.replicationUser} password=${this.replicationPassword} application_name=${replica.name}`;
  }

  /** Rewrites primary_conninfo in the replica's postgresql.auto.conf (takes effect on start or reload). */
  setPrimaryConninfo(replica: Host, upstream: Host): void {
    const auto = join(replica.pgdata, 'postgresql.auto.conf');
    const lines = existsSync(auto) ? readFileSync(auto, 'utf8').split('\n').filter((l) => !/^\s*primary_conninfo\s*=/.test(l) && l !== '') : [];
    lines.push(`primary_conninfo = '${this.primaryConninfo(replica, upstream)}'`);
    writeFileSync(auto, `${lines.join('\n')}\n`);
  }

  private async setupSsh(): Promise<void> {
    await this.launcher.run(null, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'handyrep-harness', '-f', this.sshKeyPath]);
    writeFileSync(this.authorizedKeysPath, readFileSync(`${this.sshKeyPath}.pub`, 'utf8'), { mode: 0o644 });
    await Promise.all(
      this.hosts.map(async (h) => {
        const d = join(h.dir, 'sshd');
        const key = join(d, 'ssh_host_ed25519_key');
        await this.launcher.run(h.name, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h.name, '-f', key]);
        writeFileSync(join(d, 'sshd_config'), this.sshdConfig(h));
      }),
    );
    writeFileSync(
      this.knownHostsPath,
      this.hosts
        .map((h) => {
          const [type, key] = readFileSync(join(h.dir, 'sshd', 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
          const name = h.sshPort === 22 ? h.address : `[${h.address}]:${h.sshPort}`;
          return `${name} ${type} ${key}\n`;
        })
        .join(''),
      { mode: 0o644 },
    );
    await Promise.all(
      this.hosts.map(async (h) => {
        const st = this.hostState(h);
        st.reaper = await this.launcher.reaper(h.name, join(h.dir, 'sshd', 'reaper.log'));
        await this.faults.sshUp(h);
      }),
    );
    // Proves key, known_hosts, PAM and the postgres account work on every host.
    await Promise.all(this.hosts.map((h) => this.ssh(h, 'true', { timeoutMs: 15_000 })));
  }

  sshdConfig(h: Host): string {
    const d = join(h.dir, 'sshd');
    return [
      `# sshd of harness host ${h.name}`,
      `ListenAddress ${h.address}:${h.sshPort}`,
      `HostKey ${join(d, 'ssh_host_ed25519_key')}`,
      `PidFile ${join(d, 'sshd.pid')}`,
      'UsePAM yes',
      'StrictModes no',
      'PubkeyAuthentication yes',
      `AuthorizedKeysFile ${this.authorizedKeysPath}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      'AllowUsers postgres',
      'X11Forwarding no',
      'PrintMotd no',
      'PrintLastLog no',
      'UseDNS no',
      'MaxStartups 200',
      'MaxSessions 100',
      'LoginGraceTime 20',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n');
  }

  private async startPgbouncer(b: Host): Promise<void> {
    const pg = osUser('postgres');
    writeFileSync(b.pgbouncerAuthFile!, `"${this.superuser}" "${this.superuserPassword}"\n`, { mode: 0o600 });
    chownSync(b.pgbouncerAuthFile!, pg.uid, pg.gid);
    writeFileSync(b.pgbouncerIni!, this.pgbouncerIni(b, this.master), { mode: 0o644 });
    chownSync(b.pgbouncerIni!, pg.uid, pg.gid);
    writeFileSync(b.pgbouncerLog!, '');
    chownSync(b.pgbouncerLog!, pg.uid, pg.gid);
    await this.faults.startPgbouncer(b);
  }

  private async setupEtcd(): Promise<void> {
    const count = this.options.etcdMembers ?? (this.options.etcd ? 1 : 0);
    if (count <= 0) return;
    const members: EtcdMember[] = [];
    for (let k = 1; k <= count; k++) {
      const address = this.slot.address(30 + k);
      const dir = join(this.baseDir, 'etcd', `etcd${k}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      members.push({
        name: `etcd${k}`,
        address,
        clientUrl: `http://${address}:${ETCD_CLIENT_PORT}`,
        peerUrl: `http://${address}:${ETCD_PEER_PORT}`,
        dataDir: join(dir, 'data'),
        logFile: join(dir, 'etcd.log'),
        pid: 0,
      });
    }
    this.etcd = { members, endpoints: members.map((m) => m.clientUrl) };
    const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of members) {
      const proc = await this.launcher.daemon(
        null,
        'etcd',
        [
          '--name', m.name,
          '--data-dir', m.dataDir,
          '--listen-client-urls', m.clientUrl,
          '--advertise-client-urls', m.clientUrl,
          '--listen-peer-urls', m.peerUrl,
          '--initial-advertise-peer-urls', m.peerUrl,
          '--initial-cluster', initialCluster,
          '--initial-cluster-token', `handyrep-${this.slot.n}-${process.pid}`,
          '--initial-cluster-state', 'new',
          '--heartbeat-interval', '100',
          '--election-timeout', '1000',
          '--logger', 'zap',
          '--log-level', 'warn',
        ],
        { logFile: m.logFile },
      );
      m.pid = proc.pid;
      this.etcdProcs.push(proc);
    }
    await waitFor(
      'etcd members healthy',
      async () => {
        for (const m of members) {
          const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
          const body = (await res.json()) as { health?: string };
          if (body.health !== 'true') return false;
        }
        return true;
      },
      30_000,
      100,
    );
  }
}

/** The backend a name resolves to: 'auto' is docker when an engine answers on DOCKER_HOST, else local. */
export async function resolveBackend(name: BackendName = 'local'): Promise<{ backend: 'local' | 'docker'; reason: string }> {
  if (name === 'local') return { backend: 'local', reason: 'requested' };
  const why = await dockerAvailable();
  if (name === 'docker') {
    if (why !== null) throw new Error(`backend 'docker' requested but no Docker engine: ${why}`);
    return { backend: 'docker', reason: 'requested' };
  }
  return why === null ? { backend: 'docker', reason: 'a Docker engine answers' } : { backend: 'local', reason: why };
}

/** Creates and starts a cluster; returns when every replica streams and every sshd accepts the key. */
export async function createCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  // HARNESS_POSTGRES_MAJOR / HARNESS_BACKEND: defaults for clusters that name neither (run any suite on 17 in containers).
  const envMajor = process.env.HARNESS_POSTGRES_MAJOR ? (Number(process.env.HARNESS_POSTGRES_MAJOR) as PostgresMajor) : undefined;
  const major = opts.postgresMajor ?? envMajor ?? 15;
  const envBackend = process.env.HARNESS_BACKEND as BackendName | undefined;
  const { backend } = await resolveBackend(opts.backend ?? envBackend ?? (major !== 15 ? 'docker' : 'local'));
  if (backend === 'local' && major !== 15) throw new Error(`PostgreSQL ${major} needs backend 'docker' (the local backend runs this machine's PostgreSQL 15)`);
  const launcher: Launcher = backend === 'docker' ? new DockerLauncher(major) : new LocalLauncher();
  const slot = opts.fixed ? await acquireFixedSlot(opts.fixed) : await acquireSlot(opts.label ?? 'c');
  const cluster = new Cluster(slot, launcher, { ...opts, backend, postgresMajor: major });
  registerCluster(cluster);
  const timeoutMs = opts.timeoutMs ?? 90_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      cluster.bringUp(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`cluster bring-up took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return cluster;
  } catch (err) {
    await cluster.teardown().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Creates a cluster, runs fn, and always tears the cluster down. */
export async function withCluster<T>(opts: ClusterOptions, fn: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await createCluster(opts);
  try {
    return await fn(cluster);
  } finally {
    await cluster.teardown();
  }
}

export { sleep };
