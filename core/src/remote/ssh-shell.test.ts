import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, TimeoutError, hasErrorCode, shellQuote } from '@handyrep/plugin-sdk';
import { MemoryLogger, staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import { SshShell } from './ssh-shell.js';
import type { SshShellSettings } from './ssh-shell.js';
import { withPartition } from './test-support/iptables.js';
import { pickLoopbackAddress } from './test-support/loopback.js';
import { descendants, processState, signalAll } from './test-support/processes.js';
import { startSshd } from './test-support/sshd-fixture.js';
import type { SshdFixture } from './test-support/sshd-fixture.js';

const SSH_PORT = 2222;
const noIptables = existsSync('/usr/sbin/iptables') ? false : 'needs iptables (npm run setup-system)';
const skip =
  process.getuid?.() !== 0 ? 'needs root (starts sshd, uses iptables)' : !existsSync('/usr/sbin/sshd') ? 'needs /usr/sbin/sshd (npm run setup-system)' : false;

/** PIDs of live (not zombie) processes whose argv is exactly `argv`. */
async function livePids(argv: readonly string[]): Promise<number[]> {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline !== wanted) continue;
    const state = await processState(Number(entry));
    if (state !== undefined && state !== 'Z') found.push(Number(entry));
  }
  return found;
}

function isCode(code: string, ...fragments: RegExp[]): (err: unknown) => boolean {
  return (err) => {
    assert.ok(hasErrorCode(err, code as never), `expected ${code}, got ${String(err)}`);
    for (const fragment of fragments) assert.match((err as Error).message, fragment);
    return true;
  };
}

