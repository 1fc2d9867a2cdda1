// Kept identical to plugins/clone-rsync/src/target-state.ts: plugins may import only the SDK,
// so the two clone plugins each carry this file.
import { shellQuote } from '@handyrep/plugin-sdk';

/** What is at a data directory path. */
export type DirectoryState = 'missing' | 'empty' | 'nonempty' | 'notdir' | 'unreadable';

/** A target's data directory as the probe found it. */
export interface TargetState {
  /** The path's state. */
  directory: DirectoryState;
  /** PID of a live postmaster using it (from postmaster.pid), or undefined. */
  postmasterPid: number | undefined;
  /** Content of PG_VERSION, or undefined when there is none. */
  pgVersion: string | undefined;
}

/**
 * A shell function printing the PID of a live postmaster on "$d" (from
 * postmaster.pid) or failing. A zombie does not count (a postmaster whose
 * parent never reaped it still answers kill -0), nor a PID reused by a
 * process that is not postgres; a process whose /proc entry cannot be read
 * counts as live, so doubt never lets a running server be overwritten.
 */
const POSTMASTER_PID_FUNCTION = [
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

/** The read-only probe: directory state, live postmaster, PG_VERSION, as `key=value` lines. */
export function probeScript(pgdata: string): string {
  return [
    'step=probe-data-directory',
    `d=${shellQuote(pgdata)}`,
    POSTMASTER_PID_FUNCTION,
    'if [ ! -e "$d" ] && [ ! -L "$d" ]; then echo state=missing',
    'elif [ ! -d "$d" ]; then echo state=notdir',
    'elif [ ! -r "$d" ] || [ ! -x "$d" ]; then echo state=unreadable',
    'elif [ -n "$(ls -A -- "$d/")" ]; then echo state=nonempty',
    'else echo state=empty; fi',
    'printf "pid=%s\\n" "$(pm_pid)"',
    'printf "pg_version=%s\\n" "$(head -n 1 -- "$d/PG_VERSION" 2>/dev/null)"',
  ].join('\n');
}

/** Exit status of `emptyScript` when a postmaster was found running. */
export const EMPTY_REFUSED_RUNNING = 3;

/**
 * Empties a data directory (keeping the directory itself, which may be a
 * mount point with its own owner and mode). Checks for a live postmaster
 * again right before deleting, so a server started since the probe is never
 * pulled from under it. Tablespace symlinks are removed, not followed.
 */
export function emptyScript(pgdata: string): string {
  return [
    'step=empty-data-directory',
    `d=${shellQuote(pgdata)}`,
    POSTMASTER_PID_FUNCTION,
    `if p=$(pm_pid); then printf 'a postmaster (PID %s) runs on %s: not emptying it\\n' "$p" "$d" >&2; exit ${EMPTY_REFUSED_RUNNING}; fi`,
    '[ -d "$d" ] || exit 0',
    // The trailing slash makes find descend into a pgdata that is a symlink to the real directory.
    'find "$d/" -mindepth 1 -delete',
  ].join('\n');
}

/** Parses the probe's output; throws when it is not what the probe prints. */
export function parseProbe(stdout: string): TargetState {
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
    directory: state as DirectoryState,
    postmasterPid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    pgVersion: version === '' ? undefined : version,
  };
}
