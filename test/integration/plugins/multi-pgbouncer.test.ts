// multi_pgbouncer against one real harness cluster (pg1 master, pg2 and pg3
// replicas, bouncer1 running pgbouncer 1.18), through HandyRep.open with the
// real ssh2 shell and SQL client. The operator's part is done first: the
// harness's pgbouncer.ini loses its [databases] section and gets
// "%include <file>" as its last line. Then: hostile input is refused before
// anything runs; init() routes appdb to the master and appdb_ro to a replica;
// an application writing through pgbouncer keeps writing across a master
// change (pause, clean stop of pg1, pg_promote on pg2, failover) and every
// acknowledged commit is on the new master; poll() and resume(); the psql
// admin method. Subtests run in order and share the cluster.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { ConnectionFailoverPlugin, ReturnDictionary } from '@handyrep/plugin-sdk';
import { createCluster, type Cluster, type ConfOverrides, type Host, type Writer } from '../../harness/index.js';

type ProxyRd = ReturnDictionary<{ databases: Record<string, string>; duration_ms: number }>;
type MultiRd = ReturnDictionary<{ proxies: Record<string, ProxyRd>; duration_ms: number; master?: string | null; readonly_target?: string | null }>;

let cluster: Cluster;
let bouncer: Host;
let databasesFile: string;
const opened: HandyRep[] = [];
let proxies: ConnectionFailoverPlugin;

