// Self-test of the harness on one real cluster (master + 2 replicas,
// pgbouncer, single-member etcd). Subtests run in order and share the cluster;
// the ones that damage it (split brain, teardown) come last.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCluster,
  descendants,
  isAlive,
  listProcesses,
  readStat,
  run,
  settlesWithin,
  tcpReachable,
  waitFor,
  type Cluster,
} from './index.js';

let c: Cluster;

async function rejectsWithin(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  await assert.rejects(p, (err: unknown) => err instanceof Error, `${what} should fail`);
  assert.ok(Date.now() - t0 < ms, `${what} should fail within ${ms} ms (took ${Date.now() - t0})`);
}

describe('harness: one cluster, all faults', { timeout: 240_000 }, () => {
  before(async () => {
    const t0 = Date.now();
    c = await createCluster({ replicas: 2, pgbouncer: 1, etcd: true });
    console.log(`# cluster up in ${Date.now() - t0} ms at ${c.baseDir}`);
  });
  after(async () => {
    await c?.teardown();
  });

  it('comes up streaming, and rows written on the master reach both replicas', async () => {
    const rows = await c.replicationStatus();
    assert.deepEqual(
      rows.map((r) => [r.application_name, r.state]),
      [
        ['pg2', 'streaming'],
        ['pg3', 'streaming'],
      ],
    );
    assert.equal(await c.inRecovery('pg1'), false);
    assert.equal(await c.inRecovery('pg2'), true);
    assert.equal(await c.psql('pg3', 'SELECT pg_is_in_recovery()'), 't');
    await c.query('pg1', 'CREATE TABLE selftest (v text)');
    await c.query('pg1', "INSERT INTO selftest VALUES ('hello')");
    for (const r of ['pg2', 'pg3']) {
      await waitFor(`row on ${r}`, async () => (await c.query(r, 'SELECT v FROM selftest')).length === 1, 10_000);
    }
    // Each server listens on its own address only, with its own socket directory.
    const listen = await c.query<{ a: string; s: string }>('pg2', "SELECT current_setting('listen_addresses') a, current_setting('unix_socket_directories') s");
    assert.equal(listen[0]!.a, c.host('pg2').address);
    assert.equal(listen[0]!.s, c.host('pg2').socketDir);
  });

  it('ssh works with the generated key and known_hosts on every host', async () => {
    for (const h of c.hosts) {
      const r = await run('ssh', ['-i', c.sshKeyPath, '-o', `UserKnownHostsFile=${c.knownHostsPath}`, '-o', 'BatchMode=yes', `postgres@${h.address}`, 'true']);
      assert.equal(r.code, 0);
    }
    const kh = readFileSync(c.knownHostsPath, 'utf8');
    for (const h of c.hosts) assert.match(kh, new RegExp(`^${h.address.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
  });

  it('pgbouncer routes queries to the master, and can be repointed', async () => {
    const viaBouncer = await c.query<{ addr: string; rec: boolean }>('bouncer1', 'SELECT host(inet_server_addr()) addr, pg_is_in_recovery() rec');
    assert.deepEqual(viaBouncer[0], { addr: c.master.address, rec: false });
    const dbs = await c.pgbouncerAdmin('bouncer1', 'SHOW DATABASES');
    assert.ok(dbs.some((d) => d.name === c.database && d.host === c.master.address));
    await c.pointPgbouncerAt('bouncer1', 'pg2');
    await c.pgbouncerAdmin('bouncer1', `RECONNECT ${c.database}`).catch(() => {});
    await waitFor('bouncer to reach pg2', async () => {
      const r = await c.query<{ addr: string }>('bouncer1', 'SELECT host(inet_server_addr()) addr');
      return r[0]!.addr === c.host('pg2').address;
    });
    await c.pointPgbouncerAt('bouncer1', 'pg1');
    await c.pgbouncerAdmin('bouncer1', `RECONNECT ${c.database}`).catch(() => {});
  });

  it('etcd answers', async () => {
    const health = await c.etcdctl(['endpoint', 'health']);
    assert.match(health.stdout + health.stderr, /is healthy/);
    await c.etcdctl(['put', 'selftest', 'ok']);
    assert.equal((await c.etcdctl(['get', '--print-value-only', 'selftest'])).stdout.trim(), 'ok');
  });

  it("the writer's acknowledged commits all exist on the master (writing through pgbouncer, as nobody)", async () => {
    const w = await c.startWriter({ host: 'bouncer1', intervalMs: 10 });
    await w.waitForAcks(50);
    await w.stop();
    assert.equal(w.uid, 65534, 'the writer runs as nobody');
    assert.ok(w.acked.length >= 50);
    assert.equal(w.errors.length, 0, JSON.stringify(w.errors.slice(0, 3)));
    const check = await c.checkCommits(w, 'pg1');
    assert.deepEqual(check.missing, []);
    assert.equal(check.present, w.acked.length);
    // ... and it can fail: a commit the server does not hold is reported.
    const fake = { name: w.name, acked: [...w.acked, { id: 10_000_000, sent: 0, t: 0 }] };
    assert.equal((await c.observers.checkCommits(fake, 'pg1')).missing.length, 1);
  });

  it('a partitioned host: SQL connects time out, SSH fails; healing restores both', async () => {
    await c.faults.partition('pg3');
    const rules = (await run('iptables', ['-S'])).stdout;
    assert.match(rules, new RegExp(`-A INPUT -d ${c.host('pg3').address}/32 -j DROP`));
    await rejectsWithin(c.query('pg3', 'SELECT 1', [], { timeoutMs: 800 }), 2000, 'query to partitioned pg3');
    assert.equal(await tcpReachable(c.host('pg3').address, 22, 300), false);
    await c.faults.heal('pg3');
    assert.doesNotMatch((await run('iptables', ['-S'])).stdout, new RegExp(c.host('pg3').address));
    assert.equal((await c.query<{ x: number }>('pg3', 'SELECT 1 x'))[0]!.x, 1);
    await c.ssh('pg3', 'true');
  });

  it('partition from HandyRep only: root cannot reach the master, a non-root writer and replication can', async () => {
    const w = await c.startWriter({ host: 'pg1', intervalMs: 20 });
    await w.waitForAcks(5);
    await c.faults.partitionFromHandyrep('pg1');
    await rejectsWithin(c.query('pg1', 'SELECT 1', [], { timeoutMs: 800 }), 2000, 'root query to pg1');
    const before = w.acked.length;
    await w.waitForAcks(20, 5000);
    // Rows written meanwhile reach a replica: replication (user postgres) is not cut.
    const lastId = w.lastAck!.id;
    await waitFor('replicated rows on pg2', async () => {
      const r = await c.query<{ n: string }>('pg2', 'SELECT count(*) n FROM harness_writes WHERE writer = $1 AND id >= $2', [w.name, lastId]);
      return Number(r[0]!.n) >= 1;
    });
    await c.faults.healFromHandyrep('pg1');
    await w.stop();
    assert.ok(w.acked.length > before);
    await c.query('pg1', 'SELECT 1');
  });

  it('SIGSTOP hangs new and existing connections; SIGCONT restores them', async () => {
    const client = (await import('./pgclient.js')).newClient(c.target('pg2'), { timeoutMs: 800 });
    await client.connect();
    await c.faults.hang('pg2');
    const pm = c.postmasterPid('pg2')!;
    assert.equal(readStat(pm)!.state, 'T');
    await rejectsWithin(c.query('pg2', 'SELECT 1', [], { timeoutMs: 800 }), 2000, 'new connection to hung pg2');
    await rejectsWithin(client.query('SELECT 1'), 2000, 'query on a held connection to hung pg2');
    await c.faults.resume('pg2');
    assert.notEqual(readStat(pm)!.state, 'T');
    assert.equal((await c.query<{ x: number }>('pg2', 'SELECT 1 x'))[0]!.x, 1);
    await client.end().catch(() => {});
  });

  it('SSH down refuses connections and drops sessions; SSH up accepts again', async () => {
    const session = spawn('ssh', [...c.sshArgs('pg2'), 'sleep 60'], { stdio: 'ignore' });
    const sessionEnded = new Promise<number | null>((r) => session.on('exit', (code) => r(code)));
    await waitFor('ssh session running', () => descendants(c.hostState('pg2').sshdPid!).some((p) => p.comm === 'sleep'));
    await c.faults.sshDown('pg2');
    const r = await c.ssh('pg2', 'true', { check: false });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refused/i);
    assert.ok(await settlesWithin(sessionEnded, 5000), 'the existing session dropped');
    assert.ok(!listProcesses().some((p) => p.comm === 'sleep' && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('60') && p.ppid === c.hostState('pg2').reaper!.pid));
    assert.ok(c.isPostgresRunning('pg2'), 'postgres is untouched');
    await c.faults.sshUp('pg2');
    assert.equal((await c.ssh('pg2', 'echo up')).stdout.trim(), 'up');
  });

  it('kill -9 stops postgres; start brings it back streaming', async () => {
    const pid = await c.faults.kill('pg3');
    assert.equal(isAlive(pid), false);
    assert.equal(c.isPostgresRunning('pg3'), false);
    await rejectsWithin(c.query('pg3', 'SELECT 1', [], { timeoutMs: 1000 }), 2000, 'query to killed pg3');
    await c.faults.start('pg3');
    assert.ok(c.isPostgresRunning('pg3'));
    await c.waitStreaming(['pg3']);
  });

  it('pg_ctl over SSH: the daemonized postmaster is found via postmaster.pid, reaped when killed, and restartable', async () => {
    const h = c.host('pg3');
    const old = c.postmasterPid(h)!;
    await c.ssh(h, `${h.binDir}/pg_ctl restart -D ${h.pgdata} -m fast -w -l ${h.dir}/pg_ctl.log`, { timeoutMs: 30_000 });
    const pid = c.postmasterPid(h);
    assert.ok(pid && pid !== old, 'a new postmaster');
    assert.equal(readStat(pid)!.ppid, c.hostState(h).reaper!.pid, 'adopted by the host reaper');
    await c.waitPostgresReady(h);
    await c.faults.kill(h);
    await waitFor('killed postmaster reaped (no zombie)', () => !existsSync(`/proc/${pid}`), 5000);
    await c.faults.start(h);
    await c.waitStreaming(['pg3']);
  });

  it('pausing replay creates measurable lag; resuming brings it back to 0', async () => {
    const lag = await c.faults.makeLag('pg2', 4);
    assert.ok(lag > 1_000_000, `replay lag ${lag} bytes`);
    assert.equal((await c.replayLagBytes('pg3'))! < lag, true);
    await c.faults.resumeReplay('pg2');
    await c.waitCaughtUp(['pg2']);
    assert.equal(await c.replayLagBytes('pg2'), 0);
    // A stopped WAL receiver: the replica stops confirming what the master writes.
    await c.faults.hangWalReceiver('pg3');
    await c.faults.generateWal('pg1', 2);
    assert.ok((await c.replayLagBytes('pg3'))! > 1_000_000);
    await c.faults.resumeWalReceiver('pg3');
    await c.waitCaughtUp(['pg3']);
  });

  it('a clean stop (pg_ctl -m fast) and a start', async () => {
    await c.faults.stop('pg2');
    assert.equal(c.isPostgresRunning('pg2'), false);
    assert.equal(existsSync(join(c.host('pg2').pgdata, 'postmaster.pid')), false);
    await c.faults.start('pg2');
    await c.waitStreaming(['pg2']);
  });

  it('writes handyrep.conf with overrides', async () => {
    const path = c.writeConfig(undefined, { failover: { poll_interval: 2, fail_retries: null }, 'plugins.extra': { x: 'a;b' } });
    const text = readFileSync(path, 'utf8');
    const sections = [...text.matchAll(/^\[(.+)\]$/gm)].map((m) => m[1]);
    assert.deepEqual(sections, ['handyrep', 'failover', 'server_defaults', 'servers.pg1', 'servers.pg2', 'servers.pg3', 'servers.bouncer1', 'passwords', 'plugins.extra']);
    assert.match(text, /^poll_interval = 2$/m);
    assert.doesNotMatch(text, /fail_retries/);
    assert.match(text, /^x = "a;b"$/m);
    assert.match(text, new RegExp(`^hostname = ${c.host('pg2').address}$`, 'm'));
    assert.match(text, new RegExp(`^superuser_password = ${c.superuserPassword}$`, 'm'));
    assert.match(text, /^role = pgbouncer$/m);
  });

  it('the split-brain watcher detects a promoted replica while the master still runs', async () => {
    const watcher = await c.startSplitBrainWatcher();
    await watcher.waitFor('pg1 writable, replicas not', (s) => s.pg1 === 'writable' && s.pg2 === 'not-writable' && s.pg3 === 'not-writable');
    assert.equal(watcher.violations.length, 0);
    await c.query('pg2', 'SELECT pg_promote(true, 30)');
    await waitFor('split brain seen', () => watcher.violations.length > 0, 5000);
    await watcher.stop();
    assert.equal(watcher.uid, 65534, 'the watcher runs as nobody');
    assert.deepEqual(watcher.violations[0]!.hosts, ['pg1', 'pg2']);
    assert.ok(watcher.rounds >= 1, `rounds ${watcher.rounds}`);
  });

  it('teardown leaves no process, iptables rule or directory behind', async () => {
    // Leave a mess: a rule, a hung server, an SSH session, a running writer and watcher.
    await c.faults.partition('pg3');
    await c.faults.partitionFromHandyrep('pg2');
    await c.faults.hang('pg1');
    spawn('ssh', [...c.sshArgs('pg1'), 'sleep 60'], { stdio: 'ignore' }).unref();
    await c.startWriter({ host: 'pg2' });
    await c.startSplitBrainWatcher({ hosts: ['pg2'] });
    await waitFor('ssh session running', () => descendants(c.hostState('pg1').sshdPid!).some((p) => p.comm === 'sleep'));
    const all = listProcesses();
    const pids = new Set(c.knownPids());
    for (const p of [...pids]) for (const d of descendants(p, all)) pids.add(d.pid);
    assert.ok(pids.size > 20, `tracked ${pids.size} processes`);
    const slot = c.slot;
    const report = await c.teardown();
    assert.deepEqual(report.errors, []);
    const left = [...pids].filter((p) => existsSync(`/proc/${p}`));
    assert.deepEqual(left, [], `left: ${left.map((p) => `${p} ${readStat(p)?.comm} ${readStat(p)?.state}`).join(', ')}`);
    assert.doesNotMatch((await run('iptables', ['-S'])).stdout, new RegExp(`127\\.77\\.${slot.n}\\.`));
    assert.equal(existsSync(c.baseDir), false);
    assert.equal(existsSync(slot.dir), false);
  });
});
