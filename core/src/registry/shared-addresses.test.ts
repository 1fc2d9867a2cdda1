import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedAddressWarnings } from './shared-addresses.js';

describe('PostgreSQL servers defined more than once', () => {
  it('warns once per address shared by two or more PostgreSQL definitions, naming them', () => {
    const warnings = sharedAddressWarnings([
      { name: 'pg1', role: 'master', hostname: '10.0.0.1', port: 5432 },
      { name: 'pg2', role: 'replica', hostname: '10.0.0.2', port: 5432 },
      { name: 'pg2_copy', role: 'replica', hostname: '10.0.0.2', port: 5432 },
      { name: 'pg2_old', role: 'replica', hostname: '10.0.0.2', port: 5432 },
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /^servers pg2, pg2_copy, pg2_old all name the PostgreSQL at 10\.0\.0\.2:5432/);
  });

  it('nothing for distinct addresses, another port on the same host, or a pooler beside its PostgreSQL', () => {
    assert.deepEqual(
      sharedAddressWarnings([
        { name: 'pg1', role: 'master', hostname: 'db1', port: 5432 },
        { name: 'pg2', role: 'replica', hostname: 'db1', port: 5433 },
        { name: 'bouncer', role: 'pgbouncer', hostname: 'db1', port: 5432 },
      ]),
      [],
    );
  });
});
