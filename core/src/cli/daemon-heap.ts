import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the daemon's heap, which matters for a process that runs
 * for months beside a database (docs/performance.md, "Footprint"):
 * - the young generation stays at V8's initial size (1 MB semi-spaces)
 *   instead of growing to 16 MB: what the daemon allocates (polls, status
 *   requests) dies young, and grown semi-spaces are memory it keeps;
 * - after each full collection the old generation may grow by 10 % (plus
 *   V8's minimum step) before the next one, instead of V8's up to 4×: an
 *   idle daemon's old generation otherwise grows by 15–20 MB of garbage
 *   between collections.
 * They must be set before the rest of the command line is loaded: loading
 * HandyRep's modules alone grows the semi-spaces to 4 MB, and V8 does not
 * shrink them again. Only for the `daemon` command (a short-lived command
 * gains nothing); a setting the operator gives in NODE_OPTIONS or on node's
 * command line wins. Returns the flags set.
 */
export function tuneDaemonHeap(argv: readonly string[], execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  if (!argv.slice(2).includes('daemon')) return [];
  const given = [...execArgv, nodeOptions].join(' ');
  const flags: string[] = [];
  if (!/semi[-_]space/.test(given)) flags.push('--semi-space-growth-factor=1');
  if (!/heap[-_]growing[-_]percent/.test(given)) flags.push('--heap-growing-percent=10');
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
