import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDaemonUrl, parseTimeout, readPasswordFile, remoteSettings } from './remote-settings.js';
import type { OptionSource } from './remote-settings.js';
import { UsageError } from './usage-error.js';

const usage = (message: RegExp) => (err: unknown): boolean => err instanceof UsageError && message.test(err.message);

describe('remote settings', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-cli-'));
    await writeFile(join(dir, 'pw'), 'first line\r\nsecond line\n');
    await writeFile(join(dir, 'empty'), '\nx\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('accepts http and https URLs only, without credentials', () => {
    assert.equal(parseDaemonUrl('http://127.0.0.1:8080').href, 'http://127.0.0.1:8080/');
    assert.throws(() => parseDaemonUrl('127.0.0.1:8080'), usage(/http:\/\/ or https:\/\//));
    assert.throws(() => parseDaemonUrl('ftp://h'), usage(/http:\/\/ or https:\/\//));
    assert.throws(() => parseDaemonUrl('http://admin:pw@h:1'), usage(/must not contain credentials/));
    assert.throws(() => parseDaemonUrl('http://h:1/?x=1'), usage(/query/));
  });

  it('takes timeouts as positive seconds', () => {
    assert.equal(parseTimeout('2.5'), 2.5);
    for (const bad of ['0', '-1', 'abc', '1e9', '']) assert.throws(() => parseTimeout(bad), usage(/--timeout/), bad);
  });

  it('reads the first line of a password file', async () => {
    assert.equal(await readPasswordFile(join(dir, 'pw')), 'first line');
    await assert.rejects(readPasswordFile(join(dir, 'empty')), usage(/empty first line/));
    await assert.rejects(readPasswordFile(join(dir, 'missing')), usage(/cannot read the password file/));
  });

  it('prefers the command line over the environment, and refuses two passwords from the same place', async () => {
    const from = (sources: Record<string, OptionSource>) => (name: string): OptionSource => sources[name];
    const file = join(dir, 'pw');
    const both = { url: 'http://127.0.0.1:1', password: 'direct', passwordFile: file };
    assert.equal((await remoteSettings(both, from({ password: 'env', passwordFile: 'cli' }))).password, 'first line');
    assert.equal((await remoteSettings(both, from({ password: 'cli', passwordFile: 'env' }))).password, 'direct');
    await assert.rejects(remoteSettings(both, from({ password: 'cli', passwordFile: 'cli' })), usage(/either --password and --password-file/));
    await assert.rejects(remoteSettings(both, from({ password: 'env', passwordFile: 'env' })), usage(/HANDYREP_PASSWORD and HANDYREP_PASSWORD_FILE/));
    const none = await remoteSettings({ url: 'http://127.0.0.1:1' }, from({}));
    assert.equal(none.password, undefined);
    assert.equal(none.username, '');
    assert.equal(none.timeoutSeconds, undefined);
  });

  it('reads a CA file for https only', async () => {
    const settings = await remoteSettings({ url: 'https://127.0.0.1:1', caFile: join(dir, 'pw') }, () => undefined);
    assert.equal(settings.ca?.toString('utf8').split('\r')[0], 'first line');
    await assert.rejects(remoteSettings({ url: 'http://127.0.0.1:1', caFile: join(dir, 'pw') }, () => undefined), usage(/needs an https/));
    await assert.rejects(remoteSettings({ url: 'https://127.0.0.1:1', caFile: join(dir, 'nope') }, () => undefined), usage(/cannot read the CA file/));
  });
});
