import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, ErrorCodes } from '@handyrep/plugin-sdk';
import { writeTempConfig } from '../test-support/temp-config.js';
import { loadConfig } from './load-config.js';

async function problemsOf(text: string): Promise<ConfigError> {
  const temp = await writeTempConfig(text);
  try {
    await loadConfig(temp.file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  } finally {
    await temp.cleanup();
  }
  assert.fail('the config was accepted');
}

describe('loadConfig', () => {
  it('applies defaults, coerces strings and resolves paths relative to the file', async () => {
    const temp = await writeTempConfig(
      ['[handyrep]', 'log_file = logs/hr.log', '[failover]', 'poll_interval = 2.5', 'fail_retries = 4', 'auto_failover = true',
        '[servers.db1]', 'hostname = 127.0.0.1', 'role = master', 'port = 5433', '[passwords]', 'superuser_password = 12345'].join('\n'),
    );
    try {
      const { config, file } = await loadConfig(temp.file);
      assert.equal(file, temp.file);
      assert.equal(config.failover.poll_interval, 2.5);
      assert.equal(config.failover.fail_retries, 4);
      assert.equal(config.failover.auto_failover, true);
      assert.equal(config.failover.verify_frequency, 6, 'default applied');
      assert.equal(config.handyrep.log_file, `${temp.dir}/logs/hr.log`);
      assert.equal(config.handyrep.server_file, `${temp.dir}/servers.save`);
      assert.equal(config.servers['db1']?.['port'], 5433);
      assert.equal(config.servers['db1']?.['pgdata'], undefined, 'server sections get no defaults of their own');
      assert.equal(config.server_defaults['pgdata'], '/var/lib/postgresql/15/main');
      assert.equal(config.passwords['superuser_password'], '12345', 'a numeric-looking password stays a string');
    } finally {
      await temp.cleanup();
    }
  });

  it('lists five different mistakes at once, each with section and key, in file order', async () => {
    const err = await problemsOf(
      ['[handyrep]', 'colour = blue', '[failover]', 'poll_interval = soon', 'verify_frequency = 0',
        '[servers.db1]', 'role = master', '[servers.db2]', 'hostname = h2', 'role = replica', 'port = http'].join('\n'),
    );
    assert.equal(err.code, ErrorCodes.CONFIG_INVALID);
    assert.deepEqual(
      err.problems.map((p) => [p.section, p.key]),
      [
        ['handyrep', 'colour'],
        ['failover', 'poll_interval'],
        ['failover', 'verify_frequency'],
        ['servers.db1', 'hostname'],
        ['servers.db2', 'port'],
      ],
    );
    assert.match(err.message, /\[handyrep\] colour: unknown key \(line 2\)/);
    assert.match(err.message, /\[failover\] poll_interval: must be a number \(got "soon"\)/);
    assert.match(err.message, /\[servers\.db1\] hostname: is required/);
  });

  it('reports a key of another section, a bad value in server_defaults and an unknown section', async () => {
    const err = await problemsOf(['[server_defaults]', 'ssh_host_key_policy = x', 'nofailover = perhaps', '[mystery]', 'a = 1'].join('\n'));
    assert.deepEqual(
      err.problems.map((p) => `${p.section}/${p.key}`),
      ['server_defaults/ssh_host_key_policy', 'server_defaults/nofailover', 'mystery/'],
    );
    assert.equal(err.problems[0]?.message, 'unknown key');
    assert.match(err.problems[1]?.message ?? '', /boolean/);
    assert.equal(err.problems[2]?.message, 'unknown section');
  });

  it('refuses hostname and role in server_defaults and unsafe server names', async () => {
    const err = await problemsOf(['[server_defaults]', 'hostname = x', '[servers.bad$name]', 'hostname = h', 'role = replica'].join('\n'));
    const pairs = err.problems.map((p) => `${p.section}/${p.key}`);
    assert.ok(pairs.includes('server_defaults/hostname'), pairs.join(' '));
    assert.ok(pairs.some((pair) => pair.startsWith('servers.bad$name')), pairs.join(' '));
  });

  it('names a missing file', async () => {
    await assert.rejects(loadConfig('/nonexistent/handyrep.conf'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, ErrorCodes.CONFIG_FILE_MISSING);
      assert.match(err.message, /\/nonexistent\/handyrep\.conf does not exist/);
      return true;
    });
  });

  it('refuses a malformed file, naming the file and the lines', async () => {
    const err = await problemsOf(['[handyrep', 'log_file = x', 'just some words', '[failover]', 'poll_interval = 1'].join('\n'));
    assert.equal(err.code, ErrorCodes.CONFIG_MALFORMED);
    assert.match(err.message, /handyrep\.conf is malformed/);
    assert.match(err.message, /line 1 /);
    assert.match(err.message, /line 3 /);
    assert.equal(err.problems.length, 2);
  });

  it('checks that archive_server names a server', async () => {
    const err = await problemsOf(['[archive]', 'archive_server = vault', '[servers.db1]', 'hostname = h', 'role = master'].join('\n'));
    assert.deepEqual(err.problems.map((p) => `${p.section}/${p.key}`), ['archive/archive_server']);
  });
});
