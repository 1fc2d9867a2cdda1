import { confirmLeftRecovery, errorCodeOf, ErrorCodes, errorMessage, fail, queryInRecovery, success } from '@handyrep/plugin-sdk';
import type { CommandResult, PluginContext, PromotionPlugin, ReturnDictionary, SqlTarget } from '@handyrep/plugin-sdk';
import type { PromotePgCtlConfig } from './config.js';
import { promoteArgv } from './pg-ctl-promote-command.js';

/** What promote_pg_ctl returns besides `result` and `details`. */
export interface PromoteFields {
  /** Whether the promote request may have reached the server: false = nothing was run, null = unknown (SSH failed mid-command). */
  promote_sent: boolean | null;
  /** True when the server was already out of recovery, so nothing was run. */
  already_master: boolean;
  /** Exit code of pg_ctl promote, when it ran. */
  exit_code: number | null;
  /** Its standard error, trimmed. */
  stderr: string;
  /** Coded error behind a FAIL, when there was one (e.g. HR_TIMEOUT, HR_SSH_CONNECT, HR_BAD_ARGUMENT). */
  error_code: string | null;
  /** Wall time of the whole call. */
  duration_ms: number;
}

/** promote_pg_ctl's return dictionary. */
export type PromoteResult = ReturnDictionary<PromoteFields>;

/** Error codes that mean the SSH command was never started. */
const NEVER_STARTED = new Set<string>([ErrorCodes.SSH_CONNECT, ErrorCodes.SSH_HOST_KEY]);

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() !== '');
  return lines[lines.length - 1]?.trim() ?? '';
}

/**
 * The promote_pg_ctl promotion plugin: checks over SQL that the server is a
 * replica, runs `pg_ctl promote -w` over SSH, then confirms over SQL that the
 * server left recovery. SUCCESS means pg_is_in_recovery() said false.
 */
export class PgCtlPromotion implements PromotionPlugin {
  constructor(private readonly context: PluginContext<PromotePgCtlConfig>) {}

  /** Promotes `server`; see the README for every outcome. */
  async promote(server: string): Promise<PromoteResult> {
    const { config, clock, logger } = this.context;
    const started = clock.now();
    const fields = (over: Partial<PromoteFields>): PromoteFields => ({
      promote_sent: false,
      already_master: false,
      exit_code: null,
      stderr: '',
      error_code: null,
      ...over,
      duration_ms: clock.now() - started,
    });
    const checkMs = config.command_timeout_seconds * 1000;
    const check: SqlTarget = { server, connectTimeoutMs: checkMs, statementTimeoutMs: checkMs };

    let argv: string[];
    try {
      argv = promoteArgv(this.context.servers.get(server), config.wait_seconds);
    } catch (err) {
      return fail(`promote ${server}: ${errorMessage(err)}; nothing done`, fields({ error_code: errorCodeOf(err) }));
    }

    // Without SQL the outcome could not be confirmed; a promotion HandyRep cannot confirm is worse than none.
    try {
      if (!(await queryInRecovery(this.context.sql, check))) {
        logger.info(`${server} is already out of recovery; not promoting`, { server });
        return success(`${server} is not in recovery (already a master); nothing done`, fields({ already_master: true }));
      }
    } catch (err) {
      return fail(`promote ${server}: cannot check that it is in recovery (${errorMessage(err)}); nothing done`, fields({ error_code: errorCodeOf(err) }));
    }

    let result: CommandResult;
    try {
      result = await this.context.shell.run(server, argv, { timeoutMs: (config.wait_seconds + config.command_timeout_seconds) * 1000 });
    } catch (err) {
      logger.error(`pg_ctl promote on ${server} did not complete`, { server, error: errorMessage(err) });
      return fail(
        `pg_ctl promote on ${server} did not complete (${errorMessage(err)}); the promotion may or may not have happened — check the server before promoting another`,
        // A connection that was never made (or a refused host key) ran nothing; anything else may have run pg_ctl.
        fields({ promote_sent: NEVER_STARTED.has(errorCodeOf(err) ?? '') ? false : null, error_code: errorCodeOf(err) }),
      );
    }
    const stderr = result.stderr.trim();
    const ran = { promote_sent: true, exit_code: result.exitCode, stderr };

    // A failed pg_ctl gets one look only (it may have failed because the server just left recovery); success gets the full wait.
    const confirmMs = result.exitCode === 0 ? config.confirm_seconds * 1000 : 0;
    const confirmation = await confirmLeftRecovery(this.context.sql, check, { clock, logger, confirmMs, intervalMs: config.confirm_interval_ms });
    const said = lastLine(stderr) || lastLine(result.stdout);
    if (confirmation.confirmed) {
      const took = clock.now() - started;
      logger.info(`promoted ${server}`, { server, durationMs: took, checks: confirmation.checks });
      const note = result.exitCode === 0 ? '' : ` (pg_ctl promote exited ${String(result.exitCode)}: ${said})`;
      return success(`${server} promoted in ${took} ms, confirmed out of recovery${note}`, fields(ran));
    }
    logger.error(`promotion of ${server} not confirmed`, { server, exitCode: result.exitCode, last: confirmation.last });
    if (result.exitCode !== 0) {
      return fail(`pg_ctl promote on ${server} failed (exit ${String(result.exitCode)}): ${said}; ${confirmation.last}`, fields(ran));
    }
    return fail(
      `pg_ctl promote on ${server} reported success, but the server was not confirmed out of recovery within ${config.confirm_seconds} s (${confirmation.last})`,
      fields(ran),
    );
  }
}
