import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./daemon-heap.js', import.meta.url));

/**
 * Runs tuneDaemonHeap in a fresh node (flags are process-wide), then
 * allocates 300 MB of short-lived objects and reports the flags set and the
 * young generation's size.
 */
function run(args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): { flags: string[]; newSpaceKb: number } {
  const script = `
    const { tuneDaemonHeap } = await import(${JSON.stringify(MODULE)});
    const { getHeapSpaceStatistics } = await import('node:v8');
    const flags = tuneDaemonHeap(['node', 'handyrep', ...${JSON.stringify(args)}]);
    let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 1000) keep = []; }
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    console.log(JSON.stringify({ flags, newSpaceKb: Math.round(newSpace.space_size / 1024) }));`;
  const child = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env }, timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim()) as { flags: string[]; newSpaceKb: number };
}

describe("the daemon's heap settings", () => {
  it('daemon: the young generation stays at its initial size and the old generation grows by 10 %', () => {
    const { flags, newSpaceKb } = run(['--config', 'handyrep.conf', 'daemon']);
    assert.deepEqual(flags, ['--semi-space-growth-factor=1', '--heap-growing-percent=10']);
    assert.ok(newSpaceKb <= 2048, `new space ${newSpaceKb} KB`);
  });

  it('another command: nothing is set, and the young generation grows as V8 decides', () => {
    const { flags, newSpaceKb } = run(['get_status']);
    assert.deepEqual(flags, []);
    assert.ok(newSpaceKb > 2048, `new space ${newSpaceKb} KB`);
  });

  it("the operator's own settings win, on node's command line or in NODE_OPTIONS", () => {
    assert.deepEqual(run(['daemon'], [], { NODE_OPTIONS: '--max-semi-space-size=4' }).flags, ['--heap-growing-percent=10']);
    assert.deepEqual(run(['daemon'], ['--heap-growing-percent=50']).flags, ['--semi-space-growth-factor=1']);
  });
});
