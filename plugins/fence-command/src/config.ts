import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.fence_command]` section, defaults applied. */
export interface FenceCommandConfig {
  /** Absolute path of the executable run on the HandyRep host. */
  command: string;
  /** Fixed arguments placed before the server name and host name. */
  args: string[];
  /** Milliseconds the command may run before it is killed and the fence counts as failed. */
  timeout_ms: number;
}

/** JSON Schema of `[plugins.fence_command]`. */
export const fenceCommandConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'Fencing by a local command (power switch, IPMI, cloud API) run as <command> <args...> <server> <hostname>, without a shell.',
  properties: {
    command: {
      type: 'string',
      pattern: '^/',
      description: 'Absolute path of the executable. It must exit 0 only when the server can no longer accept writes (machine off, instance stopped).',
    },
    args: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Fixed arguments passed before the server name and host name (INI: one `args[] = value` line each).',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 100,
      default: 30_000,
      description: 'Milliseconds the command may run; after that it (and everything it started) is killed and fencing fails.',
    },
  },
  required: ['command'],
  additionalProperties: false,
};
