// The daemon's footprint and its API latency. One harness cluster, and the
// HandyRep daemon as a child process (`handyrep daemon`) with 10 server
// definitions (pg1, then pg2, pg3 and bouncer1 repeated under new names, as
// in poll-scaling.ts), the fast profile: a failover_check every second, a
// full verification every 5th. auto_failover is off and no connection proxy
// plugin is configured, so nothing but checking happens.
//
// 1. Footprint: the daemon idle-polls for `footprintS` seconds; VmRSS from
//    /proc/<pid>/status and utime+stime from /proc/<pid>/stat every second.
// 2. API latency: `GET /get_status` (cached, read credentials, HTTP Basic
//    checked by simple_password_auth) from a load-generator child process at
//    several concurrencies, while the daemon keeps polling. Side by side at
//    each level, the same load against a bare node:http server process
//    (bare-status-server.ts) serving the same bytes: the floor on this
//    machine, load generator included. The daemon's RSS is sampled every
//    200 ms during the load (peak).
//
// Usage (after npm run build): node test/dist/bench/daemon-bench.js [--footprint-s 60] [--api-s 10] [--concurrency 1,10,50]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { api, mergeOverrides, plainCluster, procSample, PROFILES, sleep, startDaemonChild, summarize, waitUntil, WEB, type StatusView, type Summary } from './bench-support.js';
import type { LoadResult } from './load-generator.js';
import { definitionsOverrides } from './poll-scaling.js';

const LOAD_GENERATOR = fileURLToPath(new URL('./load-generator.js', import.meta.url));
const BARE_SERVER = fileURLToPath(new URL('./bare-status-server.js', import.meta.url));

export interface FootprintResult {
  method: string;
  definitions: number;
  duration_s: number;
  rss_mb: Summary;
  rss_mb_at_start: number;
  rss_mb_at_end: number;
  /** At the end: anonymous memory (heap, stacks) and file-backed pages (the node binary, libraries). */
  rss_anon_mb_at_end: number;
  rss_file_mb_at_end: number;
  /** An idle `node -e setInterval(...)` of the same binary, for reference. */
  bare_node_rss_mb: number | null;
  cpu_s: number;
  /** Average CPU use over the period, percent of one core. */
  cpu_percent: number;
  /** CPU time per failover_check cycle (poll_interval 1 s). */
  cpu_ms_per_cycle: number;
}

export interface ApiLatencyRow extends LoadResult {
  /** Daemon CPU over the measured period, percent of one core. */
  daemon_cpu_percent: number;
  daemon_rss_mb_after: number;
  /** The daemon's highest RSS sampled (every 200 ms) during this level's load. */
  daemon_rss_mb_peak?: number;
  /** The same load against the bare node:http server serving the same bytes, run right after. */
  bare?: LoadResult;
}

export interface ApiLatencyResult {
  method: string;
  rows: ApiLatencyRow[];
  /** Size of the get_status body served by both. */
  body_bytes?: number;
}

/** The load balancers' health endpoints under the same closed-loop load (answered from the cached status). */
export interface HealthLatencyResult {
  method: string;
  rows: (LoadResult & { path: string; bare?: LoadResult })[];
}

export interface DaemonBenchResult {
  footprint: FootprintResult;
  api: ApiLatencyResult;
  health?: HealthLatencyResult;
}

/** The health checks a load balancer sends (docs/haproxy.md): the master's write check and a replica's read check. */
const HEALTH_PATHS = ['/health/master/pg1', '/health/replica/pg2?max_lag_mb=16'];

/**
 * Paced loads for the health endpoints, requests per second over the
 * connections: far more than balancers send (HAProxy checks each server once
 * a second: 100/s is 10 balancers with 10 servers each, 1000/s is 20 balancers with 50 servers each), unlike the
 * closed-loop levels, which measure saturation (queueing on 2 shared cores).
 */
const HEALTH_PACED: { concurrency: number; ratePerS: number }[] = [
  // What a few balancers checking a cluster send: 10 balancers × 10 servers, once a second each.
  { concurrency: 10, ratePerS: 100 },
  { concurrency: 10, ratePerS: 1000 },
  { concurrency: 50, ratePerS: 2000 },
];

function runLoad(url: string, concurrency: number, durationMs: number, warmupMs: number, ratePerS?: number): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [LOAD_GENERATOR, JSON.stringify({ url, auth: `read:${WEB.read}`, concurrency, durationMs, warmupMs, ...(ratePerS ? { ratePerS } : {}) })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), durationMs + warmupMs + 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').at(-1) ?? '') as LoadResult);
      } catch {
        reject(new Error(`load generator exited ${String(code)}: ${out.slice(0, 500)}`));
      }
    });
  });
}

