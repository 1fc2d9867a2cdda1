import { posix } from 'node:path';
import { conninfoValue, shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import type { PgServer } from '@handyrep/plugin-sdk';
import type { CloneBasebackupConfig } from './config.js';
import { passwordFromStdin } from './password-script.js';

/** Seconds `timeout` waits after its TERM before it sends KILL. */
const KILL_AFTER_SECONDS = 10;

/** Extra SSH time beyond a remote `timeout`, so the remote side always gives up first and cleans up. */
export const SSH_GRACE_MS = (KILL_AFTER_SECONDS + 20) * 1000;

/** Exit status of coreutils `timeout` when the time ran out. */
export const TIMED_OUT_EXIT = 124;

/**
 * `pg_basebackup` run on the target, reading from the source, WAL streamed
 * alongside; `tls` (replication_sslmode, replication_sslrootcert) goes in as a
 * connection string.
 */
export function basebackupArgv(
  target: PgServer,
  source: PgServer,
  user: string,
  config: CloneBasebackupConfig,
  tls: readonly (readonly [string, string])[] = [],
): string[] {
  const argv = [
    posix.join(target.pgBin, 'pg_basebackup'),
    '-D', target.pgdata,
    '-h', source.hostname,
    '-p', String(source.port),
    '-U', user,
    '-X', 'stream',
    '-c', config.checkpoint,
    '-l', `handyrep clone of ${target.name} from ${source.name}`,
    // Never prompt: a missing password is an error, not a hung command.
    '-w',
  ];
  if (config.max_rate !== '') argv.push('-r', config.max_rate);
  if (tls.length > 0) argv.push('-d', tls.map(([key, value]) => `${key}=${conninfoValue(value)}`).join(' '));
  return argv;
}

/** `pg_rewind` run on the stopped former master against the new master. */
export function rewindArgv(target: PgServer, sourceConninfo: string, config: CloneBasebackupConfig): string[] {
  const argv = [
    posix.join(target.pgBin, 'pg_rewind'),
    `--target-pgdata=${target.pgdata}`,
    `--source-server=${sourceConninfo}`,
    '--progress',
  ];
  if (config.rewind_restore_target_wal) argv.push('--restore-target-wal');
  // PostgreSQL 15+: pg_rewind starts the target in single-user mode for crash recovery and needs its config file.
  if (target.configFile !== undefined) argv.push(`--config-file=${target.configFile}`);
  return argv;
}

/**
 * The script around a libpq tool: the password from stdin into PGPASSWORD,
 * a connect time-out, the tool under coreutils `timeout` (killed on the
 * target when it overruns, not left behind by a dropped SSH channel) and
 * stdin from /dev/null so it never waits for input.
 */
export function toolScript(step: string, argv: readonly string[], options: { hasPassword: boolean; timeoutSeconds: number; connectTimeoutSeconds: number }): string {
  return [
    `step=${shellQuote(step)}`,
    ...passwordFromStdin('PGPASSWORD', options.hasPassword),
    `PGCONNECT_TIMEOUT=${options.connectTimeoutSeconds}`,
    'export PGCONNECT_TIMEOUT',
    `exec timeout -k ${KILL_AFTER_SECONDS} ${options.timeoutSeconds} ${shellJoin(argv)} </dev/null`,
  ].join('\n');
}

/** `du -sb` of a directory: the apparent size in bytes. */
export function sizeArgv(path: string): string[] {
  return ['du', '-sb', '--', path];
}

/** Bytes from `du -sb` output, or undefined when it says something else. */
export function parseSize(stdout: string): number | undefined {
  const match = /^(\d+)\s/.exec(stdout.trim() + '\t');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Bytes pg_rewind reports as copied in its last `--progress` line, or undefined. */
export function parseRewindCopied(output: string): number | undefined {
  const matches = [...output.matchAll(/(\d+)\/(\d+) kB \(\d+%\) copied/g)];
  const last = matches[matches.length - 1];
  return last?.[1] === undefined ? undefined : Number(last[1]) * 1024;
}
