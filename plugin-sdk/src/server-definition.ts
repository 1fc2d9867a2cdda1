import type { ServerStatusName, StatusFields } from './status.js';

/** Roles the spec defines; other, user-defined roles are allowed and are neither polled nor verified. */
export type KnownRole = 'master' | 'replica' | 'proxy' | 'pgbouncer' | 'archive';

/**
 * One server as the registry knows it: its definition (from `server_defaults`,
 * the config, saved state and the API) plus its status fields.
 */
export interface ServerDefinition extends StatusFields<ServerStatusName> {
  /** The server's name (the key of its `[servers.<name>]` section). */
  name: string;
  /** Host name or address to reach it. */
  hostname: string;
  /** `master`, `replica`, `proxy`, `pgbouncer`, `archive` or a user-defined role. */
  role: KnownRole | (string & Record<never, never>);
  /** Disabled servers are neither checked nor chosen. */
  enabled: boolean;
  /** PostgreSQL (or proxy) port. */
  port: number;
  /** Every other definition key: core keys such as `pgdata` and the keys plugins declare. */
  [key: string]: unknown;
}

/** The core-defined per-server keys every plugin may rely on (defaults come from `[server_defaults]`). */
export interface CoreServerKeys {
  /** Data directory. */
  pgdata: string;
  /** Directory of postgresql.conf (defaults to pgdata). */
  pgconf: string;
  /** Directory of the PostgreSQL binaries (pg_ctl, pg_basebackup, ...). */
  pg_bin: string;
  /** OS user HandyRep logs in as over SSH. */
  ssh_user: string;
  /** SSH port. */
  ssh_port: number;
  /** Lag in MB beyond which a replica is reported `lagged`. */
  lag_limit: number;
  /** Lag in MB beyond which a replica is not a failover candidate. */
  failover_lag_limit: number;
  /** Lower wins among equally advanced candidates. */
  failover_priority: number;
  /** Never promote this replica. */
  nofailover: boolean;
}