describe('SshShell against a real sshd', { skip }, () => {
  let dir: string;
  let sshd: SshdFixture;
  let knownHosts: string;
  const shells: SshShell[] = [];

  function servers() {
    return staticServerView([
      testServer({ name: 'db1', hostname: sshd.address, ssh_port: SSH_PORT, ssh_user: 'postgres' }),
      testServer({ name: 'bad-port', hostname: sshd.address, ssh_port: 'x' }),
    ]);
  }

  function shell(overrides: Partial<SshShellSettings> = {}, logger = new MemoryLogger()): SshShell {
    const created = new SshShell({
      servers: servers(),
      settings: {
        sshKeyPath: sshd.clientKeyPath,
        knownHostsPath: knownHosts,
        hostKeyPolicy: 'strict',
        timeoutMs: 3000,
        ...overrides,
      },
      logger,
    });
    shells.push(created);
    return created;
  }

  async function sshConnection(target: SshShell): Promise<string> {
    const result = await target.runScript('db1', 'echo "$SSH_CONNECTION"');
    assert.equal(result.exitCode, 0, result.stderr);
    return result.stdout.trim();
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handyrep-ssh-'));
    const address = await pickLoopbackAddress([SSH_PORT]);
    sshd = await startSshd(dir, address, SSH_PORT);
    knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.knownHostsLine}\n`);
  });

  after(async () => {
    await Promise.all(shells.map((created) => created.close()));
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every argv element as one literal argument and executes nothing', async () => {
    const marker = `/tmp/hr-pwned-${randomBytes(4).toString('hex')}`;
    const values = [
      'a b',
      "it's",
      '"double"',
      'x;y && z | w',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      'line1\nline2\n',
      '\ttab',
      '*',
      '~',
      '',
      '$HOME',
      'back\\slash',
      'ünïcödé',
      '-n',
    ];
    const result = await shell().run('db1', ['printf', '%s\\0', ...values]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), values);
    assert.equal(existsSync(marker), false, 'the command substitution must not have run');
  });

  it('returns exit codes, stdout and stderr; feeds stdin; runs scripts with quoted values', async () => {
    const target = shell();
    const failed = await target.run('db1', ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([failed.exitCode, failed.stdout, failed.stderr], [7, 'out\n', 'err\n']);
    assert.ok(failed.durationMs >= 0);
    const upper = await target.runScript('db1', 'tr a-z A-Z', { input: 'secret input\n' });
    assert.equal(upper.stdout, 'SECRET INPUT\n');
    const quoted = await target.runScript('db1', `echo ${shellQuote("it's $(not run)")} | wc -c`);
    assert.equal(quoted.stdout.trim(), String("it's $(not run)".length + 1));
    const silent = await target.run('db1', ['cat']);
    assert.equal(silent.stdout, '', 'stdin is at EOF when there is no input');
    const killed = await target.runScript('db1', 'kill -9 $$');
    assert.equal(killed.exitCode, null, 'a signalled command has no exit code');
  });

  it('reuses one connection for sequential and concurrent commands, beyond MaxSessions', async () => {
    const target = shell();
    const first = await sshConnection(target);
    const second = await sshConnection(target);
    assert.equal(first, second);
    const many = await Promise.all(
      Array.from({ length: 14 }, (_, i) => target.runScript('db1', `sleep 0.2; echo "$SSH_CONNECTION" ${i}`)),
    );
    for (const [i, result] of many.entries()) assert.equal(result.stdout.trim(), `${first} ${i}`, result.stderr);
    assert.equal(target.connectionCount, 1);
  });

  it('shares one pending connection among callers that arrive while it connects', async () => {
    const target = shell();
    const results = await Promise.all(Array.from({ length: 5 }, () => sshConnection(target)));
    assert.equal(new Set(results).size, 1);
    assert.equal(target.connectionCount, 1);
  });

  it('times out a hanging command quickly, kills it remotely and keeps the connection', async () => {
    const target = shell();
    const before = await sshConnection(target);
    const tag = `30.${randomBytes(3).readUIntBE(0, 3)}`;
    const started = performance.now();
    await assert.rejects(target.run('db1', ['sleep', tag], { timeoutMs: 500 }), (err: unknown) => {
      assert.ok(err instanceof TimeoutError, String(err));
      assert.match(err.message, /'sleep' on server db1 .*500 ms/);
      assert.ok(!err.message.includes(tag), 'arguments stay out of the message');
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 490 && elapsed < 1300, `timeout took ${elapsed.toFixed(0)} ms`);
    console.log(`# ssh command timeout 500 ms -> TimeoutError after ${elapsed.toFixed(0)} ms`);
    await sleep(200);
    assert.deepEqual(await livePids(['sleep', tag]), [], 'the remote sleep must have been killed');
    assert.equal(await sshConnection(target), before, 'the connection answered, so it is kept');
  });

  it('drops a connection whose peer stopped answering and reconnects', async () => {
    const target = shell({ timeoutMs: 1500 });
    const before = await sshConnection(target);
    const sessionPids = await descendants(sshd.pid());
    assert.ok(sessionPids.length > 0);
    signalAll(sessionPids, 'SIGSTOP');
    try {
      const started = performance.now();
      await assert.rejects(target.run('db1', ['true'], { timeoutMs: 500 }), TimeoutError);
      assert.ok(performance.now() - started < 1300);
      const after = await sshConnection(target);
      assert.notEqual(after, before, 'a new connection (other client port) is used');
      assert.equal(target.connectionCount, 1);
    } finally {
      signalAll(sessionPids, 'SIGCONT');
    }
  });

  it('caps runaway output and keeps working', async () => {
    const target = shell({ maxOutputBytes: 1024 * 1024 });
    await assert.rejects(
      target.run('db1', ['head', '-c', '5000000', '/dev/zero']),
      isCode(ErrorCodes.REMOTE_COMMAND, /'head' on server db1 .*more than 1048576 bytes/),
    );
    assert.equal((await target.run('db1', ['echo', 'ok'])).stdout, 'ok\n');
  });

  it('writeFile writes content via stdin atomically with the mode, and reports failures', async () => {
    const target = shell();
    const path = join(sshd.userDir, "conf file's name.conf");
    const marker = `/tmp/hr-pwned-${randomBytes(4).toString('hex')}`;
    const content = `primary_conninfo = 'host=x password=s3cret'\n$(touch ${marker})\n\`id\`\nünï\n`;
    await target.writeFile('db1', path, content, { mode: 0o640 });
    assert.equal(await readFile(path, 'utf8'), content);
    const info = await stat(path);
    assert.equal(info.mode & 0o7777, 0o640);
    assert.equal(existsSync(marker), false);
    await target.writeFile('db1', path, 'second\n');
    assert.equal(await readFile(path, 'utf8'), 'second\n');
    assert.equal((await stat(path)).mode & 0o7777, 0o600, 'default mode is 0600');
    assert.deepEqual((await readdir(sshd.userDir)).filter((name) => name.includes('.tmp')), []);
    await assert.rejects(
      target.writeFile('db1', join(sshd.userDir, 'missing-dir', 'f'), 'x'),
      isCode(ErrorCodes.REMOTE_COMMAND, /missing-dir\/f on server db1/),
    );
    await assert.rejects(target.writeFile('db1', '/root/not-allowed', 'x'), isCode(ErrorCodes.REMOTE_COMMAND));
    assert.deepEqual((await readdir(sshd.userDir)).filter((name) => name.includes('.tmp')), []);
  });

  it('runLocal runs on this host without a shell', async () => {
    const result = await shell().runLocal(['sh', '-c', 'echo "$0 $1"', 'a b', 'c;d']);
    assert.equal(result.stdout, 'a b c;d\n');
    await assert.rejects(shell().runLocal(['sleep', '5'], { timeoutMs: 200 }), TimeoutError);
  });

  describe('host key policies', () => {
    it('strict: an empty known_hosts refuses, naming host and file', async () => {
      const file = join(dir, 'empty_hosts');
      await writeFile(file, '');
      await assert.rejects(
        shell({ knownHostsPath: file }).run('db1', ['true']),
        isCode(ErrorCodes.SSH_HOST_KEY, new RegExp(`\\[${sshd.address.replace(/\./g, '\\.')}\\]:${SSH_PORT}`), /empty_hosts/, /strict/),
      );
    });

    it('strict: a wrong key refuses', async () => {
      const file = join(dir, 'wrong_hosts');
      await writeFile(file, `${sshd.wrongKnownHostsLine}\n`);
      await assert.rejects(shell({ knownHostsPath: file }).run('db1', ['true']), isCode(ErrorCodes.SSH_HOST_KEY, /does not match/, /wrong_hosts/));
    });

    it('strict: a revoked key refuses', async () => {
      const file = join(dir, 'revoked_hosts');
      await writeFile(file, `${sshd.knownHostsLine}\n@revoked * ${sshd.hostKey}\n`);
      await assert.rejects(shell({ knownHostsPath: file }).run('db1', ['true']), isCode(ErrorCodes.SSH_HOST_KEY, /revoked/));
    });

    it('accept-new: adds an unknown host and then works under strict', async () => {
      const file = join(dir, 'new', 'known_hosts');
      const logger = new MemoryLogger();
      assert.equal((await shell({ knownHostsPath: file, hostKeyPolicy: 'accept-new' }, logger).run('db1', ['true'])).exitCode, 0);
      assert.equal(await readFile(file, 'utf8'), `${sshd.knownHostsLine}\n`);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await shell({ knownHostsPath: file }).run('db1', ['true'])).exitCode, 0);
    });

    it('accept-new: a changed key is still refused', async () => {
      const file = join(dir, 'wrong_hosts_2');
      await writeFile(file, `${sshd.wrongKnownHostsLine}\n`);
      await assert.rejects(
        shell({ knownHostsPath: file, hostKeyPolicy: 'accept-new' }).run('db1', ['true']),
        isCode(ErrorCodes.SSH_HOST_KEY),
      );
      assert.equal(await readFile(file, 'utf8'), `${sshd.wrongKnownHostsLine}\n`);
    });

    it('off: accepts any key and warns once per host', async () => {
      const file = join(dir, 'off_hosts');
      await writeFile(file, `${sshd.wrongKnownHostsLine}\n`);
      const logger = new MemoryLogger();
      const target = shell({ knownHostsPath: file, hostKeyPolicy: 'off' }, logger);
      await target.run('db1', ['true']);
      await target.close();
      await target.run('db1', ['true']);
      assert.equal(logger.lines.filter((line) => line.level === 'warn').length, 1);
    });
  });

  describe('connection failures', () => {
    it('a key sshd does not accept is SSH_CONNECT naming user and server', async () => {
      await assert.rejects(
        shell({ sshKeyPath: sshd.unauthorizedKeyPath }).run('db1', ['true']),
        isCode(ErrorCodes.SSH_CONNECT, /refused/, /postgres/, /db1/),
      );
    });

    it('a missing key file, or no key and no agent, is a clear SSH_CONNECT', async () => {
      await assert.rejects(shell({ sshKeyPath: join(dir, 'no-such-key') }).run('db1', ['true']), isCode(ErrorCodes.SSH_CONNECT, /no-such-key/));
      const saved = process.env['SSH_AUTH_SOCK'];
      delete process.env['SSH_AUTH_SOCK'];
      try {
        await assert.rejects(shell({ sshKeyPath: '' }).run('db1', ['true']), isCode(ErrorCodes.SSH_CONNECT, /SSH_AUTH_SOCK/));
      } finally {
        if (saved !== undefined) process.env['SSH_AUTH_SOCK'] = saved;
      }
    });

    it('unknown servers and bad definitions are refused before connecting', async () => {
      await assert.rejects(shell().run('nope', ['true']), isCode(ErrorCodes.UNKNOWN_SERVER));
      await assert.rejects(shell().run('bad-port', ['true']), isCode(ErrorCodes.BAD_ARGUMENT, /ssh_port/));
      await assert.rejects(shell().run('db1', []), isCode(ErrorCodes.BAD_ARGUMENT));
    });

    it('a partitioned host times out within the call timeout', { skip: noIptables }, async () => {
      const target = shell({ timeoutMs: 1000 });
      await withPartition(sshd.address, SSH_PORT, async () => {
        const started = performance.now();
        await assert.rejects(target.run('db1', ['true'], { timeoutMs: 700 }), (err: unknown) => {
          assert.ok(err instanceof TimeoutError, String(err));
          assert.match(err.message, /no ssh connection to server db1/);
          return true;
        });
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 1500, `took ${elapsed.toFixed(0)} ms`);
        // A call allowed longer than ssh_timeout still gives up connecting after ssh_timeout.
        const fresh = shell({ timeoutMs: 600 });
        const connectStarted = performance.now();
        await assert.rejects(fresh.run('db1', ['true'], { timeoutMs: 5000 }), (err: unknown) => {
          assert.ok(err instanceof TimeoutError, String(err));
          assert.match(err.message, /not established within 600 ms/);
          return true;
        });
        const connectElapsed = performance.now() - connectStarted;
        assert.ok(connectElapsed >= 590 && connectElapsed < 1400, `took ${connectElapsed.toFixed(0)} ms`);
        console.log(`# ssh partition: call timeout 700 ms -> ${elapsed.toFixed(0)} ms; connect timeout 600 ms -> ${connectElapsed.toFixed(0)} ms`);
      });
    });

    it('sshd stopped: SSH_CONNECT quickly', async () => {
      await sshd.stop();
      const started = performance.now();
      await assert.rejects(shell().run('db1', ['true']), isCode(ErrorCodes.SSH_CONNECT, /ECONNREFUSED/));
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
      console.log(`# sshd stopped: SSH_CONNECT after ${elapsed.toFixed(0)} ms`);
    });
  });
});
