import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adoptionCandidates, adoptionNeed } from './slot-adoption-rules.js';
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

describe('what a replica\'s WAL receiver says about adopting it', () => {
  it('adopt: streaming from the master through no slot (empty or null)', () => {
    assert.equal(adoptionNeed(receiver(), MASTER, 'pg2'), 'adopt');
    assert.equal(adoptionNeed(receiver({ slot_name: null }), MASTER, 'pg2'), 'adopt');
  });

  it('own_slot: already through its slot', () => {
    assert.equal(adoptionNeed(receiver({ slot_name: 'pg2' }), MASTER, 'pg2'), 'own_slot');
  });

  it('other_slot: through a slot someone else chose (an operator, another tool, a second definition of the same server) is left alone', () => {
    assert.equal(adoptionNeed(receiver({ slot_name: 'standby1' }), MASTER, 'pg2'), 'other_slot');
    // Two definitions of one PostgreSQL: whichever was adopted first keeps it; the other is not moved back and forth.
    assert.equal(adoptionNeed(receiver({ slot_name: 'pg2' }), MASTER, 'pg2_alias'), 'other_slot');
  });

  it('not_from_master: not streaming (starting up, waiting) or streaming from another server (cascading)', () => {
    assert.equal(adoptionNeed(receiver({ status: 'waiting' }), MASTER, 'pg2'), 'not_from_master');
    assert.equal(adoptionNeed(receiver({ status: 'starting' }), MASTER, 'pg2'), 'not_from_master');
    assert.equal(adoptionNeed(receiver({ sender_host: '127.0.0.2' }), MASTER, 'pg2'), 'not_from_master');
    assert.equal(adoptionNeed(receiver({ sender_port: 5433, slot_name: '' }), MASTER, 'pg2'), 'not_from_master');
  });
});
