// clone_basebackup and clone_rsync against one real harness cluster (pg1
// master, pg2 replica, pg3 spare host with no data directory), through
// HandyRep.open with the real SSH shell and SQL client: a new replica on the
// spare through hr.clone (plugin + restart_pg_ctl), refusals (running target,
// the master, a non-empty directory), reclone, clone from a replica, an rsync
// clone that streams its WAL, a hostile data directory path, and pg_rewind of a
// former master after a hand-made failover. Subtests run in order and share
// the cluster.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { ClonePlugin, CloneResult, ControlPlugin } from '@handyrep/plugin-sdk';
import { createCluster, osUser, serverSection, sleep, type Cluster, type ConfOverrides } from '../../harness/index.js';

let cluster: Cluster;
const opened: HandyRep[] = [];
const TAG = randomBytes(4).toString('hex');

type Cloned = CloneResult & { emptied?: boolean; primary_conninfo?: string; files_copied?: number; exit_code?: number | null };

interface Plugins {
  hr: HandyRep;
  basebackup: ClonePlugin;
  rsync: ClonePlugin;
  control: ControlPlugin;
}

async function open(name: string, overrides: ConfOverrides = {}): Promise<Plugins> {
  const keyPath = join(cluster.baseDir, 'rsync-key', 'id_ed25519');
  const path = cluster.writeConfig(join(cluster.baseDir, `${name}.conf`), {
    failover: { replication_status_method: null, selection_method: null },
    handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`) },
    'servers.pg3': serverSection(cluster, 'pg3'),
    // Names clone_rsync in the config so it is loaded; the tests call it directly.
    'servers.pg2': { clone_method: 'clone_rsync' },
    'plugins.clone_basebackup': { timeout_seconds: 120, command_timeout_seconds: 15 },
    'plugins.clone_rsync': { timeout_seconds: 120, command_timeout_seconds: 15, ssh_key: keyPath, known_hosts: cluster.knownHostsPath },
    'plugins.restart_pg_ctl': { wait_seconds: 30 },
    ...overrides,
  });
  const hr = await HandyRep.open(path);
  opened.push(hr);
  const basebackup = hr.pluginInstance('clone', 'clone_basebackup');
  const rsync = hr.pluginInstance('clone', 'clone_rsync');
  const control = hr.pluginInstance('control', 'restart_pg_ctl');
  assert.ok(basebackup && rsync && control, 'clone_basebackup, clone_rsync and restart_pg_ctl are loaded');
  return { hr, basebackup, rsync, control };
}

async function timed<R extends { result: string; details: string }>(what: string, work: () => Promise<R>): Promise<R> {
  const started = performance.now();
  const result = await work();
  const extra = result as { duration_ms?: number; bytes_copied?: number };
  console.log(
    `# ${what}: ${result.result} in ${Math.round(performance.now() - started)} ms` +
      `${extra.duration_ms === undefined ? '' : ` (plugin duration_ms ${extra.duration_ms}`}${extra.bytes_copied === undefined ? '' : `, bytes_copied ${extra.bytes_copied}`}` +
      `${extra.duration_ms === undefined ? '' : ')'} - ${result.details}`,
  );
  return result;
}

/** Waits until `sql` on `host` returns a row whose `v` is `expected`. */
async function eventually(host: string, sql: string, params: unknown[], expected: unknown, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const rows = await cluster.query<{ v: unknown }>(host, sql, params, { timeoutMs: 3000 });
      last = rows[0]?.v;
      if (last === expected) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  assert.fail(`${host}: ${sql} gave ${String(last)}, expected ${String(expected)}`);
}

/** Asserts `replica` streams from `master` under its own name and sees a row written there now. */
async function assertStreamsAndReplays(replica: string, master: string): Promise<void> {
  await cluster.waitStreaming([replica], master, 20_000);
  const rows = await cluster.replicationStatus(master);
  const row = rows.find((r) => r.application_name === replica);
  assert.equal(row?.state, 'streaming', JSON.stringify(rows));
  const receiver = await cluster.query<{ sender_host: string; status: string }>(replica, 'SELECT sender_host, status FROM pg_stat_wal_receiver', [], { timeoutMs: 3000 });
  assert.deepEqual(receiver[0], { sender_host: cluster.host(master).address, status: 'streaming' });
  assert.equal(await cluster.inRecovery(replica), true);
  const marker = `${replica}-${TAG}-${randomBytes(3).toString('hex')}`;
  await cluster.query(master, 'INSERT INTO harness_probe (host) VALUES ($1)', [marker], { timeoutMs: 3000 });
  await eventually(replica, 'SELECT count(*)::int AS v FROM harness_probe WHERE host = $1', [marker], 1);
}

function pgdata(host: string): string {
  return cluster.host(host).pgdata;
}

describe('clone_basebackup and clone_rsync on a real cluster', { timeout: 180_000 }, () => {
  let p: Plugins;

  before(async () => {
    const started = Date.now();
    cluster = await createCluster({ replicas: 1, spares: 1, label: 'clone' });
    console.log(`# cluster up in ${Date.now() - started} ms at ${cluster.baseDir}`);
    // clone_rsync runs rsync on the source host, which logs in to the target over SSH: give the
    // postgres user there the harness's client key (every host authorizes it).
    const pg = osUser('postgres');
    const keyDir = join(cluster.baseDir, 'rsync-key');
    mkdirSync(keyDir, { mode: 0o700 });
    copyFileSync(cluster.sshKeyPath, join(keyDir, 'id_ed25519'));
    chmodSync(join(keyDir, 'id_ed25519'), 0o600);
    chownSync(keyDir, pg.uid, pg.gid);
    chownSync(join(keyDir, 'id_ed25519'), pg.uid, pg.gid);
    p = await open('clone');
  });

  after(async () => {
    for (const hr of opened) await hr.close().catch(() => undefined);
    await cluster?.teardown();
  });

  it('hr.clone makes a new replica on the spare host: pg_basebackup, restart_pg_ctl start, streaming as pg3', async () => {
    assert.equal(existsSync(pgdata('pg3')), false, 'the spare has no data directory yet');
    const result = (await timed('hr.clone(pg3) from pg1 (clone_basebackup + restart_pg_ctl)', () => p.hr.clone('pg3'))) as Cloned;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.ok((result.bytes_copied ?? 0) > 10_000_000, `bytes_copied ${result.bytes_copied}`);
    await assertStreamsAndReplays('pg3', 'pg1');
    const conninfo = await cluster.query<{ v: string }>('pg3', "SELECT current_setting('primary_conninfo') AS v", [], { timeoutMs: 3000 });
    assert.match(conninfo[0]?.v ?? '', /^host=\S+ port=5432 user=replicator passfile=\S+handyrep-replication\.pgpass application_name=pg3$/);
    assert.ok(!(conninfo[0]?.v ?? '').includes(cluster.replicationPassword), 'no password in primary_conninfo');
    const passfile = join(pgdata('pg3'), 'handyrep-replication.pgpass');
    assert.equal(statSync(passfile).mode & 0o777, 0o600);
    assert.equal(readFileSync(passfile, 'utf8'), `*:*:*:replicator:${cluster.replicationPassword}\n`);
    assert.equal(readFileSync(join(cluster.baseDir, 'clone.log'), 'utf8').includes(cluster.replicationPassword), false, 'no password in the HandyRep log');
  });

  it('refuses to clone over the running pg3, with or without reclone: it keeps serving, same postmaster', async () => {
    const pid = cluster.postmasterPid('pg3');
    for (const reclone of [false, true]) {
      const result = await timed(`clone_basebackup over running pg3, reclone ${reclone}`, () =>
        p.basebackup.clone({ target: 'pg3', source: 'pg1', upstream: 'pg1', reclone }),
      );
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, /is running on pg3 .*nothing touched/);
      const rsync = await p.rsync.clone({ target: 'pg3', source: 'pg1', upstream: 'pg1', reclone });
      assert.equal(rsync.result, 'FAIL');
      assert.match(rsync.details, /is running on pg3/);
    }
    assert.equal(cluster.postmasterPid('pg3'), pid);
    await assertStreamsAndReplays('pg3', 'pg1');
    const viaCore = await p.hr.clone('pg3');
    assert.equal(viaCore.result, 'FAIL');
    assert.match(viaCore.details, /running PostgreSQL; use reclone/);
  });

  it('refuses to clone onto the master, even with reclone: pg1 keeps its data and takes writes', async () => {
    for (const plugin of [p.basebackup, p.rsync]) {
      const result = await timed('clone onto the master pg1', () => plugin.clone({ target: 'pg1', source: 'pg2', upstream: 'pg2', reclone: true }));
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, /pg1 is the master: refusing/);
    }
    assert.ok(existsSync(join(pgdata('pg1'), 'PG_VERSION')));
    await cluster.query('pg1', 'INSERT INTO harness_probe (host) VALUES ($1)', [`master-${TAG}`], { timeoutMs: 3000 });
  });

  it('a stopped replica: refused without reclone (nothing touched), recloned with it, and streams again', async () => {
    const stopped = await p.control.stop('pg3');
    assert.equal(stopped.result, 'SUCCESS', stopped.details);
    const marker = join(pgdata('pg3'), `old-file-${TAG}`);
    writeFileSync(marker, 'from the old data directory');
    const refused = await timed('clone_basebackup over stopped pg3 without reclone', () => p.basebackup.clone({ target: 'pg3', source: 'pg1', upstream: 'pg1', reclone: false }));
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, new RegExp(`is not empty \\(PostgreSQL ${cluster.options.postgresMajor ?? 15} data\\); pass reclone`));
    assert.ok(existsSync(marker), 'nothing was deleted');
    const result = (await timed('clone_basebackup reclone of stopped pg3', () => p.basebackup.clone({ target: 'pg3', source: 'pg1', upstream: 'pg1', reclone: true }))) as Cloned;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.emptied, true);
    assert.equal(existsSync(marker), false, 'the old data directory was emptied');
    assert.ok(existsSync(join(pgdata('pg3'), 'standby.signal')));
    const started = await p.control.start('pg3');
    assert.equal(started.result, 'SUCCESS', started.details);
    await assertStreamsAndReplays('pg3', 'pg1');
  });

  it('hr.clone from the replica pg2 (clonefrom): copied from pg2, streams from the master pg1', async () => {
    const result = (await timed('hr.clone(pg3, reclone, clonefrom pg2)', () => p.hr.clone('pg3', true, 'pg2'))) as Cloned;
    assert.equal(result.result, 'SUCCESS', result.details);
    await assertStreamsAndReplays('pg3', 'pg1');
    // PostgreSQL renames backup_label once recovery has used it.
    const label = readFileSync(join(pgdata('pg3'), 'backup_label.old'), 'utf8');
    assert.match(label, /LABEL: handyrep clone of pg3 from pg2/);
    assert.match(label, /BACKUP FROM: standby/);
  });

  it('clone_rsync makes a streaming replica from an online backup while pg1 takes writes; the WAL comes by streaming', async () => {
    const stopped = await p.control.stop('pg3');
    assert.equal(stopped.result, 'SUCCESS', stopped.details);
    const writer = await cluster.startWriter({ host: 'pg1', intervalMs: 10, name: `rsync-${TAG}` });
    await writer.waitForAcks(5);
    let result: Cloned;
    try {
      result = (await timed('clone_rsync reclone of pg3 from pg1', () => p.rsync.clone({ target: 'pg3', source: 'pg1', upstream: 'pg1', reclone: true }))) as Cloned;
    } finally {
      await sleep(200);
      await writer.stop();
    }
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.ok((result.bytes_copied ?? 0) > 10_000_000, `bytes_copied ${result.bytes_copied}`);
    assert.ok((result.files_copied ?? 0) > 100, `files_copied ${result.files_copied}`);
    const wal = readdirSync(join(pgdata('pg3'), 'pg_wal')).filter((f) => /^[0-9A-F]{24}$/.test(f));
    assert.deepEqual(wal, [], 'no WAL segment was copied');
    assert.equal(existsSync(join(pgdata('pg3'), 'postmaster.pid')), false);
    assert.match(readFileSync(join(pgdata('pg3'), 'backup_label'), 'utf8'), /LABEL: handyrep clone of pg3 from pg1/);
    const started = await p.control.start('pg3');
    assert.equal(started.result, 'SUCCESS', started.details);
    await assertStreamsAndReplays('pg3', 'pg1');
    await cluster.waitCaughtUp(['pg3'], 'pg1', 20_000);
    const check = await cluster.checkCommits(writer, 'pg3');
    assert.equal(check.missing.length, 0, `acknowledged writes missing on pg3: ${check.missing.length}`);
    assert.ok(writer.acked.length > 5, `writes during the clone: ${writer.acked.length}`);
  });

  it('clone_rsync from the replica pg2 (a standby backup, pg_control copied last) streams from the master pg1', async () => {
    assert.equal((await p.control.stop('pg3')).result, 'SUCCESS');
    const result = (await timed('clone_rsync reclone of pg3 from the replica pg2', () => p.rsync.clone({ target: 'pg3', source: 'pg2', upstream: 'pg1', reclone: true }))) as Cloned;
    assert.equal(result.result, 'SUCCESS', result.details);
    const label = readFileSync(join(pgdata('pg3'), 'backup_label'), 'utf8');
    assert.match(label, /BACKUP FROM: standby/);
    assert.match(label, /LABEL: handyrep clone of pg3 from pg2/);
    const started = await p.control.start('pg3');
    assert.equal(started.result, 'SUCCESS', started.details);
    await assertStreamsAndReplays('pg3', 'pg1');
  });

  it('a data directory path full of shell metacharacters is used exactly by both plugins; nothing of it runs', async () => {
    const home = osUser('postgres').home;
    const markerName = `pwned-${TAG}`;
    const weird = `${cluster.host('pg3').dir}/data 'q' $(touch ${markerName}) \`touch ${markerName}\` ; touch ${markerName} #`;
    const hostile = await open('hostile', {
      'servers.evil': { hostname: cluster.host('pg3').address, role: 'replica', pgdata: weird, socket_dir: cluster.host('pg3').socketDir },
      'servers.newline': { hostname: cluster.host('pg3').address, role: 'replica', pgdata: `${cluster.host('pg3').dir}/a\nb` },
    });
    try {
      const bb = await timed('clone_basebackup into a hostile path', () => hostile.basebackup.clone({ target: 'evil', source: 'pg1', upstream: 'pg1', reclone: false }));
      assert.equal(bb.result, 'SUCCESS', bb.details);
      assert.ok(existsSync(join(weird, 'PG_VERSION')), 'the copy landed in exactly that directory');
      const rs = await timed('clone_rsync reclone into the hostile path', () => hostile.rsync.clone({ target: 'evil', source: 'pg1', upstream: 'pg1', reclone: true }));
      assert.equal(rs.result, 'SUCCESS', rs.details);
      assert.ok(existsSync(join(weird, 'backup_label')));
      const nl = await hostile.basebackup.clone({ target: 'newline', source: 'pg1', upstream: 'pg1', reclone: false });
      assert.equal(nl.result, 'FAIL');
      assert.match(nl.details, /control character/);
      for (const dir of [home, cluster.host('pg3').dir, cluster.baseDir, process.cwd(), '/']) {
        assert.equal(existsSync(join(dir, markerName)), false, `no marker in ${dir}`);
      }
    } finally {
      rmSync(weird, { recursive: true, force: true });
    }
    await assertStreamsAndReplays('pg3', 'pg1');
  });

  it('rewind: after a hand-made failover to pg2, the stopped old master pg1 is rewound and streams from pg2', async () => {
    // pg3 would keep following pg1; it is not part of this scenario.
    assert.equal((await p.control.stop('pg3')).result, 'SUCCESS');
    const rows = await cluster.query<{ promoted: boolean }>('pg2', 'SELECT pg_promote(true, 30) AS promoted', [], { timeoutMs: 35_000 });
    assert.equal(rows[0]?.promoted, true);
    // The old master takes a write the new one never sees: the timelines diverge.
    await cluster.query('pg1', 'INSERT INTO harness_probe (host) VALUES ($1)', [`diverged-${TAG}`], { timeoutMs: 3000 });
    const after = await open('after-failover', {
      'servers.pg1': { role: 'replica' },
      'servers.pg2': { role: 'master', clone_method: 'clone_rsync' },
      'servers.ghost': { hostname: cluster.host('pg2').address, role: 'replica', port: 5999, pgdata: pgdata('pg2') },
    });
    const rewinder = after.basebackup;
    assert.ok(rewinder.rewind, 'clone_basebackup offers rewind');
    const running = await timed('rewind of the running pg1', () => rewinder.rewind!({ target: 'pg1', source: 'pg2' }));
    assert.equal(running.result, 'FAIL');
    assert.match(running.details, /PostgreSQL is running on pg1 .*nothing touched/);
    const master = await rewinder.rewind({ target: 'pg2', source: 'pg1' });
    assert.equal(master.result, 'FAIL');
    assert.match(master.details, /pg2 is the enabled master: refusing/);

    await cluster.faults.stop('pg1');
    await cluster.query('pg2', 'INSERT INTO harness_probe (host) VALUES ($1)', [`after-failover-${TAG}`], { timeoutMs: 3000 });

    // Without its WAL back to the last common checkpoint pg_rewind cannot work: FAIL with its words, nothing written.
    const wal = join(pgdata('pg1'), 'pg_wal');
    const aside = join(cluster.host('pg1').dir, `wal-aside-${TAG}`);
    mkdirSync(aside);
    const segments = readdirSync(wal).filter((f) => /^[0-9A-F]{24}$/.test(f));
    for (const f of segments) renameSync(join(wal, f), join(aside, f));
    const autoConf = readFileSync(join(pgdata('pg1'), 'postgresql.auto.conf'), 'utf8');
    const failed = (await timed('rewind of pg1 without its WAL', () => rewinder.rewind!({ target: 'pg1', source: 'pg2' }))) as Cloned;
    for (const f of segments) renameSync(join(aside, f), join(wal, f));
    assert.equal(failed.result, 'FAIL');
    assert.match(failed.details, /pg_rewind of pg1 from pg2 failed: .*pg_wal.*do not start pg1 as a standby: reclone it/);
    assert.equal(existsSync(join(pgdata('pg1'), 'standby.signal')), false, 'no standby.signal after a failed rewind');
    assert.equal(readFileSync(join(pgdata('pg1'), 'postgresql.auto.conf'), 'utf8'), autoConf);

    const rewound = (await timed('rewind of pg1 onto pg2', () => rewinder.rewind!({ target: 'pg1', source: 'pg2' }))) as Cloned;
    assert.equal(rewound.result, 'SUCCESS', rewound.details);
    assert.match(rewound.details, /rewound with pg_rewind/);
    assert.ok((rewound.bytes_copied ?? 0) > 0, `bytes_copied ${rewound.bytes_copied}`);
    assert.ok(existsSync(join(pgdata('pg1'), 'standby.signal')));
    const started = await after.control.start('pg1');
    assert.equal(started.result, 'SUCCESS', started.details);
    await assertStreamsAndReplays('pg1', 'pg2');
    await eventually('pg1', 'SELECT count(*)::int AS v FROM harness_probe WHERE host = $1', [`after-failover-${TAG}`], 1);
    const diverged = await cluster.query<{ n: number }>('pg1', 'SELECT count(*)::int AS n FROM harness_probe WHERE host = $1', [`diverged-${TAG}`], { timeoutMs: 3000 });
    assert.equal(diverged[0]?.n, 0, 'the old master\'s diverging write is gone');
  });

  it('rewind FAILs when it cannot reach the source (its CHECKPOINT fails first), and writes nothing', async () => {
    const after = await open('rewind-fail', {
      'servers.pg1': { role: 'replica' },
      'servers.pg2': { role: 'master', clone_method: 'clone_rsync' },
      'servers.ghost': { hostname: cluster.host('pg2').address, role: 'replica', port: 5999, pgdata: pgdata('pg2') },
    });
    const autoConf = join(pgdata('pg3'), 'postgresql.auto.conf');
    const before = readFileSync(autoConf, 'utf8');
    const result = await timed('rewind of pg3 from an unreachable source', () => after.basebackup.rewind!({ target: 'pg3', source: 'ghost' }));
    assert.equal(result.result, 'FAIL');
    assert.match(result.details, /CHECKPOINT on ghost before pg_rewind failed: .*nothing touched/);
    assert.equal(readFileSync(autoConf, 'utf8'), before, 'standby settings untouched');
  });
});
