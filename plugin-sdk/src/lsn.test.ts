import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLsn, parseLsn } from './lsn.js';

describe('WAL positions', () => {
  it('parses and formats pg_lsn text', () => {
    assert.equal(parseLsn('0/3000148'), 0x3000148n);
    assert.equal(parseLsn('16/B374D848'), (0x16n << 32n) + 0xb374d848n);
    assert.equal(formatLsn(parseLsn('16/B374D848') ?? 0n), '16/B374D848');
    assert.equal(parseLsn(null), null);
    assert.equal(parseLsn(''), null);
  });

  it('orders positions across the 4 GiB boundary', () => {
    assert.ok((parseLsn('1/0') ?? 0n) > (parseLsn('0/FFFFFFFF') ?? 0n));
  });

  it('refuses text that is not a position', () => {
    assert.throws(() => parseLsn('0/3000148; DROP TABLE x'), /not a WAL position/);
    assert.throws(() => formatLsn(-1n), /negative/);
  });
});
