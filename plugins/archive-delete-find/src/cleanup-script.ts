import { shellQuote } from '@handyrep/plugin-sdk';
import { DELETABLE_NAME_PATTERNS } from './wal-names.js';

/** Prefix of the line that reports how many WAL files are left. */
export const REMAINING_MARKER = 'handyrep-remaining ';

/** Exit status of the script when the archive directory does not exist. */
export const NO_DIRECTORY_EXIT = 3;

/**
 * The minutes argument of `find -mmin +N` for an age in hours: rounded up,
 * so a file is never deleted before it is `hours` old.
 */
export function minutesFor(hours: number): number {
  return Math.ceil(hours * 60);
}

/**
 * The cleanup script: one find that deletes expired WAL files and prints each
 * one it deleted (`-delete -print`: printed only when the delete worked),
 * then a count of the WAL files left. Only regular files directly in the
 * directory are considered (`-maxdepth 1 -type f`: no subdirectories, no
 * symbolic links); `-H` follows the directory itself when it is a link.
 */
export function cleanupScript(directory: string, minutes: number): string {
  const names = DELETABLE_NAME_PATTERNS.map((pattern) => `-name ${shellQuote(pattern)}`).join(' -o ');
  const select = `find -H "$dir" -mindepth 1 -maxdepth 1 -type f \\( ${names} \\)`;
  return [
    'LC_ALL=C',
    'export LC_ALL',
    `dir=${shellQuote(directory)}`,
    `if [ ! -d "$dir" ]; then printf 'archive directory %s does not exist\\n' "$dir" >&2; exit ${NO_DIRECTORY_EXIT}; fi`,
    `${select} -mmin +${minutes} -delete -print`,
    'rc=$?',
    `printf '${REMAINING_MARKER}%s\\n' "$(${select} -print | wc -l)"`,
    'exit "$rc"',
  ].join('\n');
}

/** What the script printed: the deleted file names and the count left (null when not reported). */
export interface CleanupOutput {
  /** Base names of the deleted files, sorted. */
  deleted: string[];
  /** WAL files still in the directory. */
  remaining: number | null;
}

/** Reads the script's standard output. Paths are absolute and hold no newline, so every line is one path or the marker. */
export function parseCleanupOutput(stdout: string): CleanupOutput {
  const deleted: string[] = [];
  let remaining: number | null = null;
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    if (line.startsWith(REMAINING_MARKER)) {
      const count = Number(line.slice(REMAINING_MARKER.length).trim());
      remaining = Number.isInteger(count) ? count : null;
    } else {
      deleted.push(line.slice(line.lastIndexOf('/') + 1));
    }
  }
  return { deleted: deleted.sort(), remaining };
}
