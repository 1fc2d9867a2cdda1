// SCENARIOS.md 16 / issue #9: several HandyRep daemons on one PostgreSQL
// cluster, coordinated through etcd by hr_master_etcd. Real processes
// (`node core/bin/handyrep.js --config <file> daemon`), real etcd (one member,
// and a three-member cluster), real faults.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCluster } from '../harness/index.js';
import type { Cluster } from '../harness/index.js';
import { report } from './scenarios/scenario-support.js';
import {
  act,
  agreedActing,
  alive,
  killDaemon,
  logLines,
  prepareDaemon,
  read,
  saveLogs,
  signal,
  sleep,
  startDaemonProc,
  stopDaemon,
  until,
  views,
} from './multi-instance/daemons.js';
import type { DaemonProc } from './multi-instance/daemons.js';

/** Short lease for tests: takeover within ~TTL; the acting instance stops acting 1 s before its lease could expire. */
const TTL_SECONDS = 3;
const ETCD_SETTINGS = { lease_ttl_seconds: TTL_SECONDS };
/** Slack beyond the TTL for a takeover to show in get_status: etcd's expiry sweep (0.5 s), the watch, one core check (poll_interval 1 s). */
const TAKEOVER_SLACK_MS = 2_500;
const PG_SETTINGS = { wal_receiver_timeout: '2s', wal_sender_timeout: '2s' };

async function startGroup(cluster: Cluster, names: string[]): Promise<DaemonProc[]> {
  const daemons: DaemonProc[] = [];
  for (const name of names) daemons.push(await prepareDaemon(cluster, name, ETCD_SETTINGS));
  await Promise.all(daemons.map((d) => startDaemonProc(d)));
  return daemons;
}

async function stopGroup(daemons: DaemonProc[]): Promise<void> {
  await Promise.all(daemons.map((d) => stopDaemon(d).catch(() => undefined)));
}

function byName(daemons: DaemonProc[], name: string): DaemonProc {
  const found = daemons.find((d) => d.name === name);
  assert.ok(found, `no daemon ${name}`);
  return found;
}

/** Waits for the group to agree on one acting instance; fails with every daemon's view. */
async function oneActing(daemons: DaemonProc[], expectCount: number, timeoutMs: number): Promise<string> {
  const name = await until(() => agreedActing(daemons, expectCount), timeoutMs);
  assert.ok(name, `no single acting instance agreed within ${timeoutMs} ms: ${JSON.stringify(await views(daemons))}`);
  return name;
}

/** SIGKILLs the acting daemon; returns who took over and how long get_status took to say so. */
async function killActingAndMeasure(daemons: DaemonProc[], acting: string): Promise<{ successor: string; takeoverMs: number; electedMs: number | undefined }> {
  const victim = byName(daemons, acting);
  const others = daemons.filter((d) => d !== victim);
  const killedAt = Date.now();
  await killDaemon(victim);
  const successor = await until(async () => {
    const seen = await views(others);
    const acts = seen.filter((v) => v.acts);
    return acts.length === 1 ? acts[0]?.name : undefined;
  }, TTL_SECONDS * 1000 + 10_000, 50);
  const takeoverMs = Date.now() - killedAt;
  assert.ok(successor, `nobody took over from ${acting}: ${JSON.stringify(await views(others))}`);
  // When the successor's plugin won the key (its log), as opposed to when its core's next check showed it.
  const elected = logLines(byName(daemons, successor)).find((line) => line.time >= killedAt && /^elected: /.test(line.msg));
  return { successor, takeoverMs, electedMs: elected ? elected.time - killedAt : undefined };
}

function failoverCounts(daemons: DaemonProc[], since: number): { started: number; promoted: number; refused: number; perDaemon: Record<string, number> } {
  let started = 0;
  let promoted = 0;
  let refused = 0;
  const perDaemon: Record<string, number> = {};
  for (const d of daemons) {
    for (const line of logLines(d)) {
      if (!(line.time >= since)) continue;
      if (line.raw.alert === 'failover_started' || /failover_started/.test(line.msg)) {
        started += 1;
        perDaemon[d.name] = (perDaemon[d.name] ?? 0) + 1;
      }
      if (/^failover step promote \S+: SUCCESS/.test(line.msg)) promoted += 1;
      if (/not the acting one/.test(line.msg)) refused += 1;
    }
  }
  return { started, promoted, refused, perDaemon };
}

