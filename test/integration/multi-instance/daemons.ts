// Several `handyrep daemon` processes on one harness cluster, coordinated by
// hr_master_etcd: each with its own config, state file, log and web port.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Cluster, ConfOverrides } from '../../harness/index.js';
import { FAST_FAILOVER } from '../scenarios/scenario-support.js';

const root = new URL('../../../..', import.meta.url).pathname;
const BIN = join(root, 'core/bin/handyrep.js');

export const ADMIN_PASSWORD = 'mi-admin-Secret-1';
export const READ_PASSWORD = 'mi-read-Secret-1';

/** One daemon process. */
export interface DaemonProc {
  name: string;
  configFile: string;
  logFile: string;
  stderrFile: string;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  /** Whether it is SIGSTOPped by the test. */
  stopped: boolean;
}

/** The `[handyrep]`-and-more overrides that make one daemon of the group. */
export function daemonOverrides(cluster: Cluster, name: string, dir: string, port: number, etcd: Record<string, string | number>): ConfOverrides {
  if (!cluster.etcd) throw new Error('the cluster has no etcd');
  return {
    ...FAST_FAILOVER,
    handyrep: {
      ...(FAST_FAILOVER.handyrep ?? {}),
      server_file: join(dir, 'servers.save'),
      log_file: join(dir, 'handyrep.log'),
      web_listen: '127.0.0.1',
      web_port: port,
      master_check_method: 'hr_master_etcd',
      authentication_method: 'simple_password_auth',
    },
    'plugins.hr_master_etcd': {
      endpoints: cluster.etcd.endpoints.join(','),
      cluster_name: 'multi',
      instance_name: name,
      ...etcd,
    },
    passwords: { admin_password: ADMIN_PASSWORD, read_password: READ_PASSWORD },
  };
}

