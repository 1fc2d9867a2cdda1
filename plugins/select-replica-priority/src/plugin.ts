import { definePlugin } from '@handyrep/plugin-sdk';
import { selectByPriority } from './select.js';

/** `select_replica_priority`: failover candidates by status, then failover_priority. */
export const plugin = definePlugin<'replica_selection', Record<string, never>>({
  kind: 'replica_selection',
  name: 'select_replica_priority',
  description: 'Orders failover candidates by status (healthy, lagged, warning), then lower failover_priority, then name.',
  configSchema: {
    type: 'object',
    description: 'No settings: the order comes from each server’s failover_priority, failover_lag_limit and nofailover.',
    properties: {},
    additionalProperties: false,
  },
  create() {
    return { select: (candidates, options) => selectByPriority(candidates, options) };
  },
});
