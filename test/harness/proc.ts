// Process helpers: running commands (optionally as another OS user), reading
// /proc (liveness by process state, since pid 1 here does not reap orphans and
// a zombie still answers kill -0), process trees, waiting and killing by PID.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process state letter from /proc/PID/stat: R, S, D, T (stopped), Z (zombie), X... */
  state: string;
  comm: string;
  /** Start time in clock ticks after boot (guards against PID reuse). */
  startTime: number;
}

export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return null;
  const rest = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    startTime: Number(rest[19]),
  };
}

/** True when the process exists and is neither a zombie nor dead. */
export function isAlive(pid: number | null | undefined): boolean {
  if (!pid || pid <= 0) return false;
  const st = readStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X' && st.state !== 'x';
}

export function isStopped(pid: number): boolean {
  const st = readStat(pid);
  return st !== null && (st.state === 'T' || st.state === 't');
}

export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) out.push(st);
  }
  return out;
}

/** All live descendants of pid (not including pid), parents before children. */
export function descendants(pid: number, all: ProcStat[] = listProcesses()): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const result: ProcStat[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const child of byParent.get(next) ?? []) {
      if (child.state === 'Z') continue;
      result.push(child);
      queue.push(child.pid);
    }
  }
  return result;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

export function exeOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

export function signal(pid: number, sig: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves true when p settles within ms, false otherwise; the timer never outlives the race. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until predicate is true; throws with `what` after timeoutMs. */
export async function waitFor<T>(
  what: string,
  predicate: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** Waits until none of the pids is alive; returns the ones still alive at the deadline. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(20);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** Sends `sig`, waits up to graceMs, then SIGKILLs (and SIGCONTs, in case they were stopped). */
export async function stopPids(pids: number[], sig: NodeJS.Signals, graceMs: number): Promise<void> {
  const live = pids.filter(isAlive);
  if (live.length === 0) return;
  for (const pid of live) {
    signal(pid, sig);
    signal(pid, 'SIGCONT');
  }
  const left = await waitGone(live, graceMs);
  for (const pid of left) signal(pid, 'SIGKILL');
  await waitGone(left, 5_000);
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

const userCache = new Map<string, OsUser>();
export function osUser(name: string): OsUser {
  const cached = userCache.get(name);
  if (cached) return cached;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`OS user '${name}' does not exist`);
  const f = line.split(':');
  const user = { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
  userCache.set(name, user);
  return user;
}

function userSpawnOptions(user: string | undefined, env: NodeJS.ProcessEnv | undefined): SpawnOptions {
  const baseEnv = { ...process.env, ...env };
  if (!user || user === 'root') return { env: baseEnv };
  const u = osUser(user);
  return {
    uid: u.uid,
    gid: u.gid,
    env: { ...baseEnv, HOME: u.home, USER: u.name, LOGNAME: u.name },
  };
}

export interface RunOptions {
  /** Run as this OS user (uid/gid set by the spawn, no runuser process in between). */
  user?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (with a timeout that SIGKILLs it). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...userSpawnOptions(opts.user, opts.env),
      cwd: opts.cwd ?? '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const result = { code, signal: sig, stdout, stderr };
      if ((opts.check ?? true) && code !== 0) {
        reject(
          Object.assign(
            new Error(
              `${cmd} ${args.join(' ')} failed (${code ?? sig})${opts.user ? ` as ${opts.user}` : ''}: ${stderr.trim() || stdout.trim()}`,
            ),
            { result },
          ),
        );
      } else resolve(result);
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}

/** Synchronous variant for emergency cleanup in 'exit' handlers. */
export function runSync(cmd: string, args: string[], timeoutMs = 10_000): number | null {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
  return r.status;
}

export interface DaemonOptions {
  user?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout+stderr are appended to this file. */
  logFile: string;
}

/**
 * A long-running child process of this test process (so it is reaped when it
 * dies). Started in its own process group so a terminal's Ctrl-C reaches only
 * the test process, whose handler then tears down in order.
 */
export class Daemon {
  readonly child: ChildProcess;
  readonly pid: number;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  exited = false;
  readonly whenExited: Promise<void>;

  constructor(cmd: string, args: string[], opts: DaemonOptions) {
    const fd = openSync(opts.logFile, 'a');
    try {
      this.child = spawn(cmd, args, {
        ...userSpawnOptions(opts.user, opts.env),
        cwd: opts.cwd ?? '/',
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    if (!this.child.pid) throw new Error(`could not start ${cmd}`);
    this.pid = this.child.pid;
    this.whenExited = new Promise((resolve) => {
      this.child.on('exit', (code, sig) => {
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = sig;
        resolve();
      });
      this.child.on('error', () => {
        this.exited = true;
        resolve();
      });
    });
    // Never let a running daemon keep the test process alive on its own.
    this.child.unref();
  }

  get running(): boolean {
    return !this.exited && isAlive(this.pid);
  }

  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    if (this.exited) return;
    signal(this.pid, sig);
    signal(this.pid, 'SIGCONT');
    const done = await settlesWithin(this.whenExited, graceMs);
    if (!done) {
      signal(this.pid, 'SIGKILL');
      await settlesWithin(this.whenExited, 5_000);
    }
  }
}

/** True when a TCP connection to host:port opens within timeoutMs. */
export function tcpReachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** The last lines of a log file (for error messages). */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
