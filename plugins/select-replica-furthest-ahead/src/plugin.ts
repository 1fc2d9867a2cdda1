import { definePlugin } from '@handyrep/plugin-sdk';
import { selectFurthestAhead } from './select.js';

/** `select_replica_furthest_ahead`: failover candidates by received WAL position, then failover_priority. */
export const plugin = definePlugin<'replica_selection', Record<string, never>>({
  kind: 'replica_selection',
  name: 'select_replica_furthest_ahead',
  description: 'Orders failover candidates by most WAL received, then lower failover_priority, then name.',
  configSchema: {
    type: 'object',
    description: 'No settings: the order comes from each replica’s received WAL position and failover_priority.',
    properties: {},
    additionalProperties: false,
  },
  create() {
    return { select: (candidates, options) => selectFurthestAhead(candidates, options) };
  },
});
