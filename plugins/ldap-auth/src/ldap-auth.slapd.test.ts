import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuthDecision, AuthenticationPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, makeTestCertificates, opensslMissing } from '@handyrep/plugin-sdk/testing';
import type { TestCertificates, TestContext } from '@handyrep/plugin-sdk/testing';
import { Client } from 'ldapts';
import type { LdapAuthConfig } from './config.js';
import { plugin } from './plugin.js';
import { Slapd, slapdMissing } from './test-support/slapd-server.js';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;
const ADMINS = `cn=hr-admins,ou=groups,${SUFFIX}`;
const READERS = `cn=hr-readers,ou=groups,${SUFFIX}`;
const SERVICE_DN = `cn=handyrep,ou=services,${SUFFIX}`;
const SERVICE_PW = 'svc-Secret-91';

const user = (uid: string, ou: string, password: string): string =>
  `dn: uid=${uid},${ou}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nuserPassword: ${password}\n`;

const LDIF = [
  `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n`,
  ...['people', 'groups', 'services'].map((ou) => `dn: ou=${ou},${SUFFIX}\nobjectClass: organizationalUnit\nou: ${ou}\n`),
  `dn: ou=robots,${PEOPLE}\nobjectClass: organizationalUnit\nou: robots\n`,
  user('alice', PEOPLE, 'alice-pw'),
  user('bob', PEOPLE, 'bob-pw'),
  user('carol', PEOPLE, 'carol-pw'),
  // Reached by an unescaped user name `alice,ou=robots`; an admin, so a missing escape would show.
  user('alice', `ou=robots,${PEOPLE}`, 'robot-pw'),
  // Two entries with uid=twin directly under people: a search for `twin` is ambiguous.
  ...['a', 'b'].map((n) => `dn: cn=twin-${n},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: twin\ncn: twin-${n}\nsn: twin\nuserPassword: twin-pw\n`),
  `dn: ${SERVICE_DN}\nobjectClass: person\ncn: handyrep\nsn: service\nuserPassword: ${SERVICE_PW}\n`,
  `dn: ${ADMINS}\nobjectClass: groupOfNames\ncn: hr-admins\nmember: uid=alice,${PEOPLE}\nmember: uid=alice,ou=robots,${PEOPLE}\n`,
  `dn: ${READERS}\nobjectClass: groupOfNames\ncn: hr-readers\nmember: uid=bob,${PEOPLE}\n`,
].join('\n');

const missing = opensslMissing() ?? slapdMissing();
if (missing) console.log(`# ldap_auth tests against a real slapd SKIPPED: ${missing}`);

