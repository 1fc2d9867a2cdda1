import type { PluginKind, PluginKindMap } from '../kinds/plugin-kind.js';

/** Kinds that are configured per server (`restart_method`, `promotion_method`, `clone_method`). */
export type PerServerKind = 'control' | 'promotion' | 'clone';

/** Kinds configured once for the whole cluster, each under one config key (e.g. `poll` under `[failover] poll_method`). */
export type ClusterKind = Exclude<PluginKind, PerServerKind>;

/**
 * Lets a plugin use other loaded plugins, e.g. fencing through a server's
 * control plugin. The instances it hands out are the core's: each call of a
 * kind's method is bounded by the core's deadline for that kind
 * (`[handyrep] plugin_timeout` and friends) and rejects with HR_TIMEOUT past it.
 */
export interface PluginDirectory {
  /** The plugin of `kind` configured for `server`. */
  forServer<K extends PerServerKind>(kind: K, server: string): PluginKindMap[K];
  /** The cluster-wide plugin of `kind` (the one its config key names), or undefined when none is configured. */
  cluster<K extends ClusterKind>(kind: K): PluginKindMap[K] | undefined;
  /** Like `cluster`, for any kind: undefined for the per-server kinds. */
  active<K extends PluginKind>(kind: K): PluginKindMap[K] | undefined;
}
