import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasErrorCode } from '@handyrep/plugin-sdk';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('passes a prompt answer through', async () => {
    assert.equal(await withDeadline(Promise.resolve(7), 1000, 'x'), 7);
  });

  it('passes a prompt rejection through', async () => {
    await assert.rejects(withDeadline(Promise.reject(new Error('boom')), 1000, 'x'), /boom/);
  });

  it('rejects with a coded TimeoutError when nothing answers', async () => {
    const started = Date.now();
    await assert.rejects(withDeadline(new Promise<never>(() => {}), 30, 'lag query on db1'), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.TIMEOUT));
      assert.match(String(err), /lag query on db1 got no answer within 30 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 1000);
  });
});
