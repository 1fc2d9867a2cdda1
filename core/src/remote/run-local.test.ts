import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { ErrorCodes, TimeoutError, hasErrorCode } from '@handyrep/plugin-sdk';
import { runLocalCommand } from './run-local.js';
import { processState } from './test-support/processes.js';

describe('runLocalCommand', () => {
  it('passes argv without a shell: metacharacters stay literal', async () => {
    const marker = `/tmp/hr-pwned-${randomBytes(4).toString('hex')}`;
    const values = ['a b', "it's", 'x;y', `$(touch ${marker})`, 'line1\nline2', '*', '', '"dq"'];
    const result = await runLocalCommand(['printf', '%s\\0', ...values], { timeoutMs: 5000 });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), values);
    assert.equal(existsSync(marker), false);
  });

  it('returns exit code and stderr, and feeds stdin', async () => {
    const failed = await runLocalCommand(['sh', '-c', 'echo oops >&2; exit 3'], { timeoutMs: 5000 });
    assert.equal(failed.exitCode, 3);
    assert.equal(failed.stderr, 'oops\n');
    const echoed = await runLocalCommand(['cat'], { timeoutMs: 5000, input: 'héllo\nwörld' });
    assert.equal(echoed.stdout, 'héllo\nwörld');
    assert.ok(echoed.durationMs >= 0);
  });

  it('closes stdin at once when there is no input', async () => {
    const result = await runLocalCommand(['cat'], { timeoutMs: 2000 });
    assert.equal(result.stdout, '');
  });

  it('times out quickly with a TimeoutError naming the program', async () => {
    const started = performance.now();
    await assert.rejects(runLocalCommand(['sleep', '30'], { timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /'sleep'.*300 ms/);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1500, `took ${elapsed} ms`);
  });

  it('kills a grandchild on timeout (the whole process group)', async () => {
    const tag = `${30 + Math.random()}`.slice(0, 8);
    await assert.rejects(runLocalCommand(['sh', '-c', `sleep ${tag} & wait`], { timeoutMs: 200 }), TimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmdline === `sleep\0${tag}\0`) {
        assert.equal(await processState(Number(entry)), 'Z', `sleep ${tag} (pid ${entry}) still running`);
      }
    }
  });

  it('reports a missing program and caps runaway output', async () => {
    await assert.rejects(runLocalCommand(['/nonexistent/program'], { timeoutMs: 1000 }), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.REMOTE_COMMAND));
      assert.match((err as Error).message, /ENOENT/);
      return true;
    });
    await assert.rejects(
      runLocalCommand(['head', '-c', '3000000', '/dev/zero'], { timeoutMs: 5000, maxOutputBytes: 1024 * 1024 }),
      /more than 1048576 bytes/,
    );
    await assert.rejects(runLocalCommand([], { timeoutMs: 1000 }), (err: unknown) => hasErrorCode(err, ErrorCodes.BAD_ARGUMENT));
  });
});