describe('several HandyRep instances, single-member etcd', () => {
  let cluster: Cluster;
  let daemons: DaemonProc[] = [];
  let suiteStarted = 0;

  before(async () => {
    suiteStarted = Date.now();
    cluster = await createCluster({ replicas: 2, etcd: true, pgSettings: PG_SETTINGS });
    daemons = await startGroup(cluster, ['hr1', 'hr2', 'hr3']);
  });

  after(async () => {
    await stopGroup(daemons);
    saveLogs(daemons, 'etcd-1-member');
    if (cluster?.etcd) for (const m of cluster.etcd.members) if (m.pid) process.kill(m.pid, 'SIGCONT');
    await cluster?.teardown();
    report('multi-instance single-member etcd suite', { seconds: ((Date.now() - suiteStarted) / 1000).toFixed(1) });
  });

  it('exactly one instance acts, and every instance says which', async () => {
    const acting = await oneActing(daemons, 3, 15_000);
    const seen = await views(daemons);
    assert.deepEqual(seen.filter((v) => v.acts).map((v) => v.name), [acting]);
    for (const v of seen) assert.equal(v.acting_instance, acting, `${v.name}'s get_status`);
    const leader = await cluster.etcdctl(['get', '/handyrep/multi/leader', '--print-value-only']);
    assert.equal(leader.stdout.trim(), acting);
    // A standby refuses actions, naming the acting instance.
    const standby = daemons.find((d) => d.name !== acting) as DaemonProc;
    const refused = await act(standby, 'alter_server_def', { servername: 'pg3', serverprops: { failover_priority: 5 } });
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, new RegExp(`not the acting one \\(${acting} acts\\)`));
    // The acting instance does it, and the standbys adopt the change from the shared state.
    const done = await act(byName(daemons, acting), 'alter_server_def', { servername: 'pg3', serverprops: { failover_priority: 5 } });
    assert.equal(done.result, 'SUCCESS', done.details);
    const adopted = await until(async () => {
      const infos = await Promise.all(daemons.map((d) => read<Record<string, { failover_priority?: number }>>(d, 'get_server_info?servername=pg3')));
      return infos.every((info) => JSON.stringify(info).includes('"failover_priority":5')) ? true : undefined;
    }, 10_000, 200);
    assert.ok(adopted, 'every instance shows the acting instance\'s change');
  });

  it('SIGKILL of the acting daemon: another takes over within the lease TTL', async () => {
    const acting = await oneActing(daemons, 3, 10_000);
    const { successor, takeoverMs, electedMs } = await killActingAndMeasure(daemons, acting);
    report('multi-instance takeover after SIGKILL (etcd 1 member)', {
      killed: acting,
      successor,
      lease_ttl_s: TTL_SECONDS,
      elected_after_ms: electedMs ?? 'n/a',
      get_status_after_ms: takeoverMs,
    });
    assert.notEqual(successor, acting);
    assert.ok(takeoverMs <= TTL_SECONDS * 1000 + TAKEOVER_SLACK_MS, `takeover took ${takeoverMs} ms (TTL ${TTL_SECONDS} s)`);
    if (electedMs !== undefined) assert.ok(electedMs <= TTL_SECONDS * 1000 + 1000, `elected after ${electedMs} ms`);
    // The killed one comes back as a standby.
    await startDaemonProc(byName(daemons, acting));
    assert.equal(await oneActing(daemons, 3, 15_000), successor);
  });

  it('SIGSTOP of the acting daemon past its lease, then SIGCONT: it does not act, writes no shared state, logs that it lost the role', async () => {
    const acting = await oneActing(daemons, 3, 10_000);
    const paused = byName(daemons, acting);
    const others = daemons.filter((d) => d !== paused);
    const stoppedAt = Date.now();
    signal(paused, 'SIGSTOP');
    const successor = await until(async () => {
      const acts = (await views(others)).filter((v) => v.acts);
      return acts.length === 1 ? acts[0]?.name : undefined;
    }, TTL_SECONDS * 1000 + 10_000, 50);
    assert.ok(successor, 'another instance took over from the stopped one');
    report('multi-instance takeover after SIGSTOP (etcd 1 member)', { stopped: acting, successor, get_status_after_ms: Date.now() - stoppedAt });
    // Well past its lease.
    const pastLease = stoppedAt + TTL_SECONDS * 1000 + 2_000 - Date.now();
    if (pastLease > 0) await sleep(pastLease);
    const stateBefore = (await cluster.etcdctl(['get', '/handyrep/multi/state', '--print-value-only'])).stdout;

    const resumedAt = Date.now();
    signal(paused, 'SIGCONT');
    // At once: refused (its own clock says its last renewal is too old).
    const first = await act(paused, 'alter_server_def', { servername: 'pg2', serverprops: { failover_priority: 77 } });
    assert.equal(first.result, 'FAIL', `the resumed instance acted: ${first.details}`);
    assert.match(first.details, /not the acting one/);
    // Once it has heard from etcd: refused, naming the new acting instance.
    const named = await until(async () => {
      const answer = await act(paused, 'alter_server_def', { servername: 'pg2', serverprops: { failover_priority: 77 } });
      assert.equal(answer.result, 'FAIL', `the resumed instance acted: ${answer.details}`);
      return answer.details.includes(`(${successor} acts)`) ? answer.details : undefined;
    }, 10_000, 250);
    assert.ok(named, `the resumed instance never named ${successor} as acting`);
    assert.equal((await views([paused]))[0]?.acts, false);

    // For a few seconds: never acting again, and always exactly one acting instance.
    for (let i = 0; i < 8; i += 1) {
      const seen = await views(daemons);
      assert.equal(seen.find((v) => v.name === acting)?.acts, false, 'the resumed instance acts again');
      assert.ok(seen.filter((v) => v.acts).length <= 1, `two acting instances: ${JSON.stringify(seen)}`);
      await sleep(250);
    }
    // It wrote nothing to the shared state: its refused change is not there.
    const stateAfter = (await cluster.etcdctl(['get', '/handyrep/multi/state', '--print-value-only'])).stdout;
    assert.ok(stateBefore.length > 0, 'the acting instances share their state');
    assert.ok(!stateAfter.includes('"failover_priority":77'), 'the resumed instance changed the shared state');
    // Its log says it lost the role.
    const lost = logLines(paused).filter((line) => line.time >= resumedAt && /stopped acting|does not act|lease \d+ expired/.test(line.msg));
    assert.ok(lost.length > 0, `no line about losing the role in ${paused.logFile}`);
  });

  it('losing etcd: no failover, and the acting instance stops acting before its lease could expire', async () => {
    const acting = await oneActing(daemons, 3, 10_000);
    const members = cluster.etcd?.members ?? [];
    const since = Date.now();
    for (const m of members) process.kill(m.pid, 'SIGSTOP');
    try {
      const nobody = await until(async () => ((await views(daemons)).every((v) => !v.acts) ? Date.now() - since : undefined), TTL_SECONDS * 1000 + 3_000, 50);
      assert.ok(nobody !== undefined, `an instance still acts without etcd: ${JSON.stringify(await views(daemons))}`);
      report('multi-instance etcd lost', { acting, stopped_acting_after_ms: nobody, lease_ttl_s: TTL_SECONDS });
      // Its own plugin said so before the TTL ran out (the core shows it at its next check).
      const stopped = logLines(byName(daemons, acting)).find((line) => line.time >= since && /stopped acting/.test(line.msg));
      assert.ok(stopped, 'the acting instance logged that it stopped acting');
      assert.ok(stopped.time - since < TTL_SECONDS * 1000, `stopped acting ${stopped.time - since} ms after etcd stopped (TTL ${TTL_SECONDS} s)`);
      await sleep(2_000);
      assert.deepEqual((await views(daemons)).filter((v) => v.acts), [], 'nobody acts while etcd is gone');
    } finally {
      for (const m of members) process.kill(m.pid, 'SIGCONT');
    }
    assert.deepEqual(await cluster.findMasters(), ['pg1'], 'the master is untouched');
    assert.equal(failoverCounts(daemons, since).started, 0, 'no failover started');
    const back = await oneActing(daemons, 3, TTL_SECONDS * 1000 + 15_000);
    report('multi-instance etcd back', { acting: back, after_ms: Date.now() - since });
  });

  it('master host lost with three daemons running: exactly one failover; every instance agrees on the new master', async () => {
    const acting = await oneActing(daemons, 3, 10_000);
    const watcher = await cluster.startSplitBrainWatcher();
    const since = Date.now();
    await cluster.faults.kill('pg1');
    await cluster.faults.sshDown('pg1');
    const newMaster = await until(async () => {
      const masters = await cluster.findMasters();
      return masters.length === 1 && masters[0] !== 'pg1' ? masters[0] : undefined;
    }, 30_000, 100);
    assert.ok(newMaster, 'a replica was promoted');
    const promotedMs = Date.now() - since;
    const agreed = await until(async () => {
      const names = await Promise.all(daemons.map((d) => read<string | null>(d, 'get_master_name')));
      return names.every((name) => name === newMaster) ? names : undefined;
    }, 15_000, 200);
    assert.ok(agreed, `the instances disagree on the master: ${JSON.stringify(await Promise.all(daemons.map((d) => read(d, 'get_master_name').catch((err: unknown) => String(err)))))}`);
    await sleep(3_000);
    assert.deepEqual(await cluster.findMasters(), [newMaster], 'still exactly one master');
    const counts = failoverCounts(daemons, since);
    report('multi-instance master lost', { acting, new_master: newMaster, promoted_after_ms: promotedMs, failovers_started: counts.started, promotions: counts.promoted, refusals_by_standbys: counts.refused });
    assert.equal(counts.started, 1, `failovers started per daemon: ${JSON.stringify(counts.perDaemon)}`);
    assert.deepEqual(Object.keys(counts.perDaemon), [acting], 'the acting instance failed over');
    assert.equal(counts.promoted, 1, 'exactly one promotion');
    const { violations } = await watcher.stop();
    assert.deepEqual(violations, [], 'never two writable masters');
    for (const d of daemons) assert.ok(alive(d), `${d.name} still runs`);
  });
});

