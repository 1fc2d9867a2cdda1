import { ErrorCodes, HandyRepError } from '@handyrep/plugin-sdk';

/** The recipient list from `to` (a list, or comma-separated addresses); throws when it is empty or holds a non-address. */
export function recipientsOf(to: string[] | string, section: string): string[] {
  const list = (Array.isArray(to) ? to : to.split(','))
    .map((address) => address.trim())
    .filter((address) => address !== '');
  if (list.length === 0) throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section} to: no recipient given`);
  for (const address of list) {
    if (!address.includes('@')) {
      throw new HandyRepError(ErrorCodes.PLUGIN_CONFIG_INVALID, `${section} to: '${address}' is not an e-mail address`);
    }
  }
  return list;
}
