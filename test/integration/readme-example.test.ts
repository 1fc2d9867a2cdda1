// The README's library example, run as a user would paste it: a file next to
// a private copy of handyrep.conf.example, with @handyrep/core resolvable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function libraryExample(readme: string): string {
  const section = readme.split('## Use it as a library')[1] ?? '';
  const match = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(match?.[1], 'README has a ```js block under "Use it as a library"');
  return match[1];
}

describe('README library example', () => {
  it('runs and prints a get_status dictionary shaped like the spec example', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'handyrep-readme-'));
    try {
      await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
      // As the README says: a copy only its owner may read (it holds [passwords]; HandyRep refuses it otherwise).
      await copyFile(join(repoRoot, 'handyrep.conf.example'), join(dir, 'handyrep.conf'));
      await chmod(join(dir, 'handyrep.conf'), 0o600);
      const code = libraryExample(await readFile(join(repoRoot, 'README.md'), 'utf8'));
      // Print as JSON too, so the test can check the structure exactly.
      await writeFile(join(dir, 'status.mjs'), code.replace('console.log(await hr.getStatus());', 'const s = await hr.getStatus(); console.log(s); console.error(JSON.stringify(s));'));
      const result = spawnSync(process.execPath, ['status.mjs'], { cwd: dir, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const status = JSON.parse(result.stderr.trim().split('\n').pop() ?? '{}') as {
        cluster: Record<string, unknown>;
        servers: Record<string, Record<string, unknown>>;
      };
      // handyrep.conf.example turns synchronous_mode = quorum on: nothing is recorded before the first check.
      assert.deepEqual(Object.keys(status.cluster).sort(), ['acting_instance', 'replication_slots', 'status', 'status_message', 'status_no', 'status_ts', 'synchronous_standbys', 'this_instance_acts']);
      assert.equal(status.cluster['synchronous_standbys'], 'asynchronous');
      assert.deepEqual(Object.keys(status.servers), ['pg1', 'pg2', 'pg3', 'bouncer1']);
      assert.deepEqual(Object.keys(status.servers['pg1'] ?? {}).sort(), [
        'enabled', 'hostname', 'role', 'status', 'status_message', 'status_no', 'status_ts',
      ]);
      assert.match(result.stdout, new RegExp(inspect(status.cluster.status)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
