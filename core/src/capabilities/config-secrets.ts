import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';
import type { Secrets } from '@handyrep/plugin-sdk';

/** `[passwords]` as the Secrets capability; `current` is read on each call so a reload is honoured. */
export function configSecrets(current: () => Readonly<Record<string, string>>): Secrets {
  return {
    get: (key) => {
      const value = current()[key];
      return value === undefined || value === '' ? undefined : value;
    },
    require(key) {
      const value = current()[key];
      if (value === undefined || value === '') {
        throw new HandyRepError(ErrorCodes.SECRET_MISSING, `password '${key}' is not set in [passwords]`);
      }
      return value;
    },
  };
}
