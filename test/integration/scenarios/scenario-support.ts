// Shared set-up for the failure scenarios of SCENARIOS.md: a real cluster,
// HandyRep opened on it, a writer recording acknowledged commits and a
// split-brain watcher, plus the assertions every scenario makes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HandyRep } from '@handyrep/core';
import { createCluster } from '../../harness/index.js';
import type { Cluster, ClusterOptions, ConfOverrides, SplitBrainWatcher, Writer } from '../../harness/index.js';

/** A running scenario. */
export interface Scenario {
  cluster: Cluster;
  hr: HandyRep;
  configFile: string;
  writer: Writer | undefined;
  watcher: SplitBrainWatcher;
  /** Stops observers, HandyRep and the cluster (safe to call twice). */
  close(): Promise<void>;
}

/** What a scenario needs beyond the defaults. */
export interface ScenarioOptions {
  cluster?: ClusterOptions;
  overrides?: ConfOverrides;
  /** Start a writer against the master (default true). */
  writer?: boolean;
  /** Add a pgbouncer managed by multi_pgbouncer; the writer then writes through it. */
  pgbouncer?: boolean;
}

/** The operator's one-time pgbouncer edit (multi_pgbouncer README): its databases file included last. */
export function pgbouncerOverrides(cluster: Cluster): ConfOverrides {
  const bouncer = cluster.pgbouncers[0];
  if (!bouncer?.pgbouncerIni) throw new Error('the cluster has no pgbouncer');
  const databasesFile = join(bouncer.dir, 'handyrep-databases.ini');
  const ini = cluster.pgbouncerIni(bouncer, cluster.master);
  writeFileSync(bouncer.pgbouncerIni, `${ini.slice(ini.indexOf('[pgbouncer]'))}\n%include ${databasesFile}\n`);
  return {
    failover: { connection_failover_method: 'multi_pgbouncer' },
    'plugins.multi_pgbouncer': { database_list: 'appdb' },
    [`servers.${bouncer.name}`]: { pgbouncer_config: bouncer.pgbouncerIni, pgbouncer_databases_file: databasesFile, pgbouncer_socket_dir: bouncer.dir },
  };
}

/**
 * The detection window used by the scenarios: poll every second, two retries
 * one second apart, 1 s poll time-out. Replicas notice a silent master after
 * 2 s (wal_receiver_timeout), so their second opinion is fresh. Polls stay on
 * poll_isready (fresh connections), the method the figures in docs/failover.md
 * and the bench profiles were measured with; every scenario file also passed
 * with poll_held (held connections, issue 17), which has its own real-cluster
 * test (test/integration/plugins/poll-held.test.ts).
 */
export const FAST_FAILOVER: ConfOverrides = {
  handyrep: { connect_timeout: 1, statement_timeout: 5, ssh_timeout: 3 },
  failover: {
    poll_method: 'poll_isready',
    replication_status_method: 'replication_mb_lag',
    selection_method: 'select_replica_furthest_ahead',
    fencing_method: 'fence_shutdown',
    auto_failover: true,
    poll_interval: 1,
    verify_frequency: 5,
    fail_retries: 2,
    fail_retry_interval: 1,
  },
  'plugins.poll_isready': { timeout_ms: 1000 },
  'plugins.fence_shutdown': { stop_timeout_ms: 1000, confirm_timeout_ms: 3000 },
  server_defaults: { clone_method: null },
};

function merge(...layers: ConfOverrides[]): ConfOverrides {
  const out: ConfOverrides = {};
  for (const layer of layers) {
    for (const [section, values] of Object.entries(layer)) {
      if (values === null) out[section] = null;
      else out[section] = { ...(out[section] ?? {}), ...values };
    }
  }
  return out;
}

