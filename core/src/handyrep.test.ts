import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, ErrorCodes } from '@handyrep/plugin-sdk';
import { HandyRep } from './handyrep.js';
import { fixturePlugin, writeTempConfig } from './test-support/temp-config.js';
import type { TempConfig } from './test-support/temp-config.js';

const SECRET = 'Sup3r-S3cret-Pa55';

const CONFIG = [
  '[handyrep]',
  'log_file = handyrep.log',
  'postgres_superuser = postgres',
  '[failover]',
  'poll_interval = 2',
  '[server_defaults]',
  'lag_limit = 50',
  '[servers.john]',
  'hostname = 127.0.0.1',
  'role = master',
  '[servers.paul]',
  'hostname = 127.0.0.2',
  'role = replica',
  'failover_priority = 1',
  '[servers.bouncer]',
  'hostname = 127.0.0.3',
  'role = pgbouncer',
  'port = 6432',
  'enabled = false',
  '[passwords]',
  `superuser_password = ${SECRET}`,
  `replication_password = ${SECRET}-repl`,
].join('\n');

describe('HandyRep information API', () => {
  let temp: TempConfig;
  let hr: HandyRep;

  before(async () => {
    temp = await writeTempConfig(CONFIG);
    hr = await HandyRep.open(temp.file);
  });

  after(async () => {
    await hr.close();
    await temp.cleanup();
  });

  it('get_status returns the cluster and every server like the spec example', async () => {
    const status = await hr.getStatus();
    assert.ok('cluster' in status && 'servers' in status);
    assert.deepEqual(Object.keys(status.cluster).sort(), ['acting_instance', 'replication_slots', 'status', 'status_message', 'status_no', 'status_ts', 'this_instance_acts']);
    assert.deepEqual(status.cluster.replication_slots, [], 'use_slots is on by default; no check has read the master yet');
    assert.equal(status.cluster.status, 'unknown');
    assert.equal(status.cluster.status_no, 0);
    assert.deepEqual(Object.keys(status.servers), ['john', 'paul', 'bouncer']);
    assert.deepEqual(status.servers['john'], {
      hostname: '127.0.0.1',
      enabled: true,
      role: 'master',
      status: 'unknown',
      status_no: 0,
      status_ts: '',
      status_message: '',
    });
    assert.equal(status.servers['bouncer']?.enabled, false);
  });

  it('get_status refuses an unknown check_type and says poll/verify are not here yet', async () => {
    const bad = await hr.getStatus('sometimes' as unknown);
    assert.equal((bad as { result?: string }).result, 'FAIL');
    assert.match((bad as { details: string }).details, /check_type must be one of cached, poll, verify/);
    const poll = await hr.getStatus('poll');
    assert.equal((poll as { result?: string }).result, 'FAIL');
  });

  it('get_cluster_status returns the four status fields', async () => {
    const cluster = await hr.getClusterStatus();
    assert.deepEqual(Object.keys(cluster).sort(), ['status', 'status_message', 'status_no', 'status_ts']);
  });

  it('get_master_name names the enabled master', () => {
    assert.equal(hr.getMasterName(), 'john');
  });

  it('get_server_info merges server_defaults, returns one or all servers, and names an unknown one', async () => {
    const one = await hr.getServerInfo('paul');
    assert.deepEqual(Object.keys(one), ['paul']);
    const paul = (one as Record<string, Record<string, unknown>>)['paul'];
    assert.equal(paul?.['lag_limit'], 50, 'from [server_defaults]');
    assert.equal(paul?.['failover_priority'], 1, 'from [servers.paul]');
    assert.equal(paul?.['port'], 5432, 'schema default');
    assert.equal(paul?.['status'], 'unknown');
    const all = await hr.getServerInfo();
    assert.deepEqual(Object.keys(all), ['john', 'paul', 'bouncer']);
    const unknown = await hr.getServerInfo('ringo');
    assert.deepEqual(unknown, { result: 'FAIL', details: "unknown server 'ringo'" });
    const wrongType = await hr.getServerInfo(42 as unknown as string);
    assert.equal((wrongType as { result?: string }).result, 'FAIL');
  });

  it('get_setting reads [handyrep] by name and other sections by path', async () => {
    assert.deepEqual(await hr.getSetting('postgres_superuser'), {
      result: 'SUCCESS',
      details: '',
      setting: 'handyrep.postgres_superuser',
      value: 'postgres',
    });
    assert.equal((await hr.getSetting(['failover', 'poll_interval'])).value, 2);
    assert.equal((await hr.getSetting(['servers', 'paul', 'hostname'])).value, '127.0.0.2');
    const missing = await hr.getSetting('poll_interval');
    assert.equal(missing.result, 'FAIL');
    assert.match(missing.details, /no setting \[handyrep\] poll_interval; did you mean \[failover\] poll_interval\?/);
  });

  it('get_setting refuses passwords whatever the spelling or path', async () => {
    const attempts: (string | string[])[] = [
      ['passwords', 'superuser_password'],
      ['PASSWORDS', 'superuser_password'],
      [' passwords ', 'superuser_password'],
      ['passwords'],
      'passwords.superuser_password',
      'superuser_password',
      ['handyrep', 'superuser_password'],
      ['passwords/superuser_password'],
      [],
    ];
    for (const attempt of attempts) {
      const answer = await hr.getSetting(attempt);
      assert.equal(answer.result, 'FAIL', JSON.stringify(attempt));
      assert.ok(!JSON.stringify(answer).includes(SECRET), JSON.stringify(attempt));
    }
  });

  it('set_verbose switches debug logging and read_log returns entries newest first', async () => {
    assert.equal((await hr.setVerbose(true)).result, 'SUCCESS');
    assert.equal((await hr.setVerbose('maybe' as unknown as boolean)).result, 'FAIL');
    const lines = await hr.readLog(2);
    assert.ok(Array.isArray(lines));
    assert.equal(lines.length, 2);
    assert.match(String(lines[0]), /verbose logging on/);
    assert.equal((await hr.readLog(0) as { result?: string }).result, 'FAIL');
  });

  it('writes the server file at first start and never a password into it or the log', async () => {
    const saved = await readFile(join(temp.dir, 'servers.save'), 'utf8');
    assert.ok(JSON.parse(saved).servers.john);
    assert.ok(!saved.includes(SECRET));
    const log = await readFile(join(temp.dir, 'handyrep.log'), 'utf8');
    assert.ok(log.length > 0);
    assert.ok(!log.includes(SECRET));
  });
});

