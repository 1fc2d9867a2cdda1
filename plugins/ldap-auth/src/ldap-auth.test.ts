import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '@handyrep/plugin-sdk';
import type { AuthenticationPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { LdapAuthConfig } from './config.js';
import { createLdapAuth } from './ldap-auth.js';
import { FakeDirectory } from './test-support/fake-directory.js';

const PEOPLE = 'ou=people,dc=example,dc=org';
const ADMINS = 'cn=hr-admins,ou=groups,dc=example,dc=org';
const READERS = 'cn=hr-readers,ou=groups,dc=example,dc=org';
const SERVICE_DN = 'cn=handyrep,ou=services,dc=example,dc=org';
const SERVICE_PW = 'svc-Secret-91';

const BASE: LdapAuthConfig = {
  url: 'ldaps://ldap.example.org',
  starttls: false,
  ca_file: '',
  allow_plaintext: false,
  timeout_ms: 2_000,
  user_dn_template: `uid={username},${PEOPLE}`,
  search_base: '',
  search_filter: '(uid={username})',
  search_scope: 'sub',
  bind_dn: '',
  bind_password_key: 'ldap_bind_password',
  admin_group_dn: ADMINS,
  read_group_dn: READERS,
  member_attribute: 'member',
  member_value: 'dn',
  default_access: 'none',
};

function directory(): FakeDirectory {
  const dir = new FakeDirectory([
    { dn: `uid=alice,${PEOPLE}`, password: 'alice-pw', attributes: { uid: 'alice' } },
    { dn: `uid=bob,${PEOPLE}`, password: 'bob-pw', attributes: { uid: 'bob' } },
    { dn: `uid=carol,${PEOPLE}`, password: 'carol-pw', attributes: { uid: 'carol' } },
    // What an unescaped `alice,ou=robots` would reach in template mode.
    { dn: `uid=alice,ou=robots,${PEOPLE}`, password: 'robot-pw', attributes: { uid: 'robot' } },
    { dn: `uid=twin,${PEOPLE}`, password: 'twin-pw', attributes: { uid: 'twin' } },
    { dn: `uid=twin,ou=robots,${PEOPLE}`, password: 'twin-pw', attributes: { uid: 'twin' } },
    { dn: SERVICE_DN, password: SERVICE_PW, attributes: {} },
  ]);
  dir.groups.set(ADMINS.toLowerCase(), { member: [`uid=alice,${PEOPLE}`, `uid=alice,ou=robots,${PEOPLE}`], memberUid: ['alice'] });
  dir.groups.set(READERS.toLowerCase(), { member: [`uid=bob,${PEOPLE}`], memberUid: ['bob'] });
  return dir;
}

function setup(
  config: Partial<LdapAuthConfig> = {},
  secrets: Record<string, string> = { ldap_bind_password: SERVICE_PW },
  dir = directory(),
): { auth: AuthenticationPlugin; dir: FakeDirectory; kit: TestContext<LdapAuthConfig> } {
  const kit = createTestContext<LdapAuthConfig>({ name: 'ldap_auth', config: { ...BASE, ...config }, secrets });
  return { auth: createLdapAuth(kit.context, dir.connector), dir, kit };
}

const SEARCH_MODE: Partial<LdapAuthConfig> = { user_dn_template: '', search_base: PEOPLE, bind_dn: SERVICE_DN };

describe('ldap_auth with direct bind (user_dn_template)', () => {
  it('admin group member → admin; binds as the user, reads the group as the user, closes the session', async () => {
    const { auth, dir } = setup();
    const decision = await auth.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.deepEqual(decision, {
      authenticated: true,
      access: 'admin',
      details: `LDAP bind as uid=alice,${PEOPLE} accepted; member of ${ADMINS}: admin access`,
    });
    assert.deepEqual(
      dir.calls.map((call) => `${call.session} ${call.op}`),
      [`1 bind uid=alice,${PEOPLE}`, `1 compare ${ADMINS} member uid=alice,${PEOPLE}`, '1 close'],
    );
    assert.equal(dir.open, 0);
  });

  it('read group member → read', async () => {
    const { auth } = setup();
    const decision = await auth.authenticate({ username: 'bob', password: 'bob-pw' });
    assert.equal(decision.authenticated, true);
    assert.equal(decision.access, 'read');
  });

  it('in neither group → not authenticated', async () => {
    const { auth, kit } = setup();
    const decision = await auth.authenticate({ username: 'carol', password: 'carol-pw' });
    assert.equal(decision.authenticated, false);
    assert.equal(decision.access, undefined);
    assert.match(decision.details, /member of neither the admin nor the read group/);
    assert.ok(kit.logger.lines.some((line) => line.level === 'warn' && line.fields?.['username'] === 'carol'));
  });

  it('default_access grants its level to users in no group', async () => {
    const { auth } = setup({ default_access: 'read' });
    const decision = await auth.authenticate({ username: 'carol', password: 'carol-pw' });
    assert.equal(decision.access, 'read');
    assert.match(decision.details, /default read access/);
  });

  it('wrong password or unknown user → not authenticated, same words, no group lookup', async () => {
    const { auth, dir } = setup();
    const wrong = await auth.authenticate({ username: 'alice', password: 'bob-pw' });
    const unknown = await auth.authenticate({ username: 'mallory', password: 'x' });
    assert.deepEqual(wrong, { authenticated: false, details: 'wrong user name or password' });
    assert.deepEqual(unknown, wrong);
    assert.ok(!dir.calls.some((call) => call.op.startsWith('compare')));
    assert.equal(dir.open, 0);
  });

  it('an empty password is refused before any LDAP traffic (it would be an anonymous bind)', async () => {
    const { auth, dir } = setup();
    const decision = await auth.authenticate({ username: 'alice', password: '' });
    assert.deepEqual(decision, { authenticated: false, details: 'a password is required' });
    assert.deepEqual(dir.calls, []);
  });

  it('empty, over-long or control-character user names are refused without asking the directory', async () => {
    const { auth, dir } = setup();
    for (const username of ['', '   ', 'x'.repeat(257), 'alice\u0000', 'alice\nuid=bob']) {
      const decision = await auth.authenticate({ username, password: 'alice-pw' });
      assert.equal(decision.authenticated, false, JSON.stringify(username));
    }
    assert.deepEqual(dir.calls, []);
  });

  it('DN injection: `alice,ou=robots` binds to an escaped DN, not to another entry', async () => {
    const { auth, dir } = setup();
    const decision = await auth.authenticate({ username: 'alice,ou=robots', password: 'robot-pw' });
    assert.equal(decision.authenticated, false);
    assert.equal(dir.calls[0]?.op, `bind uid=alice\\,ou\\=robots,${PEOPLE}`);
  });

  it('filter characters in a template user name are harmless literals', async () => {
    const { auth } = setup();
    assert.equal((await auth.authenticate({ username: '*)(uid=*', password: 'alice-pw' })).authenticated, false);
  });

  it('member_value = username checks the bare user name (posixGroup memberUid)', async () => {
    const { auth, dir } = setup({ member_attribute: 'memberUid', member_value: 'username' });
    assert.equal((await auth.authenticate({ username: 'bob', password: 'bob-pw' })).access, 'read');
    assert.ok(dir.calls.some((call) => call.op === `compare ${READERS} memberUid bob`));
  });

  it('only a read group configured: its members get read, nobody admin', async () => {
    const { auth, dir } = setup({ admin_group_dn: '' });
    assert.equal((await auth.authenticate({ username: 'alice', password: 'alice-pw' })).authenticated, false);
    assert.equal((await auth.authenticate({ username: 'bob', password: 'bob-pw' })).access, 'read');
    assert.ok(!dir.calls.some((call) => call.op.includes(ADMINS)));
  });

  it('a group that does not exist fails closed, naming the group', async () => {
    const { auth } = setup({ admin_group_dn: 'cn=nope,dc=example,dc=org' });
    const decision = await auth.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /cannot check membership of group cn=nope,dc=example,dc=org/);
  });
});

