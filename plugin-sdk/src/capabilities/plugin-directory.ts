import type { PluginKind, PluginKindMap } from '../kinds/plugin-kind.js';

/** Kinds that are configured per server (`restart_method`, `promotion_method`, `clone_method`). */
export type PerServerKind = 'control' | 'promotion' | 'clone';

/** Lets a plugin use other loaded plugins, e.g. fencing through a server's control plugin. */
export interface PluginDirectory {
  /** The plugin of `kind` configured for `server`. */
  forServer<K extends PerServerKind>(kind: K, server: string): PluginKindMap[K];
  /** The cluster-wide plugin of `kind`, or undefined when none is configured. */
  active<K extends PluginKind>(kind: K): PluginKindMap[K] | undefined;
}
