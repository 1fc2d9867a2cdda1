import type { RemoteShell } from '../capabilities/remote-shell.js';
import { ErrorCodes, HandyRepError } from '../errors.js';
import { shellQuote } from '../shell-quote.js';
import type { PgServer } from './pg-server.js';

/** What is at a data directory path. */
export type DataDirectoryState = 'missing' | 'empty' | 'nonempty' | 'notdir' | 'unreadable';

/** A data directory as `dataDirectoryProbeScript` found it. */
export interface DataDirectoryProbe {
  /** The path's state. */
  directory: DataDirectoryState;
  /** PID of a live postmaster using it (from postmaster.pid), or undefined. */
  postmasterPid: number | undefined;
  /** Content of PG_VERSION, or undefined when there is none. */
  pgVersion: string | undefined;
}

/**
 * A POSIX shell function `pm_pid` printing the PID of a live postmaster on
 * the data directory in "$d" (from postmaster.pid) or failing. A zombie does
 * not count (a postmaster whose parent never reaped it still answers kill -0),
 * nor a PID reused by a process that is not postgres; a process whose /proc
 * entry cannot be read counts as live, so doubt never lets a running server
 * be overwritten.
 */
export const POSTMASTER_PID_SHELL_FUNCTION = [
  'pm_pid() {',
  '  p=$(head -n 1 -- "$d/postmaster.pid" 2>/dev/null) || return 1',
  "  case $p in ''|*[!0-9]*) return 1 ;; esac",
  '  if [ -d /proc/self ]; then',
  '    [ -e "/proc/$p" ] || return 1',
  "    s=$(sed -e 's/^.*) //' \"/proc/$p/stat\" 2>/dev/null | cut -c1)",
  '    case $s in Z|X) return 1 ;; esac',
  '    c=$(cat "/proc/$p/comm" 2>/dev/null)',
  "    case $c in ''|postgres*|postmaster*) ;; *) return 1 ;; esac",
  '  else',
  '    kill -0 "$p" 2>/dev/null || ps -p "$p" >/dev/null 2>&1 || return 1',
  '  fi',
  '  printf "%s\\n" "$p"',
  '}',
].join('\n');

/** The read-only probe of `pgdata`: directory state, live postmaster, PG_VERSION, as `key=value` lines. */
export function dataDirectoryProbeScript(pgdata: string): string {
  return [
    'step=probe-data-directory',
    `d=${shellQuote(pgdata)}`,
    POSTMASTER_PID_SHELL_FUNCTION,
    'if [ ! -e "$d" ] && [ ! -L "$d" ]; then echo state=missing',
    'elif [ ! -d "$d" ]; then echo state=notdir',
    'elif [ ! -r "$d" ] || [ ! -x "$d" ]; then echo state=unreadable',
    'elif [ -n "$(ls -A -- "$d/")" ]; then echo state=nonempty',
    'else echo state=empty; fi',
    'printf "pid=%s\\n" "$(pm_pid)"',
    'printf "pg_version=%s\\n" "$(head -n 1 -- "$d/PG_VERSION" 2>/dev/null)"',
  ].join('\n');
}

/** Exit status of `emptyDataDirectoryScript` when a postmaster was found running. */
export const EMPTY_REFUSED_RUNNING = 3;

/**
 * Empties a data directory (keeping the directory itself, which may be a
 * mount point with its own owner and mode). Checks for a live postmaster
 * again right before deleting, so a server started since the probe is never
 * pulled from under it. Tablespace symlinks are removed, not followed.
 */
export function emptyDataDirectoryScript(pgdata: string): string {
  return [
    'step=empty-data-directory',
    `d=${shellQuote(pgdata)}`,
    POSTMASTER_PID_SHELL_FUNCTION,
    `if p=$(pm_pid); then printf 'a postmaster (PID %s) runs on %s: not emptying it\\n' "$p" "$d" >&2; exit ${EMPTY_REFUSED_RUNNING}; fi`,
    '[ -d "$d" ] || exit 0',
    // The trailing slash makes find descend into a pgdata that is a symlink to the real directory.
    'find "$d/" -mindepth 1 -delete',
  ].join('\n');
}

/** Parses the output of `dataDirectoryProbeScript`; throws when it is not what the probe prints. */
export function parseDataDirectoryProbe(stdout: string): DataDirectoryProbe {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const state = values.get('state');
  const states: readonly string[] = ['missing', 'empty', 'nonempty', 'notdir', 'unreadable'];
  if (state === undefined || !states.includes(state)) throw new Error(`unexpected probe output: ${JSON.stringify(stdout.slice(0, 200))}`);
  const pid = Number(values.get('pid') ?? '');
  const version = values.get('pg_version') ?? '';
  return {
    directory: state as DataDirectoryState,
    postmasterPid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    pgVersion: version === '' ? undefined : version,
  };
}

/** Probes `server`'s data directory over SSH (read-only); throws REMOTE_COMMAND when the probe itself fails. */
export async function probeDataDirectory(
  context: { readonly shell: RemoteShell },
  server: Pick<PgServer, 'name' | 'pgdata'>,
  timeoutMs: number,
): Promise<DataDirectoryProbe> {
  const result = await context.shell.runScript(server.name, dataDirectoryProbeScript(server.pgdata), { timeoutMs });
  if (result.exitCode !== 0) {
    throw new HandyRepError(ErrorCodes.REMOTE_COMMAND, `probing ${server.pgdata} on ${server.name} failed (exit ${String(result.exitCode)}): ${result.stderr.trim()}`);
  }
  return parseDataDirectoryProbe(result.stdout);
}

/** What emptying a data directory did. */
export interface EmptyDataDirectoryOutcome {
  /** True when the directory is now empty (or absent). */
  emptied: boolean;
  /** True when it was refused because a postmaster runs there. */
  running: boolean;
  /** Exit code of the emptying script. */
  exitCode: number | null;
  /** Its stderr, trimmed. */
  stderr: string;
}

/** Empties `server`'s data directory over SSH, unless a postmaster runs there now; a failed script is an outcome, not a throw. */
export async function emptyDataDirectory(
  context: { readonly shell: RemoteShell },
  server: Pick<PgServer, 'name' | 'pgdata'>,
  timeoutMs: number,
): Promise<EmptyDataDirectoryOutcome> {
  const result = await context.shell.runScript(server.name, emptyDataDirectoryScript(server.pgdata), { timeoutMs });
  return {
    emptied: result.exitCode === 0,
    running: result.exitCode === EMPTY_REFUSED_RUNNING,
    exitCode: result.exitCode,
    stderr: result.stderr.trim(),
  };
}
