import { definePlugin, fail, success } from '@handyrep/plugin-sdk';
import type { PluginContext, PollPlugin, PollResult, PollState, SqlTarget } from '@handyrep/plugin-sdk';
import { classifyPollError } from './classify-error.js';
import { configSchema } from './config.js';
import type { PollConnectConfig } from './config.js';
import { withDeadline } from './deadline.js';

/** The password key the core's SQL client uses when a target names none. */
const PASSWORD_KEY = 'superuser_password';

const QUERY = 'SELECT pg_is_in_recovery() AS in_recovery';

interface Observation {
  state: PollState;
  details: string;
  inRecovery?: boolean;
}

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Belt and braces: the core already scrubs passwords from SQL errors, but details are shown to operators. */
function withoutPassword(text: string, password: string | undefined): string {
  return password === undefined || password === '' ? text : text.split(password).join('***');
}

async function observe(context: PluginContext<PollConnectConfig>, server: string): Promise<Observation> {
  const timeoutMs = context.config.timeout_ms;
  const target: SqlTarget = { server, connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs };
  if (context.config.database !== '') target.database = context.config.database;
  try {
    // The SQL client's own timers end the connection; this deadline bounds the poll even when its clean-up lingers.
    const outcome = await withDeadline(context.sql.query<{ in_recovery: unknown }>(target, QUERY), timeoutMs);
    if (!outcome.finished) return { state: 'no_response', details: `no answer within ${timeoutMs} ms (server hung or unreachable)` };
    const value = outcome.value[0]?.in_recovery;
    if (typeof value !== 'boolean') return { state: 'accepting', details: `accepting connections, but pg_is_in_recovery() returned ${JSON.stringify(value)}` };
    return { state: 'accepting', details: `accepting connections, ${value ? 'in recovery (standby)' : 'not in recovery'}`, inRecovery: value };
  } catch (err) {
    return classifyPollError(err);
  }
}

function createPoller(context: PluginContext<PollConnectConfig>): PollPlugin {
  return {
    async poll(server: string): Promise<PollResult> {
      const started = performance.now();
      const definition = context.servers.get(server);
      const observation = await observe(context, server);
      const duration_ms = roundMs(performance.now() - started);
      const details = withoutPassword(`${server} (${definition.hostname}:${String(definition.port)}): ${observation.details}`, context.secrets.get(PASSWORD_KEY));
      if (observation.state === 'accepting') {
        return success(details, observation.inRecovery === undefined ? { state: observation.state, duration_ms } : { state: observation.state, in_recovery: observation.inRecovery, duration_ms });
      }
      context.logger.debug(`poll ${server}: ${observation.state}`, { server, state: observation.state, duration_ms, details });
      return fail(details, { state: observation.state, duration_ms });
    },
  };
}

/** `poll_connect`: connects as the HandyRep superuser and asks `pg_is_in_recovery()`, within one time-out. */
export const plugin = definePlugin<'poll', PollConnectConfig>({
  kind: 'poll',
  name: 'poll_connect',
  description: 'Poll by a real SQL connection and `SELECT pg_is_in_recovery()`, reporting in_recovery.',
  configSchema,
  create: createPoller,
});
