import type { AuthDecision, AuthenticationPlugin, PluginContext } from '@handyrep/plugin-sdk';
import type { ZeroAuthConfig } from './config.js';

/** The warning logged at start, so nobody runs this in production without being told. */
export const ZERO_AUTH_WARNING =
  'zero_auth is active: every caller of the web API is admin without a password; the daemon answers on loopback addresses only (for trusted networks or in tests)';

/** The `zero_auth` instance: every caller, whatever they present, is admin. */
export function createZeroAuth(context: PluginContext<ZeroAuthConfig>): AuthenticationPlugin {
  context.logger.warn(ZERO_AUTH_WARNING);
  return {
    loopbackOnly: true,
    async authenticate(): Promise<AuthDecision> {
      return { authenticated: true, access: 'admin', details: 'zero_auth: no authentication configured; every caller is admin' };
    },
  };
}
