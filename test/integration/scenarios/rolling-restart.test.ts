// Issue 18, rolling restart: restart_cluster on a real cluster with
// pgbouncer. A setting needing a restart is changed on every server;
// restart_cluster(pending_only, switchover) leaves none pending, loses no
// acknowledged commit, and its master phase is one planned switchover (the
// writer's longest outage is printed next to a plain switchover's). An
// unhealthy cluster is refused. A replica that refuses to start stops the
// flow there, the master untouched. A
// minor-version upgrade: pg_bin moved to a copy of the installation, and
// restart_cluster(pending_only) leaves every postmaster running from it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RollingRestartResult } from '@handyrep/core';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';
import { longestOutage, outageByStep } from './writer-outage.js';
import type { TimedStep } from './writer-outage.js';

function postmasterPid(scenario: Scenario, host: string): number {
  return Number(readFileSync(join(scenario.cluster.host(host).pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

async function pendingRestart(scenario: Scenario, host: string): Promise<string[]> {
  const rows = await scenario.cluster.query(host, 'SELECT name FROM pg_settings WHERE pending_restart ORDER BY name', [], { timeoutMs: 3000 });
  return rows.map((row) => String(row['name']));
}

async function alterAndReload(scenario: Scenario, host: string, statement: string): Promise<void> {
  await scenario.cluster.query(host, statement, [], { timeoutMs: 3000 });
  await scenario.cluster.query(host, 'SELECT pg_reload_conf()', [], { timeoutMs: 3000 });
}

function replicasOf(scenario: Scenario): string[] {
  const master = scenario.hr.getMasterName();
  return scenario.cluster.postgresHosts.map((host) => host.name).filter((name) => name !== master);
}

/** The rolling restart's steps, its switchover step split into the failover's own steps. */
function rollingPhases(result: RollingRestartResult): TimedStep[] {
  return result.steps.flatMap((step) =>
    step.action === 'switchover' && result.switchover
      ? result.switchover.steps.map((inner) => ({ label: `switchover:${inner.step}`, ms: inner.duration_ms }))
      : [{ label: `${step.action} ${step.server}`, ms: step.seconds * 1000 }],
  );
}

function stepsText(result: RollingRestartResult): string {
  return result.steps.map((step) => `${step.action} ${step.server} ${step.result} ${step.seconds.toFixed(2)}s`).join(' | ');
}

async function waitAllStreaming(scenario: Scenario): Promise<void> {
  const master = scenario.hr.getMasterName() ?? '';
  const replicas = replicasOf(scenario);
  const ok = await waitFor(async () => {
    const rows = await scenario.cluster.query(master, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'", [], { timeoutMs: 2000 }).catch(() => []);
    const names = rows.map((row) => String(row['application_name']));
    return replicas.every((replica) => names.includes(replica));
  }, 20_000, 200);
  assert.ok(ok, `${replicas.join(', ')} stream from ${master}`);
}

describe('restart_cluster: a rolling restart on a real cluster with pgbouncer', { timeout: 600_000 }, () => {
  let scenario: Scenario;

  before(async () => {
    scenario = await openScenario({ pgbouncer: true, overrides: { server_defaults: { clone_method: 'clone_basebackup' }, failover: { restart_catchup_timeout: 30 } } });
  });

  after(async () => {
    await scenario?.close();
  });

  it('pending_only + switchover: no server left pending, no acknowledged commit lost, one switchover for the master', async () => {
    const { hr, cluster } = scenario;
    const writer = scenario.writer;
    assert.ok(writer);
    const masterBefore = hr.getMasterName() ?? '';
    for (const host of cluster.postgresHosts) await alterAndReload(scenario, host.name, 'ALTER SYSTEM SET max_connections = 120');
    for (const host of cluster.postgresHosts) assert.ok(await waitFor(async () => (await pendingRestart(scenario, host.name)).includes('max_connections'), 5000), `${host.name} has max_connections pending`);
    await writer.waitForAcks(30);

    const started = Date.now();
    const result = await hr.restartCluster(true, true);
    const ended = Date.now();
    assert.ok('steps' in result, JSON.stringify(result));
    const rolled = result as RollingRestartResult;
    report('rolling restart steps', { steps: stepsText(rolled) });
    report('its switchover', { writable_after_ms: String(rolled.switchover?.writable_after_ms), steps: (rolled.switchover?.steps ?? []).map((step) => `${step.step} ${step.duration_ms}ms`).join(' | ') });
    assert.equal(rolled.result, 'SUCCESS', rolled.details);
    assert.equal(rolled.steps.filter((step) => step.action === 'switchover').length, 1, 'the master phase is one planned switchover');
    assert.equal(rolled.steps.filter((step) => step.action === 'restart' && step.server === masterBefore).length, 0, 'the old master was not restarted in place');
    assert.notEqual(hr.getMasterName(), masterBefore, 'the master changed');
    assert.deepEqual(rolled.skipped, []);
    assert.equal(rolled.restarted.length, 3);
    for (const host of cluster.postgresHosts) assert.deepEqual(await pendingRestart(scenario, host.name), [], `${host.name}: nothing pending`);
    await writer.waitForAcks(30, 20_000);
    const rollingOutage = longestOutage(writer.acked, started, ended);

    const plainFrom = hr.getMasterName() ?? '';
    const target = replicasOf(scenario).find((name) => name !== masterBefore) ?? masterBefore;
    const plainStarted = Date.now();
    const plain = await hr.manualFailover(target, true);
    const plainEnded = Date.now();
    assert.equal(plain.result, 'SUCCESS', plain.details);
    await writer.waitForAcks(30, 20_000);
    const plainOutage = longestOutage(writer.acked, plainStarted, plainEnded);
    report('longest writer outage, ms of it in each step', {
      restart_cluster: outageByStep(writer.acked, started, ended, rollingPhases(rolled)),
      plain_switchover: outageByStep(writer.acked, plainStarted, plainEnded, ('steps' in plain ? plain.steps : []).map((step) => ({ label: step.step, ms: step.duration_ms }))),
    });
    report('writer outage through pgbouncer', {
      restart_cluster_ms: rollingOutage,
      restart_cluster_total_ms: ended - started,
      plain_switchover_ms: plainOutage,
      plain_switchover_total_ms: plainEnded - plainStarted,
    });
    const rejoined = await hr.rejoin(plainFrom);
    assert.equal(rejoined.result, 'SUCCESS', rejoined.details);
    await waitAllStreaming(scenario);

    // The first master was started by the harness, every later one by pg_ctl: once more with a master pg_ctl started.
    const againStarted = Date.now();
    const again = (await hr.restartCluster(false, true)) as RollingRestartResult;
    const againEnded = Date.now();
    assert.equal(again.result, 'SUCCESS', again.details);
    await writer.waitForAcks(30, 20_000);
    report('second rolling restart (master started by pg_ctl), longest writer outage, ms of it in each step', {
      restart_cluster: outageByStep(writer.acked, againStarted, againEnded, rollingPhases(again)),
    });
    await waitAllStreaming(scenario);

    const commits = await assertCommitsKept(scenario, hr.getMasterName() ?? '');
    report('rolling restart commits', commits);
    assert.equal(commits.missing, 0, 'zero acknowledged commits lost');
    await assertNoSplitBrain(scenario);
  });

  it('refuses an unhealthy cluster, naming the replica that does not stream, and restarts nothing', async () => {
    const { hr } = scenario;
    const master = hr.getMasterName() ?? '';
    const [down] = replicasOf(scenario);
    assert.ok(down);
    assert.equal((await hr.shutdown(down)).result, 'SUCCESS');
    const masterPid = postmasterPid(scenario, master);
    const refused = (await hr.restartCluster(false, true)) as RollingRestartResult;
    report('refused rolling restart', { details: refused.details });
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, new RegExp(`refused: not every enabled replica streams from ${master}: ${down} does not`));
    assert.deepEqual(refused.steps.map((step) => step.action), ['check']);
    assert.deepEqual(refused.restarted, []);
    assert.equal(postmasterPid(scenario, master), masterPid);
    assert.equal((await hr.startup(down)).result, 'SUCCESS');
    await waitAllStreaming(scenario);
  });

  it('a replica that refuses to start stops the flow there, named, with the master untouched', async () => {
    const { hr, cluster } = scenario;
    const master = hr.getMasterName() ?? '';
    const [first, second] = [...replicasOf(scenario)].sort();
    assert.ok(first && second);
    // A standby needs max_connections at least the master's: every server gets the new value.
    await alterAndReload(scenario, first, 'ALTER SYSTEM SET max_connections = 130');
    await alterAndReload(scenario, first, "ALTER SYSTEM SET shared_preload_libraries = 'handyrep_no_such_library'");
    await alterAndReload(scenario, second, 'ALTER SYSTEM SET max_connections = 130');
    await alterAndReload(scenario, master, 'ALTER SYSTEM SET max_connections = 130');
    const masterPid = postmasterPid(scenario, master);

    const result = (await hr.restartCluster(true, true)) as RollingRestartResult;
    report('failed rolling restart steps', { steps: stepsText(result), details: result.details });
    assert.equal(result.result, 'FAIL');
    assert.deepEqual(result.stopped_at, { server: first, action: 'restart' });
    assert.match(result.details, new RegExp(`stopped at ${first}.*the master ${master} was not touched`));
    assert.equal(result.steps.some((step) => step.server === second || step.action === 'switchover'), false, 'nothing ran after the failed step');
    assert.equal(hr.getMasterName(), master);
    assert.equal(postmasterPid(scenario, master), masterPid, 'the master was not restarted');
    assert.deepEqual(await pendingRestart(scenario, master), ['max_connections'], 'the master still waits for its restart');
    assert.equal(await cluster.inRecovery(second), true);

    // The operator's repair: the bad line out of postgresql.auto.conf, then start it again.
    const autoConf = join(cluster.host(first).pgdata, 'postgresql.auto.conf');
    writeFileSync(autoConf, readFileSync(autoConf, 'utf8').split('\n').filter((line) => !line.startsWith('shared_preload_libraries')).join('\n'));
    const started = await hr.startup(first);
    assert.equal(started.result, 'SUCCESS', started.details);
    await waitAllStreaming(scenario);
  });

  it('minor-version upgrade: pg_bin moved to a copy of the installation; every postmaster then runs from it', async () => {
    const { hr, cluster } = scenario;
    const oldBin = cluster.master.binDir;
    const installation = dirname(oldBin);
    const root = join(cluster.baseDir, 'pg-upgrade');
    // The copy keeps the installation's layout, so the copied postgres finds its share directory relative to itself.
    for (const dir of [installation, '/usr/share/postgresql/15']) {
      mkdirSync(join(root, dirname(dir)), { recursive: true });
      execFileSync('cp', ['-a', dir, join(root, dirname(dir))]);
    }
    const newBin = join(root, oldBin);
    for (const host of cluster.postgresHosts) {
      const altered = await hr.alterServerDef(host.name, { pg_bin: newBin });
      assert.equal(altered.result, 'SUCCESS', altered.details);
    }

    const result = (await hr.restartCluster(true)) as RollingRestartResult;
    report('upgrade rolling restart steps', { steps: stepsText(result) });
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.restarted.length, 3, 'every server ran the old binaries');
    for (const host of cluster.postgresHosts) {
      const exe = readlinkSync(`/proc/${postmasterPid(scenario, host.name)}/exe`);
      assert.equal(exe, join(newBin, 'postgres'), `${host.name}'s postmaster runs from the new pg_bin`);
    }
    await waitAllStreaming(scenario);
    const again = (await hr.restartCluster(true)) as RollingRestartResult;
    assert.equal(again.result, 'SUCCESS', again.details);
    assert.deepEqual(again.restarted, [], 'nothing left to restart');
    assert.equal(again.skipped.length, 2);
  });
});
