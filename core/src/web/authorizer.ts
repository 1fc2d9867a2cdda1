import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { AccessLevel, AuthenticationPlugin, Logger } from '@handyrep/plugin-sdk';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { basicCredentials } from './basic-credentials.js';

/** Checks HTTP Basic credentials through the authentication plugin on every call. */
export class Authorizer {
  /** `plugin` is looked up on every call, so a reload_conf that changes authentication takes effect at once. */
  constructor(
    private readonly plugin: () => AuthenticationPlugin | undefined,
    private readonly logger: Logger,
  ) {}

  /** Answers 401 (no or wrong credentials) or 403 (read-only on an action) itself; returns normally when allowed. */
  async authorize(request: FastifyRequest, reply: FastifyReply, needed: AccessLevel): Promise<void> {
    const credentials = basicCredentials(request.headers.authorization);
    if (!credentials) {
      await reply.code(401).header('www-authenticate', 'Basic realm="handyrep", charset="UTF-8"').send(fail('authentication required (HTTP Basic)'));
      return;
    }
    let decision;
    try {
      const plugin = this.plugin();
      if (!plugin) throw new Error('no authentication_method is configured');
      decision = await plugin.authenticate(credentials);
    } catch (err) {
      this.logger.error(`authentication plugin failed: ${errorMessage(err)}`, { component: 'web' });
      await reply.code(503).send(fail('authentication is unavailable; see the HandyRep log'));
      return;
    }
    if (!decision.authenticated) {
      this.logger.warn(`refused web API credentials for user '${credentials.username}' from ${request.ip}`, { component: 'web' });
      await reply.code(401).header('www-authenticate', 'Basic realm="handyrep", charset="UTF-8"').send(fail('wrong user name or password'));
      return;
    }
    if (needed === 'admin' && decision.access !== 'admin') {
      await reply.code(403).send(fail(`user '${credentials.username}' has read-only access; this function needs admin access`));
    }
  }
}
