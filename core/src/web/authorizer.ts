import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { AccessLevel, AuthenticationPlugin, Logger } from '@handyrep/plugin-sdk';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { basicCredentials } from './basic-credentials.js';
import { isLoopbackAddress } from './request-guard.js';
import type { LoginLimiter } from './request-guard.js';

/** Checks HTTP Basic credentials through the authentication plugin on every call. */
export class Authorizer {
  /**
   * `plugin` is looked up on every call, so a reload_conf that changes
   * authentication takes effect at once; `limiter` counts failed logins per
   * client address.
   */
  constructor(
    private readonly plugin: () => AuthenticationPlugin | undefined,
    private readonly logger: Logger,
    private readonly limiter: LoginLimiter,
  ) {}

  /**
   * Answers 429 (too many failed logins from this address), 401 (no or wrong
   * credentials), 403 (read-only on an action, or a loopback-only method
   * reached on another address) or 503 itself; returns normally when allowed.
   */
  async authorize(request: FastifyRequest, reply: FastifyReply, needed: AccessLevel): Promise<void> {
    const address = request.ip;
    const lockedMs = this.limiter.lockedFor(address);
    if (lockedMs > 0) {
      const seconds = Math.ceil(lockedMs / 1000);
      await reply.code(429).header('retry-after', String(seconds)).send(fail(`too many failed logins from ${address}; try again in ${seconds} s`));
      return;
    }
    const credentials = basicCredentials(request.headers.authorization);
    if (!credentials) {
      await reply.code(401).header('www-authenticate', 'Basic realm="handyrep", charset="UTF-8"').send(fail('authentication required (HTTP Basic)'));
      return;
    }
    let decision;
    try {
      const plugin = this.plugin();
      if (!plugin) throw new Error('no authentication_method is configured');
      if (plugin.loopbackOnly === true && !isLoopbackAddress(request.socket.localAddress ?? '')) {
        // A reload_conf may have switched to zero_auth while the daemon listens on a public address.
        this.logger.error(`refused a web request from ${address}: the authentication method lets anyone in and answers on loopback addresses only`);
        await reply.code(403).send(fail('this HandyRep has no authentication (zero_auth) and answers on loopback addresses only'));
        return;
      }
      decision = await plugin.authenticate(credentials);
    } catch (err) {
      this.logger.error(`authentication plugin failed: ${errorMessage(err)}`);
      await reply.code(503).send(fail('authentication is unavailable; see the HandyRep log'));
      return;
    }
    if (!decision.authenticated) {
      const locked = this.limiter.recordFailure(address);
      this.logger.warn(`refused web API credentials for user '${credentials.username}' from ${address}`);
      if (locked) this.logger.warn(`too many failed web API logins from ${address}: it gets 429 for a while ([handyrep] web_login_lockout_seconds)`);
      await reply.code(401).header('www-authenticate', 'Basic realm="handyrep", charset="UTF-8"').send(fail('wrong user name or password'));
      return;
    }
    this.limiter.recordSuccess(address);
    if (needed === 'admin' && decision.access !== 'admin') {
      await reply.code(403).send(fail(`user '${credentials.username}' has read-only access; this function needs admin access`));
    }
  }
}
