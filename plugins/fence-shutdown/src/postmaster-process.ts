import { shellQuote } from '@handyrep/plugin-sdk';
import type { RemoteShell } from '@handyrep/plugin-sdk';

/**
 * A POSIX sh script printing the process state letter of the postmaster named
 * in `<pgdata>/postmaster.pid` (`T` = stopped), or nothing when there is none.
 */
export function postmasterStateScript(pgdata: string): string {
  return `pid=$(head -n 1 -- ${shellQuote(`${pgdata}/postmaster.pid`)} 2>/dev/null)
case $pid in ''|0*|*[!0-9]*) exit 0 ;; esac
sed -n 's/^State:[[:space:]]*\\([A-Za-z]\\).*/\\1/p' "/proc/$pid/status" 2>/dev/null`;
}

/**
 * Whether the postmaster is stopped (SIGSTOP, a debugger): then an immediate
 * stop would only wait out its time-out, since the postmaster cannot act on
 * the signal. Any doubt (no SSH, no pid file) answers false, and the normal
 * stop runs.
 */
export async function postmasterStopped(shell: RemoteShell, server: string, pgdata: unknown, timeoutMs: number): Promise<boolean> {
  if (typeof pgdata !== 'string' || pgdata === '') return false;
  try {
    const result = await shell.runScript(server, postmasterStateScript(pgdata), { timeoutMs });
    return result.exitCode === 0 && result.stdout.trim() === 'T';
  } catch {
    return false;
  }
}
