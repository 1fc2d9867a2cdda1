// A well-formed poll plugin: the loader's happy path.
import { definePlugin, success } from '@handyrep/plugin-sdk';

export const plugin = definePlugin({
  kind: 'poll',
  name: 'good_poll',
  description: 'Always answers that the server accepts connections.',
  configSchema: {
    type: 'object',
    properties: { answer_ms: { type: 'integer', minimum: 0, default: 3, description: 'Pretended duration.' } },
    additionalProperties: false,
  },
  create: (context) => ({
    async poll(server) {
      context.servers.get(server);
      return success('accepting', { state: 'accepting', duration_ms: context.config.answer_ms });
    },
  }),
});
