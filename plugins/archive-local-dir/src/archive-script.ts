import { ARCHIVE_CHECK_SCRIPT, ARCHIVE_SCRIPT_USAGE_CHECK, ARCHIVE_STORE_SCRIPT, shellQuote } from '@handyrep/plugin-sdk';
import type { ArchivePaths } from '@handyrep/plugin-sdk';

/** What goes into the pushed script besides the paths. */
export interface ArchiveScriptOptions {
  /** Sync each segment and the directory. */
  fsync: boolean;
  /** Kill a copy that takes longer than this (when GNU timeout is installed). */
  copyTimeoutSeconds: number;
}

/** Grace between timeout's TERM and KILL. */
const KILL_AFTER_SECONDS = 10;

/**
 * The archive script for archive_command = '<script> %p %f'. Every value is
 * fixed at push time and quoted; the only run-time inputs are %p (opened as
 * a file) and %f (checked against WAL file name characters before use).
 */
export function archiveScript(paths: ArchivePaths, options: ArchiveScriptOptions): string {
  return [
    '#!/bin/sh',
    '# HandyRep WAL archive script, written by the archive_local_dir plugin on start_archiving;',
    '# edits are overwritten. PostgreSQL runs it as',
    "#   archive_command = '<this script> %p %f'",
    '# While the touch file exists (stop_archiving) it exits 0 without copying, so',
    '# PostgreSQL recycles WAL instead of keeping it. Otherwise it copies the segment',
    '# to the archive directory: temp name, sync, hard link into place; an existing',
    '# identical file is success, a different one is never overwritten (exit non-zero:',
    '# PostgreSQL keeps the segment and retries).',
    '# "<this script> --check" creates the archive directory if needed and checks it.',
    'set -u',
    `ARCHIVE_DIR=${shellQuote(paths.archiveDirectory)}`,
    `TOUCH_FILE=${shellQuote(paths.touchFile)}`,
    `FSYNC=${options.fsync ? 1 : 0}`,
    `STORE=${shellQuote(ARCHIVE_STORE_SCRIPT)}`,
    `CHECK=${shellQuote(ARCHIVE_CHECK_SCRIPT)}`,
    'LIMIT=',
    `if command -v timeout >/dev/null 2>&1; then LIMIT="timeout -k ${KILL_AFTER_SECONDS} ${options.copyTimeoutSeconds}"; fi`,
    'if [ "$#" -eq 1 ] && [ "$1" = --check ]; then',
    '  sh -c "$CHECK" handyrep-check "$ARCHIVE_DIR"',
    '  exit $?',
    'fi',
    ARCHIVE_SCRIPT_USAGE_CHECK,
    'if [ -e "$TOUCH_FILE" ]; then exit 0; fi',
    "if [ ! -f \"$1\" ]; then printf 'handyrep archive: no such file %s\\n' \"$1\" >&2; exit 2; fi",
    '$LIMIT sh -c "$STORE" handyrep-archive "$ARCHIVE_DIR" "$FSYNC" "$2" < "$1"',
    'rc=$?',
    // PostgreSQL stops its archiver on an exit status above 125 (e.g. 137 after timeout's KILL); a plain failure is retried.
    'if [ "$rc" -gt 125 ]; then rc=1; fi',
    'exit "$rc"',
    '',
  ].join('\n');
}
