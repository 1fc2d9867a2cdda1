import { definePlugin } from '@handyrep/plugin-sdk';
import { restartSystemdConfigSchema, restartSystemdServerSchema } from './config.js';
import type { RestartSystemdConfig } from './config.js';
import { SystemdControl } from './systemd-control.js';

/** restart_systemd: start, stop, restart, reload and status of PostgreSQL through its systemd unit over SSH. */
export const plugin = definePlugin<'control', RestartSystemdConfig>({
  kind: 'control',
  name: 'restart_systemd',
  description: 'Start, stop, restart, reload and status of PostgreSQL through its systemd unit over SSH.',
  configSchema: restartSystemdConfigSchema,
  serverSchema: restartSystemdServerSchema,
  create: (context) => new SystemdControl(context),
});
