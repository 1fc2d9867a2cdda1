import { hostname } from 'node:os';
import type { HrMasterDecision, HrMasterPlugin, PluginContext } from '@handyrep/plugin-sdk';
import type { OneHrMasterConfig } from './config.js';

/** The `one_hr_master` instance: there is no other HandyRep to defer to, so the answer is always "act". */
export function createOneHrMaster(context: PluginContext<OneHrMasterConfig>, hostName: () => string = hostname): HrMasterPlugin {
  const configured = context.config.instance_name.trim();
  // Resolved once: the name an operator sees in answers must not change while HandyRep runs.
  const instance = configured !== '' ? configured : hostName();
  return {
    async check(): Promise<HrMasterDecision> {
      return {
        acting: true,
        acting_instance: instance,
        details: `one_hr_master: single HandyRep instance; ${instance} always acts`,
      };
    },
  };
}
