import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { ConfigError, ErrorCodes, fail } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { HandyRep } from '../handyrep.js';
import { registerApiRoutes } from './api-routes.js';
import { Authorizer } from './authorizer.js';
import { registerDashboard } from './dashboard.js';
import { healthEndpoints } from './health-endpoints.js';
import { allowedHosts, guardRequest, listensOnLoopbackOnly, LoginLimiter } from './request-guard.js';
import { statusFastPath } from './status-fast-path.js';

/** Where and how the web API listens. */
export interface WebServerOptions {
  /** Certificate and key (PEM file paths) for HTTPS; plain HTTP when absent. */
  tls?: { cert: string; key: string };
  /** Logger for refused credentials and failures. */
  logger: Logger;
  /** The address it will listen on (`[handyrep] web_listen`; default 127.0.0.1). */
  listen?: string;
  /** `[handyrep] web_allowed_hosts`: more host names it answers to (comma-separated). */
  allowedHosts?: string;
  /** Failed logins from one address within `loginLockoutSeconds` before it gets 429 (default 10). */
  loginMaxFailures?: number;
  /** The window of those failures and the length of the lock-out (default 60). */
  loginLockoutSeconds?: number;
}

/** A request body larger than this is refused (the largest legitimate one is a server definition). */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The daemon's HTTP side: the spec's functions at /<name>, OpenAPI at
 * /openapi.json, Prometheus /metrics, /healthz, the load balancers' /health/...
 * (when health_endpoints is on) and the dashboard at /.
 * Every error is answered with a return dictionary.
 */
export async function createWebServer(hr: HandyRep, options: WebServerOptions): Promise<FastifyInstance> {
  const auth = hr.authenticationPlugin();
  if (!auth) {
    throw new Error('the web API needs [handyrep] authentication_method (zero_auth for no authentication, on a loopback address only)');
  }
  const listen = options.listen ?? '127.0.0.1';
  if (auth.loopbackOnly === true && !(await listensOnLoopbackOnly(listen))) {
    const message =
      `refusing to start: authentication_method lets every caller in as admin (zero_auth), and web_listen = ${listen || "''"} can be reached from other machines; ` +
      'listen on a loopback address (127.0.0.1) or configure simple_password_auth or ldap_auth';
    throw new ConfigError(ErrorCodes.CONFIG_INVALID, `configuration file ${hr.configFile}: [handyrep] web_listen: ${message}`, [{ section: 'handyrep', key: 'web_listen', message }], hr.configFile);
  }
  const https = options.tls ? { key: await readFile(options.tls.key), cert: await readFile(options.tls.cert) } : null;
  const limiter = new LoginLimiter(options.loginMaxFailures ?? 10, (options.loginLockoutSeconds ?? 60) * 1000);
  const authorizer = new Authorizer(() => hr.authenticationPlugin(), options.logger, limiter);
  const hosts = allowedHosts(listen, options.allowedHosts ?? '');
  const scheme = https ? 'https' : 'http';
  const fastStatus = statusFastPath(hr, { hosts, scheme, authorizer, limiter });
  const health = healthEndpoints(hr);
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // The status page's polling and load balancers' health checks are most of the traffic: they are answered before the framework (see statusFastPath, healthEndpoints).
    serverFactory: (handler: (request: IncomingMessage, response: ServerResponse) => void): Server => {
      const route = (request: IncomingMessage, response: ServerResponse): void => {
        if (!health(request, response) && !fastStatus(request, response)) handler(request, response);
      };
      // Load balancers' health checks may carry no Host (HTTP/1.1 too); every other request without one is refused (403) by guardRequest.
      const serverOptions = { requireHostHeader: false };
      return (https ? createHttpsServer({ ...https, ...serverOptions }, route) : createServer(serverOptions, route)) as Server;
    },
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: true } },
  }) as unknown as FastifyInstance;
  // Before any route, authentication included: a foreign Host or Origin never reaches the authentication plugin.
  app.addHook('onRequest', guardRequest({ hosts, scheme, logger: options.logger }));

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) return reply.code(400).send(fail(`bad arguments: ${error.message}`));
    if (error.statusCode === 413) return reply.code(413).send(fail('request body too large'));
    if (error.statusCode && error.statusCode < 500) return reply.code(error.statusCode).send(fail(error.message));
    options.logger.error(`web request failed: ${error.message}`, { component: 'web' });
    return reply.code(500).send(fail('internal error; see the HandyRep log'));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(fail(`no such function: ${request.url.split('?')[0] ?? ''}`)));

  registerApiRoutes(app, hr, authorizer);

  // prom-client and the OpenAPI generator are loaded on first use: most daemons are never scraped or asked for their spec.
  let metrics: Promise<Registry> | undefined;
  app.get('/metrics', { schema: { hide: true }, onRequest: (request, reply) => authorizer.authorize(request, reply, 'read') }, async (_request, reply) => {
    metrics ??= import('./metrics.js').then((module) => module.createMetrics(hr));
    const registry = await metrics;
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
  app.get('/healthz', { schema: { hide: true } }, async () => {
    const observations = hr.observations();
    return { status: 'ok', monitor: observations.monitorRunning ? 'running' : 'stopped' };
  });
  let openApi: Promise<unknown> | undefined;
  app.get('/openapi.json', { schema: { hide: true } }, async () => {
    openApi ??= import('./openapi-document.js').then((module) => module.openApiDocument(hr, authorizer));
    return openApi;
  });
  registerDashboard(app, authorizer);
  await app.ready();
  return app;
}
