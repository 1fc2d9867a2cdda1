import { definePlugin } from '@handyrep/plugin-sdk';
import { configSchema } from './config.js';
import type { PollHeldConfig } from './config.js';
import { HeldPoller } from './held-poller.js';

/** `poll_held`: polls on one held connection per server, one round trip per poll, reporting in_recovery. */
export const plugin = definePlugin<'poll', PollHeldConfig>({
  kind: 'poll',
  name: 'poll_held',
  description: 'Poll on one held SQL connection per server: one round trip (`SELECT pg_is_in_recovery()`) per poll, reporting in_recovery.',
  configSchema,
  create: (context) => new HeldPoller(context),
});
