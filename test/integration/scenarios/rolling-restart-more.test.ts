// Issue 18, rolling restart, the paths rolling-restart.test.ts leaves out.
// With synchronous_mode = quorum (k 1 of two replicas) and a writer through
// pgbouncer, restart_cluster(pending_only, switchover) loses no acknowledged
// commit, no commit waits on the replica being restarted (the writer's longest
// gap during each replica's restart is printed), and the synchronous set is
// made of the two replicas of the new master afterwards. Then the old master's
// rejoin fails (its postgresql.auto.conf made immutable, so neither pg_rewind
// nor the reclone can write it): the run stops at `rejoin`, naming it, and the
// new master keeps taking writes with its other replica streaming.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RollingRestartResult } from '@handyrep/core';
import { assertCommitsKept, assertNoSplitBrain, openScenario, report, standbyNames, statusOf, waitFor } from './scenario-support.js';
import type { Scenario } from './scenario-support.js';
import { longestOutage, outageByStep } from './writer-outage.js';

async function alterAllAndReload(scenario: Scenario, statement: string): Promise<void> {
  for (const host of scenario.cluster.postgresHosts) {
    await scenario.cluster.query(host.name, statement, [], { timeoutMs: 3000 });
    await scenario.cluster.query(host.name, 'SELECT pg_reload_conf()', [], { timeoutMs: 3000 });
  }
}

function replicasOf(scenario: Scenario): string[] {
  const master = scenario.hr.getMasterName();
  return scenario.cluster.postgresHosts.map((host) => host.name).filter((name) => name !== master);
}

