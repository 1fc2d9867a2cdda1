import { resolve } from 'node:path';
import { ErrorCodes, fail } from '@handyrep/plugin-sdk';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_FUNCTIONS, needsPost } from '../api/api-functions.js';
import type { ApiFunction } from '../api/api-functions.js';
import type { HandyRep } from '../handyrep.js';
import type { Authorizer } from './authorizer.js';

/** Codes that mean the caller's arguments were wrong: answered with 400, as a return dictionary. */
const ARGUMENT_CODES: readonly string[] = [ErrorCodes.BAD_ARGUMENT, ErrorCodes.UNKNOWN_SERVER];

function argumentSchema(fn: ApiFunction): Record<string, unknown> {
  return {
    type: 'object',
    properties: Object.fromEntries(fn.params.map((param) => [param.name, { ...param.schema, description: param.description }])),
    required: fn.params.filter((param) => param.required).map((param) => param.name),
    additionalProperties: false,
  };
}

const RETURN_DICTIONARY = {
  type: 'object',
  properties: { result: { type: 'string', enum: ['SUCCESS', 'FAIL'] }, details: { type: 'string' } },
  additionalProperties: true,
};

/** The arguments of one call in the library method's order. */
function methodArguments(fn: ApiFunction, input: Record<string, unknown>): unknown[] {
  if (fn.spec === 'get_setting') {
    // The web variant of get_setting takes category + setting (spec: it cannot reach nested sections).
    return [[typeof input['category'] === 'string' ? input['category'] : 'handyrep', input['setting']]];
  }
  return fn.params.map((param) => input[param.name] ?? null);
}

async function call(hr: HandyRep, fn: ApiFunction, input: Record<string, unknown>, reply: FastifyReply): Promise<unknown> {
  const configFile = input['config_file'];
  if (fn.spec === 'reload_conf' && typeof configFile === 'string' && resolve(configFile) !== hr.configFile) {
    // Another file would be read, and its values could come back in errors or through get_setting.
    return reply.code(400).send(fail('over the web, reload_conf reloads only the configuration file HandyRep runs on; omit config_file'));
  }
  if (fn.spec === 'get_status' && (input['check_type'] ?? 'cached') === 'cached') {
    // The common call: the cached status, serialised once per change (HandyRep.getStatusJson).
    return reply.header('content-type', 'application/json; charset=utf-8').send(await hr.getStatusJson());
  }
  const method = (hr as unknown as Record<string, (...args: unknown[]) => unknown>)[fn.method];
  if (typeof method !== 'function') return reply.code(500).send(fail(`${fn.spec} is not implemented`));
  const result = await method.apply(hr, methodArguments(fn, input));
  const code = (result as { code?: unknown } | null)?.code;
  // Always JSON, even for get_master_name's bare string or null.
  reply.header('content-type', 'application/json; charset=utf-8');
  if (typeof code === 'string' && ARGUMENT_CODES.includes(code)) reply.code(400);
  return reply.send(JSON.stringify(result ?? null));
}

/**
 * Every web-available function at `/<spec name>`: plain reads by GET (query)
 * or POST (JSON body); actions, and reads that check servers (polls,
 * verifications), by POST only; argument schemas from the API table,
 * enforced before HandyRep is called. `documented` adds what only the
 * OpenAPI document needs (summaries, tags, response schemas): the serving
 * daemon leaves it out, as every answer is sent already serialised and
 * compiled response serialisers would only cost memory.
 */
export function registerApiRoutes(app: FastifyInstance, hr: HandyRep, authorizer: Authorizer, options: { documented?: boolean } = {}): void {
  for (const fn of API_FUNCTIONS.filter((entry) => entry.web)) {
    const schema = argumentSchema(fn);
    const common = options.documented
      ? {
          summary: fn.summary,
          tags: [fn.access === 'admin' ? 'actions' : 'information'],
          security: [{ basicAuth: [] }],
          response: { 200: fn.spec === 'get_master_name' ? { type: ['string', 'null'] } : fn.spec === 'read_log' ? { anyOf: [{ type: 'array', items: { type: 'string' } }, RETURN_DICTIONARY] } : { ...RETURN_DICTIONARY, description: 'the spec\'s dictionary (status dictionaries for the information functions)' } },
        }
      : {};
    const authorize = (request: FastifyRequest, reply: FastifyReply): Promise<void> => authorizer.authorize(request, reply, fn.access);
    app.post(`/${fn.spec}`, { schema: { ...common, body: schema }, onRequest: authorize }, (request, reply) =>
      call(hr, fn, (request.body ?? {}) as Record<string, unknown>, reply),
    );
    if (fn.access === 'read' && fn.checks?.({}) !== true) {
      const description = fn.checks ? `${fn.summary}; a call that checks servers first (${fn.spec === 'get_status' ? 'check_type poll or verify' : 'verify = true'}) needs POST: GET answers 405` : fn.summary;
      app.get(`/${fn.spec}`, { schema: { ...common, description, querystring: schema }, onRequest: authorize }, (request, reply) => {
        const query = (request.query ?? {}) as Record<string, unknown>;
        if (needsPost(fn, query)) {
          // A link or an <img> of another site, sent with the browser's cached credentials, must not set off checks.
          return (reply as FastifyReply).code(405).header('allow', 'POST').send(fail(`${fn.spec} with these arguments checks servers (connections, SSH, test writes): use POST with a JSON body`));
        }
        return call(hr, fn, query, reply);
      });
    } else {
      const why = fn.access === 'admin' ? 'changes the cluster' : 'checks servers (connections, SSH, test writes)';
      app.get(`/${fn.spec}`, { schema: { hide: true }, onRequest: authorize }, (_request, reply) =>
        reply.code(405).header('allow', 'POST').send(fail(`${fn.spec} ${why}: use POST with a JSON body`)),
      );
    }
  }
}
