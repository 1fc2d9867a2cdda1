import { ErrorCodes, errorMessage, fail, hasErrorCode, success } from '@handyrep/plugin-sdk';
import type { CommandResult, FenceResult, FencingPlugin, PluginContext } from '@handyrep/plugin-sdk';
import type { FenceCommandConfig } from './config.js';
import { outputExcerpt } from './output-excerpt.js';

/** The `fence_command` instance: the configured command's exit status is the fencing verdict. */
export function createFenceCommand(context: PluginContext<FenceCommandConfig>): FencingPlugin {
  const { config, logger } = context;
  const { command, args, timeout_ms: timeoutMs } = config;

  return {
    async fence(server: string): Promise<FenceResult> {
      // An unknown name is the caller's mistake, not a fencing outcome: let UnknownServerError through.
      const { hostname } = context.servers.get(server);
      // runLocal uses no shell, so each element arrives as exactly one argument, whatever it contains.
      const argv = [command, ...args, server, hostname];
      logger.info(`fencing ${server} with ${command}`, { server, hostname });
      let outcome: CommandResult;
      try {
        outcome = await context.shell.runLocal(argv, { timeoutMs });
      } catch (err) {
        const why = hasErrorCode(err, ErrorCodes.TIMEOUT)
          ? `gave no answer within ${timeoutMs} ms and was killed`
          : `could not be run: ${errorMessage(err)}`;
        logger.error(`fence command for ${server} ${why}`, { server });
        return fail(`${server} NOT fenced: fence command ${command} ${why}`, { fenced: false });
      }
      const stdout = outputExcerpt(outcome.stdout);
      const stderr = outputExcerpt(outcome.stderr);
      if (outcome.exitCode === 0) {
        logger.info(`fenced ${server} in ${outcome.durationMs} ms`, { server, duration_ms: outcome.durationMs });
        return success(`${server} fenced: ${command} exited 0 in ${outcome.durationMs} ms${stdout ? `: ${stdout}` : ''}`, {
          fenced: true,
          duration_ms: outcome.durationMs,
        });
      }
      const status = outcome.exitCode === null ? 'was ended by a signal' : `exited with code ${outcome.exitCode}`;
      logger.error(`fence command for ${server} ${status}`, { server, exit_code: outcome.exitCode, stderr });
      return fail(`${server} NOT fenced: ${command} ${status} after ${outcome.durationMs} ms${stderr ? `: ${stderr}` : ' (no stderr)'}`, {
        fenced: false,
        exit_code: outcome.exitCode,
        stderr,
        duration_ms: outcome.durationMs,
      });
    },
  };
}
