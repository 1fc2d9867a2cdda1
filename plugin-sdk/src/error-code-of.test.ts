import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCodeOf } from './error-code-of.js';
import { ErrorCodes, HandyRepError, TimeoutError, UnknownServerError } from './errors.js';

describe('errorCodeOf', () => {
  it('reads the code of HandyRep errors, and of look-alikes from another SDK copy', () => {
    assert.equal(errorCodeOf(new TimeoutError('slow')), ErrorCodes.TIMEOUT);
    assert.equal(errorCodeOf(new UnknownServerError('db9')), ErrorCodes.UNKNOWN_SERVER);
    assert.equal(errorCodeOf(new HandyRepError(ErrorCodes.SQL, 'x')), 'HR_SQL');
    assert.equal(errorCodeOf({ code: 'HR_SOMETHING_NEWER' }), 'HR_SOMETHING_NEWER');
  });

  it('is null for everything else', () => {
    assert.equal(errorCodeOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), null);
    assert.equal(errorCodeOf(Object.assign(new Error('starting up'), { code: '57P03' })), null);
    assert.equal(errorCodeOf(new Error('plain')), null);
    assert.equal(errorCodeOf({ code: 42 }), null);
    assert.equal(errorCodeOf('HR_TIMEOUT'), null);
    assert.equal(errorCodeOf(null), null);
    assert.equal(errorCodeOf(undefined), null);
  });
});
