import { fail, success } from '../return-dictionary.js';
import type { ReturnDictionary } from '../return-dictionary.js';

/**
 * pg_stat_archiver plus the settings that decide whether archiving can work,
 * and the backlog of segments waiting (`.ready` files), in one statement.
 * Times come back as epoch seconds so no driver time-zone handling is involved.
 */
export const ARCHIVER_QUERY = `SELECT a.archived_count::text AS archived_count,
       a.failed_count::text AS failed_count,
       a.last_archived_wal,
       extract(epoch FROM a.last_archived_time)::float8 AS last_archived_epoch,
       a.last_failed_wal,
       extract(epoch FROM a.last_failed_time)::float8 AS last_failed_epoch,
       current_setting('archive_mode') AS archive_mode,
       current_setting('archive_command') AS archive_command,
       pg_is_in_recovery() AS in_recovery,
       (SELECT count(*) FROM pg_ls_archive_statusdir() s WHERE s.name LIKE '%.ready')::int AS ready_count
  FROM pg_stat_archiver a`;

/** One row of ARCHIVER_QUERY as the driver returns it. */
export interface ArchiverRow {
  /** Any other column the driver returns. */
  [column: string]: unknown;
  /** Segments archived since the statistics reset (text). */
  archived_count: unknown;
  /** Failed archive attempts since the statistics reset (text). */
  failed_count: unknown;
  /** Name of the last segment archived, or null. */
  last_archived_wal: unknown;
  /** When it was archived, in epoch seconds, or null. */
  last_archived_epoch: unknown;
  /** Name of the segment of the last failed attempt, or null. */
  last_failed_wal: unknown;
  /** When that attempt failed, in epoch seconds, or null. */
  last_failed_epoch: unknown;
  /** The archive_mode setting. */
  archive_mode: unknown;
  /** The archive_command setting. */
  archive_command: unknown;
  /** pg_is_in_recovery(). */
  in_recovery: unknown;
  /** Segments waiting to be archived (`.ready` files). */
  ready_count: unknown;
}

/** What an archive plugin's poll found out, besides the row. */
export interface ArchiveHealthInput {
  /** The polled server. */
  server: string;
  /** The archiver's statistics. */
  row: ArchiverRow;
  /** Whether the touch file exists; null when it could not be checked. */
  touchFilePresent: boolean | null;
  /** Why the touch file could not be checked, when it could not. */
  touchFileError?: string;
  /** The touch file's path. */
  touchFile: string;
  /** The script archive_command should run. */
  scriptPath: string;
  /** failed_count at the previous poll of this server, if any. */
  previousFailedCount: number | undefined;
}

/** `stopped`: the touch file is there; `failing`: the newest attempt failed; `off`: archive_mode is off. */
export type ArchivingState = 'active' | 'stopped' | 'failing' | 'off' | 'not_master' | 'unknown';

/** Extra keys of an archive plugin's poll return dictionary. */
export interface ArchiveHealth {
  /** The verdict in one word. */
  archiving: ArchivingState;
  /** What is wrong without making the poll a FAIL. */
  warnings: string[];
  /** pg_stat_archiver.archived_count. */
  archived_count: number | null;
  /** pg_stat_archiver.failed_count. */
  failed_count: number | null;
  /** Segments waiting to be archived. */
  ready_count: number | null;
  /** Last segment archived. */
  last_archived_wal: string | null;
  /** When, as an ISO 8601 UTC time. */
  last_archived_time: string | null;
  /** Segment of the last failed attempt. */
  last_failed_wal: string | null;
  /** When, as an ISO 8601 UTC time. */
  last_failed_time: string | null;
  /** The no-archiving touch file's path. */
  touch_file: string;
  /** Whether it exists; null when that could not be checked. */
  touch_file_present: boolean | null;
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const number = typeof value === 'number' ? value : Number(String(value));
  return Number.isFinite(number) ? number : null;
}

