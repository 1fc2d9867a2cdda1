import { definePlugin } from '@handyrep/plugin-sdk';
import { oneHrMasterConfigSchema } from './config.js';
import type { OneHrMasterConfig } from './config.js';
import { createOneHrMaster } from './one-hr-master.js';

/** `master_check_method = one_hr_master`. */
export const plugin = definePlugin<'hr_master', OneHrMasterConfig>({
  kind: 'hr_master',
  name: 'one_hr_master',
  description: 'Single HandyRep instance: this instance always acts.',
  configSchema: oneHrMasterConfigSchema,
  create(context) {
    return createOneHrMaster(context);
  },
});
