/**
 * The stable HandyRep code (`HR_...`) a thrown value carries, or null, e.g.
 * for the `error_code` of a return dictionary. Read by shape, not by class,
 * so it works across copies of the SDK; operating-system codes (`ECONNREFUSED`)
 * and SQLSTATEs are not HandyRep codes and give null.
 */
export function errorCodeOf(err: unknown): string | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('HR_') ? code : null;
}
