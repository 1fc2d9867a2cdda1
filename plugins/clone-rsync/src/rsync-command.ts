import { BadArgumentError, shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import type { PgServer } from '@handyrep/plugin-sdk';

/**
 * Paths (relative to the data directory, anchored) an online copy must not
 * carry, as pg_basebackup leaves them out: the source's process files, WAL
 * (the replica streams what it needs from its upstream), slots, runtime
 * directories whose contents are rebuilt at start, recovery and backup
 * markers, temporary files. global/pg_control is copied last, separately.
 */
export const RSYNC_EXCLUDES = [
  '/postmaster.pid',
  '/postmaster.opts',
  '/pg_wal/*',
  '/pg_replslot/*',
  '/pg_dynshmem/*',
  '/pg_notify/*',
  '/pg_serial/*',
  '/pg_snapshots/*',
  '/pg_stat_tmp/*',
  '/pg_subtrans/*',
  '/standby.signal',
  '/recovery.signal',
  '/backup_label',
  '/backup_label.old',
  '/tablespace_map',
  '/backup_manifest',
  '/current_logfiles',
  '/postgresql.auto.conf.tmp',
  '/global/pg_control',
  'pgsql_tmp*',
  'pg_internal.init',
] as const;

/** How the source logs in to the target. */
export interface SshHop {
  /** Private key on the source, or '' for ssh's defaults. */
  key: string;
  /** known_hosts on the source, or '' for ssh's defaults. */
  knownHosts: string;
  /** StrictHostKeyChecking. */
  strict: 'yes' | 'accept-new';
  /** Connect time-out in seconds. */
  connectTimeoutSeconds: number;
}

/**
 * Quotes one word of rsync's -e command the way rsync splits it: on spaces,
 * with single quotes grouping and a doubled quote standing for one.
 */
export function rsyncWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "''")}'`;
}

/** The ssh command rsync runs on the source to reach the target (the -e value). */
export function sshCommand(target: PgServer, hop: SshHop): string {
  const words = [
    'ssh',
    '-p', String(target.sshPort),
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${hop.connectTimeoutSeconds}`,
    '-o', `StrictHostKeyChecking=${hop.strict}`,
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=4',
    '-o', 'LogLevel=ERROR',
  ];
  if (hop.key !== '') words.push('-i', hop.key, '-o', 'IdentitiesOnly=yes');
  if (hop.knownHosts !== '') words.push('-o', `UserKnownHostsFile=${hop.knownHosts}`);
  return words.map(rsyncWord).join(' ');
}

/** `user@host:path` for rsync; an IPv6 address is bracketed. Refuses hosts rsync or ssh would misread. */
export function remotePath(target: PgServer, path: string): string {
  const host = target.hostname;
  if (/^[A-Za-z0-9._-]+$/.test(host) && !host.startsWith('-')) return `${target.sshUser}@${host}:${path}`;
  if (/^[0-9A-Fa-f:.]+$/.test(host) && host.includes(':')) return `${target.sshUser}@[${host}]:${path}`;
  throw new BadArgumentError(`server ${target.name}: hostname ${JSON.stringify(host)} cannot be used as an rsync destination`);
}

/** Common rsync options: archive mode, no delta (the target is empty), arguments through the protocol, statistics. */
function rsyncBase(sshCmd: string, bwlimitKbps: number): string[] {
  // -s (--protect-args, renamed --secluded-args in 3.2.7; the short form works since 3.0): remote paths travel in the protocol, never through a remote shell.
  const argv = ['rsync', '--archive', '--whole-file', '-s', '--stats', '-e', sshCmd];
  if (bwlimitKbps > 0) argv.push(`--bwlimit=${bwlimitKbps}`);
  return argv;
}

/** rsync of the whole data directory but what RSYNC_EXCLUDES names, source to target. */
export function dataDirectoryArgv(source: PgServer, target: PgServer, sshCmd: string, bwlimitKbps: number): string[] {
  return [
    ...rsyncBase(sshCmd, bwlimitKbps),
    ...RSYNC_EXCLUDES.map((pattern) => `--exclude=${pattern}`),
    `${source.pgdata}/`,
    remotePath(target, `${target.pgdata}/`),
  ];
}

/** rsync of global/pg_control alone, after everything else (as pg_basebackup sends it last). */
export function controlFileArgv(source: PgServer, target: PgServer, sshCmd: string): string[] {
  return [...rsyncBase(sshCmd, 0), `${source.pgdata}/global/pg_control`, remotePath(target, `${target.pgdata}/global/pg_control`)];
}

/** Exit status of rsync when source files vanished during the copy: normal for a live data directory. */
export const RSYNC_VANISHED = 24;

/** Marker line the script prints between the two rsync runs. */
export const CONTROL_FILE_MARKER = '--- pg_control';

/**
 * The script run on the source: the data directory, then pg_control, each
 * under coreutils `timeout` with stdin from /dev/null; exit 24 (vanished
 * files) of the first run is accepted. Exits with the failing run's status,
 * naming it on stderr.
 */
export function rsyncScript(dataArgv: readonly string[], controlArgv: readonly string[], timeoutSeconds: number, controlTimeoutSeconds: number): string {
  return [
    'step=rsync-data-directory',
    `timeout -k 10 ${timeoutSeconds} ${shellJoin(dataArgv)} </dev/null`,
    'rc=$?',
    `if [ "$rc" -ne 0 ] && [ "$rc" -ne ${RSYNC_VANISHED} ]; then echo "rsync of the data directory exited with status $rc" >&2; exit "$rc"; fi`,
    `printf '%s\\n' ${shellQuote(CONTROL_FILE_MARKER)}`,
    `timeout -k 10 ${controlTimeoutSeconds} ${shellJoin(controlArgv)} </dev/null`,
    'rc=$?',
    'if [ "$rc" -ne 0 ]; then echo "rsync of global/pg_control exited with status $rc" >&2; fi',
    'exit "$rc"',
  ].join('\n');
}

/** What rsync --stats said, summed over both runs. */
export interface RsyncStats {
  /** "Total transferred file size" in bytes. */
  bytes: number;
  /** "Number of regular files transferred". */
  files: number;
}

/** Sums rsync --stats figures (thousands separators of any locale dropped); undefined when there are none. */
export function parseRsyncStats(output: string): RsyncStats | undefined {
  const sum = (pattern: RegExp): number | undefined => {
    const found = [...output.matchAll(pattern)];
    return found.length === 0 ? undefined : found.reduce((total, match) => total + Number((match[1] ?? '0').replace(/[^0-9]/g, '')), 0);
  };
  const bytes = sum(/Total transferred file size: ([0-9][0-9,.' ]*) bytes/g);
  if (bytes === undefined) return undefined;
  return { bytes, files: sum(/Number of regular files transferred: ([0-9][0-9,.' ]*)/g) ?? 0 };
}
