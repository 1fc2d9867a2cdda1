// The running daemon's defences (issue 14): Host and Origin checks, the
// login rate limit, checks only by POST, reload_conf only of its own file,
// and zero_auth only on loopback. Servers are fakes: every SSH command and
// SQL statement the daemon runs is recorded, so "ran nothing" is checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeShell, FakeSql } from '@handyrep/plugin-sdk/testing';
import { writeTempConfig } from '../test-support/temp-config.js';
import type { TempConfig } from '../test-support/temp-config.js';
import { startDaemon } from './daemon.js';
import type { Daemon } from './daemon.js';

const ADMIN = 'Adm1n-Pass';
const READ = 'Re4d-Pass';
const CLI = fileURLToPath(new URL('../../bin/handyrep.js', import.meta.url));

const CONFIG = (extra: string[] = []): string =>
  [
    '[handyrep]',
    'authentication_method = simple_password_auth',
    'log_file = handyrep.log',
    ...extra,
    '[failover]',
    'poll_interval = 3600',
    '[servers.pg1]',
    'hostname = 127.0.0.1',
    'role = master',
    '[servers.pg2]',
    'hostname = 127.0.0.2',
    'role = replica',
    '[passwords]',
    `admin_password = ${ADMIN}`,
    `read_password = ${READ}`,
  ].join('\n');

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { result?: string; details?: string } | undefined;
}

