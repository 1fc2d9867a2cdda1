import { BadArgumentError, errorMessage, fail, success } from '@handyrep/plugin-sdk';
import type { CloneRequest, PluginContext } from '@handyrep/plugin-sdk';
import { basebackupArgv, parseSize, sizeArgv, SSH_GRACE_MS, TIMED_OUT_EXIT, toolScript } from './commands.js';
import type { CloneBasebackupConfig } from './config.js';
import { cleanOutput, failFromError, lastLines } from './result.js';
import type { CloneOutcome } from './result.js';
import { pgServer } from './server-paths.js';
import type { PgServer } from './server-paths.js';
import { replicationUser, writeStandbySettings } from './standby-settings.js';
import { cloneRefusal, emptyTarget, isRegistryMaster, probeTarget } from './target-guard.js';

/** The three servers of a clone, checked against each other and the registry. */
function resolveServers(context: PluginContext<CloneBasebackupConfig>, request: CloneRequest): { target: PgServer; source: PgServer; upstream: PgServer } {
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

/**
 * clone_basebackup's clone: refuses the master and a running target before
 * anything runs, probes the target's data directory (refusing a non-empty
 * one without reclone), empties it for a reclone, runs pg_basebackup on the
 * target reading from the source with WAL streamed alongside, then writes
 * the standby settings for the upstream. A failed copy is removed so that
 * nobody starts half a data directory. Never starts the server.
 */
export async function cloneWithBasebackup(context: PluginContext<CloneBasebackupConfig>, request: CloneRequest): Promise<CloneOutcome> {
  const { config, clock, logger, secrets } = context;
  const started = clock.now();
  const elapsed = (): number => clock.now() - started;
  const base = { target: String(request.target), source: String(request.source) };
  const quickMs = config.command_timeout_seconds * 1000;
  let servers: ReturnType<typeof resolveServers>;
  try {
    servers = resolveServers(context, request);
  } catch (err) {
    return failFromError(`clone of ${base.target}`, base, err, elapsed(), secrets);
  }
  const { target, source, upstream } = servers;
  if (isRegistryMaster(context, target)) {
    return fail(`${target.name} is the master: refusing to clone over it; nothing touched`, { ...base, duration_ms: elapsed() });
  }
  let emptied = false;
  let copyStarted = false;
  try {
    const state = await probeTarget(context, target, quickMs);
    const refusal = cloneRefusal(target, state, request.reclone === true);
    if (refusal !== undefined) return fail(refusal, { ...base, duration_ms: elapsed() });
    if (state.directory === 'nonempty') {
      const cleared = await emptyTarget(context, target, quickMs);
      if (!cleared.emptied) {
        return fail(
          cleared.running
            ? `a PostgreSQL server started on ${target.name} meanwhile: not emptying ${target.pgdata}`
            : `emptying ${target.pgdata} on ${target.name} for the reclone failed: ${cleanOutput(cleared.stderr, secrets)}`,
          { ...base, duration_ms: elapsed(), exit_code: cleared.exitCode, stderr: cleanOutput(cleared.stderr, secrets) },
        );
      }
      emptied = true;
      logger.info(`emptied ${target.pgdata} on ${target.name} for a reclone`, { server: target.name });
    }

    const password = secrets.get('replication_password');
    const script = toolScript('pg_basebackup', basebackupArgv(target, source, replicationUser(context), config), {
      hasPassword: password !== undefined,
      timeoutSeconds: config.timeout_seconds,
      connectTimeoutSeconds: Math.min(30, config.command_timeout_seconds),
    });
    logger.info(`cloning ${target.name} from ${source.name} with pg_basebackup`, { server: target.name, source: source.name });
    copyStarted = true;
    const copied = await context.shell.runScript(target.name, script, {
      input: password ?? '',
      timeoutMs: config.timeout_seconds * 1000 + SSH_GRACE_MS,
    });
    if (copied.exitCode !== 0) {
      const stderr = cleanOutput(copied.stderr, secrets);
      const why = copied.exitCode === TIMED_OUT_EXIT ? `did not finish within timeout_seconds = ${config.timeout_seconds}` : `failed: ${lastLines(stderr)}`;
      const cleanup = await removeFailedCopy(context, target, quickMs);
      return fail(`pg_basebackup of ${target.name} from ${source.name} ${why}; ${cleanup.text}`, {
        ...base,
        duration_ms: elapsed(),
        exit_code: copied.exitCode,
        stderr,
        emptied: cleanup.removed,
      });
    }
    const settings = await writeStandbySettings(context, target, upstream, config.replication_passfile, quickMs);
    copyStarted = false;
    const size = await context.shell.run(target.name, sizeArgv(target.pgdata), { timeoutMs: quickMs });
    const bytes = size.exitCode === 0 ? parseSize(size.stdout) : undefined;
    const durationMs = elapsed();
    logger.info(`cloned ${target.name} from ${source.name} in ${durationMs} ms`, { server: target.name, bytes });
    return success(
      `${target.name} cloned from ${source.name} with pg_basebackup in ${durationMs} ms${bytes === undefined ? '' : ` (${bytes} bytes)`}` +
        `${emptied ? ', old data directory emptied first' : ''}; standby of ${upstream.name} (application_name ${target.name}), not started`,
      {
        ...base,
        duration_ms: durationMs,
        ...(bytes === undefined ? {} : { bytes_copied: bytes }),
        emptied,
        primary_conninfo: settings.primary_conninfo,
      },
    );
  } catch (err) {
    const failed = failFromError(`clone of ${target.name} from ${source.name}`, base, err, elapsed(), secrets);
    if (!copyStarted) return { ...failed, emptied };
    const cleanup = await removeFailedCopy(context, target, quickMs);
    return { ...failed, details: `${failed.details}; ${cleanup.text}`, emptied: cleanup.removed };
  }
}

/** Empties the target after a failed or timed-out copy; says what happened, never throws. */
async function removeFailedCopy(context: PluginContext<CloneBasebackupConfig>, target: PgServer, timeoutMs: number): Promise<{ removed: boolean; text: string }> {
  let why: string;
  try {
    const cleared = await emptyTarget(context, target, timeoutMs);
    if (cleared.emptied) return { removed: true, text: 'the partial copy was removed' };
    why = cleared.stderr;
  } catch (err) {
    why = errorMessage(err);
  }
  return { removed: false, text: `removing the partial copy failed (${cleanOutput(why, context.secrets)}): do not start ${target.name}, reclone it` };
}
