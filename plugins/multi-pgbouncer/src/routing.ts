import { BadArgumentError, compareServerNames } from '@handyrep/plugin-sdk';
import type { ServerDefinition, ServerView } from '@handyrep/plugin-sdk';
import { assertPort, assertSafeHost } from './names.js';
import type { DatabaseAlias } from './names.js';

/** A PostgreSQL server as pgbouncer is told to reach it. */
export interface Endpoint {
  /** Server name in the registry. */
  server: string;
  /** `host=` value. */
  host: string;
  /** `port=` value. */
  port: number;
}

/** One alias with the server it routes to. */
export interface RoutedDatabase extends DatabaseAlias {
  /** Where pgbouncer sends it. */
  target: Endpoint;
}

/** Where every alias goes: the master for read-write, the best replica (or the master) for read-only. */
export interface RoutingPlan {
  /** The master every read-write alias points at. */
  master: Endpoint;
  /** The server the read-only aliases point at. */
  readonlyTarget: Endpoint;
  /** Why the read-only aliases point where they do, in words. */
  readonlyReason: string;
  /** Every alias with its target, read-write first. */
  databases: RoutedDatabase[];
}

/** Statuses of a replica worth sending reads to. */
const READABLE_STATUSES: readonly string[] = ['healthy', 'lagged'];

/** Roles that are not PostgreSQL servers and can never be a master. */
const NON_DATABASE_ROLES: readonly string[] = ['pgbouncer', 'proxy', 'archive'];

function endpoint(server: Readonly<ServerDefinition>): Endpoint {
  assertSafeHost(server.name, server.hostname);
  return { server: server.name, host: server.hostname, port: assertPort(server.name, server.port) };
}

function priority(server: Readonly<ServerDefinition>): number {
  const value = Number(server['failover_priority']);
  return Number.isFinite(value) ? value : Number.MAX_SAFE_INTEGER;
}

/**
 * The replica reads should go to: an enabled replica other than the master
 * whose last status is healthy or lagged; healthy before lagged, then lower
 * failover_priority, then name (so the choice is stable between calls).
 */
export function bestReplica(servers: readonly Readonly<ServerDefinition>[], master: string): Readonly<ServerDefinition> | undefined {
  return servers
    .filter((s) => s.enabled && s.role === 'replica' && s.name !== master && READABLE_STATUSES.includes(s.status))
    .sort((a, b) => a.status_no - b.status_no || priority(a) - priority(b) || compareServerNames(a.name, b.name))[0];
}

/**
 * The routing for `masterName`. Throws UnknownServerError for a name the
 * registry does not know and BadArgumentError for a server that cannot be a
 * master or whose hostname/port cannot be written into pgbouncer's config.
 */
export function routingPlan(servers: ServerView, masterName: string, aliases: readonly DatabaseAlias[]): RoutingPlan {
  const masterServer = servers.get(masterName);
  if (NON_DATABASE_ROLES.includes(String(masterServer.role))) {
    throw new BadArgumentError(`server ${masterName} has role ${String(masterServer.role)} and cannot be the master`);
  }
  const master = endpoint(masterServer);
  const replica = bestReplica(servers.list(), masterName);
  const readonlyTarget = replica === undefined ? master : endpoint(replica);
  const readonlyReason =
    replica === undefined
      ? `no healthy or lagged replica besides ${masterName}: read-only aliases point at the master`
      : `read-only aliases point at replica ${replica.name} (${replica.status}, failover_priority ${String(replica['failover_priority'] ?? 'unset')})`;
  const databases = aliases.map((alias) => ({ ...alias, target: alias.readonly ? readonlyTarget : master }));
  return { master, readonlyTarget, readonlyReason, databases };
}
