import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ConfigError, ErrorCodes } from '@handyrep/plugin-sdk';
import { writeTempConfig } from '../test-support/temp-config.js';
import { loadConfig } from './load-config.js';

const SERVERS = ['[servers.db1]', 'hostname = 127.0.0.1', 'role = master'];
const PASSWORDS = ['[passwords]', 'superuser_password = s3cret'];

async function loadWithMode(lines: string[], mode: number): Promise<Awaited<ReturnType<typeof loadConfig>> | ConfigError> {
  const temp = await writeTempConfig(lines.join('\n'));
  try {
    await chmod(temp.file, mode);
    return await loadConfig(temp.file);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  } finally {
    await temp.cleanup();
  }
}

describe('config file permissions', () => {
  it('refuses a file with [passwords] that others may read, naming the fix', async () => {
    const refused = await loadWithMode([...SERVERS, ...PASSWORDS], 0o644);
    assert.ok(refused instanceof ConfigError);
    assert.equal(refused.code, ErrorCodes.CONFIG_PERMISSIONS);
    assert.match(refused.message, /holds passwords and any user of this machine may read it \(mode 644\); run chmod 600/);
    assert.doesNotMatch(refused.message, /s3cret/);
  });

  it('accepts it with allow_world_readable_config = true, with a warning', async () => {
    const loaded = await loadWithMode(['[handyrep]', 'allow_world_readable_config = true', ...SERVERS, ...PASSWORDS], 0o604);
    assert.ok(!(loaded instanceof ConfigError));
    assert.match(loaded.warnings?.[0] ?? '', /may be read by any user \(mode 604\) and holds passwords/);
  });

  it('warns about a file its group may read, and says nothing about a 0600 one', async () => {
    const group = await loadWithMode([...SERVERS, ...PASSWORDS], 0o640);
    assert.ok(!(group instanceof ConfigError));
    assert.match(group.warnings?.[0] ?? '', /may be read by its group \(mode 640\)/);
    const own = await loadWithMode([...SERVERS, ...PASSWORDS], 0o600);
    assert.ok(!(own instanceof ConfigError));
    assert.deepEqual(own.warnings, []);
  });

  it('only warns about a world-readable file without passwords', async () => {
    const loaded = await loadWithMode(SERVERS, 0o644);
    assert.ok(!(loaded instanceof ConfigError));
    assert.match(loaded.warnings?.[0] ?? '', /may be read by any user \(mode 644\); chmod 600/);
  });
});
