import { runChecked } from './processes.js';

/**
 * Runs `work` while TCP packets to `address:port` are dropped (a partition:
 * connects and sends vanish without an answer). The rule is always removed.
 */
export async function withPartition<T>(address: string, port: number, work: () => Promise<T>): Promise<T> {
  const rule = ['INPUT', '-d', address, '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
  await runChecked(['iptables', '-w', '5', '-A', ...rule]);
  try {
    return await work();
  } finally {
    await runChecked(['iptables', '-w', '5', '-D', ...rule]);
  }
}
