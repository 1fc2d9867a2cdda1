import { readFile } from 'node:fs/promises';
import { fail } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { HandyRep } from '../handyrep.js';
import { registerApiRoutes } from './api-routes.js';
import { Authorizer } from './authorizer.js';
import { registerDashboard } from './dashboard.js';
import { createMetrics } from './metrics.js';

/** Where and how the web API listens. */
export interface WebServerOptions {
  /** Certificate and key (PEM file paths) for HTTPS; plain HTTP when absent. */
  tls?: { cert: string; key: string };
  /** Logger for refused credentials and failures. */
  logger: Logger;
}

/** A request body larger than this is refused (the largest legitimate one is a server definition). */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The daemon's HTTP side: the spec's functions at /<name>, OpenAPI at
 * /openapi.json, Prometheus /metrics, /healthz and the dashboard at /.
 * Every error is answered with a return dictionary.
 */
export async function createWebServer(hr: HandyRep, options: WebServerOptions): Promise<FastifyInstance> {
  const auth = hr.authenticationPlugin();
  if (!auth) {
    throw new Error('the web API needs [handyrep] authentication_method (zero_auth for no authentication, on a trusted network only)');
  }
  const https = options.tls ? { key: await readFile(options.tls.key), cert: await readFile(options.tls.cert) } : null;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    ...(https ? { https } : {}),
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: true } },
  }) as unknown as FastifyInstance;
  const authorizer = new Authorizer(() => hr.authenticationPlugin(), options.logger);

  await app.register(swagger, {
    openapi: {
      info: { title: 'HandyRep web API', version: '1', description: 'The HandyRep library API over HTTP: reads by GET or POST, actions by POST.' },
      components: { securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } } },
    },
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) return reply.code(400).send(fail(`bad arguments: ${error.message}`));
    if (error.statusCode === 413) return reply.code(413).send(fail('request body too large'));
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send(fail(error.message));
    options.logger.error(`web request failed: ${error.message}`, { component: 'web' });
    return reply.code(500).send(fail('internal error; see the HandyRep log'));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(fail(`no such function: ${request.url.split('?')[0] ?? ''}`)));

  registerApiRoutes(app, hr, authorizer);

  const metrics = createMetrics(hr);
  app.get('/metrics', { schema: { hide: true }, onRequest: (request, reply) => authorizer.authorize(request, reply, 'read') }, async (_request, reply) =>
    reply.header('content-type', metrics.contentType).send(await metrics.metrics()),
  );
  app.get('/healthz', { schema: { hide: true } }, async () => {
    const observations = hr.observations();
    return { status: 'ok', monitor: observations.monitorRunning ? 'running' : 'stopped' };
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerDashboard(app, authorizer);
  await app.ready();
  return app;
}
