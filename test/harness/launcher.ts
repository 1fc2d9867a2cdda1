// How the harness runs things "on a host". The local launcher runs them as
// children of the test process; the docker launcher (docker.ts) runs them in
// one container per host that shares the host's network and PID namespaces, so
// addresses, PIDs, /proc and signals mean the same in both.
import { Daemon, run, settlesWithin, type DaemonOptions, type RunOptions, type RunResult } from './proc.js';
import { HostReaper } from './reaper.js';

export interface ProcHandle {
  readonly pid: number;
  readonly running: boolean;
  readonly whenExited: Promise<void>;
  stop(sig?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface ReaperHandle {
  readonly pid: number;
  start(argv: string[], logFile: string): Promise<number>;
  waitExit(pid: number, timeoutMs: number): Promise<boolean>;
  close(timeoutMs?: number): Promise<void>;
}

export interface HostSpec {
  name: string;
  address: string;
  dir: string;
}

export interface Launcher {
  readonly kind: 'local' | 'docker';
  /** Called once per host before anything runs on it (docker: starts its container). */
  addHost(host: HostSpec, baseDir: string): Promise<void>;
  /** Runs a command on a host (null: on the machine running the tests) to completion. */
  run(host: string | null, cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts a long-running process on a host. */
  daemon(host: string | null, cmd: string, args: string[], opts: DaemonOptions): Promise<ProcHandle>;
  /** Starts the host's subreaper (parent of its sshd and of what SSH sessions leave behind). */
  reaper(host: string, logFile: string): Promise<ReaperHandle>;
  /** Pids of launcher-owned processes (for teardown checks). */
  ownPids(): number[];
  dispose(): Promise<void>;
}

export class LocalLauncher implements Launcher {
  readonly kind = 'local' as const;
  async addHost(): Promise<void> {}
  run(_host: string | null, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(cmd, args, opts);
  }
  async daemon(_host: string | null, cmd: string, args: string[], opts: DaemonOptions): Promise<ProcHandle> {
    return new Daemon(cmd, args, opts);
  }
  async reaper(_host: string, logFile: string): Promise<ReaperHandle> {
    const r = new HostReaper(logFile);
    if (!(await settlesWithin(r.ready, 10_000))) throw new Error('the host reaper (perl) did not start');
    return r;
  }
  ownPids(): number[] {
    return [];
  }
  async dispose(): Promise<void> {}
}
