import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Authorizer } from './authorizer.js';

const DASHBOARD = new URL('../../web-assets/dashboard.html', import.meta.url);

/** The status dashboard at `/` (read access; it calls the API with the same credentials). */
export function registerDashboard(app: FastifyInstance, authorizer: Authorizer): void {
  app.get('/', { schema: { hide: true }, preHandler: (request, reply) => authorizer.authorize(request, reply, 'read') }, async (_request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(await readFile(DASHBOARD, 'utf8')),
  );
}
