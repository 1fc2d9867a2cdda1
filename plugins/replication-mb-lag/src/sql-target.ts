import type { PluginContext, SqlTarget } from '@handyrep/plugin-sdk';
import type { ReplicationMbLagConfig } from './config.js';

/** Grace on top of connect + statement time-outs before the backstop deadline fires. */
const DEADLINE_GRACE_MS = 1000;

/** The SQL target of one measurement on `server`, with the plugin's short time-outs. */
export function measurementTarget(config: Readonly<ReplicationMbLagConfig>, server: string): SqlTarget {
  return {
    server,
    connectTimeoutMs: Math.round(config.connect_timeout * 1000),
    statementTimeoutMs: Math.round(config.statement_timeout * 1000),
  };
}

/** Longest one measurement may take in all: connecting, the statement, and a grace. */
export function measurementDeadlineMs(config: Readonly<ReplicationMbLagConfig>): number {
  return Math.round((config.connect_timeout + config.statement_timeout) * 1000) + DEADLINE_GRACE_MS;
}

/** The context a measurement needs. */
export type MeasurementContext = Pick<PluginContext<ReplicationMbLagConfig>, 'config' | 'sql' | 'servers' | 'logger'>;
