import { definePlugin } from '@handyrep/plugin-sdk';
import { restartPgCtlConfigSchema } from './config.js';
import type { RestartPgCtlConfig } from './config.js';
import { PgCtlControl } from './pg-ctl-control.js';

/** restart_pg_ctl: start, stop, restart, reload and status of PostgreSQL with pg_ctl over SSH. */
export const plugin = definePlugin<'control', RestartPgCtlConfig>({
  kind: 'control',
  name: 'restart_pg_ctl',
  description: 'Start, stop, restart, reload and status of PostgreSQL with pg_ctl over SSH.',
  configSchema: restartPgCtlConfigSchema,
  create: (context) => new PgCtlControl(context),
});
