import { success, withTimeout } from '@handyrep/plugin-sdk';
import type { ReplicaPosition, ReturnDictionary } from '@handyrep/plugin-sdk';
import { measurementFailed } from './failure.js';
import { POSITION_QUERY } from './queries.js';
import type { PositionRow } from './queries.js';
import { measurementDeadlineMs, measurementTarget } from './sql-target.js';
import type { MeasurementContext } from './sql-target.js';
import { toNumber, toText } from './values.js';

/** Keys `position()` adds to the SDK's ReplicaPosition. */
export interface PositionExtra {
  /**
   * The server's wal_receiver_timeout in ms: a streaming receiver hears from
   * its upstream at least every half of it, even when no WAL is written, so
   * `last_msg_age_ms` is judged against it. Null on FAIL.
   */
  wal_receiver_timeout_ms: number | null;
  /** On FAIL, the stable error code (HR_TIMEOUT, HR_SQL, HR_UNKNOWN_SERVER, ...); null otherwise. */
  error_code: string | null;
}

/** What `position()` returns. */
export type PositionResult = ReplicaPosition & ReturnDictionary<PositionExtra>;

function describe(server: string, position: Omit<PositionResult, 'result' | 'details'>): string {
  if (!position.in_recovery) {
    return `${server} is not in recovery (a master); its current WAL position is ${position.received_lsn ?? 'unknown'}`;
  }
  const wal = `received ${position.received_lsn ?? 'nothing'}, replayed ${position.replayed_lsn ?? 'nothing'}`;
  if (position.receiver_status === null) return `${server} is in recovery with no WAL receiver running; ${wal}`;
  const heard = position.last_msg_age_ms === null ? 'no message yet' : `last message ${position.last_msg_age_ms} ms ago`;
  return `${server} is in recovery, WAL receiver ${position.receiver_status} from ${position.sender_host ?? 'unknown host'} (${heard}); ${wal}`;
}

/**
 * WAL positions and WAL receiver state read on `server` itself. Answers on a
 * master too (`in_recovery: false`, both positions = its current WAL position,
 * receiver fields null). FAIL means the server could not be asked.
 */
export async function readPosition(context: MeasurementContext, server: string): Promise<PositionResult> {
  let rows: PositionRow[];
  try {
    context.servers.get(server);
    const deadlineMs = measurementDeadlineMs(context.config);
    rows = await withTimeout(
      context.sql.query<PositionRow>(measurementTarget(context.config, server), POSITION_QUERY),
      deadlineMs,
      `position query on ${server} got no answer within ${deadlineMs} ms`,
    );
  } catch (err) {
    const result = failedPosition(server, err);
    context.logger.debug(result.details, { server, error_code: result.error_code });
    return result;
  }
  const row = rows[0];
  if (row === undefined) return failedPosition(server, new Error('the position query returned no row'));
  const position = {
    received_lsn: toText(row.received_lsn),
    replayed_lsn: toText(row.replayed_lsn),
    in_recovery: row.in_recovery === true,
    receiver_status: toText(row.status),
    sender_host: toText(row.sender_host),
    last_msg_age_ms: toNumber(row.last_msg_age_ms),
    wal_receiver_timeout_ms: toNumber(row.wal_receiver_timeout_ms),
    error_code: null,
  };
  return success(describe(server, position), position);
}

function failedPosition(server: string, err: unknown): PositionResult {
  return measurementFailed(`cannot read the WAL position of ${server}`, err, {
    received_lsn: null,
    replayed_lsn: null,
    in_recovery: false,
    receiver_status: null,
    sender_host: null,
    last_msg_age_ms: null,
    wal_receiver_timeout_ms: null,
  });
}
