import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthAnswer, HealthCheck } from '../status/load-balancer-health.js';

/** A request for a health endpoint: the check it asks for, or why it is malformed (400). */
export type HealthRequest = { check: HealthCheck } | { invalid: string };

const MASTER = '/health/master';
const REPLICA = '/health/replica/';
/** A lag bound in MB: digits, optionally with decimals; no sign, exponent or spaces. */
const LAG_MB = /^\d+(\.\d+)?$/;

function serverName(encoded: string): string | undefined {
  if (encoded === '' || encoded.includes('/')) return undefined;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/**
 * Reads `/health/master`, `/health/master/<name>` and
 * `/health/replica/<name>?max_lag_mb=N` from a request URL; undefined for any
 * other path, which is not a health endpoint at all.
 */
export function parseHealthRequest(url: string): HealthRequest | undefined {
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
  if (path === MASTER || path.startsWith(`${MASTER}/`)) {
    if ([...query.keys()].length > 0) return { invalid: 'the master check takes no parameters' };
    if (path === MASTER) return { check: { role: 'master' } };
    const server = serverName(path.slice(MASTER.length + 1));
    return server === undefined ? { invalid: 'bad server name' } : { check: { role: 'master', server } };
  }
  if (!path.startsWith(REPLICA)) return undefined;
  const server = serverName(path.slice(REPLICA.length));
  if (server === undefined) return { invalid: 'bad server name' };
  const keys = [...query.keys()];
  if (keys.some((key) => key !== 'max_lag_mb') || keys.length > 1) return { invalid: 'the replica check takes one parameter, max_lag_mb' };
  const bound = query.get('max_lag_mb');
  if (bound === null) return { check: { role: 'replica', server } };
  if (!LAG_MB.test(bound)) return { invalid: 'max_lag_mb must be a number of MB (0 or more)' };
  return { check: { role: 'replica', server, maxLagMb: Number(bound) } };
}

function answer(request: IncomingMessage, response: ServerResponse, status: number, word: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(word), 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : word);
}

/** What the health endpoints ask HandyRep: whether they are on, and a check's answer from the cached status. */
export interface HealthSource {
  healthEndpointsEnabled(): boolean;
  loadBalancerHealth(check: HealthCheck): HealthAnswer;
}

/**
 * The load balancers' health endpoints, answered below the web framework
 * (GET and HEAD): one word, no authentication, and no Host or Origin check,
 * because they change nothing and tell no more than a role, and balancers
 * send an address or no Host at all (docs/web-api.md). Returns false, so the
 * framework answers (404 for an unknown route), for any other request and
 * while `[handyrep] health_endpoints` is off.
 */
export function healthEndpoints(source: HealthSource): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const url = request.url ?? '';
    if (!url.startsWith('/health/')) return false;
    const parsed = parseHealthRequest(url);
    if (parsed === undefined || !source.healthEndpointsEnabled()) return false;
    if ('invalid' in parsed) {
      answer(request, response, 400, 'invalid');
      return true;
    }
    let result: HealthAnswer;
    try {
      result = source.loadBalancerHealth(parsed.check);
    } catch {
      // Thrown here, below the framework, it would end the daemon; a check that cannot be answered is a failed one.
      result = { status: 503, word: 'unavailable' };
    }
    answer(request, response, result.status, result.word);
    return true;
  };
}
