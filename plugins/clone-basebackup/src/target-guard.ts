// Kept identical to plugins/clone-rsync/src/target-guard.ts: plugins may import only the SDK,
// so the two clone plugins each carry this file.
import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { PluginContext } from '@handyrep/plugin-sdk';
import { emptyScript, EMPTY_REFUSED_RUNNING, parseProbe, probeScript } from './target-state.js';
import type { TargetState } from './target-state.js';
import type { PgServer } from './server-paths.js';

/** True when the registry calls `server` the master (its role, or the enabled master). */
export function isRegistryMaster(context: PluginContext<unknown>, server: PgServer): boolean {
  return server.role === 'master' || context.servers.master()?.name === server.name;
}

/** Probes the target's data directory (read-only); throws when the probe itself fails. */
export async function probeTarget(context: PluginContext<unknown>, target: PgServer, timeoutMs: number): Promise<TargetState> {
  const result = await context.shell.runScript(target.name, probeScript(target.pgdata), { timeoutMs });
  if (result.exitCode !== 0) {
    throw new HandyRepError(ErrorCodes.REMOTE_COMMAND, `probing ${target.pgdata} on ${target.name} failed (exit ${String(result.exitCode)}): ${result.stderr.trim()}`);
  }
  return parseProbe(result.stdout);
}

/** Why a target cannot be cloned over, or undefined when it can. */
export function cloneRefusal(target: PgServer, state: TargetState, reclone: boolean): string | undefined {
  if (state.postmasterPid !== undefined) {
    return `a PostgreSQL server (postmaster PID ${state.postmasterPid}) is running on ${target.name} with ${target.pgdata}; stop it first: nothing touched`;
  }
  if (state.directory === 'notdir') return `${target.pgdata} on ${target.name} exists and is not a directory: nothing touched`;
  if (state.directory === 'unreadable') return `${target.pgdata} on ${target.name} cannot be read by the SSH user: nothing touched`;
  if (state.directory === 'nonempty' && !reclone) {
    return `${target.pgdata} on ${target.name} is not empty${state.pgVersion === undefined ? '' : ` (PostgreSQL ${state.pgVersion} data)`}; pass reclone to replace it: nothing touched`;
  }
  return undefined;
}

/** What emptying a data directory did. */
export interface EmptyOutcome {
  /** True when the directory is now empty (or absent). */
  emptied: boolean;
  /** True when it was refused because a postmaster runs there. */
  running: boolean;
  /** Exit code of the emptying script. */
  exitCode: number | null;
  /** Its stderr, trimmed. */
  stderr: string;
}

/** Empties the target's data directory, unless a postmaster runs there now. */
export async function emptyTarget(context: PluginContext<unknown>, target: PgServer, timeoutMs: number): Promise<EmptyOutcome> {
  const result = await context.shell.runScript(target.name, emptyScript(target.pgdata), { timeoutMs });
  return {
    emptied: result.exitCode === 0,
    running: result.exitCode === EMPTY_REFUSED_RUNNING,
    exitCode: result.exitCode,
    stderr: result.stderr.trim(),
  };
}
