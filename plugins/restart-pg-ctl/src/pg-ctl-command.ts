import { posix } from 'node:path';
import { shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import type { PgCtlPaths } from './server-paths.js';

/** pg_ctl's shutdown modes this plugin uses: `fast` for stop, `immediate` for faststop. */
export type ShutdownMode = 'fast' | 'immediate';

/** `pg_ctl status -D <pgdata>`: exit 0 running, 3 not running, 4 no (valid) data directory. */
export function statusArgv(paths: PgCtlPaths): string[] {
  return [paths.pgCtl, 'status', '-D', paths.pgdata];
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
 * The start script: creates the log directory, runs pg_ctl start with stdin
 * from /dev/null (with `-l` pg_ctl points the postmaster's stdout and stderr
 * at the log file, so nothing stays attached to the SSH channel and the
 * command returns), and on failure appends the log's last FATAL/PANIC lines
 * to stderr, since pg_ctl itself only says "Examine the log output".
 */
export function startScript(paths: PgCtlPaths, waitSeconds: number): string {
  const log = shellQuote(paths.logFile);
  return [
    `mkdir -p -- ${shellQuote(posix.dirname(paths.logFile))} || exit 1`,
    `${shellJoin(startArgv(paths, waitSeconds))} </dev/null`,
    'rc=$?',
    `if [ "$rc" -ne 0 ]; then printf '%s\\n' ${shellQuote(LOG_EXCERPT_MARKER)} >&2; tail -n 50 -- ${log} 2>/dev/null | grep -E 'FATAL|PANIC' | tail -n 5 >&2; fi`,
    'exit "$rc"',
  ].join('\n');
}
