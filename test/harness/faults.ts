// Faults a test can inject into a harness cluster, each done for real:
// signals to PIDs, pg_ctl, iptables rules, SQL.
import { join } from 'node:path';
import type { Cluster, Host } from './cluster.js';
import type { DockerLauncher } from './docker.js';
import { descendants, isAlive, listProcesses, readStat, signal, sleep, tail, tcpReachable, waitFor, waitGone } from './proc.js';

const FATAL_WAIT: ReadonlySet<string> = new Set(['SIGKILL', 'SIGQUIT', 'SIGABRT', 'SIGSEGV']);

/**
 * The parent of startUnreaped(): forks and execs its arguments (postgres) and
 * then does not reap the child until SIGUSR1, as a container's PID 1 that
 * never reaps. A postmaster killed meanwhile stays a zombie, which still
 * passes kill(pid, 0) (pg_ctl status, PostgreSQL's own lock-file check).
 */
const UNREAPING_PARENT = String.raw`
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0) { exec { $ARGV[0] } @ARGV; exit 127; }
my $reap = 0;
$SIG{USR1} = sub { $reap = 1 };
sleep 1 until $reap;
waitpid($pid, 0);
exit 0;
`;

export class Faults {
  constructor(private readonly c: Cluster) {}

  // ----- postgres -------------------------------------------------------------

