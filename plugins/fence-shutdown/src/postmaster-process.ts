import { errorMessage, shellQuote } from '@handyrep/plugin-sdk';
import type { RemoteShell } from '@handyrep/plugin-sdk';

/**
 * The postmaster named in `<pgdata>/postmaster.pid`, as /proc shows it:
 * - `alive`: a process that can act (running, sleeping, in a system call);
 * - `stopped`: SIGSTOPped or held by a debugger (`T`, `t`): it cannot act on a signal until resumed;
 * - `dead`: a zombie (`Z`, killed but not yet reaped by its parent) or no such process;
 * - `none`: no postmaster.pid, or no process id on its first line;
 * - `unknown`: the host could not be asked, or has no /proc.
 */
export type PostmasterProcessState = 'alive' | 'stopped' | 'dead' | 'none' | 'unknown';

/** What the process check found. */
export interface PostmasterProcess {
  /** The classification. */
  state: PostmasterProcessState;
  /** What was seen, for details. */
  detail: string;
}

/**
 * A POSIX sh script printing `postmaster_pid <pid>` and `postmaster_state
 * <letter>` (`gone` when there is no such process) for the PID on the first
 * line of `<pgdata>/postmaster.pid`, read from /proc/PID/stat after the
 * command name (which may hold spaces and parentheses); `postmaster_pid
 * none` without a PID file, and nothing at all without /proc.
 */
export function postmasterStateScript(pgdata: string): string {
  return `pid=$(head -n 1 -- ${shellQuote(`${pgdata}/postmaster.pid`)} 2>/dev/null)
case $pid in ''|0*|*[!0-9]*) echo 'postmaster_pid none'; exit 0 ;; esac
[ -r /proc/self/stat ] || exit 0
state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
printf 'postmaster_pid %s\\npostmaster_state %s\\n' "$pid" "\${state:-gone}"`;
}

/** Reads the script's output. Exported for tests. */
export function readPostmasterState(stdout: string): PostmasterProcess {
  const pid = /^postmaster_pid (\S+)$/m.exec(stdout)?.[1];
  const letter = /^postmaster_state (\S+)$/m.exec(stdout)?.[1];
  if (pid === 'none') return { state: 'none', detail: 'no process id in postmaster.pid' };
  if (pid === undefined || letter === undefined) return { state: 'unknown', detail: 'the host reported no process state (no /proc?)' };
  if (letter === 'gone') return { state: 'dead', detail: `postmaster PID ${pid} (postmaster.pid) no longer exists` };
  if (letter === 'Z' || letter === 'X' || letter === 'x') return { state: 'dead', detail: `postmaster PID ${pid} (postmaster.pid) is a zombie: dead, not yet reaped by its parent` };
  if (letter === 'T' || letter === 't') return { state: 'stopped', detail: `postmaster PID ${pid} is stopped (state ${letter})` };
  return { state: 'alive', detail: `postmaster PID ${pid} is alive (state ${letter})` };
}

/** Asks the host over SSH, within `timeoutMs`, what state the postmaster of `pgdata` is in. Never throws. */
export async function postmasterProcess(shell: RemoteShell, server: string, pgdata: unknown, timeoutMs: number): Promise<PostmasterProcess> {
  if (typeof pgdata !== 'string' || pgdata === '') return { state: 'unknown', detail: 'no pgdata configured' };
  try {
    const result = await shell.runScript(server, postmasterStateScript(pgdata), { timeoutMs });
    if (result.exitCode !== 0) return { state: 'unknown', detail: `the process check exited ${String(result.exitCode)}` };
    return readPostmasterState(result.stdout);
  } catch (err) {
    return { state: 'unknown', detail: `the process check failed: ${errorMessage(err)}` };
  }
}
