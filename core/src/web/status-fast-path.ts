import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HandyRep } from '../handyrep.js';
import type { Authorizer } from './authorizer.js';
import { basicCredentials } from './basic-credentials.js';
import { normalHost } from './request-guard.js';
import type { LoginLimiter } from './request-guard.js';

/** What the fast path needs to decide as the full request path would. */
export interface StatusFastPathOptions {
  /** Host names the API answers to (see allowedHosts). */
  hosts: ReadonlySet<string>;
  /** `http` or `https`, for the origin check. */
  scheme: 'http' | 'https';
  authorizer: Authorizer;
  limiter: LoginLimiter;
}

/**
 * `GET /get_status` (no arguments) answered below the web framework from
 * HandyRep's cached status bytes, for the common case only: an allowed Host,
 * no foreign Origin, an address that is not locked out and credentials the
 * authorizer already accepted moments ago. Anything else returns false and
 * takes the full path (request guard, authentication plugin, lock-out
 * counting, error answers), so every refusal is decided there.
 */
export function statusFastPath(hr: HandyRep, options: StatusFastPathOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    if (request.method !== 'GET' || request.url !== '/get_status') return false;
    const hostHeader = request.headers.host ?? '';
    if (!options.hosts.has(normalHost(hostHeader))) return false;
    const origin = request.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `${options.scheme}://${hostHeader.toLowerCase()}`) return false;
    if (options.limiter.lockedFor(request.socket.remoteAddress ?? '') > 0) return false;
    const credentials = basicCredentials(request.headers.authorization);
    if (!credentials || options.authorizer.cachedAccess(credentials, request.socket.localAddress ?? '') === undefined) return false;
    hr.getStatusJson().then(
      (bytes) => {
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
        response.end(bytes);
      },
      () => {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify({ result: 'FAIL', details: 'internal error; see the HandyRep log' }));
      },
    );
    return true;
  };
}
