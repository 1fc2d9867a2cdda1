import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, HandyRepError, TimeoutError } from '@handyrep/plugin-sdk';
import type { FencingPlugin } from '@handyrep/plugin-sdk';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { TestContext } from '@handyrep/plugin-sdk/testing';
import type { FenceCommandConfig } from './config.js';
import { OUTPUT_EXCERPT_CHARS } from './output-excerpt.js';
import { plugin } from './plugin.js';

const HOSTILE_NAME = `db 1'"; rm -rf / $(touch /tmp/marker) \`id\``;
const HOSTILE_HOST = `host name;$(touch /tmp/marker)'"`;

async function setup(config: Partial<FenceCommandConfig> = {}): Promise<{ fence: FencingPlugin; kit: TestContext<FenceCommandConfig> }> {
  const kit = createTestContext<FenceCommandConfig>({
    name: 'fence_command',
    config: { command: '/bin/true', args: [], timeout_ms: 5_000, ...config },
    servers: [
      { name: 'db1', hostname: '10.0.0.1', role: 'master' },
      { name: HOSTILE_NAME, hostname: HOSTILE_HOST, role: 'master' },
    ],
    secrets: { superuser_password: 'never-shown' },
  });
  return { fence: await plugin.create(kit.context), kit };
}

describe('fence_command', () => {
  it('exit 0: SUCCESS, fenced true, run locally as <command> <args...> <server> <hostname>', async () => {
    const { fence, kit } = await setup({ args: ['--off', '--force'] });
    kit.shell.when(/true/, { exitCode: 0, stdout: '  power is off\n', durationMs: 42 });
    const result = await fence.fence('db1');
    assert.equal(result.result, 'SUCCESS', result.details);
    assert.equal(result.fenced, true);
    assert.match(result.details, /exited 0 in 42 ms: power is off$/);
    assert.equal(kit.shell.commands.length, 1);
    assert.equal(kit.shell.commands[0]?.server, 'local');
    assert.deepEqual(kit.shell.commands[0]?.argv, ['/bin/true', '--off', '--force', 'db1', '10.0.0.1']);
  });

  it('hands hostile names over as exact single arguments (no shell involved)', async () => {
    const { fence, kit } = await setup();
    await fence.fence(HOSTILE_NAME);
    assert.deepEqual(kit.shell.commands[0]?.argv, ['/bin/true', HOSTILE_NAME, HOSTILE_HOST]);
  });

  it('passes timeout_ms to the command', async () => {
    const { fence, kit } = await setup({ timeout_ms: 1234 });
    let seen: number | undefined;
    const original = kit.shell.runLocal.bind(kit.shell);
    kit.shell.runLocal = async (argv, options) => {
      seen = options?.timeoutMs;
      return original(argv, options);
    };
    await fence.fence('db1');
    assert.equal(seen, 1234);
  });

  it('non-zero exit: FAIL, fenced false, with exit code and trimmed stderr', async () => {
    const { fence, kit } = await setup();
    kit.shell.when(/true/, { exitCode: 3, stderr: '\n  IPMI: no route to BMC  \n' });
    const result = await fence.fence('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.fenced, false);
    assert.match(result.details, /exited with code 3 after \d+ ms: IPMI: no route to BMC$/);
    assert.equal((result as { exit_code?: unknown }).exit_code, 3);
    assert.equal((result as { stderr?: unknown }).stderr, 'IPMI: no route to BMC');
  });

  it('very long stderr is cut', async () => {
    const { fence, kit } = await setup();
    kit.shell.when(/true/, { exitCode: 1, stderr: 'x'.repeat(OUTPUT_EXCERPT_CHARS + 500) });
    const result = await fence.fence('db1');
    assert.match(result.details, /… \(500 more characters\)$/);
  });

  it('ended by a signal: FAIL, fenced false', async () => {
    const { fence, kit } = await setup();
    kit.shell.when(/true/, { exitCode: null });
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /ended by a signal/);
  });

  it('time-out: FAIL, fenced false, saying it was killed', async () => {
    const { fence, kit } = await setup({ timeout_ms: 700 });
    kit.shell.when(/true/, new TimeoutError("local command '/bin/true' timed out after 700 ms"));
    const result = await fence.fence('db1');
    assert.equal(result.result, 'FAIL');
    assert.equal(result.fenced, false);
    assert.match(result.details, /gave no answer within 700 ms and was killed/);
  });

  it('a command that cannot be started: FAIL, fenced false', async () => {
    const { fence, kit } = await setup();
    kit.shell.when(/true/, new HandyRepError(ErrorCodes.REMOTE_COMMAND, "cannot run local command '/bin/true': spawn EACCES"));
    const result = await fence.fence('db1');
    assert.equal(result.fenced, false);
    assert.match(result.details, /could not be run: .*EACCES/);
  });

  it('never logs or returns a password', async () => {
    const { fence, kit } = await setup();
    kit.shell.when(/true/, { exitCode: 1, stderr: 'failed' });
    const result = await fence.fence('db1');
    assert.ok(!JSON.stringify(result).includes('never-shown'));
    assert.ok(!kit.logger.text().includes('never-shown'));
  });

  it('an unknown server name is the caller\'s error', async () => {
    const { fence, kit } = await setup();
    await assert.rejects(fence.fence('nope'), (err: unknown) => (err as { code?: string }).code === ErrorCodes.UNKNOWN_SERVER);
    assert.equal(kit.shell.commands.length, 0);
  });

  it('refuses to start with a command that is not an executable file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fence-command-'));
    try {
      const plainFile = join(dir, 'not-executable');
      writeFileSync(plainFile, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
      await assert.rejects(setup({ command: join(dir, 'missing') }), /not an executable file/);
      await assert.rejects(setup({ command: plainFile }), /not an executable file/);
      await assert.rejects(setup({ command: dir }), /not an executable file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads through the real core loader with its defaults', async () => {
    const report = await verifyPlugin('fence_command', { kind: 'fencing', config: { command: '/bin/true' } });
    assert.equal(report.name, 'fence_command');
    assert.deepEqual(report.config, { command: '/bin/true', args: [], timeout_ms: 30_000 });
  });

  it('the core loader requires an absolute command and rejects unknown keys', async () => {
    await assert.rejects(verifyPlugin('fence_command', { kind: 'fencing', config: {} }), /command/);
    await assert.rejects(verifyPlugin('fence_command', { kind: 'fencing', config: { command: 'true' } }), /command/);
    await assert.rejects(verifyPlugin('fence_command', { kind: 'fencing', config: { command: '/bin/true', shell: 'yes' } }), /shell|additional/);
  });
});
