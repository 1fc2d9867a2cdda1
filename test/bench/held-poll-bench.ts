// Poll scaling on held connections (issue 17): HandyRep's pollAll over 1, 10,
// 50 and 100 server definitions with poll_held (one held connection per
// definition) next to the fresh-connection methods poll_isready and
// poll_connect, and the floor: a bare `pg` client per definition running the
// same round trip (SELECT pg_is_in_recovery()) on held connections, all at
// once. The definitions are pg1 (the master) once, then pg2 and pg3 in turn
// under new names (pg2_2, pg3_2, ...) with their real addresses: every poll
// is real, but only 3 PostgreSQL processes answer (no pgbouncer: its session
// pool of 20 could not hold 33 connections). All methods and the floor run
// in this process, one HandyRep library instance per method, and take turns
// cycle by cycle, so a change of load on the shared machine hits them alike.
//
// Per cycle: the wall time of one pollAll (or of the floor's round trips),
// and this process's CPU time (process.cpuUsage) from the start of the call
// to the start of the next one, so work a call leaves behind (a connection's
// close, the server file's save) counts for the method that caused it.
//
// Usage (as root, after npm run build):
//   node test/dist/bench/held-poll-bench.js [--cycles 30] [--sizes 1,10,50,100] [--methods poll_held,poll_isready,poll_connect] [--json]
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HandyRep } from '@handyrep/core';
import pg from 'pg';
import { createCluster, serverSection, type Cluster, type ConfOverrides } from '../harness/index.js';

const SIZES = [1, 10, 50, 100];
const METHODS = ['poll_held', 'poll_isready', 'poll_connect'];
/** The floor's name in the figures. */
export const FLOOR = 'bare pg, held';
const QUERY = 'SELECT pg_is_in_recovery() AS in_recovery';
const PAUSE_MS = 100;
const WARM_UP = 3;

/** One contender's figures at one size. */
export interface Figures {
  /** Wall time per cycle: median and 90th percentile, ms. */
  median_ms: number;
  p90_ms: number;
  /** CPU time of this process per cycle (user + system), median, ms. */
  cpu_ms_per_cycle: number;
}

/** One size: the figures of every contender. */
export interface Row {
  definitions: number;
  cycles: number;
  figures: Record<string, Figures>;
}

