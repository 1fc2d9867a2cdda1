import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bareHost, targetProblem } from './target-problem.js';

describe('targetProblem', () => {
  it('accepts addresses and host names', () => {
    for (const host of ['127.0.0.11', '::1', '[::1]', 'db1', 'db-1.example.com', 'db1.example.com.', 'pg_1.internal']) {
      assert.equal(targetProblem(host, 5432), undefined, host);
    }
  });

  it('rejects what cannot be a host', () => {
    for (const host of ['', '  ', 'two words', 'db1;rm', '-db', 'db..example', 'a'.repeat(64), 42, undefined]) {
      assert.match(targetProblem(host, 5432) ?? '', /hostname/, String(host));
    }
  });

  it('rejects ports outside 1-65535 and non-integers', () => {
    for (const port of [0, 65_536, -1, 5432.5, '5432', undefined]) {
      assert.match(targetProblem('db1', port) ?? '', /port/, String(port));
    }
  });

  it('strips the brackets of an IPv6 literal', () => {
    assert.equal(bareHost('[::1]'), '::1');
    assert.equal(bareHost('db1'), 'db1');
  });
});
