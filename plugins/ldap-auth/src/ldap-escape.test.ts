import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeDnValue, escapeFilterValue } from './ldap-escape.js';

describe('escapeDnValue (RFC 4514)', () => {
  it('leaves ordinary names alone, Unicode included', () => {
    assert.equal(escapeDnValue('alice'), 'alice');
    assert.equal(escapeDnValue('jörg.müller-2'), 'jörg.müller-2');
    assert.equal(escapeDnValue('a#b c'), 'a#b c');
  });

  it('escapes the characters that would end or restructure the RDN', () => {
    assert.equal(escapeDnValue('alice,ou=admins'), 'alice\\,ou\\=admins');
    assert.equal(escapeDnValue('a+cn=b'), 'a\\+cn\\=b');
    assert.equal(escapeDnValue('"x";<y>'), '\\"x\\"\\;\\<y\\>');
    assert.equal(escapeDnValue('back\\slash'), 'back\\\\slash');
  });

  it('escapes a leading space or #, a trailing space, and control characters', () => {
    assert.equal(escapeDnValue(' lead'), '\\ lead');
    assert.equal(escapeDnValue('#hash'), '\\#hash');
    assert.equal(escapeDnValue('trail '), 'trail\\ ');
    assert.equal(escapeDnValue(' '), '\\ ');
    assert.equal(escapeDnValue('  '), '\\ \\ ');
    assert.equal(escapeDnValue('a\\ '), 'a\\\\\\ ');
    assert.equal(escapeDnValue('nul\u0000x\n'), 'nul\\00x\\0a');
  });

  it('filter characters are not special in a DN and stay as they are', () => {
    assert.equal(escapeDnValue('*)(uid=*'), '*)(uid\\=*');
  });
});

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes *, (, ), \\ and NUL as hex pairs', () => {
    assert.equal(escapeFilterValue('*)(uid=*'), '\\2a\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('ali*'), 'ali\\2a');
    assert.equal(escapeFilterValue('a\\b'), 'a\\5cb');
    assert.equal(escapeFilterValue('x\u0000'), 'x\\00');
  });

  it('leaves ordinary names alone', () => {
    assert.equal(escapeFilterValue('alice'), 'alice');
    assert.equal(escapeFilterValue('jörg,ou=x'), 'jörg,ou=x');
  });
});
