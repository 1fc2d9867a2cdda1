import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor, isSecretKey, REDACTED } from './redact.js';

describe('isSecretKey', () => {
  it('matches secret-looking keys in any case or spelling', () => {
    for (const key of ['password', 'PASSWORD', 'dbPassword', 'replication_passwd', 'pass', 'db_pass', 'secret', 'clientSecret',
      'token', 'x-auth-token', 'credentials', 'Authorization', 'pwd', 'api_key']) {
      assert.equal(isSecretKey(key), true, key);
    }
  });

  it('leaves ordinary keys alone', () => {
    for (const key of ['server', 'host', 'bypass', 'passive', 'message', 'port', 'user', 'compass']) {
      assert.equal(isSecretKey(key), false, key);
    }
  });
});

describe('createRedactor().redactText', () => {
  it('masks every occurrence of a known secret, including ones with regex characters', () => {
    const redactor = createRedactor(['hunter2', 'a.b*c(', '']);
    assert.equal(redactor.redactText('x hunter2 y hunter2'), `x ${REDACTED} y ${REDACTED}`);
    assert.equal(redactor.redactText('is a.b*c( here, not aXbbc('), `is ${REDACTED} here, not aXbbc(`);
  });

  it('masks the longer of two overlapping secrets whole', () => {
    const redactor = createRedactor(['abc', 'abcdef']);
    assert.equal(redactor.redactText('k=abcdef'), `k=${REDACTED}`);
  });

  it('masks password assignments in conninfo and environment strings even for unknown values', () => {
    const redactor = createRedactor([]);
    assert.equal(redactor.redactText('host=a password=zzz port=5432'), `host=a password=${REDACTED} port=5432`);
    assert.equal(redactor.redactText("host=a password = 'with space' user=b"), `host=a password = ${REDACTED} user=b`);
    assert.equal(redactor.redactText('PGPASSWORD=zzz psql -h a'), `PGPASSWORD=${REDACTED} psql -h a`);
    assert.equal(redactor.redactText('{"user":"u","password":"zzz"}'), `{"user":"u","password":"${REDACTED}"}`);
  });

  it('masks the password of a URL, up to the last @ of the authority', () => {
    const redactor = createRedactor([]);
    assert.equal(redactor.redactText('postgresql://rep:zz@z@db1:5432/postgres'), `postgresql://rep:${REDACTED}@db1:5432/postgres`);
    assert.equal(redactor.redactText('see http://db1:8080/x?to=a@b'), 'see http://db1:8080/x?to=a@b');
  });
});

describe('createRedactor().redactValue', () => {
  it('masks secret keys at any depth and secret values in any string, without touching the input', () => {
    const input = {
      server: 'pg1',
      password: 'zzz',
      nested: { list: [{ token: 't' }, 'uses hunter2'], conn: { conninfo: 'host=a password=hunter2' } },
    };
    const snapshot = structuredClone(input);
    const out = createRedactor(['hunter2']).redactValue(input);
    assert.deepEqual(out, {
      server: 'pg1',
      password: REDACTED,
      nested: { list: [{ token: REDACTED }, `uses ${REDACTED}`], conn: { conninfo: `host=a password=${REDACTED}` } },
    });
    assert.deepEqual(input, snapshot);
  });

  it('serialises errors with their causes and custom fields, masking them too', () => {
    const cause = new Error('auth failed for hunter2');
    const err = Object.assign(new Error('connect failed', { cause }), { code: 'E1', password: 'zzz' });
    const out = createRedactor(['hunter2']).redactValue({ err }) as { err: Record<string, unknown> };
    assert.equal(out.err.type, 'Error');
    assert.equal(out.err.code, 'E1');
    assert.equal(out.err.password, REDACTED);
    assert.match(String(out.err.message), /connect failed/);
    assert.doesNotMatch(JSON.stringify(out), /hunter2|zzz/);
  });

  it('replaces cycles but keeps an object shared by two siblings', () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic.self = cyclic;
    assert.deepEqual(createRedactor([]).redactValue(cyclic), { shared: { n: 1 }, again: { n: 1 }, self: '[Circular]' });
  });

  it('turns values JSON cannot carry into readable ones', () => {
    const throwing = {
      get bad(): string {
        throw new Error('no');
      },
    };
    const out = createRedactor(['hunter2']).redactValue({
      big: 10n,
      when: new Date(Date.UTC(2026, 0, 1)),
      map: new Map([['k', 'hunter2']]),
      set: new Set(['hunter2']),
      bytes: Buffer.from('hunter2'),
      fn: () => 1,
      throwing,
    });
    assert.deepEqual(out, {
      big: '10',
      when: '2026-01-01T00:00:00.000Z',
      map: { k: REDACTED },
      set: [REDACTED],
      bytes: '[Buffer 7 bytes]',
      throwing: { bad: '[Unreadable]' },
    });
  });

  it('cuts pathological nesting', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 100; i++) deep = { deep };
    assert.match(JSON.stringify(createRedactor([]).redactValue(deep)), /\[Truncated\]/);
  });
});

describe('createRedactor().redactSerialized', () => {
  it('masks a secret in its JSON-escaped form', () => {
    const secret = 'q"uo\\te';
    const line = JSON.stringify({ [`key-${secret}`]: 1 });
    const out = createRedactor([secret]).redactSerialized(line);
    assert.equal(JSON.parse(out)[`key-${REDACTED}`], 1);
  });
});
