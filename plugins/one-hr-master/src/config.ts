import type { ObjectSchema } from '@handyrep/plugin-sdk';

/** The `[plugins.one_hr_master]` section, defaults applied. */
export interface OneHrMasterConfig {
  /** Name this instance reports as the acting one; empty means the host name. */
  instance_name: string;
}

/** JSON Schema of `[plugins.one_hr_master]`. */
export const oneHrMasterConfigSchema: ObjectSchema = {
  type: 'object',
  description: 'A single HandyRep instance manages the cluster: it always acts.',
  properties: {
    instance_name: {
      type: 'string',
      default: '',
      description: 'Name reported as `acting_instance`; empty uses the host name of the machine HandyRep runs on.',
    },
  },
  additionalProperties: false,
};
