import { definePlugin, pgTlsFromSettings, pollResult } from '@handyrep/plugin-sdk';
import type { PluginContext, PollPlugin, PollResult } from '@handyrep/plugin-sdk';
import { configSchema } from './config.js';
import type { PollIsreadyConfig } from './config.js';
import { ping } from './ping.js';
import type { PingOutcome } from './ping.js';
import { targetProblem } from './target-problem.js';

/** A core setting that should be a non-empty string, or the fallback. */
function stringSetting(context: PluginContext<PollIsreadyConfig>, key: string, fallback: string): string {
  const value = context.settings.get('handyrep', key);
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function createPoller(context: PluginContext<PollIsreadyConfig>): PollPlugin {
  // Read once: a reload_conf creates the plugin again.
  const tls = pgTlsFromSettings(context.settings);
  return {
    async poll(server: string): Promise<PollResult> {
      const started = performance.now();
      const definition = context.servers.get(server);
      const where = `${server} (${definition.hostname}:${String(definition.port)})`;
      const problem = targetProblem(definition.hostname, definition.port);
      // Read on every poll so a configuration reload is honoured.
      const outcome: PingOutcome =
        problem !== undefined
          ? { state: 'bad_config', details: problem, failure: 'error' }
          : await ping({
              host: definition.hostname,
              port: definition.port,
              user: context.config.user || stringSetting(context, 'postgres_superuser', 'postgres'),
              database: context.config.database || stringSetting(context, 'handyrep_db', 'postgres'),
              timeoutMs: context.config.timeout_ms,
              ...(tls ? { tls } : {}),
            });
      const result = pollResult({ ...outcome, details: `${where}: ${outcome.details}` }, performance.now() - started);
      if (result.result === 'FAIL') {
        context.logger.debug(`poll ${server}: ${result.state}`, { server, state: result.state, failure: result.failure, duration_ms: result.duration_ms, details: result.details });
      }
      return result;
    },
  };
}

/** `poll_isready`: pg_isready's check (accepting / rejecting / no_response / bad_config) done natively, one TCP exchange per poll (over TLS as pg_sslmode says). */
export const plugin = definePlugin<'poll', PollIsreadyConfig>({
  kind: 'poll',
  name: 'poll_isready',
  description: 'Readiness poll with pg_isready semantics over one TCP exchange: accepting, rejecting, no_response, bad_config.',
  configSchema,
  create: createPoller,
});