describe('several HandyRep instances, three-member etcd cluster', () => {
  let cluster: Cluster;
  let daemons: DaemonProc[] = [];
  let suiteStarted = 0;

  before(async () => {
    suiteStarted = Date.now();
    cluster = await createCluster({ replicas: 2, etcdMembers: 3, pgSettings: PG_SETTINGS });
    daemons = await startGroup(cluster, ['hr1', 'hr2', 'hr3']);
  });

  after(async () => {
    await stopGroup(daemons);
    saveLogs(daemons, 'etcd-3-members');
    await cluster?.teardown();
    report('multi-instance three-member etcd suite', { seconds: ((Date.now() - suiteStarted) / 1000).toFixed(1) });
  });

  it('one instance acts; SIGKILL of it: another takes over within the lease TTL', async () => {
    const acting = await oneActing(daemons, 3, 15_000);
    const { successor, takeoverMs, electedMs } = await killActingAndMeasure(daemons, acting);
    report('multi-instance takeover after SIGKILL (etcd 3 members)', {
      killed: acting,
      successor,
      lease_ttl_s: TTL_SECONDS,
      elected_after_ms: electedMs ?? 'n/a',
      get_status_after_ms: takeoverMs,
    });
    assert.ok(takeoverMs <= TTL_SECONDS * 1000 + TAKEOVER_SLACK_MS, `takeover took ${takeoverMs} ms (TTL ${TTL_SECONDS} s)`);
    assert.equal(await oneActing(daemons.filter((d) => d.name !== acting), 2, 5_000), successor);
  });
});