/** Builds a cluster, opens HandyRep on it and starts the observers. */
export async function openScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const cluster = await createCluster({
    replicas: 2,
    ...(options.pgbouncer ? { pgbouncer: 1 } : {}),
    ...options.cluster,
    pgSettings: { wal_receiver_timeout: '2s', wal_sender_timeout: '2s', ...(options.cluster?.pgSettings ?? {}) },
  });
  let hr: HandyRep | undefined;
  let writer: Writer | undefined;
  let watcher: SplitBrainWatcher | undefined;
  try {
    const proxy = options.pgbouncer ? pgbouncerOverrides(cluster) : {};
    const configFile = cluster.writeConfig(undefined, merge(FAST_FAILOVER, proxy, options.overrides ?? {}));
    hr = await HandyRep.open(configFile);
    if (options.pgbouncer) {
      const init = await hr.connectionProxyInit();
      if (init.result !== 'SUCCESS') throw new Error(`connection_proxy_init failed: ${init.details}`);
    }
    watcher = await cluster.startSplitBrainWatcher();
    if (options.writer !== false) {
      writer = await cluster.startWriter(options.pgbouncer ? { host: cluster.pgbouncers[0]?.name ?? '', intervalMs: 20 } : { host: cluster.master.name, intervalMs: 20 });
    }
    let closed = false;
    const scenario: Scenario = {
      cluster,
      hr,
      configFile,
      writer,
      watcher,
      async close() {
        if (closed) return;
        closed = true;
        await writer?.stop().catch(() => undefined);
        await watcher?.stop().catch(() => undefined);
        await scenario.hr.close().catch(() => undefined);
        await cluster.teardown();
      },
    };
    return scenario;
  } catch (err) {
    await writer?.stop().catch(() => undefined);
    await watcher?.stop().catch(() => undefined);
    await hr?.close().catch(() => undefined);
    await cluster.teardown();
    throw err;
  }
}

/** Polls `predicate` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Never two servers accepting writes at the same moment (stops the watcher to read its final counts). */
export async function assertNoSplitBrain(scenario: Scenario): Promise<void> {
  const { violations, rounds } = await scenario.watcher.stop();
  assert.deepEqual(violations, [], 'two servers accepted writes at the same moment');
  assert.ok(rounds > 0, 'the split-brain watcher ran');
}

/**
 * No acknowledged commit missing on the surviving master beyond what the
 * best replica had not yet received: with asynchronous replication only a
 * tail of the old master's acknowledged commits can be missing, never one in
 * the middle, and never one acknowledged after `faultAt` (those came from
 * the new master). Without `faultAt` every acknowledged commit counts as the
 * old master's.
 */
export async function assertCommitsKept(scenario: Scenario, master: string, faultAt = Number.POSITIVE_INFINITY): Promise<{ acked: number; missing: number }> {
  const writer = scenario.writer;
  assert.ok(writer, 'the scenario has a writer');
  await writer.stop();
  const check = await scenario.cluster.checkCommits(writer, master);
  const missingIds = new Set(check.missing.map((ack) => ack.id));
  assert.deepEqual(check.missing.filter((ack) => ack.t > faultAt).map((ack) => ack.id), [], 'no commit acknowledged after the fault is missing');
  const firstMissing = Math.min(...check.missing.map((ack) => ack.id));
  const presentAfterMissing = writer.acked.filter((ack) => ack.t <= faultAt && ack.id > firstMissing && !missingIds.has(ack.id));
  assert.deepEqual(presentAfterMissing.map((ack) => ack.id), [], "missing commits form a tail of the old master's (what the replica had not received)");
  return { acked: writer.acked.length, missing: check.missing.length };
}

/** The status dictionary's view of the cluster. */
export async function statusOf(hr: HandyRep): Promise<{ cluster: { status: string; status_message: string }; servers: Record<string, { role: string; enabled: boolean; status: string; status_message: string }> }> {
  const status = await hr.getStatus();
  assert.ok('cluster' in status, JSON.stringify(status));
  return status as never;
}

/** Prints a timing line the way the suite reports figures (not asserted). */
export function report(label: string, figures: Record<string, number | string>): void {
  console.log(`# ${label}: ${Object.entries(figures).map(([key, value]) => `${key}=${value}`).join(' ')}`);
}

/** A host's synchronous_standby_names as it reports it ('' when it does not answer). */
export async function standbyNames(scenario: Scenario, host: string): Promise<string> {
  const rows = await scenario.cluster.query(host, 'SHOW synchronous_standby_names', [], { timeoutMs: 2000 }).catch(() => []);
  return String(rows[0]?.['synchronous_standby_names'] ?? '');
}

const MONITOR_PROCESS = fileURLToPath(new URL('./fixtures/monitor-process.js', import.meta.url));

/** HandyRep's monitor in a process of its own, to be killed mid-failover. */
export interface MonitorProcess {
  /** What it printed on stdout so far. */
  output(): string;
  /** SIGKILL (if it still runs), resolved once it has exited. */
  kill(): Promise<void>;
}

/** Starts fixtures/monitor-process.js on `configFile` and waits until it says it is ready. */
export async function startMonitorProcess(configFile: string): Promise<MonitorProcess> {
  const child = spawn(process.execPath, [MONITOR_PROCESS, configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  // Starting a second Node process and its first check can take a while on a loaded 2-core machine.
  if (!(await waitFor(() => output.includes('ready'), 45_000))) {
    await kill();
    assert.fail(`monitor process did not start: ${output}\n${errors.slice(-2000)}`);
  }
  return { output: () => output, kill };
}
