import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedHosts, isLoopbackAddress, listensOnLoopbackOnly, LoginLimiter, normalHost } from './request-guard.js';

describe('request guard', () => {
  it('normalises Host headers: case, port, brackets, trailing dot', () => {
    assert.equal(normalHost('LocalHost:8754'), 'localhost');
    assert.equal(normalHost('db.example.com.'), 'db.example.com');
    assert.equal(normalHost('[::1]:8754'), '::1');
    assert.equal(normalHost('::1'), '::1');
    assert.equal(normalHost('127.0.0.1'), '127.0.0.1');
  });

  it('knows loopback addresses, and which listen addresses other machines can reach', async () => {
    for (const address of ['127.0.0.1', '127.77.3.1', '::1', '::ffff:127.0.0.1', '[::1]']) assert.equal(isLoopbackAddress(address), true, address);
    for (const address of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', 'localhost.evil']) assert.equal(isLoopbackAddress(address), false, address);
    assert.equal(await listensOnLoopbackOnly('127.0.0.1'), true);
    assert.equal(await listensOnLoopbackOnly('localhost'), true);
    for (const listen of ['0.0.0.0', '::', '', '10.1.2.3']) assert.equal(await listensOnLoopbackOnly(listen), false, listen);
  });

  it('allows the listen address, localhost, 127.0.0.1 and web_allowed_hosts; a wildcard adds this machine', () => {
    assert.deepEqual([...allowedHosts('10.1.2.3', ' HandyRep.Example.com , db1 ')].sort(), ['10.1.2.3', '127.0.0.1', 'db1', 'handyrep.example.com', 'localhost']);
    const wildcard = allowedHosts('0.0.0.0', '');
    assert.ok(wildcard.has('127.0.0.1') && wildcard.has('localhost'));
    assert.ok(!wildcard.has('0.0.0.0'));
    assert.ok(!wildcard.has('rebind.attacker.example'));
  });

  it('locks an address out after N failures within the window, for the window; others are not affected', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(3, 60_000, () => now);
    assert.equal(limiter.recordFailure('a'), false);
    now += 30_000;
    assert.equal(limiter.recordFailure('a'), false);
    now += 31_000;
    // The first failure is out of the window: still two.
    assert.equal(limiter.recordFailure('a'), false);
    assert.equal(limiter.lockedFor('a'), 0);
    assert.equal(limiter.recordFailure('a'), true);
    assert.equal(limiter.lockedFor('a'), 60_000);
    assert.equal(limiter.lockedFor('b'), 0);
    now += 59_999;
    assert.equal(limiter.lockedFor('a'), 1);
    now += 1;
    assert.equal(limiter.lockedFor('a'), 0);
    // A success forgets earlier failures.
    limiter.recordFailure('b');
    limiter.recordFailure('b');
    limiter.recordSuccess('b');
    assert.equal(limiter.recordFailure('b'), false);
  });

  it('keeps a bounded number of addresses', () => {
    const limiter = new LoginLimiter(5, 60_000, () => 0, 100);
    for (let i = 0; i < 1000; i += 1) limiter.recordFailure(`10.0.${Math.floor(i / 256)}.${i % 256}`);
    assert.equal((limiter as unknown as { failures: Map<string, unknown> }).failures.size, 100);
  });
});
