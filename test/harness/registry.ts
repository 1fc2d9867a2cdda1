// Live clusters of this process, torn down on SIGINT/SIGTERM/SIGHUP and, as a
// synchronous last resort, on process exit (a test that forgot teardown, a
// process.exit()). A slot whose owner died anyway (SIGKILL) is cleaned up by
// the next process that claims slots (see slots.ts).
import type { Cluster } from './cluster.js';
import { emergencyTeardownSync } from './teardown.js';

const live = new Set<Cluster>();
let installed = false;
let shuttingDown = false;

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
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    if (shuttingDown) {
      emergencyAll();
      process.exit(code);
    }
    shuttingDown = true;
    process.stderr.write(`harness: ${sig}: tearing down ${live.size} cluster(s)\n`);
    const timer = setTimeout(() => {
      emergencyAll();
      process.exit(code);
    }, 30_000);
    void Promise.allSettled([...live].map((c) => c.teardown())).then(() => {
      clearTimeout(timer);
      emergencyAll();
      process.exit(code);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
  process.on('exit', () => emergencyAll());
}
