import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthenticationPlugin, Credentials, Logger } from '@handyrep/plugin-sdk';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_CACHE_MS, Authorizer } from './authorizer.js';
import { LoginLimiter } from './request-guard.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A password plugin that counts its calls: read/pw-read is read access, admin/pw-admin admin. */
function countingPlugin(): AuthenticationPlugin & { calls: number } {
  const plugin = {
    name: 'counting',
    calls: 0,
    async authenticate(credentials: Credentials) {
      plugin.calls += 1;
      if (credentials.username === 'read' && credentials.password === 'pw-read') return { authenticated: true, access: 'read' as const, details: 'ok' };
      if (credentials.username === 'admin' && credentials.password === 'pw-admin') return { authenticated: true, access: 'admin' as const, details: 'ok' };
      return { authenticated: false, details: 'wrong user name or password' };
    },
  };
  return plugin as unknown as AuthenticationPlugin & { calls: number };
}

function request(user: string, password: string): FastifyRequest {
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { ip: '127.0.0.9', headers: { authorization }, socket: { localAddress: '127.0.0.1' } } as unknown as FastifyRequest;
}

/** Runs authorize and returns the status code it answered, or 0 when it let the request through. */
async function authorize(authorizer: Authorizer, user: string, password: string, needed: 'read' | 'admin' = 'read'): Promise<number> {
  let status = 0;
  const reply = {
    code(code: number) {
      status = code;
      return reply;
    },
    header: () => reply,
    send: async () => reply,
  };
  await authorizer.authorize(request(user, password), reply as unknown as FastifyReply, needed);
  return status;
}

describe('Authorizer', () => {
  it('remembers an accepted credential for a few seconds, then asks the plugin again', async () => {
    let now = 1_000_000;
    const plugin = countingPlugin();
    const authorizer = new Authorizer(() => plugin, silent, new LoginLimiter(3, 60_000, () => now), () => now);
    assert.equal(await authorize(authorizer, 'read', 'pw-read'), 0);
    assert.equal(await authorize(authorizer, 'read', 'pw-read'), 0);
    assert.equal(plugin.calls, 1);
    assert.equal(await authorize(authorizer, 'read', 'pw-read', 'admin'), 403, 'a remembered read login is still read-only');
    assert.equal(plugin.calls, 1);
    now += AUTH_CACHE_MS;
    assert.equal(await authorize(authorizer, 'read', 'pw-read'), 0);
    assert.equal(plugin.calls, 2);
  });

  it('never remembers a failure: every wrong password reaches the plugin and counts toward the lock-out, which also stops remembered logins', async () => {
    const now = 1_000_000;
    const plugin = countingPlugin();
    const authorizer = new Authorizer(() => plugin, silent, new LoginLimiter(3, 60_000, () => now), () => now);
    assert.equal(await authorize(authorizer, 'read', 'pw-read'), 0);
    assert.equal(authorizer.cachedAccess({ username: 'read', password: 'wrong' }, '127.0.0.1'), undefined);
    assert.equal(await authorize(authorizer, 'read', 'wrong'), 401);
    assert.equal(await authorize(authorizer, 'read', 'wrong'), 401);
    assert.equal(plugin.calls, 3);
    assert.equal(await authorize(authorizer, 'read', 'wrong'), 401, 'the third failure locks the address out');
    assert.equal(await authorize(authorizer, 'read', 'pw-read'), 429, 'a remembered login does not get past the lock-out');
    assert.equal(plugin.calls, 4);
  });

  it('forgets every login when the authentication plugin is replaced (reload_conf)', async () => {
    const now = 1_000_000;
    let plugin = countingPlugin();
    const authorizer = new Authorizer(() => plugin, silent, new LoginLimiter(3, 60_000, () => now), () => now);
    assert.equal(await authorize(authorizer, 'admin', 'pw-admin', 'admin'), 0);
    assert.equal(authorizer.cachedAccess({ username: 'admin', password: 'pw-admin' }, '127.0.0.1'), 'admin');
    plugin = countingPlugin();
    assert.equal(authorizer.cachedAccess({ username: 'admin', password: 'pw-admin' }, '127.0.0.1'), undefined);
    assert.equal(await authorize(authorizer, 'admin', 'pw-admin', 'admin'), 0);
    assert.equal(plugin.calls, 1);
  });
});
