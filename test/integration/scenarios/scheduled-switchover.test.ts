// Issue 18, scheduled switchover, on a real cluster with the real daemon:
// scheduled 5 s ahead through the web API with the daemon restarted in
// between, it runs at its time and loses no acknowledged commit (a writer
// through pgbouncer); a cancelled one never runs; one whose target is down at
// its time is cancelled with an alert and the master stays; with the daemon
// down at its time, a start later than switchover_grace_seconds cancels it
// and a start within it runs it.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCluster } from '../../harness/index.js';
import type { Cluster, SplitBrainWatcher, Writer } from '../../harness/index.js';
import { act, ADMIN_PASSWORD, freePort, logLines, read, READ_PASSWORD, saveLogs, sleep, startDaemonProc, stopDaemon, until } from '../multi-instance/daemons.js';
import type { DaemonProc, LogLine } from '../multi-instance/daemons.js';
import { FAST_FAILOVER, pgbouncerOverrides, report } from './scenario-support.js';

interface Pending {
  at: string;
  newmaster: string | null;
  master: string;
}

interface Status {
  cluster: { status: string; status_message: string; scheduled_switchover?: Pending };
  servers: Record<string, { status: string; enabled: boolean; role: string }>;
}

/** switchover_grace_seconds of this file: short, so a start past it fits in a test. */
const GRACE_S = 10;

/** The daemon of this file: one instance, its own state file, log and port, simple_password_auth. */
async function prepareDaemon(cluster: Cluster): Promise<DaemonProc> {
  const dir = join(cluster.baseDir, 'daemon');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proxy = pgbouncerOverrides(cluster);
  const configFile = cluster.writeConfig(join(dir, 'handyrep.conf'), {
    ...FAST_FAILOVER,
    ...proxy,
    handyrep: {
      ...FAST_FAILOVER.handyrep,
      server_file: join(dir, 'servers.save'),
      log_file: join(dir, 'handyrep.log'),
      web_listen: '127.0.0.1',
      web_port: port,
      authentication_method: 'simple_password_auth',
    },
    failover: { ...FAST_FAILOVER.failover, ...proxy.failover, switchover_grace_seconds: GRACE_S },
    passwords: { admin_password: ADMIN_PASSWORD, read_password: READ_PASSWORD },
  });
  return { name: 'daemon', configFile, logFile: join(dir, 'handyrep.log'), stderrFile: join(dir, 'daemon.stderr'), port, url: `http://127.0.0.1:${port}`, child: undefined, stopped: false };
}

/** Log lines of the scheduler since `since` (ms since the epoch). */
function schedulerLines(d: DaemonProc, since: number, pattern: RegExp): LogLine[] {
  return logLines(d).filter((line) => line.time >= since && pattern.test(line.msg));
}

/** The longest gap between consecutive acknowledged commits acknowledged in [from, to]: the write outage seen by a client. */
function longestAckGap(writer: Writer, from: number, to: number): number {
  const times = writer.acked.map((ack) => ack.t).filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i += 1) gap = Math.max(gap, (times[i] as number) - (times[i - 1] as number));
  return gap;
}

async function waitHealthy(d: DaemonProc, timeoutMs = 30_000): Promise<Status> {
  const healthy = await until(async () => {
    const status = await read<Status>(d, 'get_status');
    return status.cluster.status === 'healthy' ? status : undefined;
  }, timeoutMs, 200);
  if (!healthy) assert.fail(`the cluster did not become healthy within ${timeoutMs} ms: ${JSON.stringify((await read<Status>(d, 'get_status')).cluster)}`);
  return healthy;
}