function toText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function isoFromEpoch(value: unknown): string | null {
  const seconds = toNumber(value);
  return seconds === null ? null : new Date(Math.round(seconds * 1000)).toISOString();
}

function describeWal(wal: string | null, time: string | null): string {
  return wal === null ? 'none' : `${wal} at ${time ?? 'an unknown time'}`;
}

/**
 * Judges archiving health from one pg_stat_archiver row: FAIL when the newest
 * attempt failed (last_failed_time after last_archived_time), when archive_mode
 * is off or the server is in recovery; SUCCESS otherwise, with warnings for
 * failures since the previous poll and an archive_command that does not run
 * the script.
 */
export function judgeArchiving(input: ArchiveHealthInput): ReturnDictionary<ArchiveHealth> {
  const { row, server } = input;
  const lastArchivedEpoch = toNumber(row.last_archived_epoch);
  const lastFailedEpoch = toNumber(row.last_failed_epoch);
  const failedCount = toNumber(row.failed_count);
  const health: ArchiveHealth = {
    archiving: 'active',
    warnings: [],
    archived_count: toNumber(row.archived_count),
    failed_count: failedCount,
    ready_count: toNumber(row.ready_count),
    last_archived_wal: toText(row.last_archived_wal),
    last_archived_time: isoFromEpoch(row.last_archived_epoch),
    last_failed_wal: toText(row.last_failed_wal),
    last_failed_time: isoFromEpoch(row.last_failed_epoch),
    touch_file: input.touchFile,
    touch_file_present: input.touchFilePresent,
  };
  const archiveMode = toText(row.archive_mode) ?? 'unknown';
  const archiveCommand = toText(row.archive_command) ?? '';
  if (input.touchFileError !== undefined) health.warnings.push(`could not check the touch file ${input.touchFile}: ${input.touchFileError}`);
  if (row.in_recovery === true) {
    return fail(`${server} is in recovery: WAL is archived by the master, not here`, { ...health, archiving: 'not_master' });
  }
  if (archiveMode === 'off') {
    return fail(`archive_mode is off on ${server}: archiving needs archive_mode = on (a restart) and archive_command running ${input.scriptPath}`, {
      ...health,
      archiving: 'off',
    });
  }
  if (!archiveCommand.includes(input.scriptPath)) {
    health.warnings.push(`archive_command on ${server} is ${JSON.stringify(archiveCommand)}, which does not run ${input.scriptPath}: start/stop_archiving have no effect on it`);
  }
  if (
    failedCount !== null &&
    input.previousFailedCount !== undefined &&
    failedCount > input.previousFailedCount &&
    lastFailedEpoch !== null
  ) {
    health.warnings.push(`${failedCount - input.previousFailedCount} failed archive attempt(s) since the previous poll (last: ${describeWal(health.last_failed_wal, health.last_failed_time)})`);
  }
  const counts = `${health.archived_count ?? '?'} archived, ${failedCount ?? '?'} failed attempts, ${health.ready_count ?? '?'} waiting`;
  if (input.touchFilePresent === true) {
    return success(`archiving is stopped on ${server} by the touch file ${input.touchFile}: segments are not copied (${counts})`, {
      ...health,
      archiving: 'stopped',
    });
  }
  if (lastFailedEpoch !== null && (lastArchivedEpoch === null || lastFailedEpoch > lastArchivedEpoch)) {
    return fail(
      `archiving is failing on ${server}: last failure ${describeWal(health.last_failed_wal, health.last_failed_time)}, last success ${describeWal(health.last_archived_wal, health.last_archived_time)} (${counts}); see the server log for the archive script's message`,
      { ...health, archiving: 'failing' },
    );
  }
  const warned = health.warnings.length > 0 ? `; warnings: ${health.warnings.join('; ')}` : '';
  return success(`archiving is active on ${server}: last archived ${describeWal(health.last_archived_wal, health.last_archived_time)} (${counts})${warned}`, health);
}
