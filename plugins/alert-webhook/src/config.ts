import type { AlertSeverity, ObjectSchema } from '@handyrep/plugin-sdk';
import { minSeveritySchema } from './severity.js';

/** The `[plugins.alert_webhook]` section, defaults applied. */
export interface AlertWebhookConfig {
  /** Where alerts are POSTed; empty when `url_key` is used. */
  url: string;
  /** `[passwords]` key holding the URL, for webhooks whose URL is itself the secret. */
  url_key: string;
  /** Sent as `cluster_name` in every payload. */
  cluster_name: string;
  /** Extra request headers. */
  headers: Record<string, string>;
  /** `[passwords]` key of a bearer token sent as `Authorization: Bearer ...`; empty: none. */
  bearer_token_key: string;
  /** Milliseconds one attempt may take, answer body included. */
  timeout_ms: number;
  /** Further attempts after a failed one that may succeed on retry. */
  retries: number;
  /** Wait before the first retry; doubled before each further one. */
  retry_backoff_ms: number;
  /** Alerts below this severity are not sent. */
  min_severity: AlertSeverity;
}

/** JSON Schema of `[plugins.alert_webhook]`. */
export const alertWebhookConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Alerts POSTed as JSON to a webhook; any 2xx answer means delivered.',
  properties: {
    url: {
      type: 'string',
      default: '',
      pattern: '^(https?://.+)?$',
      description: 'http(s) URL alerts are POSTed to. Set this or url_key, not both.',
    },
    url_key: {
      type: 'string',
      default: '',
      description: 'Key in [passwords] holding the URL instead, for webhooks whose URL is the secret (chat incoming webhooks).',
    },
    cluster_name: {
      type: 'string',
      default: '',
      description: 'Name of the cluster, sent as `cluster_name` so one receiver can tell several clusters apart.',
    },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      default: {},
      description: 'Extra request headers (INI: a [plugins.alert_webhook.headers] section). Not for secrets: use bearer_token_key.',
    },
    bearer_token_key: {
      type: 'string',
      default: '',
      description: 'Key in [passwords] holding a token sent as `Authorization: Bearer <token>`. Empty: no Authorization header.',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 100,
      default: 5_000,
      description: 'Milliseconds one attempt may take (connect, request and answer); then it is aborted.',
    },
    retries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: 2,
      description: 'Further attempts after a time-out, a connection error or an HTTP 408, 429 or 5xx answer. Other answers are not retried.',
    },
    retry_backoff_ms: {
      type: 'integer',
      minimum: 0,
      default: 1_000,
      description: 'Milliseconds waited before the first retry; doubled before each further one.',
    },
    min_severity: minSeveritySchema('Least severe alert sent: info, warning or critical.'),
  },
  additionalProperties: false,
};