/** A free TCP port on 127.0.0.1 (bound, read and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Writes the config of daemon `name` (directory `<baseDir>/<name>`). */
export async function prepareDaemon(cluster: Cluster, name: string, etcd: Record<string, string | number>): Promise<DaemonProc> {
  const dir = join(cluster.baseDir, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configFile = cluster.writeConfig(join(dir, 'handyrep.conf'), daemonOverrides(cluster, name, dir, port, etcd));
  return {
    name,
    configFile,
    logFile: join(dir, 'handyrep.log'),
    stderrFile: join(dir, 'daemon.stderr'),
    port,
    url: `http://127.0.0.1:${port}`,
    child: undefined,
    stopped: false,
  };
}

/** Starts (or restarts) the daemon process; resolves once /healthz answers. */
export async function startDaemonProc(d: DaemonProc, timeoutMs = 30_000): Promise<void> {
  const out = openSync(d.stderrFile, 'a');
  const child = spawn(process.execPath, [BIN, '--config', d.configFile, 'daemon'], { stdio: ['ignore', out, out], cwd: root });
  closeSync(out);
  d.child = child;
  d.stopped = false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`daemon ${d.name} exited (${child.exitCode ?? child.signalCode}): ${readFileSync(d.stderrFile, 'utf8').slice(-2000)}`);
    }
    try {
      const res = await fetch(`${d.url}/healthz`, { signal: AbortSignal.timeout(500) });
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`daemon ${d.name} did not answer /healthz within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export function alive(d: DaemonProc): boolean {
  return d.child !== undefined && d.child.exitCode === null && d.child.signalCode === null;
}

/** Sends `signal` to the daemon by its PID. */
export function signal(d: DaemonProc, sig: NodeJS.Signals): void {
  const pid = d.child?.pid;
  if (pid === undefined || !alive(d)) throw new Error(`daemon ${d.name} is not running`);
  process.kill(pid, sig);
  if (sig === 'SIGSTOP') d.stopped = true;
  if (sig === 'SIGCONT') d.stopped = false;
}

/** SIGKILL, and wait until the process is gone. */
export async function killDaemon(d: DaemonProc): Promise<void> {
  const child = d.child;
  if (!child || !alive(d)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid as number, 'SIGKILL');
  await exited;
}

/** SIGCONT (if stopped), SIGTERM, then SIGKILL after `graceMs`; by PID only. */
export async function stopDaemon(d: DaemonProc, graceMs = 8_000): Promise<void> {
  const child = d.child;
  if (!child || !alive(d)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const pid = child.pid as number;
  if (d.stopped) process.kill(pid, 'SIGCONT');
  process.kill(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (alive(d)) process.kill(pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

function auth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** GET a read function; throws on transport errors and non-200. */
export async function read<T = unknown>(d: DaemonProc, fn: string, timeoutMs = 3000): Promise<T> {
  const res = await fetch(`${d.url}/${fn}`, { headers: { authorization: auth('read', READ_PASSWORD) }, signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`${d.name} ${fn}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** POST an action with admin credentials. */
export async function act(d: DaemonProc, fn: string, body: Record<string, unknown>, timeoutMs = 10_000): Promise<{ result: string; details: string }> {
  const res = await fetch(`${d.url}/${fn}`, {
    method: 'POST',
    headers: { authorization: auth('admin', ADMIN_PASSWORD), 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 200) throw new Error(`${d.name} ${fn}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { result: string; details: string };
}

/** Which instance the daemon says acts (get_status, from its last check). */
export interface ActingView {
  name: string;
  acts: boolean;
  acting_instance: string | null;
}

export async function actingView(d: DaemonProc): Promise<ActingView> {
  const status = await read<{ cluster: { this_instance_acts?: boolean; acting_instance?: string | null } }>(d, 'get_status', 1500);
  return { name: d.name, acts: status.cluster.this_instance_acts === true, acting_instance: status.cluster.acting_instance ?? null };
}

/** The views of every running, not stopped daemon (a daemon that does not answer is left out). */
export async function views(daemons: DaemonProc[]): Promise<ActingView[]> {
  const out = await Promise.all(daemons.filter((d) => alive(d) && !d.stopped).map((d) => actingView(d).catch(() => undefined)));
  return out.filter((v): v is ActingView => v !== undefined);
}

/** One log line of a daemon (JSON lines; `msg` is the message). */
export interface LogLine {
  msg: string;
  time: number;
  raw: Record<string, unknown>;
}

export function logLines(d: DaemonProc): LogLine[] {
  if (!existsSync(d.logFile)) return [];
  const lines: LogLine[] = [];
  for (const text of readFileSync(d.logFile, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    try {
      const raw = JSON.parse(text) as Record<string, unknown>;
      const time = typeof raw.time === 'number' ? raw.time : Date.parse(String(raw.time ?? ''));
      lines.push({ msg: String(raw.msg ?? ''), time, raw });
    } catch {
      lines.push({ msg: text, time: Number.NaN, raw: {} });
    }
  }
  return lines;
}

/** Copies every daemon's log and stderr to test/artifacts/multi-instance/<label>/ (kept after teardown, git-ignored). */
export function saveLogs(daemons: DaemonProc[], label: string): string {
  const dir = join(root, 'test/artifacts/multi-instance', label);
  mkdirSync(dir, { recursive: true });
  for (const d of daemons) {
    if (existsSync(d.logFile)) copyFileSync(d.logFile, join(dir, `${d.name}.log`));
    if (existsSync(d.stderrFile)) copyFileSync(d.stderrFile, join(dir, `${d.name}.stderr`));
  }
  return dir;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** The single acting instance all answering daemons agree on, or undefined. */
export async function agreedActing(daemons: DaemonProc[], expectCount: number): Promise<string | undefined> {
  const seen = await views(daemons);
  if (seen.length !== expectCount) return undefined;
  const acting = seen.filter((v) => v.acts);
  if (acting.length !== 1) return undefined;
  const name = acting[0]?.name;
  return seen.every((v) => v.acting_instance === name) ? name : undefined;
}
