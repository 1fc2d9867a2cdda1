import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Authorizer } from './authorizer.js';

const DASHBOARD = new URL('../../web-assets/dashboard.html', import.meta.url);

/**
 * What the page may do: its own inline script and style, calls to its own
 * origin, nothing from elsewhere; no framing (its action buttons must not be
 * clickjacked).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The status dashboard at `/` (read access; it calls the API with the same credentials). */
export function registerDashboard(app: FastifyInstance, authorizer: Authorizer): void {
  app.get('/', { schema: { hide: true }, onRequest: (request, reply) => authorizer.authorize(request, reply, 'read') }, async (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-frame-options', 'DENY')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(await readFile(DASHBOARD, 'utf8')),
  );
}
