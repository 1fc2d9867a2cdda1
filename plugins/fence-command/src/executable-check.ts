import { accessSync, constants, statSync } from 'node:fs';
import { ErrorCodes, errorMessage, HandyRepError } from '@handyrep/plugin-sdk';

/**
 * Throws PLUGIN_CONFIG_INVALID unless `path` is an executable file. Done at
 * start-up: a fencing command that is missing is found when the operator
 * starts HandyRep, not in the middle of a failover.
 */
export function assertExecutable(path: string, key: string): void {
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${key} '${path}' is not an executable file: ${errorMessage(err)}`);
  }
}
