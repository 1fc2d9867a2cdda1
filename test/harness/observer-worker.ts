// Runs one observer (a Writer or a SplitBrainWatcher) in its own process, so
// the test process's event loop (which may block on synchronous work) cannot
// distort its timing, and so it can run as a non-root user (iptables rules that
// cut only root's traffic then leave it alone, like an application would be).
// Config comes in HARNESS_OBSERVER (JSON); events go out as JSON lines on
// stdout; 'stop' on stdin (or stdin closing, or SIGTERM) ends it.
import pg from 'pg';
import { createInterface } from 'node:readline';
import { newClient, type ConnTarget } from './pgclient.js';

export interface WriterConfig {
  kind: 'writer';
  name: string;
  target: ConnTarget;
  intervalMs: number;
  timeoutMs: number;
}

export interface WatcherConfig {
  kind: 'watcher';
  targets: Array<ConnTarget & { name: string }>;
  intervalMs: number;
  timeoutMs: number;
}

export type ObserverConfig = (WriterConfig | WatcherConfig) & { uid?: number; gid?: number };

const cfg = JSON.parse(process.env.HARNESS_OBSERVER ?? '{}') as ObserverConfig;
// Started as root (so it can read its modules wherever the checkout is), it
// drops to the requested user before opening any socket: iptables owner
// matches then see that user.
if (cfg.gid !== undefined && cfg.uid !== undefined && process.getuid?.() === 0) {
  process.setgroups?.([]);
  process.setgid?.(cfg.gid);
  process.setuid?.(cfg.uid);
}
let stopping = false;
const emit = (ev: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(ev)}\n`);

createInterface({ input: process.stdin })
  .on('line', (l) => {
    if (l.trim() === 'stop') stopping = true;
  })
  .on('close', () => (stopping = true));
process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function destroy(client: pg.Client | null): void {
  if (!client) return;
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  try {
    stream?.destroy();
  } catch {
    /* gone */
  }
}

class Timeout extends Error {}

async function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => {});
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Timeout(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: string };
  return { message: e?.message ?? String(err), ...(e?.code ? { code: e.code } : {}) };
}

async function runWriter(c: WriterConfig): Promise<void> {
  let client: pg.Client | null = null;
  let id = 0;
  while (!stopping) {
    const sent = Date.now();
    id++;
    let phase = 'connect';
    try {
      if (!client) {
        client = newClient(c.target, { timeoutMs: c.timeoutMs });
        await deadline(client.connect(), c.timeoutMs, 'connect');
      }
      phase = 'insert';
      await deadline(client.query('INSERT INTO harness_writes (writer, id) VALUES ($1, $2)', [c.name, id]), c.timeoutMs, 'insert');
      emit({ type: 'ack', id, sent, t: Date.now() });
    } catch (err) {
      // An insert that failed after it was sent may or may not have committed: "in doubt".
      emit({ type: 'error', id, sent, t: Date.now(), phase, ...describe(err) });
      destroy(client);
      client = null;
    }
    const wait = c.intervalMs - (Date.now() - sent);
    if (wait > 0) await sleep(wait);
  }
  destroy(client);
}

type ProbeState = 'writable' | 'not-writable' | 'unreachable';

async function runWatcher(c: WatcherConfig): Promise<void> {
  const clients = new Map<string, pg.Client | null>();
  const last = new Map<string, ProbeState>();
  let rounds = 0;
  const probe = async (t: WatcherConfig['targets'][number]): Promise<{ state: ProbeState; detail?: string }> => {
    let client = clients.get(t.name) ?? null;
    try {
      if (!client) {
        client = newClient(t, { timeoutMs: c.timeoutMs });
        clients.set(t.name, client);
        await deadline(client.connect(), c.timeoutMs, 'connect');
      }
      // A real committed write, not pg_is_in_recovery(): a fenced or read-only server fails here.
      await deadline(
        client.query(
          'INSERT INTO harness_probe (host) VALUES ($1) ON CONFLICT (host) DO UPDATE SET n = harness_probe.n + 1, at = clock_timestamp()',
          [t.name],
        ),
        c.timeoutMs,
        'probe',
      );
      return { state: 'writable' };
    } catch (err) {
      const d = describe(err);
      // A server that answered with an SQL error (read-only, recovery...) keeps its connection.
      if (d.code && !d.code.startsWith('08') && !d.code.startsWith('57')) return { state: 'not-writable', detail: d.code };
      destroy(client);
      clients.set(t.name, null);
      return { state: 'unreachable', detail: d.message };
    }
  };
  while (!stopping) {
    const start = Date.now();
    const results = await Promise.all(c.targets.map(async (t) => ({ name: t.name, ...(await probe(t)) })));
    const end = Date.now();
    rounds++;
    for (const r of results) {
      if (last.get(r.name) !== r.state) {
        last.set(r.name, r.state);
        emit({ type: 'state', host: r.name, state: r.state, detail: r.detail, t: start, end });
      }
    }
    const writable = results.filter((r) => r.state === 'writable').map((r) => r.name);
    if (writable.length >= 2) emit({ type: 'splitbrain', hosts: writable, t: start, end });
    if (rounds % 10 === 0) emit({ type: 'rounds', rounds, t: end });
    const wait = c.intervalMs - (Date.now() - start);
    if (wait > 0) await sleep(wait);
  }
  emit({ type: 'rounds', rounds, t: Date.now() });
  for (const cl of clients.values()) destroy(cl);
}

emit({ type: 'ready', pid: process.pid, uid: process.getuid?.() });
try {
  if (cfg.kind === 'writer') await runWriter(cfg);
  else if (cfg.kind === 'watcher') await runWatcher(cfg);
  else throw new Error('unknown observer kind');
} catch (err) {
  emit({ type: 'fatal', ...describe(err) });
}
emit({ type: 'stopped', t: Date.now() });
process.exit(0);
