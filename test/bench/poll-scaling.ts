// Poll scaling: HandyRep's pollAll over 1, 10, 50 and 100 server
// definitions, all backed by real servers. The definitions are the master
// pg1 once, then pg2, pg3 and bouncer1 (pgbouncer) repeated in turn under new
// names (pg2, pg3, bouncer1, pg2_2, pg3_2, bouncer1_2, ...), each with the
// real address and port: every definition is a real TCP poll of a real
// PostgreSQL or pgbouncer, but only 4 processes answer them. HandyRep runs
// in this process (library API); wall time per pollAll and the process's
// CPU time (process.cpuUsage) per cycle are measured.
//
// Usage (after npm run build): node test/dist/bench/poll-scaling.js [--cycles N]
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HandyRep } from '@handyrep/core';
import { serverSection, type Cluster, type ConfOverrides } from '../harness/index.js';
import { mergeOverrides, plainCluster, PROFILES, sleep, summarize, type Summary } from './bench-support.js';

export const POLL_SIZES = [1, 10, 50, 100];

/**
 * The floor without HandyRep: the same n targets, each one TCP connect plus
 * a PostgreSQL startup message and the first byte of the answer (what
 * poll_isready exchanges), all at once. What pollAll takes beyond this is
 * the core's and the plugin's own time.
 */
export async function rawExchange(targets: Array<{ host: string; port: number }>, user: string, database: string, timeoutMs = 5000): Promise<number> {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
  const startup = Buffer.alloc(8 + params.length);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  params.copy(startup, 8);
  const t = performance.now();
  await Promise.all(
    targets.map(
      (target) =>
        new Promise<void>((resolvePromise, reject) => {
          const socket = connect({ host: target.host, port: target.port });
          const timer = setTimeout(() => socket.destroy(new Error('timeout')), timeoutMs);
          socket.once('connect', () => socket.write(startup));
          socket.once('data', () => {
            clearTimeout(timer);
            socket.destroy();
            resolvePromise();
          });
          socket.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        }),
    ),
  );
  return performance.now() - t;
}

export interface PollScalingRow {
  definitions: number;
  /** What stands behind them. */
  backing: string;
  cycles: number;
  wall_ms: Summary;
  /** p90 of the wall time. */
  wall_p90_ms: number;
  /** CPU time of this process (user + system) per pollAll cycle. */
  cpu_ms_per_cycle: number;
  /** Median wall time relative to pollAll over 1 definition (the master alone = poll of the master). */
  ratio_to_single: number;
  /** The same targets by raw startup exchanges, all at once, without HandyRep (median, ms). */
  raw_exchange_ms: number;
}

export interface PollScalingResult {
  method: string;
  rows: PollScalingRow[];
  /** A replica poll alone (one poll_isready exchange, no recovery check), for reference. */
  single_replica_poll_ms: Summary | null;
}

/**
 * `[servers.*]` overrides: pg1 as master, then n - 1 definitions cycling
 * through the replicas and pgbouncer of the cluster. The harness's own
 * server sections are replaced.
 */
export function definitionsOverrides(cluster: Cluster, n: number): ConfOverrides {
  const out: ConfOverrides = {};
  for (const h of cluster.hosts) out[`servers.${h.name}`] = null;
  out[`servers.${cluster.master.name}`] = serverSection(cluster, cluster.master);
  const others = [...cluster.replicas, ...cluster.pgbouncers];
  for (let i = 0; i < n - 1; i++) {
    const host = others[i % others.length]!;
    const copy = Math.floor(i / others.length) + 1;
    out[`servers.${copy === 1 ? host.name : `${host.name}_${copy}`}`] = serverSection(cluster, host);
  }
  return out;
}

export function describeBacking(n: number): string {
  if (n === 1) return 'pg1 (master)';
  const others = n - 1;
  const perHost = (k: number): number => Math.floor(others / 3) + (k < others % 3 ? 1 : 0);
  return `pg1 + ${perHost(0)}× pg2, ${perHost(1)}× pg3, ${perHost(2)}× bouncer1`;
}

