// A plugin whose config section has a required key and typed values.
import { definePlugin, success } from '@handyrep/plugin-sdk';

export const plugin = definePlugin({
  kind: 'alert',
  name: 'strict_schema',
  description: 'Needs an endpoint and a sane retry count.',
  configSchema: {
    type: 'object',
    properties: {
      endpoint: { type: 'string', pattern: '^https?://', description: 'Where to send alerts.' },
      retries: { type: 'integer', minimum: 0, maximum: 10, default: 3, description: 'Attempts.' },
    },
    required: ['endpoint'],
    additionalProperties: false,
  },
  serverSchema: {
    type: 'object',
    properties: { alert_group: { type: 'string', default: 'dba', description: 'Who is paged for this server.' } },
  },
  create: () => ({ send: async () => success() }),
});
