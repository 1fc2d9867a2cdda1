import { definePlugin, pollResult, withTimeout } from '@handyrep/plugin-sdk';
import type { PluginContext, PollObservation, PollPlugin, PollResult, SqlTarget } from '@handyrep/plugin-sdk';
import { classifyPollError } from './classify-error.js';
import { configSchema } from './config.js';
import type { PollConnectConfig } from './config.js';

/** The password key the core's SQL client uses when a target names none. */
const PASSWORD_KEY = 'superuser_password';

const QUERY = 'SELECT pg_is_in_recovery() AS in_recovery';

/** Belt and braces: the core already scrubs passwords from SQL errors, but details are shown to operators. */
function withoutPassword(text: string, password: string | undefined): string {
  return password === undefined || password === '' ? text : text.split(password).join('***');
}

async function observe(context: PluginContext<PollConnectConfig>, server: string): Promise<PollObservation> {
  const timeoutMs = context.config.timeout_ms;
  const target: SqlTarget = { server, connectTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs };
  if (context.config.database !== '') target.database = context.config.database;
  try {
    // The SQL client's own timers end the connection; this deadline bounds the poll even when its clean-up lingers.
    const rows = await withTimeout(context.sql.query<{ in_recovery: unknown }>(target, QUERY), timeoutMs, `poll of ${server} got no answer within ${timeoutMs} ms (server hung or unreachable)`);
    const value = rows[0]?.in_recovery;
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
      const details = withoutPassword(`${server} (${definition.hostname}:${String(definition.port)}): ${observation.details}`, context.secrets.get(PASSWORD_KEY));
      const result = pollResult({ ...observation, details }, performance.now() - started);
      if (result.result === 'FAIL') {
        context.logger.debug(`poll ${server}: ${result.state}`, { server, state: result.state, failure: result.failure, duration_ms: result.duration_ms, details });
      }
      return result;
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
