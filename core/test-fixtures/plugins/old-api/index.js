// Declared with a (pretend) older SDK: branded, but for plugin API version 0.
import { definePlugin, success } from '@handyrep/plugin-sdk';

const current = definePlugin({
  kind: 'poll',
  name: 'old_api',
  description: 'Built against an old plugin API.',
  configSchema: { type: 'object', properties: {}, additionalProperties: false },
  create: () => ({ poll: async () => success('', { state: 'accepting', duration_ms: 0 }) }),
});
export const plugin = { ...current, apiVersion: 0 };
