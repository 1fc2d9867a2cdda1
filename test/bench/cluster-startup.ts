// Bring-up benchmark: creates and tears down a 3-host cluster (master + 2
// replicas, sshd on each) a few times and prints min/median/max times.
// Usage: node test/dist/bench/cluster-startup.js [runs=5] [--pgbouncer] [--etcd]
import { createCluster } from '../harness/index.js';

const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const pgbouncer = process.argv.includes('--pgbouncer') ? 1 : 0;
const etcd = process.argv.includes('--etcd');

const up: number[] = [];
const down: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const c = await createCluster({ replicas: 2, pgbouncer, etcd });
  const t1 = performance.now();
  await c.teardown();
  const t2 = performance.now();
  up.push(t1 - t0);
  down.push(t2 - t1);
  console.log(`run ${i + 1}/${runs}: bring-up ${(t1 - t0).toFixed(0)} ms, teardown ${(t2 - t1).toFixed(0)} ms`);
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return `min ${s[0]!.toFixed(0)} ms, median ${mid.toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms`;
}
const what = `3 PostgreSQL hosts${pgbouncer ? ' + pgbouncer' : ''}${etcd ? ' + etcd' : ''}`;
console.log(`cluster bring-up (${what}, ${runs} runs): ${stats(up)}`);
console.log(`cluster teardown (${runs} runs): ${stats(down)}`);
