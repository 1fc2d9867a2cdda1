import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./daemon-footprint.js', import.meta.url));
const NATIVE_NAVIGATOR = Number(process.versions.node.split('.')[0]) >= 21;

interface Observed {
  done: string[];
  newSpaceKb: number;
  userAgent: string | null;
  /** Whether loading pg loaded Node's fetch implementation. */
  undici: boolean;
}

/**
 * Runs reduceDaemonFootprint in a fresh node (flags and globals are
 * process-wide), loads pg as the daemon does, allocates 300 MB of short-lived
 * objects, and reports what was set, the young generation's size and whether
 * Node's fetch implementation got loaded.
 */
function run(args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): Observed {
  const script = `
    const { reduceDaemonFootprint } = await import(${JSON.stringify(MODULE)});
    const { getHeapSpaceStatistics } = await import('node:v8');
    const done = reduceDaemonFootprint(['node', 'handyrep', ...${JSON.stringify(args)}]);
    await import('pg');
    let keep = [];
    for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 1000) keep = []; }
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    console.log(JSON.stringify({
      done,
      newSpaceKb: Math.round(newSpace.space_size / 1024),
      userAgent: typeof navigator === 'object' ? navigator.userAgent : null,
      undici: process.moduleLoadList.some((name) => name.includes('undici')),
    }));`;
  const child = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim()) as Observed;
}

describe("the daemon's memory settings", () => {
  it('daemon: the young generation stays at its initial size, the old generation grows by 10 %, and loading pg does not load fetch', () => {
    const observed = run(['--config', 'handyrep.conf', 'daemon']);
    assert.deepEqual(observed.done, ['--semi-space-growth-factor=1', '--heap-growing-percent=10', ...(NATIVE_NAVIGATOR ? [] : ['navigator'])]);
    assert.ok(observed.newSpaceKb <= 2048, `new space ${observed.newSpaceKb} KB`);
    assert.equal(observed.userAgent, `Node.js/${process.versions.node.split('.')[0]}`);
    assert.equal(observed.undici, false, "pg's runtime check did not load Node's fetch implementation");
  });

  it('another command: nothing is set', () => {
    const observed = run(['get_status']);
    assert.deepEqual(observed.done, []);
    assert.ok(observed.newSpaceKb > 2048, `the young generation grows as V8 decides: ${observed.newSpaceKb} KB`);
    if (!NATIVE_NAVIGATOR) {
      assert.equal(observed.userAgent, null, 'no navigator on Node 20');
      assert.equal(observed.undici, true, "without it, pg's check loads fetch (what the daemon avoids)");
    }
  });

  it("the operator's own heap settings win, on node's command line or in NODE_OPTIONS", () => {
    assert.deepEqual(run(['daemon'], [], { NODE_OPTIONS: '--max-semi-space-size=4' }).done.filter((flag) => flag.startsWith('--')), ['--heap-growing-percent=10']);
    assert.deepEqual(run(['daemon'], ['--heap-growing-percent=50']).done.filter((flag) => flag.startsWith('--')), ['--semi-space-growth-factor=1']);
  });
});