describe('ldap_auth against a real slapd', { skip: missing }, () => {
  let dir: string;
  let certs: TestCertificates;
  let slapd: Slapd;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'handyrep-slapd-'));
    certs = makeTestCertificates();
    slapd = await Slapd.start({ dir, suffix: SUFFIX, ldif: LDIF, tls: certs });
  });
  after(async () => {
    await slapd?.stop();
    certs?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function auth(config: Partial<LdapAuthConfig>, secrets: Record<string, string> = {}): { auth: Promise<AuthenticationPlugin>; kit: TestContext<LdapAuthConfig> } {
    const kit = createTestContext<LdapAuthConfig>({
      name: 'ldap_auth',
      config: {
        url: slapd.ldapsUrl,
        starttls: false,
        ca_file: certs.caFile,
        allow_plaintext: false,
        timeout_ms: 5_000,
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
        ...config,
      },
      secrets,
    });
    return { auth: Promise.resolve(plugin.create(kit.context)), kit };
  }

  async function decide(config: Partial<LdapAuthConfig>, username: string, password: string, secrets?: Record<string, string>): Promise<AuthDecision> {
    return (await auth(config, secrets).auth).authenticate({ username, password });
  }

  it('the test server is as dangerous as promised: a DN with an empty password binds anonymously', async () => {
    const client = new Client({ url: slapd.ldapUrl, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await client.bind(`uid=alice,${PEOPLE}`, '');
      assert.equal(await client.compare(ADMINS, 'member', `uid=alice,${PEOPLE}`), true);
    } finally {
      await client.unbind();
    }
  });

  for (const [label, transport] of [
    ['ldaps://', {}],
    ['ldap:// + StartTLS', { starttls: true }],
  ] as const) {
    it(`${label}, direct bind: admin group → admin, read group → read, neither → no`, async () => {
      const config: Partial<LdapAuthConfig> = label === 'ldaps://' ? transport : { ...transport, url: slapd.ldapUrl };
      const { auth: pending, kit } = auth(config);
      const ldap = await pending;
      const alice = await ldap.authenticate({ username: 'alice', password: 'alice-pw' });
      assert.equal(alice.authenticated, true, alice.details);
      assert.equal(alice.access, 'admin');
      assert.equal(alice.details, `LDAP bind as uid=alice,${PEOPLE} accepted; member of ${ADMINS}: admin access`);
      const bob = await ldap.authenticate({ username: 'bob', password: 'bob-pw' });
      assert.equal(bob.access, 'read', bob.details);
      const carol = await ldap.authenticate({ username: 'carol', password: 'carol-pw' });
      assert.equal(carol.authenticated, false);
      assert.match(carol.details, /member of neither/);
      assert.ok(!/alice-pw|bob-pw|carol-pw/.test(kit.logger.text()));
    });
  }

  it('wrong password, unknown user, empty password → not authenticated', async () => {
    assert.deepEqual(await decide({}, 'alice', 'bob-pw'), { authenticated: false, details: 'wrong user name or password' });
    assert.deepEqual(await decide({}, 'mallory', 'x'), { authenticated: false, details: 'wrong user name or password' });
    assert.deepEqual(await decide({}, 'alice', ''), { authenticated: false, details: 'a password is required' });
  });

  it('DN injection: `alice,ou=robots` with that entry\'s password is refused (escaped per RFC 4514)', async () => {
    // Sanity: that entry exists, has that password and is an admin, so only the escaping stands in the way.
    const client = new Client({ url: slapd.ldapUrl, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await client.bind(`uid=alice,ou=robots,${PEOPLE}`, 'robot-pw');
      assert.equal(await client.compare(ADMINS, 'member', `uid=alice,ou=robots,${PEOPLE}`), true);
    } finally {
      await client.unbind();
    }
    const decision = await decide({}, 'alice,ou=robots', 'robot-pw');
    assert.equal(decision.authenticated, false, decision.details);
    assert.equal(decision.details, 'wrong user name or password');
    for (const username of ['*)(uid=*', 'alice,dc=example', 'alice+cn=x', 'alice\\']) {
      assert.equal((await decide({}, username, 'alice-pw')).authenticated, false, username);
    }
  });

  it('search-then-bind with a service account: admin/read/neither, filter injection refused, duplicates refused', async () => {
    const secrets = { ldap_bind_password: SERVICE_PW };
    // Scope one: the robots' second `alice` below ou=robots stays out of the search.
    const config: Partial<LdapAuthConfig> = {
      user_dn_template: '',
      search_base: PEOPLE,
      search_scope: 'one',
      search_filter: '(&(objectClass=inetOrgPerson)(uid={username}))',
      bind_dn: SERVICE_DN,
    };
    const { auth: pending, kit } = auth(config, secrets);
    const ldap = await pending;
    const alice = await ldap.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.equal(alice.access, 'admin', alice.details);
    assert.equal((await ldap.authenticate({ username: 'bob', password: 'bob-pw' })).access, 'read');
    assert.equal((await ldap.authenticate({ username: 'carol', password: 'carol-pw' })).authenticated, false);
    assert.equal((await ldap.authenticate({ username: 'alice', password: 'wrong' })).authenticated, false);
    // Unescaped, `ali*` would find exactly alice and bind with her password.
    for (const username of ['ali*', '*)(uid=*', '*', 'alice)(uid=bob']) {
      const decision = await ldap.authenticate({ username, password: 'alice-pw' });
      assert.equal(decision.authenticated, false, `${username}: ${decision.details}`);
    }
    const twin = await ldap.authenticate({ username: 'twin', password: 'twin-pw' });
    assert.equal(twin.authenticated, false);
    assert.match(twin.details, /more than one entry/);
    assert.ok(!kit.logger.text().includes(SERVICE_PW));
  });

  it('search-then-bind with scope sub finds both `alice` entries and refuses rather than pick one', async () => {
    const decision = await decide({ user_dn_template: '', search_base: PEOPLE, search_scope: 'sub' }, 'alice', 'alice-pw');
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /more than one entry/);
  });

  it('search-then-bind anonymously, groups read as the user', async () => {
    const config: Partial<LdapAuthConfig> = { user_dn_template: '', search_base: PEOPLE, search_scope: 'one' };
    assert.equal((await decide(config, 'alice', 'alice-pw')).access, 'admin');
    assert.equal((await decide(config, 'bob', 'bob-pw')).access, 'read');
  });

  it('a wrong service password fails closed without revealing it', async () => {
    const config: Partial<LdapAuthConfig> = { user_dn_template: '', search_base: PEOPLE, search_scope: 'one', bind_dn: SERVICE_DN };
    const decision = await decide(config, 'alice', 'alice-pw', { ldap_bind_password: 'not-it-123' });
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /service account .* was refused/);
    assert.ok(!decision.details.includes('not-it-123'));
  });

  it('certificates are verified: another CA, or none, → not authenticated', async () => {
    for (const ca_file of [certs.otherCaFile, '']) {
      const over = await decide({ ca_file }, 'alice', 'alice-pw');
      assert.equal(over.authenticated, false, `ldaps with ca_file '${ca_file}'`);
      assert.match(over.details, /could not be completed: .*(certificate|verify)/i);
      const starttls = await decide({ ca_file, url: slapd.ldapUrl, starttls: true }, 'alice', 'alice-pw');
      assert.equal(starttls.authenticated, false, `StartTLS with ca_file '${ca_file}'`);
    }
  });

  it('allow_plaintext: plain ldap:// works only when explicitly allowed', async () => {
    assert.throws(() => auth({ url: slapd.ldapUrl }), /unencrypted/);
    assert.equal((await decide({ url: slapd.ldapUrl, allow_plaintext: true }, 'bob', 'bob-pw')).access, 'read');
  });

  it('a missing group fails closed, naming it', async () => {
    const decision = await decide({ admin_group_dn: `cn=nope,ou=groups,${SUFFIX}` }, 'alice', 'alice-pw');
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /cannot check membership of group cn=nope/);
  });

  it('slapd stopped: not authenticated, quickly, saying the server could not be reached', async () => {
    const { auth: pending } = auth({ timeout_ms: 2_000 });
    const ldap = await pending;
    await slapd.stop();
    const started = performance.now();
    const decision = await ldap.authenticate({ username: 'alice', password: 'alice-pw' });
    assert.equal(decision.authenticated, false);
    assert.match(decision.details, /could not be completed: .*(ECONNREFUSED|connect)/i);
    assert.ok(performance.now() - started < 2_500);
  });
});
