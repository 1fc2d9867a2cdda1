// Live clusters of this process, torn down on SIGINT/SIGTERM/SIGHUP (then the
// process's remaining child processes are killed too) and, as a synchronous
// last resort, on process exit (a test that forgot teardown, a process.exit()).
// A slot whose owner died anyway (SIGKILL) is cleaned up by the next process
// that claims slots (see slots.ts).
import type { Cluster } from './cluster.js';
import { descendants, signal, waitGone } from './proc.js';
import { emergencyTeardownSync } from './teardown.js';

const live = new Set<Cluster>();
let installed = false;
let shuttingDown = false;
let signalTeardown = true;
const signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

/**
 * Whether SIGINT/SIGTERM/SIGHUP tear every live cluster down and exit
 * 130/143/129 (default true). A program that handles those signals itself
 * (and tears its clusters down, e.g. the sandbox) turns this off; the
 * synchronous teardown on process exit stays.
 */
export function setSignalTeardown(enabled: boolean): void {
  signalTeardown = enabled;
  if (!enabled) {
    for (const [sig, handler] of signalHandlers) process.off(sig, handler);
    signalHandlers.length = 0;
  } else if (installed && signalHandlers.length === 0) {
    installSignals();
  }
}

export function liveClusters(): Cluster[] {
  return [...live];
}

export function registerCluster(c: Cluster): void {
  live.add(c);
  install();
}

export function unregisterCluster(c: Cluster): void {
  live.delete(c);
}

function emergencyAll(): void {
  for (const c of [...live]) {
    emergencyTeardownSync(c);
    live.delete(c);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  if (signalTeardown) installSignals();
  process.on('exit', () => emergencyAll());
}

/**
 * What the test process itself still has running after its clusters are
 * gone: daemons, monitor scripts or browsers a test started and whose
 * after() hooks will not run now (a test-runner time-out arrives as SIGTERM).
 * SIGTERM, then SIGKILL after graceMs.
 */
async function killOwnChildren(graceMs: number): Promise<void> {
  const pids = descendants(process.pid).map((p) => p.pid);
  if (pids.length === 0) return;
  for (const p of pids) signal(p, 'SIGTERM');
  for (const p of await waitGone(pids, graceMs)) signal(p, 'SIGKILL');
}

function killOwnChildrenSync(): void {
  for (const p of descendants(process.pid)) signal(p.pid, 'SIGKILL');
}

function installSignals(): void {
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    if (shuttingDown) {
      emergencyAll();
      killOwnChildrenSync();
      process.exit(code);
    }
    shuttingDown = true;
    process.stderr.write(`harness: ${sig}: tearing down ${live.size} cluster(s)\n`);
    const timer = setTimeout(() => {
      emergencyAll();
      killOwnChildrenSync();
      process.exit(code);
    }, 30_000);
    void Promise.allSettled([...live].map((c) => c.teardown()))
      .then(() => killOwnChildren(3_000))
      .finally(() => {
        clearTimeout(timer);
        emergencyAll();
        process.exit(code);
      });
  };
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const handler = (): void => onSignal(sig, code);
    signalHandlers.push([sig, handler]);
    process.on(sig, handler);
  }
}
