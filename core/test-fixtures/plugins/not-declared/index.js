// Exports `plugin`, but not made with definePlugin.
export const plugin = { kind: 'poll', name: 'not_declared', create: () => ({ poll: async () => ({}) }) };
