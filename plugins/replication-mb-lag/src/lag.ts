import { success, withTimeout } from '@handyrep/plugin-sdk';
import type { ReplicaLag, ReturnDictionary } from '@handyrep/plugin-sdk';
import type { LagPosition } from './config.js';
import { measurementFailed } from './failure.js';
import { lagQuery } from './queries.js';
import type { LagRow } from './queries.js';
import { measurementDeadlineMs, measurementTarget } from './sql-target.js';
import type { MeasurementContext } from './sql-target.js';
import { bytesToMb, toNumber, toText } from './values.js';

/** Keys `lag()` adds to the SDK's ReplicaLag. */
export interface LagExtra {
  /** walsender state in pg_stat_replication (`streaming`, `catchup`, ...), null when not listed. */
  state: string | null;
  /** Which replica position was measured (`lag_position`). */
  measured: LagPosition;
  /** The master's current WAL position (a cascading upstream: its last received position). */
  master_lsn: string | null;
  /** The replica's measured position as the master sees it. */
  replica_lsn: string | null;
  /** On FAIL, the stable error code (HR_TIMEOUT, HR_SQL, HR_UNKNOWN_SERVER, ...); null otherwise. */
  error_code: string | null;
}

/** What `lag()` returns. */
export type LagResult = ReplicaLag & ReturnDictionary<LagExtra>;

/** The name the replica appears under in the master's pg_stat_replication. */
function applicationName(context: MeasurementContext, replica: string): string {
  const configured = context.servers.get(replica)['replication_application_name'];
  return typeof configured === 'string' && configured !== '' ? configured : replica;
}

/**
 * Lag of `replica` as its master sees it. A replica the master does not list
 * is a successful answer (`connected: false`, lag null): the measurement
 * worked and found no stream. FAIL means the master could not be asked.
 */
export async function measureLag(context: MeasurementContext, master: string, replica: string): Promise<LagResult> {
  const measured = context.config.lag_position;
  const unknown = { lag_bytes: null, lag_mb: null, connected: false, state: null, measured, master_lsn: null, replica_lsn: null };
  let rows: LagRow[];
  let name: string;
  try {
    name = applicationName(context, replica);
    context.servers.get(master);
    const deadlineMs = measurementDeadlineMs(context.config);
    rows = await withTimeout(
      context.sql.query<LagRow>(measurementTarget(context.config, master), lagQuery(measured), [name]),
      deadlineMs,
      `lag query on ${master} got no answer within ${deadlineMs} ms`,
    );
  } catch (err) {
    const result = measurementFailed(`cannot read the lag of ${replica} on ${master}`, err, unknown);
    context.logger.debug(result.details, { master, replica, error_code: result.error_code });
    return result;
  }
  const row = rows[0];
  if (row === undefined) {
    return measurementFailed(`cannot read the lag of ${replica} on ${master}`, new Error('the lag query returned no row'), unknown);
  }
  const masterLsn = toText(row.upstream_lsn);
  const replicaLsn = toText(row.measured_lsn);
  const state = toText(row.state);
  if (state === null) {
    return success(`${replica} is not connected to ${master}: no pg_stat_replication row with application_name '${name}'`, {
      ...unknown,
      master_lsn: masterLsn,
      error_code: null,
    });
  }
  const rawBytes = toNumber(row.lag_bytes);
  if (rawBytes === null) {
    return success(`${replica} is connected to ${master} (state ${state}) but its ${measured} position is not known yet`, {
      ...unknown,
      connected: true,
      state,
      master_lsn: masterLsn,
      replica_lsn: replicaLsn,
      error_code: null,
    });
  }
  // A replica briefly ahead of a cascading upstream's receive position is not negative lag.
  const lagBytes = Math.max(0, rawBytes);
  const lagMb = bytesToMb(lagBytes);
  context.logger.debug(`lag of ${replica} on ${master}: ${lagBytes} bytes`, { master, replica, lag_bytes: lagBytes });
  return success(`${replica} ${measured} lag behind ${master}: ${lagMb} MB (${lagBytes} bytes), state ${state}`, {
    lag_bytes: lagBytes,
    lag_mb: lagMb,
    connected: true,
    state,
    measured,
    master_lsn: masterLsn,
    replica_lsn: replicaLsn,
    error_code: null,
  });
}
