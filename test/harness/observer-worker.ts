// Runs one observer (a Writer or a SplitBrainWatcher) in its own process, so
// the test process's event loop (which may block on synchronous work) cannot
// distort its timing, and so it can run as a non-root user (iptables rules that
// cut only root's traffic then leave it alone, like an application would be).
// Config comes in HARNESS_OBSERVER (JSON); events go out as JSON lines on
// stdout; 'stop' on stdin (or stdin closing, or SIGTERM) ends it: the round or
// insert in progress finishes (each is bounded by timeoutMs), pauses end at
// once. The parent kills it if that takes longer than its grace period.
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
let wake: () => void = () => {};
/** Resolves when a stop is asked for: pauses race with it. */
const stopRequested = new Promise<void>((resolve) => (wake = resolve));
const stop = (): void => {
  stopping = true;
  wake();
};
const emit = (ev: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(ev)}\n`);
// The parent is gone (its end of the pipe closed): nobody reads the events.
process.stdout.on('error', () => process.exit(0));

createInterface({ input: process.stdin })
  .on('line', (l) => {
    if (l.trim() === 'stop') stop();
  })
  .on('close', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/** Waits ms, or less when a stop is asked for. */
async function pause(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([stopRequested, new Promise((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Longest pause between connection attempts while they keep failing. A
 * target that refuses at once (a killed or fenced server) would otherwise be
 * retried every intervalMs (50 times a second by default), for as long as the
 * test runs; a returning server is still noticed within this bound.
 */
const MAX_RECONNECT_PAUSE_MS = 100;

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
  let connectFailures = 0;
  while (!stopping) {
    const sent = Date.now();
    id++;
    let phase = 'connect';
    try {
      if (!client) {
        client = newClient(c.target, { timeoutMs: c.timeoutMs });
        await deadline(client.connect(), c.timeoutMs, 'connect');
        connectFailures = 0;
      }
      phase = 'insert';
      await deadline(client.query('INSERT INTO harness_writes (writer, id) VALUES ($1, $2)', [c.name, id]), c.timeoutMs, 'insert');
      emit({ type: 'ack', id, sent, t: Date.now() });
    } catch (err) {
      // An insert that failed after it was sent may or may not have committed: "in doubt".
      emit({ type: 'error', id, sent, t: Date.now(), phase, ...describe(err) });
      if (phase === 'connect') connectFailures++;
      destroy(client);
      client = null;
    }
    // Failed connections back off: intervalMs, doubling, up to MAX_RECONNECT_PAUSE_MS.
    const backoff = connectFailures > 0 ? Math.min(c.intervalMs * 2 ** (connectFailures - 1), Math.max(c.intervalMs, MAX_RECONNECT_PAUSE_MS)) : c.intervalMs;
    const wait = backoff - (Date.now() - sent);
    if (wait > 0 && !stopping) await pause(wait);
  }
  destroy(client);
}

/**
 * True when the server itself answered with an SQL error (a read-only or
 * recovering server refusing the write): a five-character SQLSTATE outside
 * the connection (08) and shutdown (57) classes. Node's socket errors
 * (ECONNREFUSED, ETIMEDOUT...) carry a code too, and mean unreachable.
 */
function isServerRefusal(code: string | undefined): boolean {
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57');
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
      if (isServerRefusal(d.code)) return { state: 'not-writable', detail: d.code };
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
    if (wait > 0 && !stopping) await pause(wait);
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
