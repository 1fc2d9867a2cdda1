import { errorMessage, fail, HandyRepError } from '@handyrep/plugin-sdk';
import type { ReturnDictionary } from '@handyrep/plugin-sdk';
import type { Logger } from '@handyrep/plugin-sdk';

/**
 * The API boundary: coded errors thrown inside become FAIL return
 * dictionaries with a human `details`; anything unexpected is logged too.
 */
export async function asReturnDictionary<T extends object>(
  logger: Logger,
  functionName: string,
  work: () => Promise<T> | T,
): Promise<T | ReturnDictionary<{ code?: string }>> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HandyRepError) return fail(err.message, { code: err.code });
    logger.error(`${functionName} failed unexpectedly: ${errorMessage(err)}`, { function: functionName });
    return fail(`${functionName} failed unexpectedly: ${errorMessage(err)}`);
  }
}
