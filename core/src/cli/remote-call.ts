import { needsPost } from '../api/api-functions.js';
import type { ApiFunction } from '../api/api-functions.js';
import type { FunctionCall } from './cli-arguments.js';
import { sendHttpRequest, TransportError } from './http-request.js';
import type { HttpRequest, HttpResponse } from './http-request.js';
import { UsageError } from './usage-error.js';

/** Where and as whom remote mode calls the daemon. */
export interface RemoteSettings {
  /** The daemon's base URL (http or https; a path prefix is kept). */
  baseUrl: URL;
  /** HTTP Basic user name (may be empty: zero_auth and password-only accounts ignore it). */
  username: string;
  /** HTTP Basic password; undefined when none was given (an empty one is sent). */
  password: string | undefined;
  /** PEM certificates of a private CA for https. */
  ca?: Buffer;
  /** --timeout in seconds; undefined means the function's default. */
  timeoutSeconds?: number;
}

/** The daemon's answer: HTTP status and the decoded JSON (a return dictionary, or data). */
export interface RemoteAnswer {
  status: number;
  value: unknown;
}

/** Functions that routinely outlast the 60 s default: copying a data directory, or a failover's several steps. */
const LONG_TIMEOUTS_S: Readonly<Record<string, number>> = {
  clone: 3600,
  rejoin: 3600,
  restart_cluster: 3600,
  manual_failover: 600,
  promote: 600,
  remaster: 600,
  restart: 600,
  shutdown: 600,
  startup: 600,
  disable: 600,
};

/** Default --timeout of remote mode, in seconds. */
export const DEFAULT_TIMEOUT_S = 60;

/** The timeout (seconds) a remote call of `fn` gets when --timeout is not given. */
export function defaultTimeoutSeconds(fn: ApiFunction): number {
  return LONG_TIMEOUTS_S[fn.spec] ?? DEFAULT_TIMEOUT_S;
}

/** `<base>/<spec name>`, keeping a path prefix of the base URL (a reverse proxy's, say). */
export function functionUrl(base: URL, spec: string): URL {
  const url = new URL(base.href);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${spec}`;
  url.search = '';
  url.hash = '';
  return url;
}

function basicAuthorization(username: string, password: string | undefined): string {
  return `Basic ${Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64')}`;
}

/**
 * The request for one call: plain reads by GET with a query string, actions
 * and reads that check servers by POST with a JSON body, as the web API wants
 * them; always HTTP Basic, since the daemon asks for credentials even under zero_auth.
 */
export function buildHttpRequest(settings: RemoteSettings, call: FunctionCall): HttpRequest {
  if (!call.fn.web) {
    throw new UsageError(`${call.fn.spec} is library only: the web API does not offer it`);
  }
  const url = functionUrl(settings.baseUrl, call.fn.spec);
  const headers: Record<string, string> = { accept: 'application/json', authorization: basicAuthorization(settings.username, settings.password) };
  const timeoutMs = (settings.timeoutSeconds ?? defaultTimeoutSeconds(call.fn)) * 1000;
  const common = { headers, timeoutMs, ...(settings.ca ? { ca: settings.ca } : {}) };
  if (!needsPost(call.fn, call.args)) {
    for (const [name, value] of Object.entries(call.args)) url.searchParams.set(name, String(value));
    return { url, method: 'GET', ...common };
  }
  headers['content-type'] = 'application/json';
  return { url, method: 'POST', body: JSON.stringify(call.args), ...common };
}

/** Decodes the daemon's JSON answer; anything else (a proxy's HTML error page, say) is a TransportError. */
export function decodeAnswer(url: URL, response: HttpResponse): RemoteAnswer {
  try {
    return { status: response.status, value: JSON.parse(response.body) as unknown };
  } catch {
    const snippet = response.body.slice(0, 200).replace(/\s+/g, ' ').trim();
    throw new TransportError(`HTTP ${response.status} from ${url.href} is not a HandyRep answer (not JSON): ${snippet || '(empty)'}`, 'error');
  }
}

/** Calls one function on the daemon. */
export async function callRemote(
  settings: RemoteSettings,
  call: FunctionCall,
  send: (request: HttpRequest) => Promise<HttpResponse> = sendHttpRequest,
): Promise<RemoteAnswer> {
  const request = buildHttpRequest(settings, call);
  return decodeAnswer(request.url, await send(request));
}
