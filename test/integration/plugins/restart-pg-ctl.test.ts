// restart_pg_ctl against one real harness cluster (master + 2 replicas), on
// replica pg3, through HandyRep.open with the real ssh2 shell: stop, start,
// restart, reload, status, faststop, a separate pgconf, hostile data
// directory paths, and a teardown that still finds the daemonized postmaster.
// Subtests run in order and share the cluster.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { ControlPlugin, ControlResult } from '@handyrep/plugin-sdk';
import { createCluster, isAlive, osUser, sleep, type Cluster, type ConfOverrides } from '../../harness/index.js';
import { tcpOutcome } from './poll-support.js';

let cluster: Cluster;
const opened: HandyRep[] = [];
const REPLICA = 'pg3';

/** Plugins this suite does not exercise: configured as none. */
const UNUSED: ConfOverrides = {
  failover: { poll_method: null, replication_status_method: null, selection_method: null },
  server_defaults: { promotion_method: null, clone_method: null },
};

async function openControl(name: string, overrides: ConfOverrides = {}): Promise<ControlPlugin> {
  const path = cluster.writeConfig(join(cluster.baseDir, `${name}.conf`), {
    ...UNUSED,
    handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`) },
    'plugins.restart_pg_ctl': { wait_seconds: 30 },
    ...overrides,
  });
  const hr = await HandyRep.open(path);
  opened.push(hr);
  const control = hr.pluginInstance('control', 'restart_pg_ctl');
  assert.ok(control, 'restart_pg_ctl is loaded');
  return control;
}

async function timed<R extends ControlResult>(what: string, work: () => Promise<R>): Promise<R> {
  const started = performance.now();
  const result = await work();
  console.log(`# ${what}: ${result.result} in ${Math.round(performance.now() - started)} ms (${result.details})`);
  return result;
}

async function show(setting: string): Promise<string> {
  const rows = await cluster.query<{ v: string }>(REPLICA, `SELECT current_setting($1) AS v`, [setting], { timeoutMs: 3000 });
  return rows[0]?.v ?? '';
}

describe('restart_pg_ctl on a real cluster', { timeout: 120_000 }, () => {
  let control: ControlPlugin;
  let harnessPid: number | null;

  before(async () => {
    const started = Date.now();
    cluster = await createCluster({ replicas: 2, label: 'pgctl' });
    console.log(`# cluster up in ${Date.now() - started} ms at ${cluster.baseDir}`);
    control = await openControl('control');
    harnessPid = cluster.postmasterPid(REPLICA);
  });

  after(async () => {
    for (const hr of opened) await hr.close().catch(() => undefined);
    await cluster?.teardown();
  });

  it('status of a running replica: running, with the postmaster PID', async () => {
    const result = await timed('status (running)', () => control.status(REPLICA));
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.running, true);
    assert.equal((result as { pid?: number }).pid, harnessPid);
  });

  it('stop (fast) brings the replica down: no postmaster, port refused; stopping again is "already stopped"', async () => {
    const result = await timed('stop', () => control.stop(REPLICA));
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.exit_code, 0);
    assert.equal(cluster.isPostgresRunning(REPLICA), false);
    assert.equal(await tcpOutcome(cluster.host(REPLICA).address, 5432), 'refused');
    const again = await timed('stop (already stopped)', () => control.stop(REPLICA));
    assert.equal(again.result, 'SUCCESS', again.details);
    assert.match(again.details, /already stopped/);
  });

  it('status of the stopped replica: SUCCESS, not running; reload refuses it', async () => {
    const status = await control.status(REPLICA);
    assert.equal(status.result, 'SUCCESS', status.details);
    assert.equal(status.running, false);
    assert.equal(status.exit_code, 3);
    const reload = await control.reload(REPLICA);
    assert.equal(reload.result, 'FAIL');
    assert.match(reload.details, /not running/);
  });

  it('start returns promptly (nothing left on the SSH channel), the replica streams again and logs to pgdata/log', async () => {
    const started = performance.now();
    const result = await timed('start', () => control.start(REPLICA));
    const ms = performance.now() - started;
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.ok(ms < 15_000, `start took ${ms} ms`);
    const pid = cluster.postmasterPid(REPLICA);
    assert.ok(pid !== null && pid !== harnessPid, 'a new, pg_ctl-started postmaster runs');
    await cluster.waitStreaming([REPLICA], cluster.master, 15_000);
    assert.equal(await cluster.inRecovery(REPLICA), true);
    assert.ok(existsSync(join(cluster.host(REPLICA).pgdata, 'log', 'handyrep-pg_ctl.log')));
    const again = await control.start(REPLICA);
    assert.equal(again.result, 'SUCCESS', again.details);
    assert.match(again.details, /already running/);
  });

  it('reload applies a reloadable setting changed with ALTER SYSTEM', async () => {
    await cluster.query(REPLICA, `ALTER SYSTEM SET work_mem = '7777kB'`, [], { timeoutMs: 3000 });
    assert.notEqual(await show('work_mem'), '7777kB', 'not applied before the reload');
    const result = await timed('reload', () => control.reload(REPLICA));
    assert.equal(result.result, 'SUCCESS', result.details);
    let value = '';
    for (let i = 0; i < 50 && value !== '7777kB'; i++) {
      value = await show('work_mem');
      if (value !== '7777kB') await sleep(100);
    }
    assert.equal(value, '7777kB');
  });

  it('restart gives a new postmaster that streams again', async () => {
    const before = cluster.postmasterPid(REPLICA);
    const result = await timed('restart', () => control.restart(REPLICA));
    assert.equal(result.result, 'SUCCESS', result.details);
    const after = cluster.postmasterPid(REPLICA);
    assert.ok(after !== null && after !== before, `postmaster ${before} replaced by ${after}`);
    await cluster.waitStreaming([REPLICA], cluster.master, 15_000);
  });

  it('faststop (immediate) brings it down; start recovers it to streaming', async () => {
    const result = await timed('faststop', () => control.faststop(REPLICA));
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(cluster.isPostgresRunning(REPLICA), false);
    assert.equal(await tcpOutcome(cluster.host(REPLICA).address, 5432), 'refused');
    const log = readFileSync(join(cluster.host(REPLICA).pgdata, 'log', 'handyrep-pg_ctl.log'), 'utf8');
    assert.match(log, /immediate shutdown request/);
    const start = await timed('start after faststop', () => control.start(REPLICA));
    assert.equal(start.result, 'SUCCESS', start.details);
    await cluster.waitStreaming([REPLICA], cluster.master, 15_000);
  });

  it('a pgconf other than pgdata (with a space and a quote in its name) is used as config_file', async () => {
    const host = cluster.host(REPLICA);
    // Beside data/, so postgresql.conf's include of '../host.conf' still finds the host's settings.
    const confDir = join(host.dir, "conf dir 'x'");
    mkdirSync(confDir);
    copyFileSync(join(host.pgdata, 'postgresql.conf'), join(confDir, 'postgresql.conf'));
    appendFileSync(join(confDir, 'postgresql.conf'), "handyrep.test_marker = 'separate pgconf'\n");
    const pg = osUser('postgres');
    chownSync(confDir, pg.uid, pg.gid);
    chownSync(join(confDir, 'postgresql.conf'), pg.uid, pg.gid);
    const split = await openControl('split-conf', { [`servers.${REPLICA}`]: { pgconf: confDir } });
    const result = await timed('restart with separate pgconf', () => split.restart(REPLICA));
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(await show('config_file'), join(confDir, 'postgresql.conf'));
    assert.equal(await show('handyrep.test_marker'), 'separate pgconf');
    await cluster.waitStreaming([REPLICA], cluster.master, 15_000);
  });

  it('hostile data directory paths are passed safely: clean FAILs, nothing of them runs', async () => {
    const tag = randomBytes(4).toString('hex');
    const marker = `/tmp/pwned-${tag}`;
    const host = cluster.host(REPLICA);
    // Missing directory: quoted end to end, pg_ctl itself says it does not exist.
    const missing = `${host.dir}/data dir 'q' ; touch ${marker} #`;
    // Existing cluster-looking directory whose name pg_ctl would hand to /bin/sh: refused before any command.
    const live = `${host.dir}/data "q" $(touch ${marker})`;
    mkdirSync(live, { recursive: true });
    writeFileSync(join(live, 'PG_VERSION'), '15\n');
    const weird = await openControl('weird', {
      'servers.missingdir': { hostname: host.address, role: 'spare', pgdata: missing },
      'servers.shelldir': { hostname: host.address, role: 'spare', pgdata: live },
    });
    for (const op of ['status', 'start', 'stop', 'faststop', 'restart', 'reload'] as const) {
      const a = await weird[op]('missingdir');
      assert.equal(a.result, 'FAIL', `${op}: ${a.details}`);
      assert.match(a.details, /does not exist/, op);
      assert.ok(a.details.includes(missing), `${op} names the exact path: ${a.details}`);
      const b = await weird[op]('shelldir');
      assert.equal(b.result, 'FAIL', `${op}: ${b.details}`);
      assert.match(b.details, /refusing to run pg_ctl/, op);
    }
    assert.equal(existsSync(marker), false, 'no command substitution or command separator in a path ran');
    assert.equal(cluster.isPostgresRunning(REPLICA), true, 'the real replica was not touched');
  });

  it('teardown finds and stops the daemonized (pg_ctl-started) postmaster', async () => {
    const pid = cluster.postmasterPid(REPLICA);
    assert.ok(pid !== null && pid !== harnessPid);
    for (const hr of opened.splice(0)) await hr.close();
    const report = await cluster.teardown();
    assert.deepEqual(report.survivors, [], report.errors.join('; '));
    assert.equal(isAlive(pid), false, `postmaster ${pid} is gone`);
  });
});
