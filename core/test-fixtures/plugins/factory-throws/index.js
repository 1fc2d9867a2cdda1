// Its factory fails, as a plugin with an unusable environment would.
import { definePlugin } from '@handyrep/plugin-sdk';

export const plugin = definePlugin({
  kind: 'poll',
  name: 'factory_throws',
  description: 'Cannot be created.',
  configSchema: { type: 'object', properties: {}, additionalProperties: false },
  create: () => {
    throw new Error('cannot open /dev/nonexistent-device');
  },
});