/** One HTTP request with any Host header (fetch would not send a foreign one), bounded by 10 s. */
function send(url: string, init: { method?: string; path: string; headers?: Record<string, string>; body?: unknown }): Promise<Answer> {
  const base = new URL(url);
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        path: init.path,
        timeout: 10_000,
        headers: { host: base.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => {
          let json: Answer['json'];
          try {
            json = JSON.parse(text) as Answer['json'];
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

describe('daemon web security', () => {
  let temp: TempConfig;
  let daemon: Daemon;
  const shell = new FakeShell();
  const sql = new FakeSql();
  const admin = { authorization: basic('admin', ADMIN) };

  before(async () => {
    temp = await writeTempConfig(CONFIG());
    daemon = await startDaemon(temp.file, { port: 0, capabilities: { shell, sql } });
    // No periodic checks: whatever is recorded from here on was set off by a request.
    await daemon.hr.stopMonitor();
  });

  after(async () => {
    await daemon?.stop();
    await temp?.cleanup();
  });

  it('answers its own names: the listen address, localhost, 127.0.0.1', async () => {
    const port = new URL(daemon.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST.:${port}`]) {
      assert.equal((await send(daemon.url, { path: '/get_master_name', headers: { ...admin, host } })).status, 200, host);
    }
  });

  it('refuses a foreign Host with 403 before authentication, and logs it', async () => {
    const port = new URL(daemon.url).port;
    for (const host of [`rebind.attacker.example:${port}`, 'rebind.attacker.example', `127.0.0.1.nip.io:${port}`]) {
      const answer = await send(daemon.url, { method: 'POST', path: '/manual_failover', headers: { ...admin, host }, body: { newmaster: 'pg2' } });
      assert.equal(answer.status, 403, `Host ${host}`);
      assert.equal(answer.json?.result, 'FAIL');
    }
    assert.equal((await send(daemon.url, { path: '/healthz', headers: { host: 'rebind.attacker.example' } })).status, 403);
    assert.equal(daemon.hr.getMasterName(), 'pg1', 'no failover ran');
    assert.match(await readFile(join(temp.dir, 'handyrep.log'), 'utf8'), /refused a web request for Host \\"rebind\.attacker\.example/);
  });

  it('refuses a foreign Host or Origin on GET /get_status (the fast path) after the same credentials were accepted', async () => {
    const port = new URL(daemon.url).port;
    const read = { authorization: basic('read', READ) };
    assert.equal((await send(daemon.url, { path: '/get_status', headers: read })).status, 200);
    assert.equal((await send(daemon.url, { path: '/get_status', headers: read })).status, 200);
    assert.equal((await send(daemon.url, { path: '/get_status', headers: { ...read, host: `rebind.attacker.example:${port}` } })).status, 403);
    assert.equal((await send(daemon.url, { path: '/get_status', headers: { ...read, origin: 'http://evil.example' } })).status, 403);
    assert.equal((await send(daemon.url, { path: '/get_status', headers: { authorization: basic('read', 'not-it') } })).status, 401);
  });

  it('refuses a POST from a foreign Origin with 403, and takes its own', async () => {
    const port = new URL(daemon.url).port;
    const before = shell.commands.length;
    for (const origin of ['http://rebind.attacker.example', `http://evil.example:${port}`, 'null', `https://127.0.0.1:${port}`]) {
      const answer = await send(daemon.url, { path: '/pause', headers: { ...admin, origin }, body: {} });
      assert.equal(answer.status, 403, `Origin ${origin}`);
      assert.match(answer.json?.details ?? '', /another origin/);
    }
    assert.equal(daemon.hr.pausedSince(), undefined, 'nothing paused');
    assert.equal(shell.commands.length, before);
    const own = await send(daemon.url, { path: '/verify_all', headers: { ...admin, origin: `http://127.0.0.1:${port}` }, body: {} });
    assert.equal(own.status, 200, 'the dashboard\'s own origin');
  });

  it('GET on verify_all (and any check) is refused with 405 and runs no SSH command; POST runs it', async () => {
    const before = { ssh: shell.commands.length, sql: sql.queries.length };
    for (const path of ['/verify_all', '/verify_server?servername=pg2', '/poll_all', '/poll?servername=pg1', '/poll_master', '/get_status?check_type=verify', '/get_status?check_type=poll', '/get_server_info?verify=true', '/get_cluster_status?verify=true']) {
      const answer = await send(daemon.url, { path, headers: { authorization: basic('read', READ) } });
      assert.equal(answer.status, 405, path);
      assert.equal(answer.headers['allow'], 'POST', path);
      assert.match(answer.json?.details ?? '', /use POST/, path);
    }
    assert.equal(shell.commands.length, before.ssh, 'no SSH command ran');
    assert.equal(sql.queries.length, before.sql, 'no SQL ran');
    assert.equal((await send(daemon.url, { path: '/get_status', headers: admin })).status, 200, 'a cached read is fine by GET');
    assert.equal((await send(daemon.url, { path: '/get_server_info?verify=false', headers: admin })).status, 200);
    const posted = await send(daemon.url, { path: '/verify_all', headers: { authorization: basic('read', READ) }, body: {} });
    assert.equal(posted.status, 200);
    assert.ok(shell.commands.slice(before.ssh).some((command) => command.command === 'true'), 'POST verify_all ran its SSH check');
  });

  it('reload_conf over the web reloads only the configured file and echoes nothing of another', async () => {
    const secretFile = join(temp.dir, 'other.conf');
    await writeFile(secretFile, '[handyrep]\nnot_a_key = TOP-SECRET-VALUE\n', { mode: 0o600 });
    const refused = await send(daemon.url, { path: '/reload_conf', headers: admin, body: { config_file: secretFile } });
    assert.equal(refused.status, 400);
    assert.doesNotMatch(JSON.stringify(refused.json), /TOP-SECRET|not_a_key/);
    const own = await send(daemon.url, { path: '/reload_conf', headers: admin, body: { config_file: temp.file } });
    assert.equal(own.json?.result, 'SUCCESS', JSON.stringify(own.json));
    assert.equal((await send(daemon.url, { path: '/reload_conf', headers: admin, body: {} })).json?.result, 'SUCCESS');
  });

  it('serves the dashboard with a CSP without unsafe-inline, its script and style as files', async () => {
    const page = await send(daemon.url, { path: '/', headers: admin });
    assert.equal(page.status, 200);
    const csp = String(page.headers['content-security-policy']);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /script-src 'self'/);
    assert.equal((await send(daemon.url, { path: '/dashboard.js', headers: admin })).status, 200);
    assert.equal((await send(daemon.url, { path: '/dashboard.css', headers: admin })).status, 200);
    assert.equal((await send(daemon.url, { path: '/dashboard.js' })).status, 401);
  });

  // Last: it locks this test's address out.
  it('answers the 11th wrong password within a minute with 429, even a right one then, and logs it', async () => {
    assert.equal((await send(daemon.url, { path: '/get_status', headers: admin })).status, 200, 'a login the web API now remembers for a few seconds');
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const answer = await send(daemon.url, { path: '/get_status', headers: { authorization: basic('admin', `wrong-${attempt}`) } });
      assert.equal(answer.status, 401, `attempt ${attempt}`);
    }
    const eleventh = await send(daemon.url, { path: '/get_status', headers: { authorization: basic('admin', 'wrong-11') } });
    assert.equal(eleventh.status, 429);
    assert.ok(Number(eleventh.headers['retry-after']) > 0 && Number(eleventh.headers['retry-after']) <= 60, String(eleventh.headers['retry-after']));
    assert.match(eleventh.json?.details ?? '', /too many failed logins/);
    assert.equal((await send(daemon.url, { path: '/get_status', headers: admin })).status, 429, 'locked out, right password (remembered) or not');
    assert.match(await readFile(join(temp.dir, 'handyrep.log'), 'utf8'), /too many failed web API logins from 127\.0\.0\.1/);
  });
});

describe('zero_auth', () => {
  let temp: TempConfig;

  after(async () => {
    await temp?.cleanup();
  });

  it('refuses to start the daemon on 0.0.0.0 with a clear message, and listens on nothing', async () => {
    temp = await writeTempConfig(
      ['[handyrep]', 'authentication_method = zero_auth', 'web_listen = 0.0.0.0', 'web_port = 18754', 'log_file = handyrep.log', '[servers.pg1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'),
    );
    await assert.rejects(startDaemon(temp.file, { capabilities: { shell: new FakeShell(), sql: new FakeSql() } }), /refusing to start: authentication_method lets every caller in as admin \(zero_auth\), and web_listen = 0\.0\.0\.0 can be reached from other machines/);
    const cli = spawnSync(process.execPath, [CLI, '--config', temp.file, 'daemon'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, /\[handyrep\] web_listen: refusing to start: .*zero_auth.*listen on a loopback address/);
    const probe = await fetch('http://127.0.0.1:18754/healthz', { signal: AbortSignal.timeout(2000) }).then(
      () => 'answered',
      () => 'nothing listens',
    );
    assert.equal(probe, 'nothing listens');
  });

  it('starts on a loopback address', async () => {
    const loopback = await writeTempConfig(['[handyrep]', 'authentication_method = zero_auth', 'web_listen = 127.0.0.1', 'log_file = handyrep.log', '[servers.pg1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'));
    try {
      const daemon = await startDaemon(loopback.file, { port: 0, capabilities: { shell: new FakeShell(), sql: new FakeSql() } });
      await daemon.stop();
    } finally {
      await loopback.cleanup();
    }
  });
});
