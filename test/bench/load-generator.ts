// A small HTTP load generator, run as its own process by api-latency.ts:
// `concurrency` keep-alive connections, each sending its next request as
// soon as the previous answer arrived (closed loop), for `durationMs` after
// a `warmupMs` warm-up. Prints one JSON line: requests, errors, rps and
// latency percentiles (ms). Loopback targets only. With `ratePerS`, the
// connections together send that many requests per second instead (each
// waits for its next slot): latency at a given load rather than at saturation.
//
// Usage: node test/dist/bench/load-generator.js '{"url":"http://127.0.0.1:PORT/get_status","auth":"read:pw","concurrency":10,"durationMs":10000,"warmupMs":2000}'
import http from 'node:http';

interface LoadConfig {
  url: string;
  auth: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  ratePerS?: number;
}

export interface LoadResult {
  concurrency: number;
  /** The paced rate asked for (requests per second over all connections); absent for a closed loop. */
  rate_per_s?: number;
  duration_s: number;
  requests: number;
  errors: number;
  non_200: number;
  rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  /** CPU time of the load generator itself (user + system) over the measured period. */
  generator_cpu_s: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
const target = new URL(config.url);
if (!/^127\./.test(target.hostname) && target.hostname !== 'localhost') throw new Error(`loopback targets only: ${target.hostname}`);
const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency });
const authorization = `Basic ${Buffer.from(config.auth).toString('base64')}`;

function request(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: 'GET', agent, headers: { authorization } },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const latencies: number[] = [];
let errors = 0;
let non200 = 0;
let measuring = false;
let stop = false;

/** Milliseconds between one connection's requests when paced; 0 sends the next at once. */
const spacingMs = config.ratePerS ? (config.concurrency * 1000) / config.ratePerS : 0;

async function worker(index: number): Promise<void> {
  let slot = performance.now() + (spacingMs * index) / config.concurrency;
  while (!stop) {
    if (spacingMs > 0) {
      const wait = slot - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      slot += spacingMs;
    }
    const t = performance.now();
    try {
      const status = await request();
      const ms = performance.now() - t;
      if (measuring) {
        latencies.push(ms);
        if (status !== 200) non200 += 1;
      }
    } catch {
      if (measuring) errors += 1;
    }
  }
}

const workers = Array.from({ length: config.concurrency }, (_, index) => worker(index));
await new Promise((resolve) => setTimeout(resolve, config.warmupMs));
measuring = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((resolve) => setTimeout(resolve, config.durationMs));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
stop = true;
await Promise.all(workers);
agent.destroy();

latencies.sort((a, b) => a - b);
const pct = (p: number): number => {
  if (latencies.length === 0) return NaN;
  const rank = Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1));
  return Math.round(latencies[rank]! * 1000) / 1000;
};
const result: LoadResult = {
  concurrency: config.concurrency,
  ...(config.ratePerS ? { rate_per_s: config.ratePerS } : {}),
  duration_s: Math.round(elapsed * 100) / 100,
  requests: latencies.length,
  errors,
  non_200: non200,
  rps: Math.round(latencies.length / elapsed),
  p50_ms: pct(50),
  p90_ms: pct(90),
  p99_ms: pct(99),
  max_ms: pct(100),
  generator_cpu_s: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
};
console.log(JSON.stringify(result));
