// The fencing plugins against one real harness cluster (master + 1 replica):
// fence_command with scripts written by the test, then fence_shutdown through
// the real restart_pg_ctl control plugin, with SSH down, on a running master
// and on a hung (SIGSTOPped) one, without and with kill_hung_postmaster.
// Subtests run in order and share the cluster; the ones that stop, hang or
// kill the master come last, and teardown must still clean everything up.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandyRep } from '@handyrep/core';
import type { FenceResult, FencingPlugin } from '@handyrep/plugin-sdk';
import { createCluster, cwdOf, isAlive, listProcesses, waitFor, waitGone, type Cluster, type ConfOverrides, type Host } from '../../harness/index.js';
import { tcpOutcome } from './poll-support.js';

let cluster: Cluster;
const opened: HandyRep[] = [];

/** Plugins this suite does not exercise (some not written yet): configured as none. */
const UNUSED_PLUGINS: ConfOverrides = {
  failover: { poll_method: null, replication_status_method: null, selection_method: null },
  server_defaults: { promotion_method: null, clone_method: null },
};

/** Opens HandyRep on a config of its own (own server file and log) so instances never share saved state. */
async function openHandyRep(name: string, overrides: ConfOverrides, edit: (ini: string) => string = (ini) => ini): Promise<HandyRep> {
  const path = join(cluster.baseDir, `${name}.conf`);
  const merged: ConfOverrides = {
    ...UNUSED_PLUGINS,
    ...overrides,
    failover: { ...UNUSED_PLUGINS['failover'], ...overrides['failover'] },
    server_defaults: { ...UNUSED_PLUGINS['server_defaults'], ...overrides['server_defaults'] },
    handyrep: { server_file: join(cluster.baseDir, `${name}.save`), log_file: join(cluster.baseDir, `${name}.log`) },
  };
  writeFileSync(path, edit(cluster.handyrepConf(merged)), { mode: 0o600 });
  const hr = await HandyRep.open(path);
  opened.push(hr);
  return hr;
}

function fencer(hr: HandyRep, name: string): FencingPlugin {
  const instance = hr.pluginInstance('fencing', name);
  assert.ok(instance, `${name} is loaded`);
  return instance;
}

