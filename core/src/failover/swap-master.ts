import type { Clock } from '@handyrep/plugin-sdk';
import type { ServerRegistry } from '../registry/server-registry.js';
import { serverStatus } from '../status/server-status.js';
import { addFormerMaster } from './former-masters.js';

/** The registry after a failover: the new master enabled as master, the old one disabled as a replica to rejoin. */
export function swapMaster(registry: ServerRegistry, clock: Clock, oldMaster: string, newMaster: string, message: string): void {
  const now = clock.now();
  registry.alter(oldMaster, { enabled: false });
  registry.alter(oldMaster, { role: 'replica' });
  registry.setStatus(oldMaster, serverStatus('down', `former master, disabled: ${message}; rejoin or clone it to bring it back`, now));
  // Watched from now on: should it come back out of recovery, it is fenced at once.
  addFormerMaster(registry, oldMaster);
  registry.alter(newMaster, { enabled: false });
  registry.alter(newMaster, { role: 'master' });
  registry.alter(newMaster, { enabled: true });
  registry.setStatus(newMaster, serverStatus('healthy', `promoted to master: ${message}`, now));
}