function postmasterPid(scenario: Scenario, host: string): number | undefined {
  const file = join(scenario.cluster.host(host).pgdata, 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

/** Each step's window, laid end to end from the moment the run started. */
function stepWindows(result: RollingRestartResult, started: number): { server: string; action: string; from: number; to: number }[] {
  let cursor = started;
  return result.steps.map((step) => {
    const from = cursor;
    cursor += step.seconds * 1000;
    return { server: step.server, action: step.action, from, to: cursor };
  });
}

function windowOf(windows: { action: string; from: number; to: number }[], action: string): [number, number] {
  const window = windows.find((step) => step.action === action);
  return window ? [window.from, window.to] : [0, -1];
}

async function streamingFrom(scenario: Scenario, master: string): Promise<string[]> {
  const rows = await scenario.cluster.query(master, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'", [], { timeoutMs: 2000 }).catch(() => []);
  return rows.map((row) => String(row['application_name'])).sort();
}

async function waitNames(scenario: Scenario, host: string, expected: string, timeoutMs = 30_000): Promise<void> {
  const ok = await waitFor(async () => (await standbyNames(scenario, host)) === expected, timeoutMs, 100);
  assert.ok(ok, `${host}: synchronous_standby_names = '${await standbyNames(scenario, host)}', expected '${expected}'`);
}

describe('restart_cluster with synchronous_mode = quorum, and a failed rejoin of the old master', { timeout: 600_000 }, () => {
  let scenario: Scenario;
  const immutable: string[] = [];

  before(async () => {
    scenario = await openScenario({
      pgbouncer: true,
      overrides: {
        server_defaults: { clone_method: 'clone_basebackup' },
        failover: { synchronous_mode: 'quorum', synchronous_count: 1, restart_catchup_timeout: 30 },
      },
    });
    scenario.hr.startMonitor();
  });

  after(async () => {
    // The harness must be able to delete the data directories.
    for (const file of immutable) execFileSync('chattr', ['-i', file]);
    await scenario?.close();
  });

  it('quorum, pending_only + switchover: no acknowledged commit lost, no commit waits on a restarting replica, S right afterwards', async () => {
    const { hr } = scenario;
    const writer = scenario.writer;
    assert.ok(writer);
    const masterBefore = hr.getMasterName() ?? '';
    await waitNames(scenario, masterBefore, `ANY 1 (${replicasOf(scenario).map((name) => `"${name}"`).join(', ')})`);
    await alterAllAndReload(scenario, 'ALTER SYSTEM SET max_connections = 120');
    await writer.waitForAcks(30);

    const started = Date.now();
    const result = (await hr.restartCluster(true, true)) as RollingRestartResult;
    const ended = Date.now();
    report('quorum rolling restart steps', { steps: result.steps.map((step) => `${step.action} ${step.server} ${step.result} ${step.seconds.toFixed(2)}s`).join(' | ') });
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.restarted.length, 3);
    const masterAfter = hr.getMasterName() ?? '';
    assert.notEqual(masterAfter, masterBefore, 'the master phase switched over');
    await writer.waitForAcks(30, 20_000);

    const windows = stepWindows(result, started);
    const perReplica: Record<string, number> = {};
    for (const window of windows.filter((step) => step.action === 'restart')) {
      perReplica[`${window.server}_restart_ms`] = Math.round(window.to - window.from);
      perReplica[`${window.server}_longest_gap_ms`] = longestOutage(writer.acked, window.from, window.to);
    }
    report('quorum: writer through pgbouncer while each replica restarts (longest gap between acknowledged commits)', perReplica);
    report('quorum: writer per phase', {
      checkpoint_gap_ms: longestOutage(writer.acked, ...windowOf(windows, 'checkpoint')),
      switchover_gap_ms: longestOutage(writer.acked, ...windowOf(windows, 'switchover')),
      rejoin_gap_ms: longestOutage(writer.acked, ...windowOf(windows, 'rejoin')),
      whole_run_ms: ended - started,
      longest: outageByStep(writer.acked, started, ended, windows.map((window) => ({ label: `${window.action} ${window.server}`, ms: window.to - window.from }))),
    });
    // Commits went on while each replica was down: the other member of ANY 1 acknowledged them.
    for (const window of windows.filter((step) => step.action === 'restart')) {
      const catchUp = windows.find((step) => step.action === 'catch_up' && step.server === window.server);
      const until = catchUp?.to ?? window.to;
      assert.ok(writer.acked.some((ack) => ack.t > window.from && ack.t <= until), `commits were acknowledged while ${window.server} restarted and caught up`);
    }

    const expected = replicasOf(scenario).sort();
    await waitNames(scenario, masterAfter, `ANY 1 (${expected.map((name) => `"${name}"`).join(', ')})`);
    const shown = await waitFor(async () => ((await hr.getStatus()) as { cluster?: { synchronous_standbys?: string } }).cluster?.synchronous_standbys === `ANY 1 (${expected.join(', ')})`, 15_000, 200);
    const status = (await hr.getStatus()) as { cluster?: { synchronous_standbys?: string } };
    assert.ok(shown, `get_status shows the new master's set: ${status.cluster?.synchronous_standbys}`);
    report('quorum: synchronous set after the rolling restart', { master: masterAfter, synchronous_standby_names: await standbyNames(scenario, masterAfter), get_status: status.cluster?.synchronous_standbys ?? '' });
  });

  it("a rejoin of the old master that fails stops the run at `rejoin`, named; the new master keeps taking writes", async () => {
    const { hr, cluster } = scenario;
    const writer = scenario.writer;
    assert.ok(writer);
    const oldMaster = hr.getMasterName() ?? '';
    await waitFor(async () => (await streamingFrom(scenario, oldMaster)).length === 2, 20_000, 200);
    await alterAllAndReload(scenario, 'ALTER SYSTEM SET max_connections = 130');
    // An operator (or a configuration tool) locked the file: pg_rewind, the standby settings and the reclone all need to replace or remove it.
    const locked = join(cluster.host(oldMaster).pgdata, 'postgresql.auto.conf');
    execFileSync('chattr', ['+i', locked]);
    immutable.push(locked);

    const result = (await hr.restartCluster(true, true)) as RollingRestartResult;
    const ended = Date.now();
    report('failed rejoin: steps', { steps: result.steps.map((step) => `${step.action} ${step.server} ${step.result}`).join(' | '), details: result.details });
    assert.equal(result.result, 'FAIL');
    assert.deepEqual(result.stopped_at, { server: oldMaster, action: 'rejoin' });
    assert.match(result.details, new RegExp(`stopped at ${oldMaster} \\(rejoin\\): rejoin of ${oldMaster} failed: .*; the reclone failed too: `));
    assert.equal(result.steps[result.steps.length - 1]?.action, 'rejoin', 'nothing ran after the failed rejoin');
    assert.equal(result.steps.filter((step) => step.action === 'switchover' && step.result === 'SUCCESS').length, 1);
    const newMaster = hr.getMasterName() ?? '';
    assert.notEqual(newMaster, oldMaster);
    assert.equal(result.master, newMaster);
    assert.equal(result.restarted.includes(oldMaster), false);

    const other = cluster.postgresHosts.map((host) => host.name).find((name) => name !== oldMaster && name !== newMaster) ?? '';
    const otherPid = postmasterPid(scenario, other);
    const masterPid = postmasterPid(scenario, newMaster);
    assert.ok(await waitFor(() => writer.acked.filter((ack) => ack.sent > ended).length >= 20, 20_000, 50), 'the new master takes writes through pgbouncer');
    assert.deepEqual(await streamingFrom(scenario, newMaster), [other], `${other} streams from ${newMaster}; ${oldMaster} does not`);
    assert.equal(await cluster.inRecovery(newMaster), false);
    assert.equal(postmasterPid(scenario, oldMaster), undefined, `${oldMaster} is not running`);
    assert.equal(postmasterPid(scenario, other), otherPid, `${other} was not restarted after the failure`);
    assert.equal(postmasterPid(scenario, newMaster), masterPid, `${newMaster} was not restarted after the failure`);
    await waitNames(scenario, newMaster, `ANY 1 ("${other}")`);
    const status = await statusOf(hr);
    assert.equal(status.servers[oldMaster]?.enabled, false, `${oldMaster} stays out of the cluster`);
    report('failed rejoin: afterwards', { new_master: newMaster, streaming: other, old_master_status: `${status.servers[oldMaster]?.status} ${status.servers[oldMaster]?.status_message}`, synchronous_standby_names: await standbyNames(scenario, newMaster) });

    // The operator's repair: the file unlocked, the old master recloned. The failed reclone emptied all of its data
    // directory but the locked file, so a rejoin refuses it as no data directory; a forced clone overwrites it.
    execFileSync('chattr', ['-i', locked]);
    immutable.splice(immutable.indexOf(locked), 1);
    const refused = await hr.rejoin(oldMaster);
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, /no PG_VERSION.*Pass force/);
    const cloned = await hr.clone(oldMaster, true, null, true);
    assert.equal(cloned.result, 'SUCCESS', cloned.details);
    assert.equal((await hr.enable(oldMaster)).result, 'SUCCESS');
    assert.ok(await waitFor(async () => (await streamingFrom(scenario, newMaster)).length === 2, 30_000, 200), 'both replicas stream again');
    await writer.waitForAcks(20, 20_000);
    const commits = await assertCommitsKept(scenario, newMaster);
    report('quorum rolling restarts: commits', commits);
    assert.equal(commits.missing, 0, 'zero acknowledged commits lost');
    await assertNoSplitBrain(scenario);
  });
});
