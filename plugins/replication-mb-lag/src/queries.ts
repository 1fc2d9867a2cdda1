import type { LagPosition } from './config.js';

/** pg_stat_replication column of each measurable position; a fixed table, so config text never reaches SQL. */
const POSITION_COLUMNS: Readonly<Record<LagPosition, string>> = {
  replay: 'replay_lsn',
  flush: 'flush_lsn',
  write: 'write_lsn',
  sent: 'sent_lsn',
};

/** One row of the lag query. */
export interface LagRow {
  [column: string]: unknown;
  in_recovery: boolean;
  upstream_lsn: string | null;
  state: string | null;
  measured_lsn: string | null;
  lag_bytes: string | number | null;
}

/**
 * Lag of the standby whose application_name is $1, measured on its upstream.
 * Always one row (LEFT JOIN): `state` is null when the standby is not listed.
 * The upstream's own position is its current WAL position, or on a cascading
 * standby the last WAL it received. pg_is_in_recovery() is read once, in a
 * subquery PostgreSQL will not flatten (volatile), so the CASE and the column
 * agree. Of several walsenders with the name (a reconnect in progress), the
 * streaming, most advanced one counts.
 */
export function lagQuery(position: LagPosition): string {
  const column = POSITION_COLUMNS[position];
  return `SELECT s.in_recovery,
       s.upstream_lsn::text AS upstream_lsn,
       r.state,
       r.${column}::text AS measured_lsn,
       pg_wal_lsn_diff(s.upstream_lsn, r.${column})::text AS lag_bytes
  FROM (SELECT x.in_recovery,
               CASE WHEN x.in_recovery THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS upstream_lsn
          FROM (SELECT pg_is_in_recovery() AS in_recovery) AS x) AS s
  LEFT JOIN LATERAL (
        SELECT state, ${column}
          FROM pg_stat_replication
         WHERE application_name = $1
         ORDER BY (state = 'streaming') DESC, ${column} DESC NULLS LAST
         LIMIT 1) AS r ON true`;
}

/** One row of the position query. */
export interface PositionRow {
  [column: string]: unknown;
  in_recovery: boolean;
  received_lsn: string | null;
  replayed_lsn: string | null;
  status: string | null;
  sender_host: string | null;
  last_msg_age_ms: string | number | null;
  wal_receiver_timeout_ms: string | number | null;
}

/**
 * A server's own view of its WAL stream. In recovery: last received and last
 * replayed positions; not in recovery: its current WAL position for both.
 * The WAL receiver columns are null when no receiver runs; the age of its last
 * message is computed with the server's clock, so clock skew between hosts
 * does not matter.
 */
export const POSITION_QUERY = `SELECT s.in_recovery,
       (CASE WHEN s.in_recovery THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END)::text AS received_lsn,
       (CASE WHEN s.in_recovery THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS replayed_lsn,
       w.status,
       w.sender_host,
       round(extract(epoch FROM clock_timestamp() - w.last_msg_receipt_time) * 1000)::float8 AS last_msg_age_ms,
       (SELECT setting FROM pg_settings WHERE name = 'wal_receiver_timeout') AS wal_receiver_timeout_ms
  FROM (SELECT pg_is_in_recovery() AS in_recovery) AS s
  LEFT JOIN pg_stat_wal_receiver AS w ON true`;
