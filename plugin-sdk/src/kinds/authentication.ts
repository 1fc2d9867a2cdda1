import type { PluginInstanceBase } from './base.js';

/** What a caller asks to do: read information or act. */
export type AccessLevel = 'read' | 'admin';

/** Credentials presented with a web or CLI call. */
export interface Credentials {
  /** User name; may be empty. */
  username: string;
  /** Password; never logged. */
  password: string;
}

/** An authentication answer. */
export interface AuthDecision {
  /** Whether the credentials are valid at all. */
  authenticated: boolean;
  /** The highest access they grant, when authenticated. */
  access?: AccessLevel;
  /** Why not, in words that reveal nothing secret. */
  details: string;
}

/** `authentication_method`: who may call the web API. */
export interface AuthenticationPlugin extends PluginInstanceBase {
  /** Checks credentials. */
  authenticate(credentials: Credentials): Promise<AuthDecision>;
  /**
   * True for a method that lets anyone in (zero_auth): the daemon then
   * refuses to listen on, or answer on, any address but loopback.
   */
  readonly loopbackOnly?: boolean;
}