describe('ldap_auth with search-then-bind', () => {
  it('searches as the service account with an escaped filter, binds as the found DN, reads groups as the service', async () => {
    const { auth, dir } = setup(SEARCH_MODE);
    const decision = await auth.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.equal(decision.access, 'admin');
    assert.deepEqual(
      dir.calls.map((call) => `${call.session} ${call.op}`),
      [
        `1 bind ${SERVICE_DN}`,
        `1 search ${PEOPLE} sub (uid=alice)`,
        `2 bind uid=alice,${PEOPLE}`,
        `1 compare ${ADMINS} member uid=alice,${PEOPLE}`,
        '1 close',
        '2 close',
      ],
    );
  });

  it('filter injection: `ali*` and `*)(uid=*` are searched literally and find nobody', async () => {
    const { auth, dir } = setup(SEARCH_MODE);
    for (const username of ['ali*', '*)(uid=*', '*']) {
      assert.equal((await auth.authenticate({ username, password: 'alice-pw' })).authenticated, false, username);
    }
    const searches = dir.calls.filter((call) => call.op.startsWith('search')).map((call) => call.op.split(' ').slice(3).join(' '));
    assert.deepEqual(searches, ['(uid=ali\\2a)', '(uid=\\2a\\29\\28uid=\\2a)', '(uid=\\2a)']);
    assert.ok(!dir.calls.some((call) => call.op.startsWith('bind uid=')));
  });

  it('more than one entry for a user name: refused', async () => {
    const { auth } = setup(SEARCH_MODE);
    const decision = await auth.authenticate({ username: 'twin', password: 'twin-pw' });
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /more than one entry/);
  });

  it('no entry: the same answer as a wrong password', async () => {
    const { auth } = setup(SEARCH_MODE);
    assert.deepEqual(await auth.authenticate({ username: 'mallory', password: 'x' }), { authenticated: false, details: 'wrong user name or password' });
  });

  it('anonymous search without bind_dn; groups then read as the user', async () => {
    const { auth, dir } = setup({ ...SEARCH_MODE, bind_dn: '' });
    assert.equal((await auth.authenticate({ username: 'bob', password: 'bob-pw' })).access, 'read');
    assert.deepEqual(
      dir.calls.map((call) => `${call.session} ${call.op}`).slice(0, 3),
      [`1 search ${PEOPLE} sub (uid=bob)`, `2 bind uid=bob,${PEOPLE}`, `2 compare ${ADMINS} member uid=bob,${PEOPLE}`],
    );
  });

  it('a refused service account fails closed, without its password in details or logs', async () => {
    const { auth, kit } = setup(SEARCH_MODE, { ldap_bind_password: 'not-the-service-pw' });
    const decision = await auth.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /service account cn=handyrep.* was refused/);
    for (const text of [JSON.stringify(decision), kit.logger.text()]) {
      assert.ok(!text.includes('not-the-service-pw'));
      assert.ok(!text.includes('alice-pw'));
    }
  });
});

