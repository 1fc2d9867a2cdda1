import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { API_FUNCTIONS } from '../api/api-functions.js';

const docs = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

describe('docs/cli.md', () => {
  it('lists every function of the API table with its web availability', () => {
    for (const fn of API_FUNCTIONS) {
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${fn.spec}\` |`));
      assert.ok(row, `${fn.spec} is missing from the function table`);
      const method = fn.access === 'read' && fn.checks?.({}) !== true ? 'GET' : 'POST';
      assert.ok(row.endsWith(fn.web ? `| ${method}, ${fn.access} |` : '| library only |'), `${fn.spec}: ${row}`);
      for (const param of fn.params) assert.ok(row.includes(param.name), `${fn.spec}: ${param.name} missing from ${row}`);
    }
  });
});
