import { cleanOutput, cloneFailure, fail, isRegistryMaster, lastLines, prepareCloneTarget, removeFailedCopy, replicationTlsPairs, replicationUser, resolveCloneServers, success, writeStandbySettings } from '@handyrep/plugin-sdk';
import type { CloneOutcome, CloneRequest, CloneServers, PluginContext } from '@handyrep/plugin-sdk';
import { basebackupArgv, parseSize, sizeArgv, SSH_GRACE_MS, TIMED_OUT_EXIT, toolScript } from './commands.js';
import type { CloneBasebackupConfig } from './config.js';

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
  let servers: CloneServers;
  try {
    servers = resolveCloneServers(context, request);
  } catch (err) {
    return cloneFailure(`clone of ${base.target}`, base, err, elapsed(), secrets);
  }
  const { target, source, upstream } = servers;
  if (isRegistryMaster(context, target)) {
    return fail(`${target.name} is the master: refusing to clone over it; nothing touched`, { ...base, duration_ms: elapsed() });
  }
  let emptied = false;
  let copyStarted = false;
  try {
    const prepared = await prepareCloneTarget(context, target, request.reclone === true, quickMs, request.force === true);
    if (!prepared.ready) return fail(prepared.details, { ...base, duration_ms: elapsed(), ...prepared.fields });
    emptied = prepared.emptied;

    const password = secrets.get('replication_password');
    const script = toolScript('pg_basebackup', basebackupArgv(target, source, replicationUser(context), config, replicationTlsPairs(context.settings)), {
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
    const settings = await writeStandbySettings(context, target, upstream, config.replication_passfile, quickMs, request.slotName);
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
    const failed = cloneFailure(`clone of ${target.name} from ${source.name}`, base, err, elapsed(), secrets);
    if (!copyStarted) return { ...failed, emptied };
    const cleanup = await removeFailedCopy(context, target, quickMs);
    return { ...failed, details: `${failed.details}; ${cleanup.text}`, emptied: cleanup.removed };
  }
}
