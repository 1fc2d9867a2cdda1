import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControlCheck } from './control-check.js';
import type { PortProbe, PortState } from './port-probe.js';
import { judge } from './verdict.js';

const control = (state: ControlCheck['state']): ControlCheck => ({ state, detail: `control ${state}` });
const port = (state: PortState): PortProbe => ({ state, detail: `port ${state}` });
const WHERE = '10.0.0.1:5432';

describe('judge', () => {
  const cases: Array<[ControlCheck['state'], PortState, boolean, RegExp]> = [
    ['stopped', 'refused', true, /postmaster|control stopped/],
    ['stopped', 'timeout', true, /control stopped/],
    ['unknown', 'refused', true, /refuses connections/],
    ['stopped', 'accepting', false, /still accepting connections/],
    ['unknown', 'accepting', false, /still accepting connections/],
    ['running', 'accepting', false, /still accepting connections/],
    ['stopped', 'not_accepting', false, /still answers/],
    ['running', 'refused', false, /postmaster still running/],
    ['running', 'timeout', false, /still running but does not answer \(hung\?\)/],
    ['unknown', 'timeout', false, /state unknown: host unreachable/],
    ['unknown', 'unreachable', false, /state unknown: host unreachable/],
    ['unknown', 'error', false, /^state unknown \(/],
  ];
  for (const [controlState, portState, fenced, reason] of cases) {
    it(`control ${controlState}, port ${portState} → fenced ${fenced}`, () => {
      const verdict = judge({ control: control(controlState), port: port(portState) }, WHERE);
      assert.equal(verdict.fenced, fenced);
      assert.match(verdict.reason, reason);
      assert.match(verdict.reason, new RegExp(WHERE));
    });
  }

  it('a time-out alone never confirms anything', () => {
    for (const controlState of ['unknown', 'running'] as const) {
      assert.equal(judge({ control: control(controlState), port: port('timeout') }, WHERE).fenced, false);
    }
  });
});
