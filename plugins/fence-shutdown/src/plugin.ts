import { definePlugin } from '@handyrep/plugin-sdk';
import { fenceShutdownConfigSchema } from './config.js';
import type { FenceShutdownConfig } from './config.js';
import { createFenceShutdown } from './fence-shutdown.js';

/** `fencing_method = fence_shutdown`. */
export const plugin = definePlugin<'fencing', FenceShutdownConfig>({
  kind: 'fencing',
  name: 'fence_shutdown',
  description: 'Fences an old master by stopping it in immediate mode through its control plugin, and reports fenced only once it is confirmed down.',
  configSchema: fenceShutdownConfigSchema,
  create: (context) => createFenceShutdown(context),
});
