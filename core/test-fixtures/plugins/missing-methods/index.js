// A control plugin that forgot most of its methods.
import { definePlugin, success } from '@handyrep/plugin-sdk';

export const plugin = definePlugin({
  kind: 'control',
  name: 'missing_methods',
  description: 'Only knows how to start.',
  configSchema: { type: 'object', properties: {}, additionalProperties: false },
  create: () => ({ start: async () => success() }),
});
