import { confirmLeftRecovery, errorCodeOf, errorMessage, fail, sessionInRecovery, success } from '@handyrep/plugin-sdk';
import type { PluginContext, PromotionPlugin, ReturnDictionary, SqlTarget } from '@handyrep/plugin-sdk';
import type { PromoteSqlConfig } from './config.js';

/** What promote_sql returns besides `result` and `details`. */
export interface PromoteSqlFields {
  /** Whether pg_promote() may have reached the server: false = not sent, null = sent but its answer was lost. */
  promote_sent: boolean | null;
  /** True when the server was already out of recovery, so pg_promote() was not called. */
  already_master: boolean;
  /** What pg_promote() returned (false: not promoted within wait_seconds), or null when it gave no answer. */
  pg_promote: boolean | null;
  /** Coded error behind a FAIL, when there was one (e.g. HR_TIMEOUT, HR_SQL). */
  error_code: string | null;
  /** Wall time of the whole call. */
  duration_ms: number;
}

/** promote_sql's return dictionary. */
export type PromoteSqlResult = ReturnDictionary<PromoteSqlFields>;

/** How the promote session ended. */
type SessionOutcome = { kind: 'already_master' } | { kind: 'answered'; promoted: boolean };

/**
 * The promote_sql promotion plugin: in one session, checks the server is in
 * recovery and calls `pg_promote(wait => true, wait_seconds => N)`; then
 * confirms with fresh connections that it left recovery. No SSH.
 */
export class SqlPromotion implements PromotionPlugin {
  constructor(private readonly context: PluginContext<PromoteSqlConfig>) {}

  /** Promotes `server`; see the README for every outcome. */
  async promote(server: string): Promise<PromoteSqlResult> {
    const { config, clock, logger } = this.context;
    const started = clock.now();
    const fields = (over: Partial<PromoteSqlFields>): PromoteSqlFields => ({
      promote_sent: false,
      already_master: false,
      pg_promote: null,
      error_code: null,
      ...over,
      duration_ms: clock.now() - started,
    });
    const quickMs = config.command_timeout_seconds * 1000;

    let sent = false;
    let outcome: SessionOutcome;
    try {
      outcome = await this.context.sql.withSession(
        { server, connectTimeoutMs: quickMs, statementTimeoutMs: (config.wait_seconds + config.command_timeout_seconds) * 1000 },
        async (session) => {
          if (!(await sessionInRecovery(session, server))) return { kind: 'already_master' } as const;
          sent = true;
          const rows = await session.query<{ promoted: unknown }>('SELECT pg_promote(wait => true, wait_seconds => $1::integer) AS promoted', [
            config.wait_seconds,
          ]);
          return { kind: 'answered', promoted: rows[0]?.promoted === true } as const;
        },
      );
    } catch (err) {
      if (!sent) {
        return fail(`promote ${server}: cannot check that it is in recovery (${errorMessage(err)}); nothing done`, fields({ error_code: errorCodeOf(err) }));
      }
      // The request may have been carried out even though its answer was lost; only a look at the server can tell.
      logger.warn(`pg_promote() on ${server} gave no answer`, { server, error: errorMessage(err) });
      const said = `pg_promote() gave no answer (${errorMessage(err)})`;
      return this.afterRequest(server, started, fields, null, said, errorCodeOf(err), config.confirm_seconds * 1000);
    }

    if (outcome.kind === 'already_master') {
      logger.info(`${server} is already out of recovery; not promoting`, { server });
      return success(`${server} is not in recovery (already a master); nothing done`, fields({ already_master: true }));
    }
    if (!outcome.promoted) {
      // PostgreSQL keeps promoting after pg_promote() gave up waiting: one look, and the FAIL says the request was sent.
      return this.afterRequest(server, started, fields, false, `pg_promote() returned false: not promoted within ${config.wait_seconds} s`, null, 0);
    }
    return this.afterRequest(server, started, fields, true, 'pg_promote() returned true', null, config.confirm_seconds * 1000);
  }

  private async afterRequest(
    server: string,
    started: number,
    fields: (over: Partial<PromoteSqlFields>) => PromoteSqlFields,
    answer: boolean | null,
    said: string,
    errorCode: string | null,
    confirmMs: number,
  ): Promise<PromoteSqlResult> {
    const { config, clock, logger } = this.context;
    const checkMs = config.command_timeout_seconds * 1000;
    const check: SqlTarget = { server, connectTimeoutMs: checkMs, statementTimeoutMs: checkMs };
    const confirmation = await confirmLeftRecovery(this.context.sql, check, { clock, logger, confirmMs, intervalMs: config.confirm_interval_ms });
    const sent = answer === null ? null : true;
    if (confirmation.confirmed) {
      const took = clock.now() - started;
      logger.info(`promoted ${server}`, { server, durationMs: took, checks: confirmation.checks });
      const note = answer === true ? '' : ` (${said})`;
      return success(`${server} promoted in ${took} ms, confirmed out of recovery${note}`, fields({ promote_sent: true, pg_promote: answer }));
    }
    logger.error(`promotion of ${server} not confirmed`, { server, said, last: confirmation.last });
    const tail = answer === null ? '; the promotion may or may not have happened — check the server before promoting another' : '';
    return fail(`promote ${server}: ${said}; not confirmed out of recovery (${confirmation.last})${tail}`, fields({ promote_sent: sent, pg_promote: answer, error_code: errorCode }));
  }
}
