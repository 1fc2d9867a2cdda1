import type { Credentials } from '@handyrep/plugin-sdk';

/** Longest user name accepted; anything longer is refused without asking the directory. */
export const MAX_USERNAME_CHARS = 256;

/**
 * Why these credentials are refused before any LDAP traffic, or undefined
 * when they may be tried. An empty password matters most: LDAP treats a
 * simple bind with a DN and no password as an anonymous bind that "succeeds".
 */
export function refusalOf(credentials: Credentials): string | undefined {
  const { username, password } = credentials;
  if (typeof username !== 'string' || username.trim() === '') return 'a user name is required';
  if (typeof password !== 'string' || password === '') return 'a password is required';
  if ([...username].length > MAX_USERNAME_CHARS) return `user name longer than ${MAX_USERNAME_CHARS} characters`;
  // Control characters have no place in a login name; refusing them keeps escaping to the printable cases.
  if (/[\u0000-\u001f\u007f]/.test(username)) return 'user name contains control characters';
  return undefined;
}
