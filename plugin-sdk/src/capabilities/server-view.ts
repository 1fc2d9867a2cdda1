import type { ServerDefinition } from '../server-definition.js';

/** A read-only view of the server registry. Plugins never change server definitions directly. */
export interface ServerView {
  /** The named server; throws UnknownServerError when there is none. */
  get(name: string): Readonly<ServerDefinition>;
  /** True when the registry knows the name. */
  has(name: string): boolean;
  /** Every server, in definition order. */
  list(): readonly Readonly<ServerDefinition>[];
  /** The enabled master, or undefined when none is enabled. */
  master(): Readonly<ServerDefinition> | undefined;
  /** Enabled servers with the given role(s). */
  byRole(...roles: string[]): readonly Readonly<ServerDefinition>[];
}
