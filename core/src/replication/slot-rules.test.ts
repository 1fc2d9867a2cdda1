import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSlotName, newlyReported, planSlotUpkeep, SLOT_NAME, slotNameOf, slotSharedWith, trackDisabled } from './slot-rules.js';
import type { SlotOnServer, SlotServer, SlotUpkeepInput } from './slot-rules.js';

const HOUR = 3_600_000;

function slot(name: string, active = false, type: SlotOnServer['slot_type'] = 'physical'): SlotOnServer {
  return { slot_name: name, slot_type: type, active, retained_wal_bytes: 1024 };
}

function server(name: string, enabled = true, disabledSince?: number): SlotServer {
  return { name, slot: name, enabled, ...(disabledSince === undefined ? {} : { disabledSince }) };
}

function input(overrides: Partial<SlotUpkeepInput>): SlotUpkeepInput {
  return { master: 'pg1', servers: [server('pg1'), server('pg2'), server('pg3')], slots: [], created: [], now: 100 * HOUR, retentionMs: 24 * HOUR, ...overrides };
}

describe('slot names', () => {
  it('keeps a name that is already a valid slot name', () => {
    assert.equal(defaultSlotName('pg2'), 'pg2');
    assert.equal(defaultSlotName('replica_07'), 'replica_07');
  });

  it('derives a valid, deterministic and distinct name from any server name', () => {
    const names = ['Db-1', 'db_1', 'DB_1', 'a'.repeat(63), `${'a'.repeat(63)}`.toUpperCase(), 'x'.repeat(62) + '-'];
    const derived = names.map(defaultSlotName);
    for (const name of derived) assert.match(name, SLOT_NAME);
    assert.equal(new Set(derived).size, names.length, derived.join(' '));
    assert.deepEqual(names.map(defaultSlotName), derived, 'the same name gives the same slot every time');
    assert.match(defaultSlotName('Db-1'), /^db_1_[0-9a-f]{8}$/);
  });

  it('uses slot_name when the definition sets one, the derived name when it is empty or absent', () => {
    assert.equal(slotNameOf({ name: 'pg2', slot_name: 'standby_a' }), 'standby_a');
    assert.equal(slotNameOf({ name: 'pg2', slot_name: '' }), 'pg2');
    assert.equal(slotNameOf({ name: 'Pg-2' }), defaultSlotName('Pg-2'));
  });
});

describe('slotSharedWith', () => {
  it('names the other servers on the same slot, whether set or derived', () => {
    const servers = [{ name: 'pg1' }, { name: 'pg2', slot_name: 'standby' }, { name: 'pg3', slot_name: 'standby' }, { name: 'pg4', slot_name: 'pg1' }];
    assert.deepEqual(slotSharedWith('pg2', servers), ['pg3']);
    assert.deepEqual(slotSharedWith('pg1', servers), ['pg4']);
    assert.deepEqual(slotSharedWith('pg9', servers), []);
    assert.deepEqual(slotSharedWith('pg2', [{ name: 'pg2' }, { name: 'pg3' }]), []);
  });
});

describe('planSlotUpkeep', () => {
  it('keeps the slots of enabled replicas, active or not', () => {
    const plan = planSlotUpkeep(input({ slots: [slot('pg2', true), slot('pg3', false)], created: ['pg2', 'pg3'] }));
    assert.deepEqual(plan, { drop: [], foreign: [], busy: [] });
  });

  it('drops the slot of a server disabled for longer than the retention, keeps it before', () => {
    const now = 100 * HOUR;
    const longAgo = input({ servers: [server('pg1'), server('pg2', false, now - 25 * HOUR)], slots: [slot('pg2')], now });
    assert.deepEqual(planSlotUpkeep(longAgo).drop.map((drop) => [drop.slot, drop.server]), [['pg2', 'pg2']]);
    assert.match(planSlotUpkeep(longAgo).drop[0]?.reason ?? '', /disabled for 25\.0000 h/);
    const recently = input({ servers: [server('pg1'), server('pg2', false, now - 23 * HOUR)], slots: [slot('pg2')], now });
    assert.deepEqual(planSlotUpkeep(recently).drop, []);
    const fractional = input({ servers: [server('pg1'), server('pg2', false, now - 2000)], slots: [slot('pg2')], now, retentionMs: 0.0005 * HOUR });
    assert.deepEqual(planSlotUpkeep(fractional).drop.map((drop) => drop.slot), ['pg2']);
  });

  it('never drops an active slot: it is reported busy', () => {
    const plan = planSlotUpkeep(input({ servers: [server('pg1'), server('pg2', false, 0)], slots: [slot('pg2', true)] }));
    assert.deepEqual(plan.drop, []);
    assert.deepEqual(plan.busy.map((drop) => drop.slot), ['pg2']);
  });

  it("drops the master's own slot, left from an older topology", () => {
    const plan = planSlotUpkeep(input({ slots: [slot('pg1'), slot('pg2', true)] }));
    assert.deepEqual(plan.drop.map((drop) => drop.slot), ['pg1']);
  });

  it('drops a slot HandyRep created whose server was removed; reports, never drops, a slot it did not create', () => {
    const plan = planSlotUpkeep(input({ slots: [slot('pg9'), slot('backup_tool'), slot('pg2')], created: ['pg2', 'pg9'] }));
    assert.deepEqual(plan.drop.map((drop) => [drop.slot, drop.server, drop.reason]), [['pg9', null, 'its server was removed']]);
    assert.deepEqual(plan.foreign, ['backup_tool']);
  });

  it('treats a logical slot as foreign even when it carries a server name', () => {
    const plan = planSlotUpkeep(input({ slots: [slot('pg2', false, 'logical')], created: ['pg2'] }));
    assert.deepEqual(plan, { drop: [], foreign: ['pg2'], busy: [] });
  });

  it('keeps a disabled server whose disabled time is not known yet', () => {
    const plan = planSlotUpkeep(input({ servers: [server('pg1'), server('pg2', false)], slots: [slot('pg2')], retentionMs: 0 }));
    assert.deepEqual(plan.drop, []);
  });
});

describe('trackDisabled', () => {
  it('keeps the first time a server was seen disabled and forgets enabled or removed servers', () => {
    const first = trackDisabled({}, [{ name: 'pg2', enabled: false }, { name: 'pg3', enabled: true }], 10);
    assert.deepEqual(first, { pg2: 10 });
    const later = trackDisabled({ ...first, gone: 5 }, [{ name: 'pg2', enabled: false }, { name: 'pg3', enabled: false }], 20);
    assert.deepEqual(later, { pg2: 10, pg3: 20 });
    assert.deepEqual(trackDisabled(later, [{ name: 'pg2', enabled: true }], 30), {});
  });
});

describe('newlyReported', () => {
  it('reports a slot once per episode: again only after it left the state and came back', () => {
    const first = newlyReported(new Set(), ['pg3']);
    assert.deepEqual(first.fresh, ['pg3']);
    const second = newlyReported(first.seen, ['pg3', 'backup_tool']);
    assert.deepEqual(second.fresh, ['backup_tool']);
    const third = newlyReported(second.seen, ['pg3', 'backup_tool']);
    assert.deepEqual(third.fresh, []);
    const gone = newlyReported(third.seen, ['backup_tool']);
    assert.deepEqual(gone.fresh, []);
    assert.deepEqual(newlyReported(gone.seen, ['pg3', 'backup_tool']).fresh, ['pg3']);
  });
});
