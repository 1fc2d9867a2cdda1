import { shellQuote } from '@handyrep/plugin-sdk';

/** How long the script waits on the host for the killed processes to be gone: 40 rounds of 50 ms. */
export const KILL_WAIT_MS = 2000;

/**
 * A POSIX sh script that SIGKILLs the postmaster of `pgdata` and all its
 * descendants, and reports on stdout one `key value` line per fact:
 *
 * - `outcome`: `killed`, or why nothing was killed: `no_pid_file`,
 *   `unreadable_pid_file`, `bad_pid` (line 1 of postmaster.pid is not a
 *   plain process id), `not_running` (no such process, or a zombie),
 *   `not_postmaster` (the process is no postgres/postmaster: the PID was
 *   reused), `other_data_dir` (a postgres whose data directory is another),
 *   `cannot_verify` (its /proc entries cannot be read), `kill_failed`;
 * - `pid`, `state` (before anything was done: T = stopped), `argv0`, `cwd`,
 *   `children` (descendants killed), `left` (still there after the wait),
 *   `error` (what kill said).
 *
 * The process is identified by its own `/proc` entries, never by the PID
 * file alone: argv[0] must be `postgres` or `postmaster`, and its working
 * directory — the postmaster changes into its data directory at start, however
 * `-D` was written — must be `pgdata`. It is then SIGSTOPped so it cannot fork
 * while its descendants are listed, and everything is SIGKILLed: SIGKILL ends
 * even a stopped process, where pg_ctl's SIGQUIT waits for a SIGCONT that never
 * comes. The script exits 0 whenever it reports an outcome. Linux only (/proc).
 */
export function killPostmasterScript(pgdata: string): string {
  return `set -u
pgdata=${shellQuote(pgdata)}
pidfile="$pgdata/postmaster.pid"
report() { printf '%s %s\\n' "$1" "$2"; }
# The state letter after the command name in /proc/PID/stat (the name may hold spaces and parentheses); empty when gone.
state_of() { sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1; }
if [ ! -e "$pidfile" ]; then report outcome no_pid_file; exit 0; fi
if ! pid=$(head -n 1 -- "$pidfile" 2>/dev/null); then report outcome unreadable_pid_file; exit 0; fi
# A plain positive number without leading zeros, not pid 1; a standalone backend writes a negative one.
case $pid in ''|0*|*[!0-9]*) report outcome bad_pid; report value "$pid"; exit 0 ;; esac
if [ "\${#pid}" -gt 10 ] || [ "$pid" = 1 ]; then report outcome bad_pid; report value "$pid"; exit 0; fi
report pid "$pid"
state=$(state_of "$pid")
case $state in ''|Z|X|x) report outcome not_running; exit 0 ;; esac
report state "$state"
# Prints why $1 is not the postmaster of $pgdata (nothing when it is); the PID file alone proves nothing.
not_ours() {
  argv0=$(tr '\\000' '\\n' < "/proc/$1/cmdline" 2>/dev/null | head -n 1)
  case \${argv0##*/} in postgres|postmaster) ;; *) echo not_postmaster; return ;; esac
  if ! cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || ! want=$(cd -P -- "$pgdata" 2>/dev/null && pwd -P); then echo cannot_verify; return; fi
  if [ "$cwd" != "$want" ]; then echo other_data_dir; fi
}
why=$(not_ours "$pid")
report argv0 "$(tr '\\000' '\\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n 1)"
report cwd "$(readlink "/proc/$pid/cwd" 2>/dev/null)"
if [ -n "$why" ]; then report outcome "$why"; exit 0; fi
# Stopped first, so it forks nothing between listing its descendants and the kill.
kill -STOP "$pid" 2>/dev/null
# Checked again now that it cannot change: had it exited and its PID been reused in between, undo the stop and leave it.
why=$(not_ours "$pid")
if [ -n "$why" ]; then kill -CONT "$pid" 2>/dev/null; report outcome "$why"; exit 0; fi
# Zombies are already dead (a stopped parent cannot reap them): not listed, as there is nothing to kill.
children=$(cat /proc/[0-9]*/status 2>/dev/null | awk -v root="$pid" '
  $1 == "State:" { s = $2 }
  $1 == "Pid:" { p = $2 }
  $1 == "PPid:" && s != "Z" && s != "X" { n++; child[n] = p; parent[n] = $2 }
  END {
    keep[root] = 1; more = 1
    while (more) { more = 0; for (i = 1; i <= n; i++) if ((parent[i] in keep) && !(child[i] in keep)) { keep[child[i]] = 1; more = 1; printf "%s ", child[i] } }
  }')
report children "$children"
# $children is unquoted on purpose: a list of numbers awk read from /proc, one argument each.
if [ -n "$children" ]; then kill -KILL $children 2>/dev/null; fi
if ! error=$(kill -KILL "$pid" 2>&1); then report outcome kill_failed; report error "$error"; exit 0; fi
rounds=0
while :; do
  left=''
  for p in $pid $children; do
    case $(state_of "$p") in ''|Z|X|x) ;; *) left="$left $p" ;; esac
  done
  if [ -z "$left" ] || [ $rounds -ge 40 ]; then break; fi
  sleep 0.05 2>/dev/null || sleep 1
  rounds=$((rounds + 1))
done
report left "$left"
report outcome killed
`;
}
