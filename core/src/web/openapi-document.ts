import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { HandyRep } from '../handyrep.js';
import { registerApiRoutes } from './api-routes.js';
import type { Authorizer } from './authorizer.js';

/**
 * The web API's OpenAPI document, generated from the same route table the
 * daemon serves, in a throw-away Fastify instance: the generator is loaded
 * only when the document is first asked for, not in every daemon.
 */
export async function openApiDocument(hr: HandyRep, authorizer: Authorizer): Promise<unknown> {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  await app.register(swagger, {
    openapi: {
      info: { title: 'HandyRep web API', version: '1', description: 'The HandyRep library API over HTTP: reads by GET or POST, actions by POST.' },
      components: { securitySchemes: { basicAuth: { type: 'http', scheme: 'basic' } } },
    },
  });
  registerApiRoutes(app, hr, authorizer, { documented: true });
  await app.ready();
  const document = app.swagger();
  await app.close();
  return document;
}