/** Writes an executable shell script into the cluster's base directory. */
function script(name: string, body: string): string {
  const path = join(cluster.baseDir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Live (not zombie) processes working in the host's data directory: the postmaster and every child it forked. */
function processesOfDataDir(host: Host): number[] {
  return listProcesses()
    .filter((p) => p.state !== 'Z' && p.state !== 'X' && cwdOf(p.pid) === host.pgdata)
    .map((p) => p.pid);
}

async function timed(work: () => Promise<FenceResult>): Promise<{ result: FenceResult; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: Math.round(performance.now() - started) };
}

describe('fencing plugins on a real cluster', { timeout: 120_000 }, () => {
  before(async () => {
    const started = Date.now();
    cluster = await createCluster({ replicas: 1, label: 'fencing' });
    console.log(`# cluster up in ${Date.now() - started} ms at ${cluster.baseDir}`);
  });

  after(async () => {
    for (const hr of opened) await hr.close().catch(() => undefined);
    if (!cluster) return;
    // The master was SIGKILLed by the last test: teardown must still find and end everything.
    const report = await cluster.teardown();
    assert.deepEqual(report.survivors, [], 'no process of the cluster survives teardown');
    assert.deepEqual(report.errors, []);
  });

  describe('fence_command', () => {
    it('hands server name and a hostile host name over as exact single arguments; exit 0 → fenced', async () => {
      const marker = join(cluster.baseDir, 'marker');
      const hostileHost = `odd host';"; touch ${marker}; $(touch ${marker}) \`touch ${marker}\``;
      const argvFile = join(cluster.baseDir, 'argv.out');
      const recorder = script('record-argv.sh', `for a in "$@"; do printf '%s\\0' "$a"; done > '${argvFile}'\necho "switched off $1"`);
      const fixedArgs = ['--fixed arg "one"', '--two=$(touch x);'];
      const hr = await openHandyRep(
        'fence-command-ok',
        {
          failover: { fencing_method: 'fence_command' },
          server_defaults: { restart_method: null },
          'servers.odd': { hostname: hostileHost, role: 'fence_target' },
          'plugins.fence_command': { command: recorder, 'args[]': fixedArgs[0]!, timeout_ms: 5000 },
        },
        // A second fixed argument: INI lists repeat `args[] =`, which a one-key-per-line model cannot express.
        (ini) => ini.replace(/^args\[\] = .*$/m, (line) => `${line}\nargs[] = ${JSON.stringify(fixedArgs[1])}`),
      );
      const { result, ms } = await timed(() => fencer(hr, 'fence_command').fence('odd'));
      console.log(`# fence_command (exit 0) took ${ms} ms`);
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.fenced, true);
      assert.match(result.details, /switched off --fixed arg "one"/);
      const argv = readFileSync(argvFile, 'utf8').split('\0').slice(0, -1);
      assert.deepEqual(argv, [...fixedArgs, 'odd', hostileHost]);
      assert.equal(existsSync(marker), false, 'nothing in an argument was run by a shell');
    });

    it('non-zero exit → FAIL, fenced false, exit code and trimmed stderr', async () => {
      const failing = script('fence-fails.sh', 'echo "  power switch said no  " >&2\nexit 3');
      const hr = await openHandyRep('fence-command-fails', {
        failover: { fencing_method: 'fence_command' },
        server_defaults: { restart_method: null },
        'plugins.fence_command': { command: failing, timeout_ms: 5000 },
      });
      const { result } = await timed(() => fencer(hr, 'fence_command').fence('pg1'));
      assert.equal(result.result, 'FAIL');
      assert.equal(result.fenced, false);
      assert.match(result.details, /exited with code 3 after \d+ ms: power switch said no$/);
      assert.equal((result as { exit_code?: unknown }).exit_code, 3);
    });

    it('a command sleeping past timeout_ms → FAIL within the time-out, and it is killed', async () => {
      const pidFile = join(cluster.baseDir, 'sleeper.pid');
      const sleeper = script('fence-sleeps.sh', `echo $$ > '${pidFile}'\nexec sleep 30`);
      const timeoutMs = 1500;
      const hr = await openHandyRep('fence-command-sleeps', {
        failover: { fencing_method: 'fence_command' },
        server_defaults: { restart_method: null },
        'plugins.fence_command': { command: sleeper, timeout_ms: timeoutMs },
      });
      const { result, ms } = await timed(() => fencer(hr, 'fence_command').fence('pg1'));
      console.log(`# fence_command (sleeper, timeout_ms ${timeoutMs}) answered after ${ms} ms`);
      assert.equal(result.result, 'FAIL');
      assert.equal(result.fenced, false);
      assert.match(result.details, new RegExp(`gave no answer within ${timeoutMs} ms and was killed`));
      assert.ok(ms >= timeoutMs - 50 && ms < timeoutMs + 1000, `answered after ${ms} ms`);
      // SIGKILL is delivered asynchronously: give the process a moment to be gone.
      assert.deepEqual(await waitGone([Number(readFileSync(pidFile, 'utf8').trim())], 2000), [], 'the sleeping command was killed');
    });
  });

  describe('fence_shutdown (through restart_pg_ctl)', () => {
    const settings = { stop_timeout_ms: 3000, confirm_timeout_ms: 3000, confirm_interval_ms: 100, check_timeout_ms: 1000 };
    let fence: FencingPlugin;
    let fenceNoKill: FencingPlugin;

    before(async () => {
      const hr = await openHandyRep('fence-shutdown', {
        failover: { fencing_method: 'fence_shutdown' },
        'plugins.fence_shutdown': settings,
      });
      fence = fencer(hr, 'fence_shutdown');
      const noKill = await openHandyRep('fence-shutdown-no-kill', {
        failover: { fencing_method: 'fence_shutdown' },
        'plugins.fence_shutdown': { ...settings, kill_hung_postmaster: false },
      });
      fenceNoKill = fencer(noKill, 'fence_shutdown');
    });

    it('master SSH down while postgres runs → FAIL, fenced false, "still accepting connections"', async () => {
      const master = cluster.master;
      await cluster.faults.sshDown(master);
      try {
        const { result, ms } = await timed(() => fence.fence(master.name));
        console.log(`# fence_shutdown with SSH down answered after ${ms} ms: ${result.details}`);
        assert.equal(result.result, 'FAIL');
        assert.equal(result.fenced, false);
        assert.match(result.details, /still accepting connections/);
        assert.equal(cluster.isPostgresRunning(master), true);
        assert.deepEqual(await cluster.query(master, 'SELECT 1 AS one'), [{ one: 1 }]);
      } finally {
        await cluster.faults.sshUp(master);
      }
    });

    it('running master → SUCCESS, fenced true; its port refuses and the postmaster is gone', async () => {
      const master = cluster.master;
      assert.equal(cluster.isPostgresRunning(master), true);
      const { result, ms } = await timed(() => fence.fence(master.name));
      console.log(`# fence_shutdown of a running master took ${ms} ms: ${result.details}`);
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.fenced, true);
      assert.equal(await tcpOutcome(master.address, master.pgPort), 'refused');
      assert.equal(cluster.isPostgresRunning(master), false);
      assert.ok(!result.details.includes(cluster.superuserPassword));
      assert.deepEqual((result as { killed_pids?: unknown }).killed_pids, [], 'a clean stop needs no kill');
    });

    it('hung master (SIGSTOP) with kill_hung_postmaster = false → FAIL, fenced false: the postmaster cannot be confirmed down', async () => {
      const master = cluster.master;
      await cluster.faults.start(master);
      await cluster.faults.hang(master);
      try {
        const { result, ms } = await timed(() => fenceNoKill.fence(master.name));
        console.log(`# fence_shutdown (no kill) of a hung master answered after ${ms} ms: ${result.details}`);
        assert.equal(result.result, 'FAIL');
        assert.equal(result.fenced, false);
        assert.match(result.details, /postmaster still running but does not answer \(hung\?\)/);
        assert.equal(cluster.isPostgresRunning(master), true);
        assert.ok(ms < 3000 + 3000 + 1000 + 1500, `bounded by stop, confirm and check time-outs (${ms} ms)`);
        assert.deepEqual((result as { killed_pids?: unknown }).killed_pids, []);
      } finally {
        await cluster.faults.resume(master);
      }
    });

    it('hung master (SIGSTOP) → SUCCESS, fenced true: its postmaster and children are SIGKILLed, the port refuses', async () => {
      const master = cluster.master;
      // The previous test's pg_ctl stop left a SIGQUIT pending on the hung postmaster, delivered when it was resumed.
      await waitFor('the resumed master to finish its immediate shutdown', () => !cluster.isPostgresRunning(master), 10_000);
      await cluster.faults.start(master);
      const postmaster = cluster.postmasterPid(master);
      assert.ok(postmaster !== null);
      // A backend that exited just before the stop is a zombie its stopped parent cannot reap: not counted.
      const hung = (await cluster.faults.hang(master)).filter(isAlive);
      assert.ok(hung.length > 3, `the postmaster and its children are stopped (${hung.length})`);
      assert.deepEqual(new Set(processesOfDataDir(master)), new Set(hung), 'the harness sees the same processes in the data directory');
      const { result, ms } = await timed(() => fence.fence(master.name));
      console.log(`# fence_shutdown of a hung master (kill_hung_postmaster) took ${ms} ms: ${result.details}`);
      assert.equal(result.result, 'SUCCESS', result.details);
      assert.equal(result.fenced, true);
      assert.match(result.details, new RegExp(`escalation: SIGKILLed the postmaster \\(pid ${postmaster}, stopped, `));
      assert.match(result.details, /postmaster not running/);
      const killed = (result as { killed_pids?: number[] }).killed_pids ?? [];
      assert.equal(killed[0], postmaster);
      assert.deepEqual(new Set(killed), new Set(hung), 'every stopped process was killed, and nothing else');
      assert.equal(await tcpOutcome(master.address, master.pgPort), 'refused');
      assert.equal(cluster.isPostgresRunning(master), false);
      assert.deepEqual(await waitGone(hung, 2000), [], 'none of them is alive');
      assert.deepEqual(processesOfDataDir(master), [], 'no process works in the data directory any more');
      // Bounded by the stop time-out, one check and the kill, not by the confirmation window.
      assert.ok(ms < 3000 + 1000 + 2000 + 1000, `took ${ms} ms`);
    });
  });
});
