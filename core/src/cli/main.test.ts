import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lockInChild } from '../test-support/lock-holder.js';
import { writeTempConfig } from '../test-support/temp-config.js';

const bin = fileURLToPath(new URL('../../bin/handyrep.js', import.meta.url));

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('handyrep command line', () => {
  it('prints all five mistakes of a config, each with section and key, and exits 2', async () => {
    const temp = await writeTempConfig(
      ['[handyrep]', 'log_fil = x.log', '[failover]', 'poll_interval = often', 'auto_failover = perhaps',
        '[servers.db1]', 'role = master', '[servers.db2]', 'hostname = 127.0.0.2', 'role = replica', 'port = 70000'].join('\n'),
    );
    try {
      const result = run(['--config', temp.file, 'check-config']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /has 5 problems/);
      for (const expected of [
        /\[handyrep\] log_fil: unknown key/,
        /\[failover\] poll_interval: must be a number/,
        /\[failover\] auto_failover: must be a boolean/,
        /\[servers\.db1\] hostname: is required/,
        /\[servers\.db2\] port: must be <= 65535/,
      ]) {
        assert.match(result.stderr, expected);
      }
    } finally {
      await temp.cleanup();
    }
  });

  it('exits 0 with a status table, 1 on FAIL, 2 on a usage error', async () => {
    const temp = await writeTempConfig(['[servers.db1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'));
    try {
      const status = run(['--config', temp.file, 'get_status']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /cluster: unknown \(0\)/);
      assert.match(status.stdout, /db1\s+master\s+127\.0\.0\.1\s+yes\s+unknown \(0\)/);
      const json = run(['--config', temp.file, '--json', 'get_status']);
      assert.equal(JSON.parse(json.stdout).servers.db1.role, 'master');
      const unknown = run(['--config', temp.file, 'get_server_info', 'nosuch']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stdout, /unknown server 'nosuch'/);
      assert.equal(run(['--config', temp.file, 'no_such_command']).code, 2);
      assert.equal(run(['--config', temp.file, '--help']).code, 0);
    } finally {
      await temp.cleanup();
    }
  });

  it('library mode while a daemon has the state file: exit 1 with the refusal naming the daemon, nothing written; a second daemon does not start', { timeout: 60_000 }, async () => {
    const temp = await writeTempConfig(
      ['[handyrep]', 'log_file = hr.log', '[servers.db1]', 'hostname = 127.0.0.1', 'role = master', '[servers.db2]', 'hostname = 127.0.0.2', 'role = replica'].join('\n'),
    );
    const serverFile = join(temp.dir, 'servers.save');
    const holder = await lockInChild(serverFile, { role: 'daemon', url: 'http://127.0.0.1:8754' });
    try {
      const refused = run(['--config', temp.file, 'manual_failover', 'db2']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.equal(refused.stdout, '');
      assert.match(
        refused.stderr,
        new RegExp(`^handyrep: another HandyRep process \\(daemon pid ${holder.pid}, web API at http://127\\.0\\.0\\.1:8754\\) manages ${serverFile}; send actions to it: handyrep --url http://127\\.0\\.0\\.1:8754 <function> \\(lock ${serverFile}\\.lock held since `),
      );
      assert.equal(existsSync(serverFile), false, 'no state written');
      assert.equal(existsSync(join(temp.dir, 'hr.log')), false, 'no log written');
      const daemon = spawnSync(process.execPath, [bin, '--config', temp.file, 'daemon', '--port', '0'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(daemon.status, 1, daemon.stderr);
      assert.match(daemon.stderr, new RegExp(`daemon pid ${holder.pid}, web API at http://127\\.0\\.0\\.1:8754\\) manages ${serverFile}; a second daemon on the same state file does not start; send actions to it`));
      assert.equal(existsSync(serverFile), false, 'the refused daemon wrote no state');
    } finally {
      await holder.stop();
      await temp.cleanup();
    }
  });
});

/** Runs the CLI without blocking this process, so a loopback server in it can answer. */
function runAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('HANDYREP_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...clean, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: unknown }).code as number | null) : 0, stdout, stderr });
    });
  });
}

interface Seen {
  method: string;
  url: string;
  body: string;
  auth: string;
}