/** The plugin's config and the bouncer's per-server keys; `extra` adds to or overrides the plugin section. */
function overrides(name: string, extra: Record<string, string | number> = {}): ConfOverrides {
  return {
    handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`) },
    failover: { connection_failover_method: 'multi_pgbouncer' },
    'plugins.multi_pgbouncer': { database_list: 'appdb, postgres', pause_timeout_seconds: 1, admin_timeout_seconds: 3, ...extra },
    'servers.bouncer1': {
      pgbouncer_config: bouncer.pgbouncerIni!,
      pgbouncer_databases_file: databasesFile,
      pgbouncer_socket_dir: bouncer.dir,
    },
  };
}

async function open(name: string, extra: Record<string, string | number> = {}): Promise<{ hr: HandyRep; plugin: ConnectionFailoverPlugin }> {
  const hr = await HandyRep.open(cluster.writeConfig(join(cluster.baseDir, `${name}.conf`), overrides(name, extra)));
  opened.push(hr);
  const plugin = hr.pluginInstance('connection_failover', 'multi_pgbouncer');
  assert.ok(plugin, 'multi_pgbouncer is loaded');
  return { hr, plugin };
}

async function timed<R extends ReturnDictionary>(what: string, work: () => Promise<R>): Promise<{ result: R; ms: number }> {
  const started = performance.now();
  const result = await work();
  const ms = Math.round(performance.now() - started);
  console.log(`# ${what}: ${result.result} in ${ms} ms (${result.details})`);
  return { result, ms };
}

/** Where pgbouncer routes each database now, from its admin console. */
async function routing(): Promise<Record<string, string>> {
  const rows = await cluster.pgbouncerAdmin(bouncer, 'SHOW DATABASES');
  return Object.fromEntries(rows.map((row) => [String(row['name']), `${String(row['host'])}:${String(row['port'])}/${String(row['database'])}`]));
}

/** pg_is_in_recovery() of the server a database alias reaches through pgbouncer. */
async function inRecoveryThrough(alias: string): Promise<boolean> {
  const rows = await cluster.query<{ r: boolean }>(bouncer, 'SELECT pg_is_in_recovery() AS r', [], { database: alias, timeoutMs: 3000 });
  return rows[0]?.r === true;
}

function at(host: string, db = 'appdb'): string {
  return `${cluster.host(host).address}:5432/${db}`;
}

describe('multi_pgbouncer on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    const started = Date.now();
    cluster = await createCluster({ replicas: 2, pgbouncer: 1, label: 'mpgb' });
    bouncer = cluster.pgbouncers[0]!;
    databasesFile = join(bouncer.dir, 'handyrep-databases.ini');
    // The operator's one-time edit: no [databases] of its own, the plugin's file included last.
    // server_login_retry back at pgbouncer's default (the harness shortens it): the plugin must not depend on it.
    const ini = cluster.pgbouncerIni(bouncer, cluster.master).replace(/^server_login_retry = .*$/m, 'server_login_retry = 15');
    assert.match(ini, /server_login_retry = 15/);
    writeFileSync(bouncer.pgbouncerIni!, `${ini.slice(ini.indexOf('[pgbouncer]'))}\n%include ${databasesFile}\n`);
    console.log(`# cluster up in ${Date.now() - started} ms at ${cluster.baseDir}`);
    ({ plugin: proxies } = await open('mpgb'));
    const verified = await opened[0]!.verifyAll();
    assert.equal(verified.result, 'SUCCESS', verified.details);
  });

  after(async () => {
    for (const hr of opened) await hr.close().catch(() => undefined);
    await cluster?.teardown();
  });

  it('refuses hostile database names, suffixes and targets before anything runs', async () => {
    for (const [key, value] of [
      ['database_list', 'appdb; touch /tmp/mpgb-pwned'],
      ['database_list', 'appdb,$(id)'],
      ['database_list', 'app db'],
      ['readonly_suffix', "_ro'x"],
    ] as const) {
      await assert.rejects(open(`bad-${key}`, { [key]: value }), (err: Error & { code?: string }) => {
        assert.match(String(err.code), /^HR_(PLUGIN_)?CONFIG_INVALID$/, err.message);
        assert.match(err.message, new RegExp(key));
        return true;
      });
    }
    for (const [target, reason] of [['nosuch', /unknown server/], ['bouncer1', /cannot be the master/], ["pg2'; RELOAD; --", /unknown server/]] as const) {
      const result = (await proxies.failover(target)) as MultiRd;
      assert.equal(result.result, 'FAIL');
      assert.match(result.details, reason);
      assert.match(result.details, /nothing done/);
      assert.deepEqual(result.proxies, {});
    }
    assert.equal(existsSync(databasesFile), false, 'nothing was written');
    assert.equal(existsSync('/tmp/mpgb-pwned'), false);
  });

  it('init() routes appdb to the master and appdb_ro to a replica, with no password in the file', async () => {
    const { result } = await timed('init', () => proxies.init() as Promise<MultiRd>);
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.master, 'pg1');
    assert.ok(['pg2', 'pg3'].includes(String(result.readonly_target)), String(result.readonly_target));
    const route = await routing();
    assert.equal(route['appdb'], at('pg1'));
    assert.equal(route['postgres'], at('pg1', 'postgres'));
    assert.equal(route['appdb_ro'], at(String(result.readonly_target)));
    assert.equal(await inRecoveryThrough('appdb'), false);
    assert.equal(await inRecoveryThrough('appdb_ro'), true);
    const file = readFileSync(databasesFile, 'utf8');
    assert.match(file, /^\[databases\]$/m);
    assert.doesNotMatch(file, /password|user=/i);
    assert.ok(!file.includes(cluster.superuserPassword));
    assert.ok(!JSON.stringify(result).includes(cluster.superuserPassword));
  });

  it('poll() connects through pgbouncer to every database', async () => {
    const { result } = await timed('poll', () => proxies.poll() as Promise<MultiRd>);
    assert.equal(result.result, 'SUCCESS', result.details);
    const databases = result.proxies['bouncer1']?.databases ?? {};
    assert.match(databases['appdb'] ?? '', /^ok: .*\(master\)$/);
    assert.match(databases['appdb_ro'] ?? '', /^ok: .*\(replica\)$/);
  });

  it('an application writing through pgbouncer keeps writing across a master change, onto the new master', async () => {
    const writer: Writer = await cluster.startWriter({ host: bouncer, intervalMs: 20, timeoutMs: 2000 });
    let switchEnd = 0;
    try {
      await writer.waitForAcks(20);
      const switchStart = Date.now();
      const paused = await timed('pause', () => proxies.pause() as Promise<MultiRd>);
      assert.equal(paused.result.result, 'SUCCESS', paused.result.details);
      const pauseEnd = Date.now();
      // The writer holds its session: PAUSE cannot drain it, so KILL drops it and new queries wait.
      assert.match(paused.result.proxies['bouncer1']?.databases['appdb'] ?? '', /paused|killed/);

      await cluster.faults.stop('pg1', 'fast');
      await cluster.query('pg2', 'SELECT pg_promote(true, 30)', [], { timeoutMs: 35_000 });
      const failoverStart = Date.now();
      assert.equal(Date.now() > pauseEnd, true);
      const acksWhilePaused = writer.acked.filter((a) => a.t > pauseEnd + 50 && a.t < failoverStart);
      assert.deepEqual(acksWhilePaused, [], 'no write got through while the proxy was paused');

      const switched = await timed('failover to pg2', () => proxies.failover('pg2') as Promise<MultiRd>);
      assert.equal(switched.result.result, 'SUCCESS', switched.result.details);
      switchEnd = Date.now();
      assert.equal(switched.result.master, 'pg2');
      assert.equal(switched.result.readonly_target, 'pg3');

      await writer.waitForAcks(20, 15_000);
      // Blocked: the longest stretch without an acknowledged write that ends after the switch began.
      let blocked = 0;
      for (let i = 1; i < writer.acked.length; i++) {
        const gap = writer.acked[i]!.t - writer.acked[i - 1]!.t;
        if (writer.acked[i]!.t > switchStart && gap > blocked) blocked = gap;
      }
      const firstAfter = writer.acked.find((a) => a.t > switchEnd);
      assert.ok(firstAfter, 'a write was acknowledged after the repoint');
      console.log(
        `# writes blocked for ${blocked} ms (pause ${paused.ms} ms, stop+promote ${failoverStart - pauseEnd} ms, failover ${switched.ms} ms; first write acknowledged ${firstAfter.t - switchEnd} ms after failover returned); ${writer.errors.length} writer errors`,
      );
      assert.ok(firstAfter.t - switchEnd < 5000, 'writes resume within 5 s of the repoint');
    } finally {
      await writer.stop();
    }

    const check = await cluster.checkCommits(writer, 'pg2');
    const afterSwitch = writer.acked.filter((a) => a.sent > switchEnd);
    console.log(`# ${writer.acked.length} acknowledged writes (${afterSwitch.length} after the switch), ${check.present} rows on pg2, ${check.missing.length} missing, ${check.unacknowledgedPresent.length} in-doubt present`);
    assert.deepEqual(check.missing, [], 'every acknowledged commit is on the new master (pg1 stopped cleanly)');
    assert.ok(afterSwitch.length >= 10, 'writes sent after the switch were acknowledged, and are on pg2 (checked above)');
    assert.equal(await cluster.inRecovery('pg2'), false);
    const route = await routing();
    assert.equal(route['appdb'], at('pg2'));
    assert.equal(route['appdb_ro'], at('pg3'));
    assert.equal(await inRecoveryThrough('appdb'), false);
    assert.equal(await inRecoveryThrough('appdb_ro'), true);
  });

  it('after the switch poll() is healthy and resume() is harmless', async () => {
    const polled = await timed('poll', () => proxies.poll() as Promise<MultiRd>);
    assert.equal(polled.result.result, 'SUCCESS', polled.result.details);
    const resumed = await timed('resume', () => proxies.resume() as Promise<MultiRd>);
    assert.equal(resumed.result.result, 'SUCCESS', resumed.result.details);
    assert.match(resumed.result.proxies['bouncer1']?.databases['appdb'] ?? '', /was not paused/);
  });

  it('admin_method = psql: psql over SSH through the Unix socket as the pgbouncer user, no password', async () => {
    const { plugin } = await open('mpgb-psql', { admin_method: 'psql', admin_user: 'pgbouncer', admin_password_key: '' });
    const polled = await timed('poll (psql)', () => plugin.poll() as Promise<MultiRd>);
    assert.equal(polled.result.result, 'SUCCESS', polled.result.details);
    const paused = await timed('pause (psql)', () => plugin.pause() as Promise<MultiRd>);
    assert.equal(paused.result.result, 'SUCCESS', paused.result.details);
    const rows = await cluster.pgbouncerAdmin(bouncer, 'SHOW DATABASES');
    assert.equal(rows.find((row) => row['name'] === 'appdb')?.['paused'], 1);
    const pausedPoll = (await plugin.poll()) as MultiRd;
    assert.equal(pausedPoll.result, 'FAIL');
    assert.match(pausedPoll.details, /appdb: paused/);
    const resumed = await timed('resume (psql)', () => plugin.resume() as Promise<MultiRd>);
    assert.equal(resumed.result.result, 'SUCCESS', resumed.result.details);
    assert.equal(await inRecoveryThrough('appdb'), false);
  });
});
