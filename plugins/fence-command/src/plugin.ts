import { definePlugin } from '@handyrep/plugin-sdk';
import { fenceCommandConfigSchema } from './config.js';
import type { FenceCommandConfig } from './config.js';
import { assertExecutable } from './executable-check.js';
import { createFenceCommand } from './fence-command.js';

/** `fencing_method = fence_command`. */
export const plugin = definePlugin<'fencing', FenceCommandConfig>({
  kind: 'fencing',
  name: 'fence_command',
  description: 'Fences an old master by running a configured local command (power switch, cloud API); exit 0 means fenced.',
  configSchema: fenceCommandConfigSchema,
  create(context) {
    assertExecutable(context.config.command, `[plugins.${context.name}] command`);
    return createFenceCommand(context);
  },
});
