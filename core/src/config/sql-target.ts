import type { SqlTarget } from '@handyrep/plugin-sdk';
import type { HandyrepSettings } from './config-types.js';

/** The core's own queries on `server`: bounded by `[handyrep] connect_timeout` and `statement_timeout`. */
export function boundedSqlTarget(server: string, settings: Pick<HandyrepSettings, 'connect_timeout' | 'statement_timeout'>): SqlTarget {
  return { server, connectTimeoutMs: settings.connect_timeout * 1000, statementTimeoutMs: settings.statement_timeout * 1000 };
}

/**
 * Housekeeping reads inside a check (slot upkeep, slot adoption): bounded by
 * `connect_timeout` for both connecting and the statement (at least 2 s), so a
 * server that hangs right after its poll holds the check up only briefly.
 */
export function quickSqlTarget(server: string, settings: Pick<HandyrepSettings, 'connect_timeout'>): SqlTarget {
  const ms = settings.connect_timeout * 1000;
  return { server, connectTimeoutMs: ms, statementTimeoutMs: Math.max(ms, 2000) };
}