describe('HandyRep.open', () => {
  it('fails naming the file when it is missing', async () => {
    await assert.rejects(HandyRep.open('/nonexistent/dir/handyrep.conf'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, ErrorCodes.CONFIG_FILE_MISSING);
      assert.match(err.message, /\/nonexistent\/dir\/handyrep\.conf/);
      return true;
    });
  });

  it('fails when a plugin factory throws, naming the plugin', async () => {
    const temp = await writeTempConfig(
      ['[handyrep]', 'log_file = hr.log', '[failover]', `poll_method = ${fixturePlugin('factory-throws')}`, '[servers.a]', 'hostname = h', 'role = master'].join('\n'),
    );
    try {
      await assert.rejects(HandyRep.open(temp.file), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, ErrorCodes.PLUGIN_FACTORY_FAILED);
        assert.match(err.message, /factory-throws.*failed to start: cannot open \/dev\/nonexistent-device/);
        return true;
      });
    } finally {
      await temp.cleanup();
    }
  });

  it('keeps the saved state canonical across restarts and reads the log of the previous run', async () => {
    const temp = await writeTempConfig(['[handyrep]', 'log_file = hr.log', '[servers.a]', 'hostname = h1', 'role = master'].join('\n'));
    try {
      const first = await HandyRep.open(temp.file);
      await first.setVerbose(false);
      await first.close();
      // The file now names a different host; the saved state wins unless override_server_file is set.
      await writeTempConfigInto(temp.file, ['[handyrep]', 'log_file = hr.log', '[servers.a]', 'hostname = h2', 'role = master'].join('\n'));
      const second = await HandyRep.open(temp.file);
      const info = (await second.getServerInfo('a')) as Record<string, { hostname: string }>;
      assert.equal(info['a']?.hostname, 'h1');
      const log = await second.readLog(20);
      assert.ok(Array.isArray(log) && log.some((line) => /verbose logging off/.test(line)), 'entry from the first run');
      await second.close();
      await writeTempConfigInto(
        temp.file,
        ['[handyrep]', 'log_file = hr.log', 'override_server_file = true', '[servers.a]', 'hostname = h2', 'role = master'].join('\n'),
      );
      const third = await HandyRep.open(temp.file);
      const overridden = (await third.getServerInfo('a')) as Record<string, { hostname: string }>;
      assert.equal(overridden['a']?.hostname, 'h2');
      await third.close();
    } finally {
      await temp.cleanup();
    }
  });
});

async function writeTempConfigInto(file: string, text: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, text);
}