  /** Starts postgres on a host as a child of the test process and waits until it accepts connections. */
  async start(hostName: string | Host, opts: { timeoutMs?: number; wait?: boolean } = {}): Promise<number> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    const running = this.c.postmasterPid(h);
    if (running) throw new Error(`postgres on ${h.name} is already running (pid ${running})`);
    st.postgres = await this.c.launcher.daemon(h.name, join(h.binDir, 'postgres'), ['-D', h.pgdata], {
      user: 'postgres',
      logFile: h.logFile,
    });
    const stat = readStat(st.postgres.pid);
    if (stat) st.seenPostmasters.set(st.postgres.pid, stat.startTime);
    if (opts.wait ?? true) await this.c.waitPostgresReady(h, opts.timeoutMs ?? 30_000);
    return st.postgres.pid;
  }

  /**
   * Starts postgres like start(), but as the child of a parent that does not
   * reap it until reapUnreaped() (or teardown): killed, the postmaster stays
   * a zombie. Returns the postmaster's pid once it accepts connections.
   */
  async startUnreaped(hostName: string | Host, opts: { timeoutMs?: number } = {}): Promise<number> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    const running = this.c.postmasterPid(h);
    if (running) throw new Error(`postgres on ${h.name} is already running (pid ${running})`);
    // An earlier start()'s exited child would make waitPostgresReady think this one exited.
    st.postgres = undefined;
    st.unreapingParent = await this.c.launcher.daemon(h.name, '/usr/bin/perl', ['-e', UNREAPING_PARENT, join(h.binDir, 'postgres'), '-D', h.pgdata], {
      user: 'postgres',
      logFile: h.logFile,
    });
    await this.c.waitPostgresReady(h, opts.timeoutMs ?? 30_000);
    const pid = this.c.postmasterPid(h);
    if (!pid || readStat(pid)?.ppid !== st.unreapingParent.pid) throw new Error(`postgres on ${h.name} is not the child of the unreaping parent ${st.unreapingParent.pid}`);
    return pid;
  }

  /** Tells startUnreaped()'s parent to reap its child (a zombie, or postgres once it exits) and exit. */
  async reapUnreaped(hostName: string | Host): Promise<void> {
    const st = this.c.hostState(hostName);
    await st.unreapingParent?.stop('SIGUSR1', 5_000);
    st.unreapingParent = undefined;
  }

  /** pg_ctl stop -m <mode> as postgres (default fast); waits until the postmaster is gone. No-op when not running. */
  async stop(hostName: string | Host, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    const h = this.c.host(hostName);
    const pid = this.c.postmasterPid(h);
    if (!pid) return;
    await this.resume(h);
    await this.c.launcher.run(h.name, join(h.binDir, 'pg_ctl'), ['stop', '-D', h.pgdata, '-m', mode, '-w', '-t', '60'], {
      user: 'postgres',
      timeoutMs: 70_000,
    });
    await waitGone([pid], 10_000);
  }

  async restart(hostName: string | Host): Promise<number> {
    await this.stop(hostName);
    return this.start(hostName);
  }

  /**
   * Sends a signal to the host's postmaster (default SIGKILL). For SIGKILL and
   * SIGQUIT it waits until the postmaster and the children it had are gone,
   * so an immediate start() does not meet their shared memory.
   */
  async kill(hostName: string | Host, sig: NodeJS.Signals = 'SIGKILL', opts: { wait?: boolean } = {}): Promise<number> {
    const h = this.c.host(hostName);
    const pid = this.c.postmasterPid(h);
    if (!pid) throw new Error(`postgres on ${h.name} is not running`);
    const children = descendants(pid).map((p) => p.pid);
    signal(pid, sig);
    if (opts.wait ?? FATAL_WAIT.has(sig)) {
      const left = await waitGone([pid], 10_000);
      if (left.length > 0) throw new Error(`postmaster ${pid} on ${h.name} survived ${sig}`);
      // Stopped (hung) children cannot notice the postmaster's death.
      for (const c of children) signal(c, 'SIGCONT');
      this.c.hostState(h).hungPids = [];
      const stragglers = await waitGone(children, 5_000);
      for (const c of stragglers) signal(c, 'SIGKILL');
      await waitGone(stragglers, 5_000);
    }
    return pid;
  }

  /** SIGSTOP to the postmaster and all its children: new connections and running queries hang. */
  async hang(hostName: string | Host): Promise<number[]> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    const pid = this.c.postmasterPid(h);
    if (!pid) throw new Error(`postgres on ${h.name} is not running`);
    const stopped = new Set<number>([pid]);
    signal(pid, 'SIGSTOP');
    // Children forked just before the postmaster stopped show up on a second look.
    for (let round = 0; round < 3; round++) {
      for (const child of descendants(pid)) {
        if (!stopped.has(child.pid)) {
          signal(child.pid, 'SIGSTOP');
          stopped.add(child.pid);
        }
      }
      await sleep(10);
    }
    st.hungPids = [...new Set([...st.hungPids, ...stopped])];
    return st.hungPids;
  }

  /** SIGCONT to everything hang() stopped (and the postmaster's current children). */
  async resume(hostName: string | Host): Promise<void> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    const pid = this.c.postmasterPid(h);
    const pids = new Set(st.hungPids);
    if (pid) {
      pids.add(pid);
      for (const d of descendants(pid)) pids.add(d.pid);
    }
    for (const p of pids) signal(p, 'SIGCONT');
    st.hungPids = [];
  }

  // ----- ssh ------------------------------------------------------------------------

  /** Kills the host's sshd and its per-connection processes (not postgres): new connections are refused, sessions drop. */
  async sshDown(hostName: string | Host): Promise<void> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    const sshd = st.sshdPid;
    st.sshUp = false;
    st.sshdPid = undefined;
    if (!sshd || !isAlive(sshd)) return;
    const all = listProcesses();
    const victims = descendants(sshd, all)
      .filter((p) => p.comm !== 'postgres')
      .map((p) => p.pid);
    signal(sshd, 'SIGKILL');
    for (const v of victims) signal(v, 'SIGKILL');
    // Session leftovers adopted by the host's reaper meanwhile.
    if (st.reaper) {
      for (const p of listProcesses()) {
        if (p.ppid === st.reaper.pid && p.comm !== 'postgres' && p.state !== 'Z' && p.pid !== sshd) {
          signal(p.pid, 'SIGKILL');
          victims.push(p.pid);
        }
      }
    }
    const left = await waitGone([sshd, ...victims], 5_000);
    if (left.includes(sshd)) throw new Error(`sshd ${sshd} on ${h.name} survived SIGKILL`);
  }

  /** (Re)starts the host's sshd below its reaper and waits until it accepts TCP connections. */
  async sshUp(hostName: string | Host): Promise<number> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    if (st.sshdPid && isAlive(st.sshdPid)) return st.sshdPid;
    if (!st.reaper) throw new Error(`${h.name} has no reaper (cluster not set up?)`);
    const cfg = join(h.dir, 'sshd', 'sshd_config');
    const log = join(h.dir, 'sshd', 'sshd.log');
    const pid = await st.reaper.start(['/usr/sbin/sshd', '-D', '-e', '-f', cfg], log);
    st.sshdPid = pid;
    await waitFor(
      `sshd on ${h.name} (${h.address}:${h.sshPort})`,
      async () => {
        if (!isAlive(pid)) throw new Error(`sshd exited; log ${log}:\n${tail(log)}`);
        return tcpReachable(h.address, h.sshPort, 300);
      },
      10_000,
      20,
    );
    st.sshUp = true;
    return pid;
  }

  /**
   * Docker backend: the host is lost. Its container is killed (`docker kill`):
   * postgres, sshd, SSH sessions, everything on it ends at the same moment and
   * its address refuses connections. There is no way back; the test tears it down.
   */
  async hostDown(hostName: string | Host): Promise<void> {
    const h = this.c.host(hostName);
    const st = this.c.hostState(h);
    if (this.c.launcher.kind !== 'docker') throw new Error(`hostDown(${h.name}) needs the docker backend (locally: sshDown and kill)`);
    const pids = [this.c.postmasterPid(h), st.sshdPid, st.pgbouncer?.pid].filter((pid): pid is number => pid !== undefined && pid !== null);
    await (this.c.launcher as DockerLauncher).killHost(h.name);
    st.sshUp = false;
    st.sshdPid = undefined;
    const left = await waitGone(pids, 10_000);
    if (left.length > 0) throw new Error(`processes of ${h.name} survived docker kill: ${left.join(', ')}`);
  }

  // ----- network ------------------------------------------------------------------

  private async iptables(action: '-A' | '-D', rule: string[]): Promise<boolean> {
    const r = await this.c.launcher.run(null, 'iptables', ['-w', '5', action, ...rule], { check: action === '-A', timeoutMs: 15_000 });
    return r.code === 0;
  }

  private async addRule(rule: string[]): Promise<void> {
    const key = rule.join(' ');
    if (this.c.iptablesRules.some((r) => r.join(' ') === key)) return;
    await this.iptables('-A', rule);
    this.c.iptablesRules.push(rule);
  }

  private async removeRule(rule: string[]): Promise<void> {
    const key = rule.join(' ');
    // Delete every copy (a rule added twice by someone else needs two -D).
    while (await this.iptables('-D', rule)) {
      /* again */
    }
    const i = this.c.iptablesRules.findIndex((r) => r.join(' ') === key);
    if (i >= 0) this.c.iptablesRules.splice(i, 1);
  }

  private partitionRules(h: Host): string[][] {
    return [
      ['INPUT', '-d', h.address, '-j', 'DROP'],
      // Replies from the host's listening sockets (source = its address) too,
      // so established connections to it stall as well.
      ['INPUT', '-s', h.address, '-j', 'DROP'],
    ];
  }

  private rootOnlyRule(h: Host): string[] {
    return ['OUTPUT', '-d', h.address, '-m', 'owner', '--uid-owner', '0', '-j', 'DROP'];
  }

  /**
   * Cuts the host off from everyone: packets to its address and from its
   * address are dropped. Connections that its own processes open to other
   * hosts leave from 127.0.0.1 and are not cut (e.g. a partitioned replica's
   * WAL receiver to the master); partition the other end for those.
   */
  async partition(hostName: string | Host): Promise<void> {
    for (const r of this.partitionRules(this.c.host(hostName))) await this.addRule(r);
  }

  async heal(hostName: string | Host): Promise<void> {
    for (const r of this.partitionRules(this.c.host(hostName))) await this.removeRule(r);
  }

  /** Cuts only root's traffic to the host (HandyRep in tests runs as root); postgres-user replication keeps flowing. */
  async partitionFromHandyrep(hostName: string | Host): Promise<void> {
    await this.addRule(this.rootOnlyRule(this.c.host(hostName)));
  }

  async healFromHandyrep(hostName: string | Host): Promise<void> {
    await this.removeRule(this.rootOnlyRule(this.c.host(hostName)));
  }

  /** Removes every iptables rule this cluster added. */
  async healAll(): Promise<void> {
    for (const r of [...this.c.iptablesRules]) await this.removeRule(r);
  }

  // ----- replication ------------------------------------------------------------------

  async pauseReplay(replica: string | Host): Promise<void> {
    await this.c.query(replica, 'SELECT pg_wal_replay_pause()');
    await waitFor(`replay paused on ${this.c.host(replica).name}`, async () => {
      const rows = await this.c.query<{ s: string }>(replica, 'SELECT pg_get_wal_replay_pause_state() AS s');
      return rows[0]!.s === 'paused';
    });
  }

  async resumeReplay(replica: string | Host): Promise<void> {
    await this.c.query(replica, 'SELECT pg_wal_replay_resume()');
  }

  /** Writes about `mb` MB of WAL on a host (inserts into harness_filler); returns the bytes of WAL written. */
  async generateWal(hostName: string | Host, mb: number): Promise<number> {
    const rows = await this.c.query<{ bytes: string }>(
      hostName,
      `WITH before AS (SELECT pg_current_wal_lsn() AS l),
            ins AS (INSERT INTO harness_filler (pad) SELECT repeat(md5(g::text), 30) FROM generate_series(1, $1::int) g RETURNING 1)
       SELECT (SELECT count(*) FROM ins) AS n, (SELECT l FROM before)::text AS bytes`,
      [Math.ceil(mb * 900)],
      { timeoutMs: 60_000 },
    );
    const before = rows[0]!.bytes;
    const after = await this.c.query<{ d: string }>(hostName, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint::text AS d', [before]);
    return Number(after[0]!.d);
  }

  /**
   * Lag on demand: pauses replay on the replica, writes `mb` MB of WAL on the
   * master, and waits until the master's pg_stat_replication shows replay lag;
   * returns that lag in bytes. resumeReplay() ends it.
   */
  async makeLag(replica: string | Host, mb = 4, master: string | Host = this.c.master): Promise<number> {
    const r = this.c.host(replica);
    await this.pauseReplay(r);
    await this.generateWal(master, mb);
    return waitFor(`replay lag on ${r.name}`, async () => {
      const lag = await this.c.replayLagBytes(r, master);
      return lag !== null && lag > 0 ? lag : 0;
    });
  }

  /** SIGSTOP the replica's WAL receiver: it stops receiving (receive lag grows) until resumeWalReceiver(). */
  async hangWalReceiver(replica: string | Host): Promise<number> {
    const r = this.c.host(replica);
    const rows = await this.c.query<{ pid: number }>(r, 'SELECT pid FROM pg_stat_wal_receiver');
    const pid = rows[0]?.pid;
    if (!pid) throw new Error(`${r.name} has no WAL receiver`);
    signal(pid, 'SIGSTOP');
    const st = this.c.hostState(r);
    st.hungPids = [...new Set([...st.hungPids, pid])];
    return pid;
  }

  async resumeWalReceiver(replica: string | Host): Promise<void> {
    const st = this.c.hostState(replica);
    for (const p of st.hungPids) signal(p, 'SIGCONT');
    st.hungPids = [];
  }

  // ----- pgbouncer ------------------------------------------------------------------

  async startPgbouncer(hostName: string | Host): Promise<number> {
    const b = this.c.host(hostName);
    const st = this.c.hostState(b);
    if (st.pgbouncer?.running) return st.pgbouncer.pid;
    st.pgbouncer = await this.c.launcher.daemon(b.name, '/usr/sbin/pgbouncer', [b.pgbouncerIni!], {
      user: 'postgres',
      logFile: b.pgbouncerLog!,
    });
    const proc = st.pgbouncer;
    await waitFor(
      `pgbouncer on ${b.name}`,
      async () => {
        if (!proc.running) throw new Error(`pgbouncer exited; log:\n${tail(b.pgbouncerLog!)}`);
        return tcpReachable(b.address, b.pgPort, 300);
      },
      10_000,
      20,
    );
    return proc.pid;
  }

  async killPgbouncer(hostName: string | Host, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const st = this.c.hostState(hostName);
    await st.pgbouncer?.stop(sig, 5_000);
  }
}
