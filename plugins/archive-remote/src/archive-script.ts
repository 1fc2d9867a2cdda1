import { ARCHIVE_CHECK_SCRIPT, ARCHIVE_SCRIPT_USAGE_CHECK, ARCHIVE_STORE_SCRIPT, shellJoin, shellQuote } from '@handyrep/plugin-sdk';
import type { ArchivePaths } from '@handyrep/plugin-sdk';
import type { ArchiveTarget } from './archive-target.js';
import type { HostKeyChecking } from './config.js';

/** What goes into the pushed script besides the paths. */
export interface RemoteScriptOptions {
  /** Sync each segment and the directory on the archive host. */
  fsync: boolean;
  /** Kill a transfer that takes longer than this (when GNU timeout is installed on the master). */
  copyTimeoutSeconds: number;
  /** ssh ConnectTimeout. */
  connectTimeoutSeconds: number;
  /** ssh -i, or empty. */
  identityFile: string;
  /** ssh UserKnownHostsFile, or empty. */
  knownHostsFile: string;
  /** ssh StrictHostKeyChecking. */
  strictHostKeyChecking: HostKeyChecking;
}

/** Grace between timeout's TERM and KILL. */
const KILL_AFTER_SECONDS = 10;

/** The ssh argument vector up to and including the destination; the remote command follows. */
export function sshArgv(target: ArchiveTarget, options: RemoteScriptOptions): string[] {
  const argv = [
    'ssh',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${options.connectTimeoutSeconds}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', `StrictHostKeyChecking=${options.strictHostKeyChecking}`,
  ];
  if (options.knownHostsFile !== '') argv.push('-o', `UserKnownHostsFile=${options.knownHostsFile}`);
  if (options.identityFile !== '') argv.push('-i', options.identityFile, '-o', 'IdentitiesOnly=yes');
  argv.push('-p', String(target.port), '-l', target.user, '--', target.host);
  return argv;
}

/**
 * The command line the archive host's login shell runs: `sh -c <code> <name>
 * <args...>`, every fixed value quoted here. The WAL file name is appended at
 * run time by the script, after it has checked that the name holds only
 * WAL-name characters.
 */
export function remoteCommand(code: string, name: string, args: readonly string[]): string {
  return ['sh', '-c', shellQuote(code), name, ...args.map(shellQuote)].join(' ');
}

/**
 * The archive script for archive_command = '<script> %p %f': it streams the
 * segment over ssh into the store code on the archive host. Every value is
 * fixed at push time and quoted; the only run-time inputs are %p (opened as a
 * file) and %f (checked against WAL file name characters before use).
 */
export function archiveScript(paths: ArchivePaths, target: ArchiveTarget, options: RemoteScriptOptions): string {
  const store = remoteCommand(ARCHIVE_STORE_SCRIPT, 'handyrep-archive', [paths.archiveDirectory, options.fsync ? '1' : '0']);
  const check = remoteCommand(ARCHIVE_CHECK_SCRIPT, 'handyrep-check', [paths.archiveDirectory]);
  return [
    '#!/bin/sh',
    '# HandyRep WAL archive script, written by the archive_remote plugin on start_archiving;',
    '# edits are overwritten. PostgreSQL runs it as',
    "#   archive_command = '<this script> %p %f'",
    '# While the touch file exists (stop_archiving) it exits 0 without copying, so',
    '# PostgreSQL recycles WAL instead of keeping it. Otherwise it streams the segment',
    '# over ssh to the archive host, which writes it under a temp name, syncs it and',
    '# hard-links it into place; an existing identical file is success, a different',
    '# one is never overwritten (exit non-zero: PostgreSQL keeps the segment and retries).',
    '# "<this script> --check" creates the archive directory over ssh and checks it.',
    'set -u',
    `ARCHIVE_HOST=${shellQuote(`${target.user}@${target.host}:${target.port}`)}`,
    `TOUCH_FILE=${shellQuote(paths.touchFile)}`,
    `STORE_COMMAND=${shellQuote(store)}`,
    `CHECK_COMMAND=${shellQuote(check)}`,
    'LIMIT=',
    `if command -v timeout >/dev/null 2>&1; then LIMIT="timeout -k ${KILL_AFTER_SECONDS} ${options.copyTimeoutSeconds}"; fi`,
    `archive_ssh() { $LIMIT ${shellJoin(sshArgv(target, options))} "$1"; }`,
    // PostgreSQL stops its archiver on an exit status above 125 (ssh's 255, 137 after timeout's KILL); a plain failure is retried.
    'retryable() { if [ "$1" -gt 125 ]; then return 1; fi; return "$1"; }',
    'if [ "$#" -eq 1 ] && [ "$1" = --check ]; then',
    "  command -v ssh >/dev/null 2>&1 || { printf 'handyrep archive: ssh is not installed on this host\\n' >&2; exit 1; }",
    '  archive_ssh "$CHECK_COMMAND" </dev/null',
    '  rc=$?',
    "  if [ \"$rc\" -ne 0 ]; then printf 'handyrep archive: check on %s failed (exit %s)\\n' \"$ARCHIVE_HOST\" \"$rc\" >&2; fi",
    '  retryable \"$rc\"',
    '  exit $?',
    'fi',
    ARCHIVE_SCRIPT_USAGE_CHECK,
    // Checked here too: the name is pasted into the remote command line.
    "case $2 in ''|.*|*[!0-9A-Za-z._-]*) printf 'handyrep archive: refusing file name %s\\n' \"$2\" >&2; exit 2 ;; esac",
    'if [ -e "$TOUCH_FILE" ]; then exit 0; fi',
    "if [ ! -f \"$1\" ]; then printf 'handyrep archive: no such file %s\\n' \"$1\" >&2; exit 2; fi",
    'archive_ssh "$STORE_COMMAND $2" < "$1"',
    'rc=$?',
    "if [ \"$rc\" -ne 0 ]; then printf 'handyrep archive: sending %s to %s failed (exit %s)\\n' \"$2\" \"$ARCHIVE_HOST\" \"$rc\" >&2; fi",
    'retryable "$rc"',
    'exit $?',
    '',
  ].join('\n');
}