/** Something that runs one poll cycle over all definitions. */
interface Contender {
  name: string;
  cycle(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** pg1 as master, then n - 1 definitions alternating between the replicas (pg2, pg3, pg2_2, pg3_2, ...). */
function definitions(cluster: Cluster, n: number): { overrides: ConfOverrides; targets: { host: string; port: number }[] } {
  const overrides: ConfOverrides = {};
  for (const h of cluster.hosts) overrides[`servers.${h.name}`] = null;
  overrides[`servers.${cluster.master.name}`] = serverSection(cluster, cluster.master);
  const targets = [{ host: cluster.master.address, port: cluster.master.pgPort }];
  for (let i = 0; i < n - 1; i++) {
    const host = cluster.replicas[i % cluster.replicas.length]!;
    const copy = Math.floor(i / cluster.replicas.length) + 1;
    overrides[`servers.${copy === 1 ? host.name : `${host.name}_${copy}`}`] = serverSection(cluster, host);
    targets.push({ host: host.address, port: host.pgPort });
  }
  return { overrides, targets };
}

async function handyRepContender(cluster: Cluster, method: string, n: number): Promise<Contender> {
  const name = `${method}-${n}`;
  const { overrides } = definitions(cluster, n);
  const config = cluster.writeConfig(join(cluster.baseDir, `${name}.conf`), {
    ...overrides,
    handyrep: {
      server_file: join(cluster.baseDir, `${name}.save`),
      override_server_file: true,
      log_file: join(cluster.baseDir, `${name}.log`),
      authentication_method: null,
      connect_timeout: 1,
    },
    failover: { poll_method: method, auto_failover: false, connection_failover_method: null, replication_status_method: null, selection_method: null, fencing_method: null },
    [`plugins.${method}`]: { timeout_ms: 1000 },
    server_defaults: { clone_method: null },
  });
  const hr = await HandyRep.open(config);
  return {
    name: method,
    async cycle() {
      const result = await hr.pollAll();
      if (result.result !== 'SUCCESS') throw new Error(`${method}: pollAll(${n}) failed: ${result.details}`);
    },
    close: () => hr.close(),
  };
}

async function floorContender(cluster: Cluster, n: number): Promise<Contender> {
  const { targets } = definitions(cluster, n);
  const clients = targets.map(
    (target) =>
      new pg.Client({ host: target.host, port: target.port, user: cluster.superuser, password: cluster.superuserPassword, database: cluster.database, keepAlive: true }),
  );
  await Promise.all(clients.map((client) => client.connect()));
  return {
    name: FLOOR,
    async cycle() {
      await Promise.all(clients.map((client) => client.query(QUERY)));
    },
    close: async () => {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    },
  };
}

async function measureSize(cluster: Cluster, n: number, cycles: number, methods: string[]): Promise<Row> {
  const contenders: Contender[] = [];
  try {
    for (const method of methods) contenders.push(await handyRepContender(cluster, method, n));
    contenders.push(await floorContender(cluster, n));
    for (let i = 0; i < WARM_UP; i++) for (const contender of contenders) await contender.cycle();
    const walls = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    const cpus = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
    for (let i = 0; i < cycles; i++) {
      for (const contender of contenders) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await contender.cycle();
        walls.get(contender.name)!.push(performance.now() - t0);
        await sleep(PAUSE_MS);
        const cpu = process.cpuUsage(cpu0);
        cpus.get(contender.name)!.push((cpu.user + cpu.system) / 1000);
      }
    }
    const figures: Record<string, Figures> = {};
    for (const contender of contenders) {
      const wall = walls.get(contender.name)!;
      figures[contender.name] = { median_ms: round2(percentile(wall, 0.5)), p90_ms: round2(percentile(wall, 0.9)), cpu_ms_per_cycle: round2(percentile(cpus.get(contender.name)!, 0.5)) };
    }
    return { definitions: n, cycles, figures };
  } finally {
    for (const contender of contenders) await contender.close().catch(() => undefined);
  }
}

/** What runHeldPollBench measured. */
export interface HeldPollResult {
  method: string;
  cycles: number;
  sizes: number[];
  methods: string[];
  rows: Row[];
  load: { start: number[]; end: number[] };
  duration_s: number;
}

/** Every size with every method and the floor, on one cluster (pg1, pg2, pg3; max_connections 300). */
export async function runHeldPollBench(opts: { cycles?: number; sizes?: number[]; methods?: string[]; log?: (line: string) => void } = {}): Promise<HeldPollResult> {
  const cycles = opts.cycles ?? 30;
  const sizes = opts.sizes ?? SIZES;
  const methods = opts.methods ?? METHODS;
  const log = opts.log ?? ((line: string) => console.log(line));
  const load0 = loadavg();
  const started = Date.now();
  const cluster = await createCluster({ replicas: 2, label: 'heldbench', pgSettings: { max_connections: 300 } });
  const rows: Row[] = [];
  try {
    for (const n of sizes) {
      const row = await measureSize(cluster, n, cycles, methods);
      rows.push(row);
      log(`  ${n} definitions: ${Object.entries(row.figures).map(([name, f]) => `${name} ${f.median_ms} ms (CPU ${f.cpu_ms_per_cycle} ms)`).join(', ')}`);
    }
  } finally {
    await cluster.teardown();
  }
  const load1 = loadavg();
  return {
    method: `pollAll in one HandyRep library instance per method (poll time-out 1000 ms), and the floor: a bare pg client per definition on a held connection running SELECT pg_is_in_recovery(), all at once; ${cycles} cycles per size after ${WARM_UP} warm-up, contenders taking turns, ${PAUSE_MS} ms pause after each; wall time and this process's CPU per cycle (median); pg1 once, then pg2 and pg3 in turn`,
    cycles,
    sizes,
    methods,
    rows,
    load: { start: load0, end: load1 },
    duration_s: Math.round((Date.now() - started) / 1000),
  };
}

/** The figures as a markdown table: each method's and the floor's wall and CPU per cycle, poll_held against the floor. */
export function heldPollTable(rows: Row[], methods: string[]): string {
  const names = [...methods, FLOOR];
  const lines = [
    `| definitions | ${names.map((name) => `${name} median / p90`).join(' | ')} | ${names.map((name) => `${name} CPU/cycle`).join(' | ')} | poll_held / floor | poll_held CPU per definition |`,
    `| --- | ${names.map(() => '---').join(' | ')} | ${names.map(() => '---').join(' | ')} | --- | --- |`,
  ];
  for (const row of rows) {
    const held = row.figures['poll_held'];
    const floor = row.figures[FLOOR]!;
    lines.push(
      `| ${row.definitions} | ${names.map((name) => `${row.figures[name]?.median_ms} / ${row.figures[name]?.p90_ms} ms`).join(' | ')} | ${names
        .map((name) => `${row.figures[name]?.cpu_ms_per_cycle} ms`)
        .join(' | ')} | ${held ? `${round2(held.median_ms / floor.median_ms)}×` : '–'} | ${held ? `${round2(held.cpu_ms_per_cycle / row.definitions)} ms` : '–'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '30' },
      sizes: { type: 'string', default: SIZES.join(',') },
      methods: { type: 'string', default: METHODS.join(',') },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runHeldPollBench({
    cycles: Number(values.cycles),
    sizes: String(values.sizes).split(',').map(Number),
    methods: String(values.methods).split(',').filter((m) => m !== ''),
  });
  console.log('');
  console.log(`Held-connection poll scaling: ${result.cycles} cycles per size after ${WARM_UP} warm-up, contenders taking turns, ${PAUSE_MS} ms pause after each; pollAll wall time and this process's CPU per cycle (median).`);
  console.log(`Backing: pg1 once, then pg2 and pg3 in turn; poll time-out 1000 ms. Load average ${result.load.start.map((x) => x.toFixed(2)).join(' ')} at the start, ${result.load.end.map((x) => x.toFixed(2)).join(' ')} at the end; ${result.duration_s} s.`);
  console.log('');
  console.log(heldPollTable(result.rows, result.methods));
  if (values.json) console.log(JSON.stringify(result, null, 2));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  await main();
}