describe('issue 18: scheduled switchover through the daemon', () => {
  let cluster: Cluster;
  let daemon: DaemonProc;
  let writer: Writer;
  let watcher: SplitBrainWatcher;

  before(async () => {
    cluster = await createCluster({ replicas: 2, pgbouncer: 1, pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' } });
    daemon = await prepareDaemon(cluster);
    await startDaemonProc(daemon);
    const init = await act(daemon, 'connection_proxy_init', {});
    assert.equal(init.result, 'SUCCESS', init.details);
    watcher = await cluster.startSplitBrainWatcher();
    writer = await cluster.startWriter({ host: cluster.pgbouncers[0]?.name ?? '', intervalMs: 20 });
  });

  after(async () => {
    await writer?.stop().catch(() => undefined);
    await watcher?.stop().catch(() => undefined);
    if (daemon) {
      await stopDaemon(daemon).catch(() => undefined);
      console.log(`# daemon log kept in ${saveLogs([daemon], 'scheduled-switchover')}`);
    }
    await cluster?.teardown();
  });

  it('scheduled 5 s ahead, the daemon restarted in between: it runs at its time and loses no acknowledged commit', async () => {
    await waitHealthy(daemon);
    await writer.waitForAcks(50);
    const atMs = Date.now() + 5000;
    const at = new Date(atMs).toISOString();
    const scheduled = await act(daemon, 'manual_failover', { newmaster: 'pg2', at });
    assert.equal(scheduled.result, 'SUCCESS', scheduled.details);
    assert.equal(scheduled.details, `switchover scheduled for ${at}`);
    assert.deepEqual((await read<Status>(daemon, 'get_status')).cluster.scheduled_switchover?.at, at);

    const restartStarted = Date.now();
    await stopDaemon(daemon);
    await startDaemonProc(daemon);
    const restartMs = Date.now() - restartStarted;
    if (Date.now() < atMs) assert.equal((await read<Status>(daemon, 'get_status')).cluster.scheduled_switchover?.at, at, 'still pending after the restart');

    const switched = await until(async () => ((await read<string | null>(daemon, 'get_master_name')) === 'pg2' ? true : undefined), 60_000, 100);
    assert.ok(switched, `pg2 did not become the master: ${JSON.stringify((await read<Status>(daemon, 'get_status')).cluster)}`);
    const starts = schedulerLines(daemon, atMs - 1000, /^scheduled switchover from pg1 to pg2 starting/);
    assert.equal(starts.length, 1, 'the scheduled switchover started once');
    const started = starts[0] as LogLine;
    const done = await until(async () => schedulerLines(daemon, atMs - 1000, /^scheduled switchover due .* done/)[0], 30_000, 100);
    assert.ok(done, `the scheduled switchover did not finish: ${schedulerLines(daemon, atMs - 1000, /scheduled switchover/).map((l) => l.msg).join(' | ')}`);
    assert.equal((await read<Status>(daemon, 'get_status')).cluster.scheduled_switchover, undefined, 'no longer pending');

    await writer.waitForAcks(50, 30_000);
    const outageMs = longestAckGap(writer, atMs - 2000, Date.now());
    await writer.stop();
    const check = await cluster.checkCommits(writer, 'pg2');
    report('scheduled switchover', {
      scheduled_at: at,
      started_at: new Date(started.time).toISOString(),
      start_late_ms: started.time - atMs,
      done_after_ms: done.time - atMs,
      switchover_ms: String(done.raw['duration_ms']),
      writable_after_ms: String(done.raw['writable_after_ms']),
      daemon_restart_ms: restartMs,
      write_outage_ms: outageMs,
      acked: writer.acked.length,
      missing: check.missing.length,
    });
    assert.equal(check.missing.length, 0, 'zero acknowledged commits lost');
    const { violations } = await watcher.stop();
    assert.deepEqual(violations, [], 'never two servers accepting writes');
  });

  it('a cancelled switchover never runs', async () => {
    await waitHealthy(daemon, 60_000).catch(() => undefined);
    const master = await read<string | null>(daemon, 'get_master_name');
    assert.equal(master, 'pg2');
    const atMs = Date.now() + 4000;
    const at = new Date(atMs).toISOString();
    const scheduled = await act(daemon, 'manual_failover', { newmaster: 'pg3', at });
    assert.equal(scheduled.result, 'SUCCESS', scheduled.details);
    const second = await act(daemon, 'manual_failover', { newmaster: 'pg3', at: new Date(atMs + 60_000).toISOString() });
    assert.equal(second.result, 'FAIL');
    assert.match(second.details, new RegExp(`already scheduled for ${at}`));

    const cancelled = await act(daemon, 'cancel_switchover', {});
    assert.equal(cancelled.result, 'SUCCESS', cancelled.details);
    assert.equal((await read<Status>(daemon, 'get_status')).cluster.scheduled_switchover, undefined);
    const again = await act(daemon, 'cancel_switchover', {});
    assert.equal(again.result, 'FAIL');
    assert.match(again.details, /no switchover is scheduled/);

    await sleep(Math.max(0, atMs - Date.now()) + 3000);
    assert.equal(await read<string | null>(daemon, 'get_master_name'), 'pg2', 'the master is unchanged');
    assert.equal(await cluster.inRecovery('pg3'), true, 'pg3 is still a replica');
    assert.deepEqual(schedulerLines(daemon, atMs - 5000, /^scheduled switchover .* to pg3 starting/), [], 'it never started');
  });

  it('a switchover whose target is down at its time is cancelled with an alert; the master stays', async () => {
    const atMs = Date.now() + 5000;
    const at = new Date(atMs).toISOString();
    const scheduled = await act(daemon, 'manual_failover', { newmaster: 'pg3', at });
    assert.equal(scheduled.result, 'SUCCESS', scheduled.details);
    await cluster.faults.stop('pg3');
    try {
      const cancelled = await until(async () => schedulerLines(daemon, atMs - 1000, /^ALERT status_warning: scheduled switchover from pg2 to pg3 due .* cancelled/)[0], 20_000, 100);
      assert.ok(cancelled, `no cancellation alert: ${schedulerLines(daemon, atMs - 6000, /scheduled switchover/).map((l) => l.msg).join(' | ')}`);
      report('unhealthy at its time', { scheduled_at: at, cancelled_after_ms: cancelled.time - atMs, alert: cancelled.msg });
      assert.match(cancelled.msg, /pg3 did not answer as a replica/);
      assert.equal((await read<Status>(daemon, 'get_status')).cluster.scheduled_switchover, undefined);
      assert.equal(await read<string | null>(daemon, 'get_master_name'), 'pg2');
      assert.equal(await cluster.inRecovery('pg2'), false, 'pg2 is still the writable master');
    } finally {
      await cluster.faults.start('pg3');
    }
  });

  it('HandyRep down at its time: started later than switchover_grace_seconds it is cancelled, started within it runs', async () => {
    await waitHealthy(daemon, 60_000);
    const downOver = async (atMs: number, startAt: number): Promise<number> => {
      await stopDaemon(daemon);
      await sleep(Math.max(0, startAt - Date.now()));
      await startDaemonProc(daemon);
      return Date.now() - atMs;
    };

    const lateAtMs = Date.now() + 3000;
    const late = await act(daemon, 'manual_failover', { newmaster: 'pg3', at: new Date(lateAtMs).toISOString() });
    assert.equal(late.result, 'SUCCESS', late.details);
    const startedLateMs = await downOver(lateAtMs, lateAtMs + (GRACE_S + 1) * 1000);
    const cancelled = await until(async () => schedulerLines(daemon, lateAtMs, /^ALERT status_warning: scheduled switchover from pg2 to pg3 .* cancelled: it is \d+ s past its time/)[0], 20_000, 100);
    assert.ok(cancelled, 'cancelled with an alert for being too late');
    assert.equal(await read<string | null>(daemon, 'get_master_name'), 'pg2', 'the master is unchanged');
    assert.equal((await read<Status>(daemon, 'get_status')).cluster.scheduled_switchover, undefined);

    await waitHealthy(daemon, 60_000);
    const atMs = Date.now() + 3000;
    const scheduled = await act(daemon, 'manual_failover', { newmaster: 'pg3', at: new Date(atMs).toISOString() });
    assert.equal(scheduled.result, 'SUCCESS', scheduled.details);
    const startedMs = await downOver(atMs, atMs + 2000);
    const switched = await until(async () => ((await read<string | null>(daemon, 'get_master_name')) === 'pg3' ? true : undefined), 60_000, 100);
    assert.ok(switched, `pg3 did not become the master: ${schedulerLines(daemon, atMs - 4000, /scheduled switchover/).map((l) => l.msg).join(' | ')}`);
    const started = schedulerLines(daemon, atMs, /^scheduled switchover from pg2 to pg3 starting/)[0];
    assert.ok(started, 'the scheduler started it');
    report('HandyRep down at the time', {
      grace_s: GRACE_S,
      too_late_daemon_back_after_ms: startedLateMs,
      too_late_cancelled: cancelled.msg,
      late_daemon_back_after_ms: startedMs,
      late_start_ms: started.time - atMs,
    });
  });
});
