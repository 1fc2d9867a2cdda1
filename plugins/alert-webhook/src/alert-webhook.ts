import { fail, success } from '@handyrep/plugin-sdk';
import type { Alert, AlertPlugin, PluginContext, ReturnDictionary } from '@handyrep/plugin-sdk';
import type { AlertWebhookConfig } from './config.js';
import { buildPayload } from './payload.js';
import { postJson } from './post-json.js';
import type { PostOutcome } from './post-json.js';
import { redact } from './redact.js';
import { atLeast } from './severity.js';
import { resolveTarget } from './webhook-target.js';

/** `send`'s return dictionary. */
export type WebhookSendResult = ReturnDictionary<{ sent: boolean; attempts: number; status?: number }>;

/** The `alert_webhook` instance. Throws at creation when the URL, headers or token cannot work. */
export function createAlertWebhook(context: PluginContext<AlertWebhookConfig>): AlertPlugin {
  const { config, logger, clock } = context;
  const target = resolveTarget(config, context.secrets, context.name);
  if (target.url.startsWith('http:') && config.bearer_token_key !== '') {
    logger.warn(`the bearer token is sent unencrypted to ${target.shownAs}; use https`);
  }
  const clean = (text: string): string => redact(text, target.secrets);

  return {
    async send(alert: Alert): Promise<WebhookSendResult> {
      if (!atLeast(alert.severity, config.min_severity)) {
        return success(`${alert.severity} alert ${alert.type} is below min_severity ${config.min_severity}: not sent`, { sent: false, attempts: 0 });
      }
      const body = JSON.stringify(buildPayload(alert, config.cluster_name));
      const problems: string[] = [];
      let last: PostOutcome | undefined;
      const maxAttempts = config.retries + 1;
      for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
        if (attempt > 1) await clock.sleep(config.retry_backoff_ms * 2 ** (attempt - 2));
        last = await postJson(target.url, target.headers, body, config.timeout_ms);
        const summary = clean(last.summary);
        const status = last.status === undefined ? {} : { status: last.status };
        if (last.delivered) {
          logger.info(`${alert.type} alert delivered to ${target.shownAs} (${summary}, attempt ${attempt})`, { alert: alert.type, attempt });
          return success(`${alert.type} alert delivered to ${target.shownAs}: ${summary}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, {
            sent: true,
            attempts: attempt,
            ...status,
          });
        }
        problems.push(`attempt ${attempt}: ${summary}`);
        logger.warn(`${alert.type} alert to ${target.shownAs} failed: ${summary}`, { alert: alert.type, attempt, of: maxAttempts });
        if (!last.retryable) break;
      }
      const attempts = problems.length;
      const status = last?.status === undefined ? {} : { status: last.status };
      return fail(`${alert.type} alert NOT delivered to ${target.shownAs} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${problems.join('; ')}`, {
        sent: false,
        attempts,
        ...status,
      });
    },
  };
}
