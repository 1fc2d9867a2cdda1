import { posix } from 'node:path';
import { shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import type { PgCtlPaths } from './server-paths.js';

/** pg_ctl's shutdown modes this plugin uses: `fast` for stop, `immediate` for faststop. */
export type ShutdownMode = 'fast' | 'immediate';

/** `pg_ctl status -D <pgdata>`: exit 0 running, 3 not running, 4 no (valid) data directory. */
export function statusArgv(paths: PgCtlPaths): string[] {
  return [paths.pgCtl, 'status', '-D', paths.pgdata];
}

/** Marker of the line `statusScript` adds: `<marker> <pid> <state letter, or "gone">`. */
export const POSTMASTER_STATE_MARKER = 'handyrep-postmaster-state';

/** Marker of the line the start script prints when it removed a zombie postmaster's lock file: `<marker> <pid>`. */
export const ZOMBIE_LOCK_REMOVED_MARKER = 'handyrep-zombie-lock-removed';

/**
 * Shell lines setting `state` to the /proc state letter of PID "$pid" (from
 * /proc/PID/stat, after the command name, which may hold spaces and
 * parentheses), or to `gone` when there is no such process.
 */
const READ_STATE = [
  `state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)`,
  `[ -n "$state" ] || state=gone`,
].join('\n');

/**
 * `pg_ctl status`, then, when pg_ctl says running, one more line with the
 * state of the process postmaster.pid names. pg_ctl decides with `kill(pid,
 * 0)`, which a zombie passes: a postmaster that was SIGKILLed but not yet
 * reaped by its parent (a container's PID 1 that never reaps, the moment
 * before any parent does) would otherwise count as running. Linux only; where
 * there is no /proc, pg_ctl's word stands. Exits with pg_ctl's exit code.
 */
export function statusScript(paths: PgCtlPaths): string {
  return [
    `${shellJoin(statusArgv(paths))} </dev/null`,
    'rc=$?',
    'if [ "$rc" -eq 0 ] && [ -r /proc/self/stat ]; then',
    `  pid=$(head -n 1 -- ${shellQuote(posix.join(paths.pgdata, 'postmaster.pid'))} 2>/dev/null)`,
    `  case $pid in ''|*[!0-9]*) pid='' ;; esac`,
    '  if [ -n "$pid" ]; then',
    READ_STATE.replace(/^/gm, '    '),
    `    printf '%s %s %s\\n' ${POSTMASTER_STATE_MARKER} "$pid" "$state"`,
    '  fi',
    'fi',
    'exit "$rc"',
  ].join('\n');
}

/**
 * Removes postmaster.pid, and the lock file of the socket directory it
 * records (line 5; further socket directories are not recorded there), when
 * the PID they name is a zombie postgres: the new postmaster would otherwise
 * refuse to start ("lock file already exists"), since its own check is
 * `kill(pid, 0)` too. Only a zombie (state Z, dead,
 * its memory and sockets released) named `postgres`/`postmaster`; the file is
 * read again right before removal so a lock file written meanwhile is kept.
 * The old shared memory is still guarded: PostgreSQL refuses a segment that a
 * surviving backend holds.
 */
function zombieLockLines(paths: PgCtlPaths): string[] {
  return [
    `pidfile=${shellQuote(posix.join(paths.pgdata, 'postmaster.pid'))}`,
    'pid=$(head -n 1 -- "$pidfile" 2>/dev/null)',
    `case $pid in ''|*[!0-9]*) pid='' ;; esac`,
    'if [ -n "$pid" ] && [ -r /proc/self/stat ]; then',
    READ_STATE.replace(/^/gm, '  '),
    '  comm=$(cat "/proc/$pid/comm" 2>/dev/null)',
    '  if [ "$state" = Z ] && { [ "$comm" = postgres ] || [ "$comm" = postmaster ]; } && [ "$(head -n 1 -- "$pidfile" 2>/dev/null)" = "$pid" ]; then',
    // Lines 4 and 5: the port and the first socket directory, whose lock file names the PID too.
    '    port=$(sed -n 4p -- "$pidfile" 2>/dev/null); sockdir=$(sed -n 5p -- "$pidfile" 2>/dev/null)',
    `    rm -f -- "$pidfile" && printf '%s %s\\n' ${ZOMBIE_LOCK_REMOVED_MARKER} "$pid"`,
    `    case $port in ''|*[!0-9]*) port='' ;; esac`,
    '    case $sockdir in /*) ;; *) sockdir= ;; esac',
    '    socklock="$sockdir/.s.PGSQL.$port.lock"',
    '    if [ -n "$port" ] && [ -n "$sockdir" ] && [ "$(head -n 1 -- "$socklock" 2>/dev/null)" = "$pid" ]; then rm -f -- "$socklock"; fi',
    '  fi',
    'fi',
  ];
}

/** `pg_ctl stop -D <pgdata> -m <mode> -w -t <seconds>`. */
export function stopArgv(paths: PgCtlPaths, mode: ShutdownMode, waitSeconds: number): string[] {
  return [paths.pgCtl, 'stop', '-D', paths.pgdata, '-m', mode, '-w', '-t', String(waitSeconds)];
}

/** `pg_ctl reload -D <pgdata>`. */
export function reloadArgv(paths: PgCtlPaths): string[] {
  return [paths.pgCtl, 'reload', '-D', paths.pgdata];
}

/**
 * `pg_ctl start -D <pgdata> -l <log> -w -t <seconds> [-o "-c config_file=<file>"]`.
 * The `-o` text is pasted by pg_ctl into a /bin/sh command line, so the file
 * name is shell-quoted inside it; the whole argument is quoted again by the
 * remote shell layer.
 */
export function startArgv(paths: PgCtlPaths, waitSeconds: number): string[] {
  const argv = [paths.pgCtl, 'start', '-D', paths.pgdata, '-l', paths.logFile, '-w', '-t', String(waitSeconds)];
  if (paths.configFile !== undefined) argv.push('-o', `-c config_file=${shellQuote(paths.configFile)}`);
  return argv;
}

/** Marker line before the log excerpt a failed start appends to stderr. */
export const LOG_EXCERPT_MARKER = '--- FATAL/PANIC lines at the end of the log file:';

/**
 * The start script: removes the lock file of a zombie postmaster (see
 * `zombieLockLines`), creates the log directory, runs pg_ctl start with stdin
 * from /dev/null (with `-l` pg_ctl points the postmaster's stdout and stderr
 * at the log file, so nothing stays attached to the SSH channel and the
 * command returns), and on failure appends the log's last FATAL/PANIC lines
 * to stderr, since pg_ctl itself only says "Examine the log output".
 */
export function startScript(paths: PgCtlPaths, waitSeconds: number): string {
  const log = shellQuote(paths.logFile);
  return [
    ...zombieLockLines(paths),
    `mkdir -p -- ${shellQuote(posix.dirname(paths.logFile))} || exit 1`,
    `${shellJoin(startArgv(paths, waitSeconds))} </dev/null`,
    'rc=$?',
    `if [ "$rc" -ne 0 ]; then printf '%s\\n' ${shellQuote(LOG_EXCERPT_MARKER)} >&2; tail -n 50 -- ${log} 2>/dev/null | grep -E 'FATAL|PANIC' | tail -n 5 >&2; fi`,
    'exit "$rc"',
  ].join('\n');
}
