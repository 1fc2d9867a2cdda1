import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** Which pg_stat_replication position `lag()` measures against the master's current WAL position. */
export type LagPosition = 'replay' | 'flush' | 'write' | 'sent';

/** `[plugins.replication_mb_lag]` after validation and defaults. */
export interface ReplicationMbLagConfig {
  /** Seconds allowed to open each connection. */
  connect_timeout: number;
  /** Seconds each statement may run. */
  statement_timeout: number;
  /** Position the lag is measured to. */
  lag_position: LagPosition;
}

/** Schema of `[plugins.replication_mb_lag]`. */
export const configSchema: ObjectSchema = {
  type: 'object',
  description: 'Replica lag from pg_stat_replication on the master, WAL positions and WAL receiver state read on each replica.',
  properties: {
    connect_timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 3,
      description: 'Seconds allowed to connect to a server for one measurement; kept short so a dead host answers FAIL quickly.',
    },
    statement_timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 2,
      description: 'Seconds each measurement query may run (the queries read in-memory statistics and normally take milliseconds).',
    },
    lag_position: {
      type: 'string',
      enum: ['replay', 'flush', 'write', 'sent'],
      default: 'replay',
      description:
        "Replica position lag() measures to: 'replay' (what lag_limit and failover_lag_limit mean: WAL not yet applied), " +
        "'flush' (WAL not yet durable on the replica), 'write', or 'sent' (WAL not yet sent).",
    },
  },
  additionalProperties: false,
};

/** Per-server keys this plugin reads. */
export const serverSchema: ObjectSchema = {
  type: 'object',
  properties: {
    replication_application_name: {
      type: 'string',
      default: '',
      description:
        'application_name the replica connects to its master with (primary_conninfo), used to find it in pg_stat_replication; empty means the server name.',
    },
  },
  additionalProperties: false,
};
