import { definePlugin, fail, success } from '@handyrep/plugin-sdk';
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

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function createPoller(context: PluginContext<PollIsreadyConfig>): PollPlugin {
  return {
    async poll(server: string): Promise<PollResult> {
      const started = performance.now();
      const definition = context.servers.get(server);
      const where = `${server} (${definition.hostname}:${String(definition.port)})`;
      const problem = targetProblem(definition.hostname, definition.port);
      // Read on every poll so a configuration reload is honoured.
      const outcome: PingOutcome =
        problem !== undefined
          ? { state: 'bad_config', details: problem }
          : await ping({
              host: definition.hostname,
              port: definition.port,
              user: context.config.user || stringSetting(context, 'postgres_superuser', 'postgres'),
              database: context.config.database || stringSetting(context, 'handyrep_db', 'postgres'),
              timeoutMs: context.config.timeout_ms,
            });
      const duration_ms = roundMs(performance.now() - started);
      const details = `${where}: ${outcome.details}`;
      if (outcome.state === 'accepting') return success(details, { state: outcome.state, duration_ms });
      context.logger.debug(`poll ${server}: ${outcome.state}`, { server, state: outcome.state, duration_ms, details });
      return fail(details, { state: outcome.state, duration_ms });
    },
  };
}

/** `poll_isready`: pg_isready's check (accepting / rejecting / no_response / bad_config) done natively, one TCP exchange per poll. */
export const plugin = definePlugin<'poll', PollIsreadyConfig>({
  kind: 'poll',
  name: 'poll_isready',
  description: 'Readiness poll with pg_isready semantics over one TCP exchange: accepting, rejecting, no_response, bad_config.',
  configSchema,
  create: createPoller,
});
