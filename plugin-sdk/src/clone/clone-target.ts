import type { PluginContext } from '../capabilities/plugin-context.js';
import { BadArgumentError, errorMessage } from '../errors.js';
import { cleanOutput } from '../helpers/command-output.js';
import { emptyDataDirectory, probeDataDirectory } from '../helpers/data-directory.js';
import type { DataDirectoryProbe } from '../helpers/data-directory.js';
import { pgServer } from '../helpers/pg-server.js';
import type { PgServer } from '../helpers/pg-server.js';
import type { CloneRequest } from '../kinds/clone.js';

/** The three servers of a clone, each read with `pgServer`. */
export interface CloneServers {
  /** The server that becomes a replica. */
  target: PgServer;
  /** The server copied from. */
  source: PgServer;
  /** The server the new replica streams from. */
  upstream: PgServer;
}

/** The servers of a clone request, checked against each other and the registry; throws BadArgumentError or UnknownServerError. */
export function resolveCloneServers(context: Pick<PluginContext<unknown>, 'servers'>, request: CloneRequest): CloneServers {
  for (const key of ['target', 'source', 'upstream'] as const) {
    if (typeof request[key] !== 'string' || request[key] === '') throw new BadArgumentError(`clone: '${key}' must be a server name`);
  }
  const target = pgServer(context.servers.get(request.target));
  const source = pgServer(context.servers.get(request.source));
  const upstream = pgServer(context.servers.get(request.upstream));
  if (target.name === source.name) throw new BadArgumentError(`${target.name} cannot be cloned from itself`);
  if (target.name === upstream.name) throw new BadArgumentError(`${target.name} cannot stream from itself`);
  return { target, source, upstream };
}

/** True when the registry calls `server` the master (its role, or the enabled master). */
export function isRegistryMaster(context: Pick<PluginContext<unknown>, 'servers'>, server: PgServer): boolean {
  return server.role === 'master' || context.servers.master()?.name === server.name;
}

/**
 * Why a target cannot be cloned over, or undefined when it can. A reclone
 * empties only a PostgreSQL data directory (one with PG_VERSION) unless `force`.
 */
export function cloneRefusal(target: PgServer, state: DataDirectoryProbe, reclone: boolean, force = false): string | undefined {
  if (state.postmasterPid !== undefined) {
    return `a PostgreSQL server (postmaster PID ${state.postmasterPid}) is running on ${target.name} with ${target.pgdata}; stop it first: nothing touched`;
  }
  if (state.directory === 'notdir') return `${target.pgdata} on ${target.name} exists and is not a directory: nothing touched`;
  if (state.directory === 'unreadable') return `${target.pgdata} on ${target.name} cannot be read by the SSH user: nothing touched`;
  if (state.directory === 'nonempty' && !reclone) {
    return `${target.pgdata} on ${target.name} is not empty${state.pgVersion === undefined ? '' : ` (PostgreSQL ${state.pgVersion} data)`}; pass reclone to replace it: nothing touched`;
  }
  if (state.directory === 'nonempty' && state.pgVersion === undefined && !force) {
    return `${target.pgdata} on ${target.name} is not empty but holds no PostgreSQL data directory (no PG_VERSION): is pgdata right? Pass force with reclone to empty it anyway: nothing touched`;
  }
  return undefined;
}

/** What `prepareCloneTarget` found: ready to copy into, or a refusal with the keys to add to the FAIL. */
export type CloneTargetPreparation =
  | {
      /** The data directory is empty or absent now. */
      ready: true;
      /** True when an old data directory was emptied (reclone). */
      emptied: boolean;
    }
  | {
      /** Nothing may be copied. */
      ready: false;
      /** Why, for `details`. */
      details: string;
      /** The emptying script's exit code and stderr (passwords masked), when emptying failed. */
      fields: { exit_code?: number | null; stderr?: string };
    };

/**
 * Probes the target's data directory and refuses as `cloneRefusal` says
 * (`force` lets a reclone empty a directory without PG_VERSION);
 * empties a non-empty one (a reclone), unless a postmaster started there
 * meanwhile. Throws when the probe or the SSH connection fails.
 */
export async function prepareCloneTarget(
  context: Pick<PluginContext<unknown>, 'shell' | 'logger' | 'secrets'>,
  target: PgServer,
  reclone: boolean,
  timeoutMs: number,
  force = false,
): Promise<CloneTargetPreparation> {
  const state = await probeDataDirectory(context, target, timeoutMs);
  const refusal = cloneRefusal(target, state, reclone, force);
  if (refusal !== undefined) return { ready: false, details: refusal, fields: {} };
  if (state.directory !== 'nonempty') return { ready: true, emptied: false };
  const cleared = await emptyDataDirectory(context, target, timeoutMs);
  if (!cleared.emptied) {
    const stderr = cleanOutput(cleared.stderr, context.secrets);
    return {
      ready: false,
      details: cleared.running
        ? `a PostgreSQL server started on ${target.name} meanwhile: not emptying ${target.pgdata}`
        : `emptying ${target.pgdata} on ${target.name} for the reclone failed: ${stderr}`,
      fields: { exit_code: cleared.exitCode, stderr },
    };
  }
  context.logger.info(`emptied ${target.pgdata} on ${target.name} for a reclone`, { server: target.name });
  return { ready: true, emptied: true };
}

/** Empties the target after a failed or timed-out copy, so nobody starts half a data directory; says what happened, never throws. */
export async function removeFailedCopy(
  context: Pick<PluginContext<unknown>, 'shell' | 'secrets'>,
  target: PgServer,
  timeoutMs: number,
): Promise<{ removed: boolean; text: string }> {
  let why: string;
  try {
    const cleared = await emptyDataDirectory(context, target, timeoutMs);
    if (cleared.emptied) return { removed: true, text: 'the partial copy was removed' };
    why = cleared.stderr;
  } catch (err) {
    why = errorMessage(err);
  }
  return { removed: false, text: `removing the partial copy failed (${cleanOutput(why, context.secrets)}): do not start ${target.name}, reclone it` };
}
