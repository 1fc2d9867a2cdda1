import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoveryConfirmSchemas } from './recovery-confirm-schema.js';

describe('recoveryConfirmSchemas', () => {
  it('gives confirm_seconds and confirm_interval_ms, the wording naming what the checks follow', () => {
    const schemas = recoveryConfirmSchemas('pg_ctl reports success');
    assert.deepEqual(Object.keys(schemas), ['confirm_seconds', 'confirm_interval_ms']);
    assert.deepEqual(schemas.confirm_seconds, {
      type: 'number',
      minimum: 0,
      maximum: 600,
      default: 10,
      description: 'After pg_ctl reports success, how long to keep checking that pg_is_in_recovery() is false before giving up with FAIL.',
    });
    assert.deepEqual(schemas.confirm_interval_ms, {
      type: 'integer',
      minimum: 10,
      maximum: 10_000,
      default: 200,
      description: 'Milliseconds between two pg_is_in_recovery() checks.',
    });
  });

  it('hands out fresh objects: one plugin editing its schema never changes another', () => {
    const a = recoveryConfirmSchemas('x');
    a.confirm_interval_ms.default = 5;
    assert.equal(recoveryConfirmSchemas('x').confirm_interval_ms.default, 200);
  });
});
