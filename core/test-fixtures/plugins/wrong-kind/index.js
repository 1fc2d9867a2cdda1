// A promotion plugin, for configs that name it where a poll plugin belongs.
import { definePlugin, success } from '@handyrep/plugin-sdk';

export const plugin = definePlugin({
  kind: 'promotion',
  name: 'wrong_kind',
  description: 'A promotion plugin used in the wrong place.',
  configSchema: { type: 'object', properties: {}, additionalProperties: false },
  create: () => ({ promote: async () => success() }),
});
