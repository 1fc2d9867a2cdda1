import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { errorMessage, fail } from '@handyrep/plugin-sdk';
import type { AccessLevel, AuthenticationPlugin, Credentials, Logger } from '@handyrep/plugin-sdk';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { basicCredentials } from './basic-credentials.js';
import { isLoopbackAddress } from './request-guard.js';
import type { LoginLimiter } from './request-guard.js';

/** How long an accepted credential is taken without asking the authentication plugin again. */
export const AUTH_CACHE_MS = 5000;

/** At most this many user names are remembered (the stalest goes first). */
const AUTH_CACHE_ENTRIES = 1000;

interface CachedLogin {
  /** Keyed digest of the accepted password (never the password itself). */
  digest: Buffer;
  access: AccessLevel;
  until: number;
  /** The plugin that accepted it: a reload_conf with other authentication forgets every entry. */
  plugin: AuthenticationPlugin;
}

/**
 * Checks HTTP Basic credentials through the authentication plugin, and
 * remembers an accepted one for AUTH_CACHE_MS (ldap_auth would otherwise ask
 * the directory on every status request). Only successes are remembered: a
 * wrong password always reaches the plugin and counts toward the lock-out,
 * and the lock-out is checked before the remembered logins.
 */
export class Authorizer {
  // A per-process key: the digests kept in memory are useless anywhere else.
  readonly #key = randomBytes(32);
  readonly #cache = new Map<string, CachedLogin>();

  /**
   * `plugin` is looked up on every call, so a reload_conf that changes
   * authentication takes effect at once; `limiter` counts failed logins per
   * client address.
   */
  constructor(
    private readonly plugin: () => AuthenticationPlugin | undefined,
    private readonly logger: Logger,
    private readonly limiter: LoginLimiter,
    private readonly now: () => number = Date.now,
  ) {}

  #digest(password: string): Buffer {
    return createHmac('sha256', this.#key).update(password, 'utf8').digest();
  }

  /**
   * The access a remembered login grants these credentials, compared in
   * constant time; undefined when they are not remembered, expired, from
   * another authentication plugin, or the plugin answers on loopback only
   * and `localAddress` is not one.
   */
  cachedAccess(credentials: Credentials, localAddress: string): AccessLevel | undefined {
    const entry = this.#cache.get(credentials.username);
    if (!entry) return undefined;
    const plugin = this.plugin();
    if (entry.plugin !== plugin || entry.until <= this.now()) {
      this.#cache.delete(credentials.username);
      return undefined;
    }
    if (plugin.loopbackOnly === true && !isLoopbackAddress(localAddress)) return undefined;
    return timingSafeEqual(entry.digest, this.#digest(credentials.password)) ? entry.access : undefined;
  }

  #remember(credentials: Credentials, access: AccessLevel, plugin: AuthenticationPlugin): void {
    this.#cache.delete(credentials.username);
    this.#cache.set(credentials.username, { digest: this.#digest(credentials.password), access, until: this.now() + AUTH_CACHE_MS, plugin });
    while (this.#cache.size > AUTH_CACHE_ENTRIES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

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
    const remembered = this.cachedAccess(credentials, request.socket.localAddress ?? '');
    if (remembered !== undefined) {
      if (needed === 'admin' && remembered !== 'admin') {
        await reply.code(403).send(fail(`user '${credentials.username}' has read-only access; this function needs admin access`));
      }
      return;
    }
    let decision;
    let plugin: AuthenticationPlugin | undefined;
    try {
      plugin = this.plugin();
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
    if (decision.access !== undefined) this.#remember(credentials, decision.access, plugin);
    if (needed === 'admin' && decision.access !== 'admin') {
      await reply.code(403).send(fail(`user '${credentials.username}' has read-only access; this function needs admin access`));
    }
  }
}
