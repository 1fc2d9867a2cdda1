import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adoptionCandidates, streamsWithoutSlot } from './slot-adoption-rules.js';
import type { AdoptionServer, WalReceiver } from './slot-adoption-rules.js';

function server(name: string, overrides: Partial<AdoptionServer> = {}): AdoptionServer {
  return { name, role: 'replica', enabled: true, slot: name, status: 'healthy', ...overrides };
}

const MASTER = { hostname: '127.0.0.1', port: 5432 };

function receiver(overrides: Partial<WalReceiver> = {}): WalReceiver {
  return { status: 'streaming', sender_host: MASTER.hostname, sender_port: MASTER.port, slot_name: '', ...overrides };
}

describe('which replicas are asked whether they stream without their slot', () => {
  const servers = [server('pg1', { role: 'master' }), server('pg2'), server('pg3'), server('pg4')];

  it('every enabled replica whose slot is not active (missing or inactive), never the master', () => {
    const names = adoptionCandidates('pg1', servers, ['pg2']).map((candidate) => candidate.name);
    assert.deepEqual(names, ['pg3', 'pg4']);
  });

  it('none when every replica streams through its active slot', () => {
    assert.deepEqual(adoptionCandidates('pg1', servers, ['pg2', 'pg3', 'pg4']), []);
  });

  it('leaves out disabled replicas, replicas that do not answer and servers of other roles', () => {
    const others = [server('pg2', { enabled: false }), server('pg3', { status: 'down' }), server('pg4', { status: 'unavailable' }), server('bouncer', { role: 'pgbouncer' }), server('pg5', { status: 'lagged' })];
    assert.deepEqual(adoptionCandidates('pg1', others, []).map((candidate) => candidate.name), ['pg5']);
  });

  it('uses the configured slot name, not the server name', () => {
    assert.deepEqual(adoptionCandidates('pg1', [server('pg2', { slot: 'custom' })], ['custom']), []);
    assert.equal(adoptionCandidates('pg1', [server('pg2', { slot: 'custom' })], ['pg2']).length, 1);
  });
});

describe('whether a replica streams from the master without its slot', () => {
  it('yes: streaming from the master through no slot (empty or null) or through another one', () => {
    assert.equal(streamsWithoutSlot(receiver(), MASTER, 'pg2'), true);
    assert.equal(streamsWithoutSlot(receiver({ slot_name: null }), MASTER, 'pg2'), true);
    assert.equal(streamsWithoutSlot(receiver({ slot_name: 'other' }), MASTER, 'pg2'), true);
  });

  it('no: already through its slot', () => {
    assert.equal(streamsWithoutSlot(receiver({ slot_name: 'pg2' }), MASTER, 'pg2'), false);
  });

  it('no: not streaming (starting up, waiting) or streaming from another server (cascading)', () => {
    assert.equal(streamsWithoutSlot(receiver({ status: 'waiting' }), MASTER, 'pg2'), false);
    assert.equal(streamsWithoutSlot(receiver({ status: 'starting' }), MASTER, 'pg2'), false);
    assert.equal(streamsWithoutSlot(receiver({ sender_host: '127.0.0.2' }), MASTER, 'pg2'), false);
    assert.equal(streamsWithoutSlot(receiver({ sender_port: 5433 }), MASTER, 'pg2'), false);
  });
});
