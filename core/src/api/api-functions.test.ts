import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HandyRep } from '../handyrep.js';
import { API_FUNCTIONS } from './api-functions.js';

const docs = readFileSync(new URL('../../../docs/library-api.md', import.meta.url), 'utf8');

describe('API function table', () => {
  it('maps every entry to a HandyRep method of that name', () => {
    const prototype = HandyRep.prototype as unknown as Record<string, unknown>;
    for (const fn of API_FUNCTIONS) assert.equal(typeof prototype[fn.method], 'function', `${fn.spec} → ${fn.method}`);
  });

  it('covers every function of the spec', () => {
    const spec = readFileSync(new URL('../../../docs/spec/handyrep-library-api.rst', import.meta.url), 'utf8');
    const headings = [...spec.matchAll(/^([a-z_]+)\n-{3,}$/gm)].map((match) => match[1]);
    const known = new Set(API_FUNCTIONS.map((fn) => fn.spec));
    for (const heading of headings) assert.ok(known.has(heading ?? ''), `spec function ${heading} is in the table`);
    assert.ok(headings.length >= 30, `read ${headings.length} spec functions`);
  });

  it('is documented row by row in docs/library-api.md', () => {
    for (const fn of API_FUNCTIONS) assert.match(docs, new RegExp(`\\| \`${fn.spec}\` \\| \`${fn.method}\\(`), fn.spec);
  });

  it('keeps the spec names unique and parameter names in the spec style', () => {
    assert.equal(new Set(API_FUNCTIONS.map((fn) => fn.spec)).size, API_FUNCTIONS.length);
    for (const fn of API_FUNCTIONS) for (const param of fn.params) assert.match(param.name, /^[a-z_]+$/, `${fn.spec}.${param.name}`);
  });
});
