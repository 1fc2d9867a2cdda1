import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { LockHolderRole } from '../state/state-file-lock.js';

/** A child process that took (or tried to take) a state file's lock. */
export interface LockChild {
  child: ChildProcess;
  pid: number;
  /** The child's first line: `locked`, or the refusal as `refused <code> <message>`. */
  outcome: string;
  /** Waits for the child to exit after `signal` (default SIGTERM). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const lockModule = new URL('../state/state-file-lock.js', import.meta.url).href;

/**
 * Starts a Node process that takes the lock of `serverFile` as `role` and
 * keeps it until it is signalled; resolves once it says whether it got it.
 */
export async function lockInChild(serverFile: string, role: LockHolderRole, env: NodeJS.ProcessEnv = process.env): Promise<LockChild> {
  const script = `
    import { StateFileLock } from ${JSON.stringify(lockModule)};
    try {
      await StateFileLock.acquire(${JSON.stringify(serverFile)}, ${JSON.stringify(role)});
      console.log('locked');
      setInterval(() => undefined, 60_000);
    } catch (err) {
      console.log(['refused', err.code, err.message].join(' '));
      process.exit(3);
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const outcome = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.indexOf('\n');
      if (line >= 0) resolve(out.slice(0, line));
    });
    // 'close' comes after the last output, so a line the child printed before exiting is never missed.
    void closed.then(() => reject(new Error(`lock child exited before answering: ${out}${err}`)));
  });
  return {
    child,
    pid: child.pid ?? 0,
    outcome,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