export async function runPollScaling(cycles = 30, sizes = POLL_SIZES): Promise<PollScalingResult> {
  const cluster = await plainCluster();
  const rows: PollScalingRow[] = [];
  let single: Summary | null = null;
  try {
    for (const n of sizes) {
      const configFile = cluster.writeConfig(
        join(cluster.baseDir, `poll-${n}.conf`),
        mergeOverrides(PROFILES.fast.overrides, { failover: { connection_failover_method: null, auto_failover: false } }, {
          handyrep: { server_file: join(cluster.baseDir, `poll-${n}.save`), override_server_file: true, log_file: join(cluster.baseDir, `poll-${n}.log`), authentication_method: null },
          'plugins.multi_pgbouncer': null,
          passwords: { admin_password: null, read_password: null },
        }, definitionsOverrides(cluster, n)),
      );
      const hr = await HandyRep.open(configFile);
      try {
        for (let i = 0; i < 3; i++) await hr.pollAll();
        const walls: number[] = [];
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < cycles; i++) {
          const t = performance.now();
          const r = await hr.pollAll();
          walls.push(performance.now() - t);
          if (r.result !== 'SUCCESS') throw new Error(`pollAll(${n}): ${r.details}`);
          await sleep(100);
        }
        const cpu = process.cpuUsage(cpu0);
        const targets = Object.values(await hr.getServerInfo() as Record<string, { hostname: string; port: number }>).map((d) => ({ host: d.hostname, port: d.port }));
        const raws: number[] = [];
        for (let i = 0; i < cycles; i++) {
          raws.push(await rawExchange(targets, cluster.superuser, cluster.database));
          await sleep(100);
        }
        if (n === sizes[0] || single === null) {
          const replicaPolls: number[] = [];
          for (let i = 0; i < cycles && n > 1; i++) {
            const t = performance.now();
            await hr.poll(cluster.replicas[0]!.name);
            replicaPolls.push(performance.now() - t);
            await sleep(20);
          }
          if (replicaPolls.length > 0) single = summarize(replicaPolls);
        }
        const sorted = [...walls].sort((a, b) => a - b);
        const wall = summarize(walls)!;
        rows.push({
          definitions: n,
          backing: describeBacking(n),
          cycles,
          wall_ms: round(wall),
          wall_p90_ms: Math.round(sorted[Math.ceil(0.9 * sorted.length) - 1]! * 100) / 100,
          cpu_ms_per_cycle: Math.round(((cpu.user + cpu.system) / 1000 / cycles) * 100) / 100,
          ratio_to_single: 0,
          raw_exchange_ms: Math.round(summarize(raws)!.median * 100) / 100,
        });
        console.log(`  pollAll over ${n} definitions (${describeBacking(n)}): median ${wall.median.toFixed(1)} ms (min ${wall.min.toFixed(1)}, max ${wall.max.toFixed(1)}), CPU ${rows.at(-1)!.cpu_ms_per_cycle} ms/cycle; raw startup exchanges to the same targets ${rows.at(-1)!.raw_exchange_ms} ms`);
      } finally {
        await hr.close();
      }
    }
  } finally {
    await cluster.teardown();
  }
  const base = rows[0]!.wall_ms.median;
  for (const row of rows) row.ratio_to_single = Math.round((row.wall_ms.median / base) * 100) / 100;
  return {
    method:
      'HandyRep library (this process), fast profile, poll_method poll_isready; pollAll runs every definition concurrently; 3 warm-up cycles, then N cycles 100 ms apart; wall time per pollAll; CPU = process.cpuUsage() over the cycles / N (includes the 100 ms pauses, which are idle)',
    rows,
    single_replica_poll_ms: single ? round(single) : null,
  };
}

function round(s: Summary): Summary {
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { n: s.n, min: r(s.min), median: r(s.median), max: r(s.max) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { cycles: { type: 'string', default: '30' }, sizes: { type: 'string', default: POLL_SIZES.join(',') } } });
  const result = await runPollScaling(Number(values.cycles), String(values.sizes).split(',').map(Number));
  console.log(JSON.stringify(result, null, 2));
}