// A stand-in daemon on loopback: answers like the web API (401 without the
// right password, 403 for the read user on actions), and records requests.
describe('handyrep command line, remote mode against a stand-in daemon', () => {
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  const admin = `Basic ${Buffer.from('admin:adm').toString('base64')}`;
  const read = `Basic ${Buffer.from('read:rd').toString('base64')}`;

  const answer = (request: IncomingMessage, body: string): [number, unknown] => {
    const auth = request.headers.authorization ?? '';
    if (auth !== admin && auth !== read) return [401, { result: 'FAIL', details: 'wrong user name or password' }];
    const path = (request.url ?? '').split('?')[0];
    if (path === '/pause') return auth === admin ? [200, { result: 'SUCCESS', details: 'paused' }] : [403, { result: 'FAIL', details: "user 'read' has read-only access" }];
    if (path === '/poll') return [400, { result: 'FAIL', details: `unknown server '${String((JSON.parse(body || '{}') as { servername?: unknown }).servername ?? '')}'` }];
    if (path === '/get_master_name') return [200, 'pg1'];
    if (path === '/manual_failover') {
      return [200, { result: 'SUCCESS', details: 'pg2 is the new master', old_master: 'pg1', new_master: 'pg2', body: JSON.parse(body) as unknown, steps: [{ step: 'promote', result: 'SUCCESS', details: 'promoted pg2', duration_ms: 1234 }] }];
    }
    return [404, { result: 'FAIL', details: `no such function: ${path ?? ''}` }];
  };

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', body, auth: request.headers.authorization ?? '' });
        const [status, value] = answer(request, body);
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('acts by POST with admin credentials from the environment (exit 0), refuses read credentials (exit 1)', async () => {
    seen.length = 0;
    const ok = await runAsync(['pause'], { HANDYREP_URL: url, HANDYREP_USER: 'admin', HANDYREP_PASSWORD: 'adm' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'SUCCESS: paused');
    assert.deepEqual(seen[0], { method: 'POST', url: '/pause', body: '{}', auth: admin });
    const refused = await runAsync(['--url', url, '--user', 'read', '--password', 'rd', 'pause']);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /FAIL: user 'read' has read-only access/);
  });

  it('exits 1 on 401 and hints at the password options when none was given', async () => {
    const result = await runAsync(['--url', url, 'get_master_name']);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL: wrong user name or password/);
    assert.match(result.stderr, /no password was given: use --password-file/);
  });

  it('checks by POST with a JSON body, plain reads by GET; an unknown server (HTTP 400 FAIL) exits 1; --json prints the exact answer', async () => {
    seen.length = 0;
    const result = await runAsync(['--url', url, '-u', 'read', '--password', 'rd', '--json', 'poll', 'nosuch']);
    assert.equal(result.code, 1);
    assert.deepEqual(JSON.parse(result.stdout), { result: 'FAIL', details: "unknown server 'nosuch'" });
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.url, '/poll');
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { servername: 'nosuch' });
    const name = await runAsync(['--url', url, '-u', 'read', '--password', 'rd', 'get_master_name']);
    assert.equal(name.code, 0);
    assert.equal(name.stdout, 'pg1\n');
    assert.equal(seen[1]?.method, 'GET');
  });

  it('shows a failover\'s steps as a table', async () => {
    const result = await runAsync(['--url', url, '-u', 'admin', '--password', 'adm', 'manual_failover', 'pg2', '--no-remaster']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^SUCCESS: pg2 is the new master/);
    assert.match(result.stdout, /step\s+result\s+duration\s+details\n\s*-+/);
    assert.match(result.stdout, /promote\s+SUCCESS\s+1\.2 s\s+promoted pg2/);
    assert.match(result.stdout, /newmaster: pg2\n\s*remaster: false/);
  });

  it('refuses library-only functions and mixed modes with exit 2, sending nothing', async () => {
    seen.length = 0;
    const libraryOnly = await runAsync(['--url', url, 'failover_check']);
    assert.equal(libraryOnly.code, 2);
    assert.match(libraryOnly.stderr, /failover_check: library only/);
    const both = await runAsync(['--url', url, '--config', 'x.conf', 'get_status']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exclude each other/);
    assert.equal(seen.length, 0);
  });

  it('exits 1 with a clear message when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runAsync(['--url', `http://127.0.0.1:${port}`, 'get_status']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot connect to http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });
});

describe('handyrep command line, checks before anything is opened', () => {
  it('refuses a bad argument with exit 2 before reading the configuration', async () => {
    const result = await runAsync(['--config', '/nonexistent/handyrep.conf', 'read_log', 'lots']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /read_log: numlines must be an integer, got "lots"/);
    assert.doesNotMatch(result.stderr, /nonexistent/);
  });

  it('refuses remote-only options in library mode, and a missing config file, with exit 2', async () => {
    const misplaced = await runAsync(['--config', '/nonexistent/handyrep.conf', '--timeout', '5', 'get_status']);
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /--timeout applies only to remote mode/);
    const missing = await runAsync(['--config', '/nonexistent/handyrep.conf', 'get_status']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nonexistent\/handyrep\.conf/);
  });
});
