import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process kept as our child (so it is reaped) with its output captured for diagnostics. */
export interface Captured {
  /** The child. */
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<number | string>;
}

/** Starts `argv` with stdout and stderr captured. */
export function spawnCaptured(argv: readonly string[]): Captured {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError('empty command');
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (err) => {
      text += String(err);
      resolve(-1);
    });
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { child, output: () => text, exited };
}

/** Runs `argv` to completion; throws with its output when it fails. */
export async function runChecked(argv: readonly string[]): Promise<string> {
  const run = spawnCaptured(argv);
  const status = await run.exited;
  if (status !== 0) throw new Error(`${argv.join(' ')} failed (${status}): ${run.output()}`);
  return run.output();
}

/** Waits up to `ms` for a child to exit; true when it did. */
export async function waitForExit(captured: Captured, ms: number): Promise<boolean> {
  // An unref'd timer: once the child is gone, a pending wait must not keep the test process alive.
  return Promise.race([captured.exited.then(() => true), sleep(ms, false, { ref: false })]);
}

/** The process state letter from /proc (R, S, T, Z, ...), or undefined when the process is gone. */
export async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Every descendant of `pid` (children, grandchildren, ...), found through /proc. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(entry));
      parents.set(ppid, list);
    } catch {
      // Exited while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of parents.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Sends `signal` to each pid, ignoring the ones already gone. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone.
    }
  }
}
