import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
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
});
