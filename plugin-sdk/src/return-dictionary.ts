/** The two outcomes every HandyRep return dictionary carries in `result`. */
export type ResultCode = 'SUCCESS' | 'FAIL';

/**
 * The spec's "return dictionary" (RD): `result`, a human `details`, plus any
 * extra keys a function documents.
 */
export type ReturnDictionary<Extra extends object = Record<never, never>> = {
  result: ResultCode;
  details: string;
} & Extra;

/** Builds a SUCCESS return dictionary with optional extra keys. */
export function success<Extra extends object = Record<never, never>>(
  details = '',
  extra?: Extra,
): ReturnDictionary<Extra> {
  return { result: 'SUCCESS', details, ...(extra ?? ({} as Extra)) };
}

/** Builds a FAIL return dictionary with optional extra keys. */
export function fail<Extra extends object = Record<never, never>>(
  details: string,
  extra?: Extra,
): ReturnDictionary<Extra> {
  return { result: 'FAIL', details, ...(extra ?? ({} as Extra)) };
}

/** True when a return dictionary reports SUCCESS. */
export function succeeded(rd: { result: ResultCode }): boolean {
  return rd.result === 'SUCCESS';
}

/** True when a return dictionary reports FAIL. */
export function failed(rd: { result: ResultCode }): boolean {
  return rd.result === 'FAIL';
}
