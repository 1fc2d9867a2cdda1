import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestContext, verifyPlugin } from '@handyrep/plugin-sdk/testing';
import type { ZeroAuthConfig } from './config.js';
import { plugin } from './plugin.js';

describe('zero_auth', () => {
  it('grants admin to anyone, whatever the credentials', async () => {
    const { context } = createTestContext<ZeroAuthConfig>({ config: {} });
    const auth = await plugin.create(context);
    for (const credentials of [
      { username: '', password: '' },
      { username: 'admin', password: 'wrong' },
      { username: '*)(uid=*', password: '\u0000' },
    ]) {
      const decision = await auth.authenticate(credentials);
      assert.equal(decision.authenticated, true);
      assert.equal(decision.access, 'admin');
      assert.match(decision.details, /no authentication/);
    }
  });

  it('warns loudly in the log when it starts', async () => {
    const { context, logger } = createTestContext<ZeroAuthConfig>({ config: {} });
    await plugin.create(context);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /every caller .* is admin .*trusted networks or in tests/);
  });

  it('loads through the real core loader and rejects any key', async () => {
    const report = await verifyPlugin('zero_auth', { kind: 'authentication', config: {} });
    assert.equal(report.name, 'zero_auth');
    await assert.rejects(verifyPlugin('zero_auth', { kind: 'authentication', config: { admin_password_key: 'x' } }), /admin_password_key|additional/);
  });
});
