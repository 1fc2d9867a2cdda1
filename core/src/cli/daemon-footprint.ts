import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * What the daemon sets up before anything else is loaded, to keep the memory
 * of a process that runs for months beside a database small
 * (docs/performance.md, "Footprint"). Only for the `daemon` command (a
 * short-lived command gains nothing); bin/handyrep.js calls it first and
 * imports the rest afterwards. Returns what it set.
 */
export function reduceDaemonFootprint(argv: readonly string[], execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  if (!argv.slice(2).includes('daemon')) return [];
  const done = tuneDaemonHeap(execArgv, nodeOptions);
  if (provideNavigator()) done.push('navigator');
  return done;
}

/**
 * V8 settings for the daemon's heap:
 * - the young generation stays at V8's initial size (1 MB semi-spaces)
 *   instead of growing to 16 MB: what the daemon allocates (polls, status
 *   requests) dies young, and grown semi-spaces are memory it keeps;
 * - after each full collection the old generation may grow by 10 % (plus
 *   V8's minimum step) before the next one, instead of up to 4×: an idle
 *   daemon's old generation otherwise fills with 15–20 MB of garbage
 *   between collections.
 * They must come before HandyRep's modules load: loading them alone grows the
 * semi-spaces to 4 MB, and V8 does not shrink them again. A setting the
 * operator gives (NODE_OPTIONS, node's command line) wins.
 */
function tuneDaemonHeap(execArgv: readonly string[], nodeOptions: string): string[] {
  const given = [...execArgv, nodeOptions].join(' ');
  const flags: string[] = [];
  if (!/semi[-_]space/.test(given)) flags.push('--semi-space-growth-factor=1');
  if (!/heap[-_]growing[-_]percent/.test(given)) flags.push('--heap-growing-percent=10');
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}

/**
 * Node 21 and later have a global `navigator`; Node 20 has none. Without it,
 * pg's check for the Cloudflare Workers runtime (lib/stream.js, run when pg
 * is loaded) builds a fetch `Response`, which loads Node's whole fetch
 * implementation (undici, with HTTP/2, zlib and a WebAssembly parser): about
 * 6 MB of the daemon's memory for something it never uses. The same minimal
 * `navigator` Node 21 provides (user agent, CPU count) makes that check take
 * its first branch. Nothing is changed where `navigator` exists.
 */
function provideNavigator(): boolean {
  if ('navigator' in globalThis) return false;
  const navigator = { userAgent: `Node.js/${process.versions.node.split('.')[0] ?? ''}`, hardwareConcurrency: availableParallelism() };
  Object.defineProperty(globalThis, 'navigator', { value: Object.freeze(navigator), configurable: true, writable: false, enumerable: false });
  return true;
}
