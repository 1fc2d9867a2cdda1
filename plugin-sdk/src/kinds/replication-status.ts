import type { ReturnDictionary } from '../return-dictionary.js';
import type { PluginInstanceBase } from './base.js';

/** A replica's lag as seen on the master. */
export type ReplicaLag = ReturnDictionary<{
  /** Bytes between the master's current WAL position and the replica's replay position. */
  lag_bytes: number | null;
  /** The same in MB. */
  lag_mb: number | null;
  /** Whether the master lists the replica in pg_stat_replication at all. */
  connected: boolean;
}>;

/** What a replica says about its own WAL stream. */
export type ReplicaPosition = ReturnDictionary<{
  /** Last WAL position received (pg_last_wal_receive_lsn), e.g. `0/3000148`. */
  received_lsn: string | null;
  /** Last WAL position replayed (pg_last_wal_replay_lsn). */
  replayed_lsn: string | null;
  /** Whether the server is in recovery. */
  in_recovery: boolean;
  /** pg_stat_wal_receiver.status (`streaming`, ...), null when no WAL receiver runs. */
  receiver_status: string | null;
  /** Host the WAL receiver streams from. */
  sender_host: string | null;
  /** Milliseconds since the WAL receiver last heard from its upstream. */
  last_msg_age_ms: number | null;
}>;

/** `replication_status_method`: lag on the master and WAL positions on replicas. */
export interface ReplicationStatusPlugin extends PluginInstanceBase {
  /** Lag of `replica` measured on `master`. */
  lag(master: string, replica: string): Promise<ReplicaLag>;
  /** WAL positions and receiver state read on `replica` itself. */
  position(replica: string): Promise<ReplicaPosition>;
}
