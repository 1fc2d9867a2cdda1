import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { Secrets } from '@handyrep/plugin-sdk';
import type { AlertWebhookConfig } from './config.js';

/** Where and how alerts are POSTed, resolved once at start. */
export interface WebhookTarget {
  /** The full URL. */
  url: string;
  /** The URL as it may appear in logs and details (no query; only the origin when the URL is a secret). */
  shownAs: string;
  /** Request headers, Authorization included. */
  headers: Headers;
  /** Values that must never appear in logs or details. */
  secrets: string[];
}

/**
 * Resolves the URL, headers and token. Throws PLUGIN_CONFIG_INVALID or
 * SECRET_MISSING so a webhook that could never work stops HandyRep at start
 * rather than failing during the first failover.
 */
export function resolveTarget(config: AlertWebhookConfig, secrets: Secrets, pluginName: string): WebhookTarget {
  const section = `[plugins.${pluginName}]`;
  if ((config.url === '') === (config.url_key === '')) {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section}: set exactly one of url and url_key`);
  }
  const urlIsSecret = config.url_key !== '';
  const url = urlIsSecret ? secrets.require(config.url_key) : config.url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section}: ${urlIsSecret ? `[passwords] ${config.url_key}` : 'url'} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section}: the webhook URL must be http or https, not ${parsed.protocol}`);
  }
  const hidden: string[] = urlIsSecret ? [url, parsed.pathname + parsed.search].filter((part) => part.length > 1) : [];
  let headers: Headers;
  try {
    headers = new Headers(config.headers);
  } catch (err) {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section} headers: ${(err as Error).message}`);
  }
  headers.set('content-type', 'application/json');
  if (!headers.has('user-agent')) headers.set('user-agent', 'HandyRep alert_webhook');
  if (config.bearer_token_key !== '') {
    const token = secrets.require(config.bearer_token_key);
    if (token === '') {
      throw new HandyRepError(ErrorCodes.SECRET_MISSING, `${section}: [passwords] ${config.bearer_token_key} (bearer_token_key) is empty`);
    }
    headers.set('authorization', `Bearer ${token}`);
    hidden.push(token);
  }
  const shownAs = urlIsSecret ? `${parsed.origin}/…` : `${parsed.origin}${parsed.pathname}`;
  return { url, shownAs, headers, secrets: hidden };
}