describe('ldap_auth failures of the directory', () => {
  it('connection error: not authenticated, the error in details, passwords redacted', async () => {
    const dir = directory();
    dir.connectError = new Error(`connect ECONNREFUSED 127.0.0.1:636 (tried with ${SERVICE_PW} and alice-pw)`);
    const { auth, kit } = setup(SEARCH_MODE, undefined, dir);
    const decision = await auth.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /could not be completed: connect ECONNREFUSED/);
    for (const text of [decision.details, kit.logger.text()]) {
      assert.ok(!text.includes(SERVICE_PW) && !text.includes('alice-pw'), text);
    }
    assert.ok(kit.logger.lines.some((line) => line.level === 'error'));
  });

  it('a directory slower than timeout_ms: refused after about timeout_ms, sessions closed', async () => {
    const dir = directory();
    dir.delayMs = 400;
    const { auth } = setup({ timeout_ms: 150 }, undefined, dir);
    const started = performance.now();
    const decision = await auth.authenticate({ username: 'alice', password: 'alice-pw' });
    const elapsed = performance.now() - started;
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /no answer within 150 ms/);
    assert.ok(elapsed >= 140 && elapsed < 1_000, `took ${elapsed} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(dir.open, 0);
  });
});

describe('ldap_auth start-up checks', () => {
  const refuses = (config: Partial<LdapAuthConfig>, pattern: RegExp, secrets?: Record<string, string>): void => {
    assert.throws(() => setup(config, secrets), pattern);
  };

  it('plain ldap:// needs starttls or an explicit allow_plaintext; ldaps:// with starttls is refused', () => {
    refuses({ url: 'ldap://ldap.example.org' }, /send passwords unencrypted/);
    setup({ url: 'ldap://ldap.example.org', starttls: true });
    setup({ url: 'ldap://127.0.0.1:389', allow_plaintext: true });
    refuses({ url: 'ldaps://ldap.example.org', starttls: true }, /encrypted already/);
  });

  it('exactly one of user_dn_template and search_base, each with {username}', () => {
    refuses({ user_dn_template: '' }, /set exactly one/);
    refuses({ search_base: PEOPLE }, /set exactly one/);
    refuses({ user_dn_template: `uid=admin,${PEOPLE}` }, /must contain \{username\}/);
    refuses({ ...SEARCH_MODE, search_filter: 'uid={username}' }, /parenthesised filter/);
    refuses({ ...SEARCH_MODE, search_filter: '(uid=alice)' }, /parenthesised filter/);
  });

  it('some way to get access must exist', () => {
    refuses({ admin_group_dn: '', read_group_dn: '' }, /nobody can ever get access/);
    setup({ admin_group_dn: '', read_group_dn: '', default_access: 'read' });
  });

  it('bind_dn without its password refuses to start, naming the [passwords] key', () => {
    assert.throws(() => setup(SEARCH_MODE, {}), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.SECRET_MISSING);
      assert.match(err.message, /\[passwords\] ldap_bind_password \(bind_password_key\) is not set/);
      return true;
    });
    refuses(SEARCH_MODE, /is empty/, { ldap_bind_password: '' });
  });

  it('an unreadable or non-PEM ca_file refuses to start', () => {
    refuses({ ca_file: '/nonexistent/ca.pem' }, /ca_file '\/nonexistent\/ca\.pem' cannot be read/);
    refuses({ ca_file: '/etc/hostname' }, /holds no PEM certificate/);
  });

  it('loads through the real core loader with its defaults', async () => {
    const report = await verifyPlugin('ldap_auth', {
      kind: 'authentication',
      config: { url: 'ldaps://ldap.example.org', user_dn_template: `uid={username},${PEOPLE}`, admin_group_dn: ADMINS },
    });
    assert.deepEqual(report.config, {
      ...BASE,
      timeout_ms: 5_000,
      read_group_dn: '',
    });
    await assert.rejects(verifyPlugin('ldap_auth', { kind: 'authentication', config: { user_dn_template: 'uid={username}' } }), /url/);
    await assert.rejects(verifyPlugin('ldap_auth', { kind: 'authentication', config: { url: 'http://x' } }), /url/);
    await assert.rejects(
      verifyPlugin('ldap_auth', { kind: 'authentication', config: { url: 'ldaps://x', user_dn_template: 'uid={username}', admin_group_dn: 'cn=a', member_attribute: 'a b' } }),
      /member_attribute/,
    );
  });
});
