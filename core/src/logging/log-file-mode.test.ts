import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from './create-logger.js';

describe('log file mode', () => {
  it('creates a new log file readable by its owner only, whatever the umask', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'handyrep-logmode-'));
    const previous = process.umask(0o000);
    try {
      const file = join(dir, 'sub', 'handyrep.log');
      const logger = createLogger({ logFile: file, verbose: false, secrets: () => [] });
      logger.info('first line');
      logger.close();
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      // An existing file keeps the mode its owner gave it (logrotate's "create 0640", say).
      const kept = join(dir, 'kept.log');
      await writeFile(kept, '');
      await chmod(kept, 0o640);
      const again = createLogger({ logFile: kept, verbose: false, secrets: () => [] });
      again.close();
      assert.equal((await stat(kept)).mode & 0o777, 0o640);
    } finally {
      process.umask(previous);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
