import { BadArgumentError, cleanOutput, cloneFailure, errorMessage, fail, lastLines, pgServer, probeDataDirectory, success, writeStandbySettings } from '@handyrep/plugin-sdk';
import type { CloneOutcome, PluginContext, RewindRequest } from '@handyrep/plugin-sdk';
import { parseRewindCopied, rewindArgv, SSH_GRACE_MS, TIMED_OUT_EXIT, toolScript } from './commands.js';
import type { CloneBasebackupConfig } from './config.js';

/**
 * clone_basebackup's rewind: resynchronises a stopped former master with the
 * current master using pg_rewind (run on the target, connecting to the
 * source as the superuser, after a CHECKPOINT there), then writes the standby settings so it can start
 * as the source's replica. Refuses the enabled master and a running server.
 * When pg_rewind fails, nothing is written and the FAIL carries its message:
 * the target must then be recloned, never started as a standby.
 */
export async function rewindWithPgRewind(context: PluginContext<CloneBasebackupConfig>, request: RewindRequest): Promise<CloneOutcome> {
  const { config, clock, logger, secrets } = context;
  const started = clock.now();
  const elapsed = (): number => clock.now() - started;
  const base = { target: String(request.target), source: String(request.source) };
  const quickMs = config.command_timeout_seconds * 1000;
  try {
    for (const key of ['target', 'source'] as const) {
      if (typeof request[key] !== 'string' || request[key] === '') throw new BadArgumentError(`rewind: '${key}' must be a server name`);
    }
    const target = pgServer(context.servers.get(request.target));
    const source = pgServer(context.servers.get(request.source));
    if (target.name === source.name) throw new BadArgumentError(`${target.name} cannot be rewound onto itself`);
    if (context.servers.master()?.name === target.name) {
      return fail(`${target.name} is the enabled master: refusing to rewind it; nothing touched`, { ...base, duration_ms: elapsed() });
    }
    const state = await probeDataDirectory(context, target, quickMs);
    if (state.postmasterPid !== undefined) {
      return fail(`PostgreSQL is running on ${target.name} (postmaster PID ${state.postmasterPid}); stop it before a rewind: nothing touched`, {
        ...base,
        duration_ms: elapsed(),
      });
    }
    if (state.directory !== 'nonempty' || state.pgVersion === undefined) {
      return fail(`${target.pgdata} on ${target.name} holds no PostgreSQL data directory to rewind (${state.directory}); clone it instead`, {
        ...base,
        duration_ms: elapsed(),
      });
    }

    // A freshly promoted master updates the timeline in pg_control only at its next checkpoint; until then
    // pg_rewind reads the old timeline there and wrongly reports "no rewind required" (see the pg_rewind docs).
    try {
      await context.sql.query({ server: source.name, statementTimeoutMs: config.rewind_timeout_seconds * 1000 }, 'CHECKPOINT');
    } catch (err) {
      return fail(`CHECKPOINT on ${source.name} before pg_rewind failed: ${cleanOutput(errorMessage(err), secrets)}; nothing touched`, {
        ...base,
        duration_ms: elapsed(),
        error_code: codeOf(err),
      });
    }
    const password = secrets.get('superuser_password');
    const conninfo = context.sql.conninfo({ server: source.name });
    const script = toolScript('pg_rewind', rewindArgv(target, conninfo, config), {
      hasPassword: password !== undefined,
      timeoutSeconds: config.rewind_timeout_seconds,
      connectTimeoutSeconds: Math.min(30, config.command_timeout_seconds),
    });
    logger.info(`rewinding ${target.name} to follow ${source.name} with pg_rewind`, { server: target.name, source: source.name });
    const rewound = await context.shell.runScript(target.name, script, {
      input: password ?? '',
      timeoutMs: config.rewind_timeout_seconds * 1000 + SSH_GRACE_MS,
    });
    const output = `${rewound.stdout}\n${rewound.stderr}`;
    const messages = cleanOutput(rewindMessages(output), secrets);
    if (rewound.exitCode !== 0) {
      const why =
        rewound.exitCode === TIMED_OUT_EXIT ? `did not finish within rewind_timeout_seconds = ${config.rewind_timeout_seconds}` : `failed: ${lastLines(messages)}`;
      return fail(`pg_rewind of ${target.name} from ${source.name} ${why}; do not start ${target.name} as a standby: reclone it`, {
        ...base,
        duration_ms: elapsed(),
        exit_code: rewound.exitCode,
        stderr: messages,
      });
    }
    const noop = /no rewind required/.test(messages);
    const settings = await writeStandbySettings(context, target, source, config.replication_passfile, quickMs, request.slotName);
    const bytes = noop ? 0 : parseRewindCopied(output);
    const durationMs = elapsed();
    logger.info(`rewound ${target.name} onto ${source.name} in ${durationMs} ms`, { server: target.name, bytes });
    return success(
      `${target.name} ${noop ? 'needed no rewind' : `rewound with pg_rewind in ${durationMs} ms`}${bytes === undefined || noop ? '' : ` (${bytes} bytes copied)`}; ` +
        `standby of ${source.name} (application_name ${target.name}), not started`,
      {
        ...base,
        duration_ms: durationMs,
        ...(bytes === undefined ? {} : { bytes_copied: bytes }),
        primary_conninfo: settings.primary_conninfo,
      },
    );
  } catch (err) {
    return cloneFailure(`rewind of ${base.target} from ${base.source}`, base, err, elapsed(), secrets);
  }
}

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/** pg_rewind's own messages without its progress lines, where the reason of a failure is. */
function rewindMessages(output: string): string {
  return output
    .split(/[\r\n]+/)
    .filter((line) => !/kB \(\d+%\) copied/.test(line))
    .join('\n');
}
