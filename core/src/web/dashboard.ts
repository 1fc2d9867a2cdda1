import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Authorizer } from './authorizer.js';

const ASSETS = new URL('../../web-assets/', import.meta.url);

/**
 * What the page may do: its own script and style files (no inline script or
 * style at all, so injected markup can run nothing), calls to its own origin,
 * nothing from elsewhere; no framing (its action buttons must not be clickjacked).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The dashboard's files: path, file under web-assets, content type. */
const FILES: readonly (readonly [string, string, string])[] = [
  ['/', 'dashboard.html', 'text/html; charset=utf-8'],
  ['/dashboard.js', 'dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard.css', 'dashboard.css', 'text/css; charset=utf-8'],
];

function withSecurityHeaders(reply: FastifyReply, contentType: string): FastifyReply {
  return reply
    .header('content-type', contentType)
    .header('cache-control', 'no-store')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/** The status dashboard at `/` with its script and styles (read access; it calls the API with the same credentials). */
export function registerDashboard(app: FastifyInstance, authorizer: Authorizer): void {
  for (const [path, file, contentType] of FILES) {
    app.get(path, { schema: { hide: true }, onRequest: (request, reply) => authorizer.authorize(request, reply, 'read') }, async (_request, reply) =>
      withSecurityHeaders(reply, contentType).send(await readFile(new URL(file, ASSETS), 'utf8')),
    );
  }
}
