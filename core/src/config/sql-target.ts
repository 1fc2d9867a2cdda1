import type { SqlTarget } from '@handyrep/plugin-sdk';
import type { HandyrepSettings } from './config-types.js';

/** The core's own queries on `server`: bounded by `[handyrep] connect_timeout` and `statement_timeout`. */
export function boundedSqlTarget(server: string, settings: Pick<HandyrepSettings, 'connect_timeout' | 'statement_timeout'>): SqlTarget {
  return { server, connectTimeoutMs: settings.connect_timeout * 1000, statementTimeoutMs: settings.statement_timeout * 1000 };
}
