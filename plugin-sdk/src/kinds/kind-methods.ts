import type { PluginKind } from './plugin-kind.js';

/** The methods an instance of each kind must have; the loader checks them. */
export const KIND_METHODS: Readonly<Record<PluginKind, readonly string[]>> = {
  poll: ['poll'],
  control: ['start', 'stop', 'faststop', 'restart', 'reload', 'status'],
  promotion: ['promote'],
  clone: ['clone'],
  replication_status: ['lag', 'position'],
  replica_selection: ['select'],
  connection_failover: ['init', 'pause', 'failover', 'resume', 'poll'],
  archive: ['pushScript', 'start', 'stop', 'poll'],
  archive_cleanup: ['cleanup'],
  alert: ['send'],
  authentication: ['authenticate'],
  hr_master: ['check'],
  fencing: ['fence'],
};

/** Names of the methods `instance` lacks for `kind`. */
export function missingKindMethods(kind: PluginKind, instance: unknown): string[] {
  if (typeof instance !== 'object' || instance === null) return [...KIND_METHODS[kind]];
  const record = instance as Record<string, unknown>;
  return KIND_METHODS[kind].filter((method) => typeof record[method] !== 'function');
}
