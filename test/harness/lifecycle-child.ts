// Child process for lifecycle.test.ts: creates a cluster, leaves a partition
// rule in place, prints what it started, and waits to be signalled.
import { createCluster, descendants, listProcesses } from './index.js';

const c = await createCluster({ replicas: 1, label: 'lc' });
await c.faults.partition('pg2');
const all = listProcesses();
const pids = new Set(c.knownPids());
for (const p of [...pids]) for (const d of descendants(p, all)) pids.add(d.pid);
process.stdout.write(`${JSON.stringify({ baseDir: c.baseDir, slot: c.slot.n, slotDir: c.slot.dir, pids: [...pids] })}\n`);
setInterval(() => {}, 1_000);
