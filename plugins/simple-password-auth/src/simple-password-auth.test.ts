import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '@handyrep/plugin-sdk';
import type { AuthenticationPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { SimplePasswordAuthConfig } from './config.js';
import { plugin } from './plugin.js';

const DEFAULTS: SimplePasswordAuthConfig = {
  admin_password_key: 'admin_password',
  read_password_key: 'read_password',
  admin_user: 'admin',
  read_user: 'read',
};
const SECRETS = { admin_password: 'Adm1n-s3cret!', read_password: 'read-only-pw', superuser_password: 'pg-pw' };

async function setup(
  config: Partial<SimplePasswordAuthConfig> = {},
  secrets: Record<string, string> = SECRETS,
): Promise<{ auth: AuthenticationPlugin; kit: TestContext<SimplePasswordAuthConfig> }> {
  const kit = createTestContext<SimplePasswordAuthConfig>({ name: 'simple_password_auth', config: { ...DEFAULTS, ...config }, secrets });
  return { auth: await plugin.create(kit.context), kit };
}

describe('simple_password_auth', () => {
  it('the admin password with the admin user grants admin', async () => {
    const { auth } = await setup();
    assert.deepEqual(await auth.authenticate({ username: 'admin', password: 'Adm1n-s3cret!' }), {
      authenticated: true,
      access: 'admin',
      details: 'password accepted: admin access',
    });
  });

  it('the read password grants read only, never admin', async () => {
    const { auth } = await setup();
    const decision = await auth.authenticate({ username: 'read', password: 'read-only-pw' });
    assert.equal(decision.authenticated, true);
    assert.equal(decision.access, 'read');
  });

  it('refuses wrong passwords, prefixes, extensions, empty and other users\' passwords', async () => {
    const { auth } = await setup();
    for (const [username, password] of [
      ['admin', 'wrong'],
      ['admin', 'Adm1n-s3cret'],
      ['admin', 'Adm1n-s3cret!!'],
      ['admin', 'adm1n-s3cret!'],
      ['admin', ''],
      ['admin', 'read-only-pw'],
      ['read', 'Adm1n-s3cret!'],
      ['root', 'Adm1n-s3cret!'],
      ['', 'Adm1n-s3cret!'],
      ['Admin', 'Adm1n-s3cret!'],
    ] as const) {
      const decision = await auth.authenticate({ username, password });
      assert.equal(decision.authenticated, false, `${username}/${password}`);
      assert.equal(decision.access, undefined);
      assert.equal(decision.details, 'wrong user name or password');
    }
  });

  it('an empty admin_user or read_user accepts any user name with the right password', async () => {
    const { auth } = await setup({ admin_user: '', read_user: '' });
    assert.equal((await auth.authenticate({ username: 'anyone', password: 'Adm1n-s3cret!' })).access, 'admin');
    assert.equal((await auth.authenticate({ username: '', password: 'read-only-pw' })).access, 'read');
    assert.equal((await auth.authenticate({ username: 'anyone', password: 'nope' })).authenticated, false);
  });

  it('custom keys and user names', async () => {
    const { auth } = await setup(
      { admin_password_key: 'web_admin', read_password_key: 'web_read', admin_user: 'ops', read_user: 'viewer' },
      { web_admin: 'pässwörd-ünïcode', web_read: 'r' },
    );
    assert.equal((await auth.authenticate({ username: 'ops', password: 'pässwörd-ünïcode' })).access, 'admin');
    assert.equal((await auth.authenticate({ username: 'viewer', password: 'r' })).access, 'read');
    assert.equal((await auth.authenticate({ username: 'admin', password: 'pässwörd-ünïcode' })).authenticated, false);
  });

  it('read_password_key empty: no read-only access, and no read password needed', async () => {
    const { auth } = await setup({ read_password_key: '' }, { admin_password: 'Adm1n-s3cret!' });
    assert.equal((await auth.authenticate({ username: 'admin', password: 'Adm1n-s3cret!' })).access, 'admin');
    assert.equal((await auth.authenticate({ username: 'read', password: '' })).authenticated, false);
  });

  it('refuses to start without the admin password, naming the [passwords] key', async () => {
    await assert.rejects(setup({}, { read_password: 'r' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.SECRET_MISSING);
      assert.match(err.message, /\[passwords\] admin_password is not set/);
      return true;
    });
  });

  it('refuses to start with an empty admin or read password', async () => {
    await assert.rejects(setup({}, { admin_password: '', read_password: 'r' }), /\[passwords\] admin_password is empty/);
    await assert.rejects(setup({}, { admin_password: 'a', read_password: '' }), /\[passwords\] read_password is empty/);
  });

  it('refuses to start without the read password, saying how to do without one', async () => {
    await assert.rejects(setup({ read_password_key: 'viewer_pw' }, { admin_password: 'a' }), (err: Error) => {
      assert.match(err.message, /\[passwords\] viewer_pw is not set/);
      assert.match(err.message, /read_password_key to an empty value/);
      return true;
    });
  });

  it('refuses to start when the read password equals the admin password', async () => {
    await assert.rejects(setup({}, { admin_password: 'same', read_password: 'same' }), /same password/);
  });

  it('never logs or returns a password, and logs failures with the user name', async () => {
    const { auth, kit } = await setup();
    const decisions = [
      await auth.authenticate({ username: 'admin', password: 'Adm1n-s3cret!' }),
      await auth.authenticate({ username: 'read', password: 'read-only-pw' }),
      await auth.authenticate({ username: 'mallory', password: 'guess-Adm1n' }),
    ];
    const everything = `${JSON.stringify(decisions)}\n${kit.logger.text()}`;
    for (const secret of ['Adm1n-s3cret!', 'read-only-pw', 'guess-Adm1n']) assert.ok(!everything.includes(secret), secret);
    assert.ok(kit.logger.lines.some((line) => line.level === 'warn' && line.fields?.['username'] === 'mallory'));
  });

  it('cuts very long user names in log lines', async () => {
    const { auth, kit } = await setup();
    await auth.authenticate({ username: 'x'.repeat(10_000), password: 'p' });
    const logged = String(kit.logger.lines.at(-1)?.fields?.['username']);
    assert.ok(logged.length < 100);
  });

  it('the core loader applies the defaults and refuses to start without [passwords]', async () => {
    // The loader creates the plugin with an empty [passwords]: that must be a start-up failure, not an open door.
    await assert.rejects(verifyPlugin('simple_password_auth', { kind: 'authentication', config: {} }), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.PLUGIN_FACTORY_FAILED);
      assert.match(err.message, /\[passwords\] admin_password is not set/);
      return true;
    });
    await assert.rejects(verifyPlugin('simple_password_auth', { kind: 'authentication', config: { admin_password_key: '' } }), /admin_password_key/);
    await assert.rejects(verifyPlugin('simple_password_auth', { kind: 'authentication', config: { password: 'x' } }), /password|additional/);
  });
});
