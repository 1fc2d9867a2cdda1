import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PLUGIN_API_VERSION } from './api-version.js';
import { definePlugin, isPluginDeclaration, PLUGIN_BRAND } from './define-plugin.js';
import { ErrorCodes, hasErrorCode, HandyRepError, UnknownServerError } from './errors.js';
import { missingKindMethods } from './kinds/kind-methods.js';
import { fail, failed, success, succeeded } from './return-dictionary.js';
import { shellJoin, shellQuote } from './shell-quote.js';
import { createTestContext } from './testing/test-context.js';

describe('shellQuote', () => {
  const nasty = ["it's", 'a b', '$(touch /tmp/x)', '`id`', 'a;b', 'x\ny', '"q"', '\\', '', '*', '-n'];
  it('gives the shell exactly the value, whatever it holds', () => {
    for (const value of nasty) {
      const echoed = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
      assert.equal(echoed, value, JSON.stringify(value));
    }
  });

  it('leaves plain words alone and refuses NUL', () => {
    assert.equal(shellQuote('/usr/lib/postgresql/15/bin/pg_ctl'), '/usr/lib/postgresql/15/bin/pg_ctl');
    assert.equal(shellQuote(5432), '5432');
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });

  it('joins an argument vector into one command line', () => {
    const line = shellJoin(['printf', '%s|', ...nasty]);
    assert.equal(execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' }), `${nasty.join('|')}|`);
    assert.throws(() => shellJoin([]), /empty/);
  });
});

describe('definePlugin', () => {
  const spec = {
    kind: 'promotion' as const,
    name: 'my_promote',
    description: 'x',
    configSchema: { type: 'object' as const, properties: {} },
    create: () => ({ promote: async () => success() }),
  };

  it('brands the declaration with the API version and freezes it', () => {
    const declaration = definePlugin(spec);
    assert.equal(declaration.$$type, PLUGIN_BRAND);
    assert.equal(declaration.apiVersion, PLUGIN_API_VERSION);
    assert.ok(isPluginDeclaration(declaration));
    assert.ok(Object.isFrozen(declaration));
    assert.equal(isPluginDeclaration({ kind: 'promotion' }), false);
  });

  it('refuses unknown kinds, bad names and missing schemas', () => {
    assert.throws(() => definePlugin({ ...spec, kind: 'teleport' } as unknown as typeof spec), /unknown kind 'teleport'/);
    assert.throws(() => definePlugin({ ...spec, name: 'My-Plugin' }), /lower case/);
    assert.throws(() => definePlugin({ ...spec, configSchema: { type: 'string' } as never }), /object configSchema/);
  });

  it('names the methods an instance lacks for its kind', () => {
    assert.deepEqual(missingKindMethods('control', { start() {}, stop() {} }), ['faststop', 'restart', 'reload', 'status']);
    assert.deepEqual(missingKindMethods('promotion', null), ['promote']);
  });
});

describe('return dictionaries and errors', () => {
  it('builds the spec shape with extra keys', () => {
    assert.deepEqual(success('done', { lag_mb: 1 }), { result: 'SUCCESS', details: 'done', lag_mb: 1 });
    assert.deepEqual(fail('nope'), { result: 'FAIL', details: 'nope' });
    assert.ok(succeeded(success()) && failed(fail('x')));
  });

  it('carries stable codes, also across package copies', () => {
    const err = new UnknownServerError('ringo');
    assert.ok(err instanceof HandyRepError);
    assert.equal(err.code, ErrorCodes.UNKNOWN_SERVER);
    assert.ok(hasErrorCode({ code: 'HR_UNKNOWN_SERVER' }, ErrorCodes.UNKNOWN_SERVER));
    assert.equal(new Set(Object.values(ErrorCodes)).size, Object.values(ErrorCodes).length, 'codes are unique');
  });
});

describe('testing kit', () => {
  it('records commands and statements and answers from responders', async () => {
    const { context, shell, sql } = createTestContext({ servers: [{ name: 'db1', role: 'master' }], secrets: { superuser_password: 's' } });
    shell.when(/pg_ctl/, { exitCode: 3, stderr: 'no server running' });
    sql.when(/pg_is_in_recovery/, [{ in_recovery: false }], 'db1');
    const result = await context.shell.run('db1', ['pg_ctl', 'status', '-D', '/data dir']);
    assert.equal(result.exitCode, 3);
    assert.equal(shell.commands[0]?.command, "pg_ctl status -D '/data dir'");
    assert.deepEqual(await context.sql.query({ server: 'db1' }, 'SELECT pg_is_in_recovery() AS in_recovery'), [{ in_recovery: false }]);
    assert.equal(context.servers.master()?.name, 'db1');
    assert.throws(() => context.servers.get('nope'), /unknown server 'nope'/);
    assert.equal(context.secrets.require('superuser_password'), 's');
    assert.throws(() => context.secrets.require('missing'), /not set/);
  });
});