const mb = (kb: number): number => Math.round((kb / 1024) * 10) / 10;

/** Starts the bare node:http floor serving `bodyFile`; resolves with its URL and the process. */
function startBareServer(bodyFile: string): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BARE_SERVER, bodyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the bare status server did not start within 10 s'));
    }, 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^(http:\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ url: m[1]!, child });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bare status server exited (${String(code)})`));
    });
  });
}

/** Highest RSS of `pid` (kB) sampled every 200 ms until `done` settles. */
async function peakRss(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    peak = Math.max(peak, procSample(pid)?.rssKb ?? 0);
    await sleep(200);
  }
  return peak;
}

/** RSS of an idle Node process (same binary) after 3 s: the floor any Node daemon starts from. */
async function bareNodeRss(): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(3000);
  const s = child.pid ? procSample(child.pid) : null;
  child.kill('SIGKILL');
  return s ? mb(s.rssKb) : null;
}

export async function runDaemonBench(opts: { footprintS?: number; apiS?: number; concurrency?: number[]; definitions?: number } = {}): Promise<DaemonBenchResult> {
  const footprintS = opts.footprintS ?? 60;
  const apiS = opts.apiS ?? 10;
  const levels = opts.concurrency ?? [1, 10, 50];
  const definitions = opts.definitions ?? 10;
  const cluster = await plainCluster();
  let daemon;
  let bare: { url: string; child: ChildProcess } | undefined;
  try {
    const configFile = cluster.writeConfig(
      join(cluster.baseDir, 'daemon-bench.conf'),
      mergeOverrides(PROFILES.fast.overrides, { failover: { connection_failover_method: null, auto_failover: false } }, {
        handyrep: { log_file: join(cluster.baseDir, 'daemon-bench.log'), server_file: join(cluster.baseDir, 'daemon-bench.save'), authentication_method: 'simple_password_auth', health_endpoints: true },
        passwords: { admin_password: WEB.admin, read_password: WEB.read },
      }, definitionsOverrides(cluster, definitions)),
    );
    daemon = await startDaemonChild(configFile);
    const d = daemon;
    const healthy = await waitUntil(async () => {
      const status = await api<StatusView>(d.url, 'get_status');
      const servers = Object.values(status.servers ?? {});
      return servers.length === definitions && servers.every((s) => s.status === 'healthy');
    }, 30_000, 200);
    if (!healthy) throw new Error(`daemon servers not healthy: ${JSON.stringify(await api(d.url, 'get_status'))}`);
    await sleep(5000); // past start-up work

    // 1. footprint
    console.log(`  footprint: daemon pid ${d.pid} idle-polling ${definitions} definitions every second for ${footprintS} s`);
    const first = procSample(d.pid);
    if (!first) throw new Error('cannot read /proc of the daemon');
    const t0 = performance.now();
    const rss: number[] = [first.rssKb];
    let last = first;
    for (let i = 0; i < footprintS; i++) {
      await sleep(1000);
      const s = procSample(d.pid);
      if (!s) throw new Error('the daemon exited');
      rss.push(s.rssKb);
      last = s;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = last.cpuS - first.cpuS;
    const rssSummary = summarize(rss.map(mb))!;
    const footprint: FootprintResult = {
      method: `handyrep daemon (child process), ${definitions} definitions, poll_interval 1, verify_frequency 5 (fast profile), auto_failover off; VmRSS and utime+stime sampled from /proc every second`,
      definitions,
      duration_s: Math.round(elapsed),
      rss_mb: rssSummary,
      rss_mb_at_start: mb(first.rssKb),
      rss_mb_at_end: mb(last.rssKb),
      rss_anon_mb_at_end: mb(last.rssAnonKb),
      rss_file_mb_at_end: mb(last.rssFileKb),
      bare_node_rss_mb: await bareNodeRss(),
      cpu_s: Math.round(cpu * 100) / 100,
      cpu_percent: Math.round((cpu / elapsed) * 1000) / 10,
      cpu_ms_per_cycle: Math.round((cpu / elapsed) * 1000 * 10) / 10,
    };
    console.log(`  footprint: RSS ${rssSummary.min}–${rssSummary.max} MB (median ${rssSummary.median}; at the end ${footprint.rss_anon_mb_at_end} anonymous + ${footprint.rss_file_mb_at_end} file-backed; an idle bare node: ${footprint.bare_node_rss_mb} MB), CPU ${footprint.cpu_percent}% of a core = ${footprint.cpu_ms_per_cycle} ms per 1-second cycle`);

    // 2. API latency, each level against the daemon and then against the bare floor
    const body = Buffer.from(await (await fetch(`${d.url}/get_status`, { headers: { authorization: `Basic ${Buffer.from(`read:${WEB.read}`).toString('base64')}` } })).arrayBuffer());
    const bodyFile = join(cluster.baseDir, 'get-status-body.json');
    writeFileSync(bodyFile, body);
    bare = await startBareServer(bodyFile);
    const rows: ApiLatencyRow[] = [];
    for (const c of levels) {
      const before = procSample(d.pid)!;
      const tl = performance.now();
      const load = runLoad(`${d.url}/get_status`, c, apiS * 1000, 2000);
      const peak = await peakRss(d.pid, load);
      const result = await load;
      const after = procSample(d.pid)!;
      const secs = (performance.now() - tl) / 1000;
      const floor = await runLoad(`${bare.url}/get_status`, c, apiS * 1000, 2000);
      const row: ApiLatencyRow = {
        ...result,
        daemon_cpu_percent: Math.round(((after.cpuS - before.cpuS) / secs) * 1000) / 10,
        daemon_rss_mb_after: mb(after.rssKb),
        daemon_rss_mb_peak: mb(Math.max(peak, after.rssKb)),
        bare: floor,
      };
      rows.push(row);
      console.log(
        `  get_status, ${c} connection(s): ${row.rps} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, max ${row.max_ms} ms; errors ${row.errors + row.non_200}; daemon CPU ${row.daemon_cpu_percent}%, RSS peak ${row.daemon_rss_mb_peak} MB` +
          ` | bare node:http: ${floor.rps} req/s (daemon ${Math.round((row.rps / floor.rps) * 100) / 100}×), p99 ${floor.p99_ms} ms`,
      );
    }

    // 3. Health endpoints: the same load on the load balancers' checks.
    const healthRows: (LoadResult & { path: string; bare?: LoadResult })[] = [];
    for (const path of HEALTH_PATHS) {
      for (const { concurrency, ratePerS } of [...levels.map((c) => ({ concurrency: c, ratePerS: undefined })), ...HEALTH_PACED]) {
        const result = { ...(await runLoad(`${d.url}${path}`, concurrency, apiS * 1000, 2000, ratePerS)), path };
        // A paced level's p99 is mostly the machine (other processes, timers): the same pacing on the bare server is its floor.
        const floor = ratePerS ? await runLoad(`${bare.url}${path}`, concurrency, apiS * 1000, 2000, ratePerS) : undefined;
        healthRows.push(floor ? { ...result, bare: floor } : result);
        console.log(
          `  ${path}, ${concurrency} connection(s)${ratePerS ? ` paced at ${ratePerS} req/s` : ''}: ${result.rps} req/s, p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms; errors ${result.errors}, non-200 ${result.non_200}` +
            (floor ? ` | bare node:http: p50 ${floor.p50_ms} ms, p99 ${floor.p99_ms} ms` : ''),
        );
      }
    }
    return {
      footprint,
      health: {
        method: `GET ${HEALTH_PATHS.join(' and ')} (health_endpoints = true, no credentials needed; the generator sends them anyway), same load generator: the closed-loop levels (saturation), then paced at ${HEALTH_PACED.map((p) => `${p.ratePerS} req/s over ${p.concurrency} connections`).join(' and ')}, each paced level also against the bare node:http server (the floor); ${apiS} s measured each, while the daemon keeps polling`,
        rows: healthRows,
      },
      api: {
        method: `GET /get_status (cached) with HTTP Basic read credentials, from a separate Node process (test/bench/load-generator.ts): N keep-alive connections in a closed loop, 2 s warm-up, ${apiS} s measured; the daemon keeps polling ${definitions} definitions every second meanwhile; both share the machine's cores. Right after each level, the same load against a bare node:http server process serving the same ${body.length} bytes (the floor)`,
        rows,
        body_bytes: body.length,
      },
    };
  } finally {
    bare?.child.kill('SIGKILL');
    await daemon?.stop().catch(() => undefined);
    await cluster.teardown();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { 'footprint-s': { type: 'string', default: '60' }, 'api-s': { type: 'string', default: '10' }, concurrency: { type: 'string', default: '1,10,50' } } });
  const result = await runDaemonBench({ footprintS: Number(values['footprint-s']), apiS: Number(values['api-s']), concurrency: String(values.concurrency).split(',').map(Number) });
  console.log(JSON.stringify(result, null, 2));
}
