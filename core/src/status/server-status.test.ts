import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SERVER_STATUSES } from '@handyrep/plugin-sdk';
import type { ServerStatusName, StatusFields } from '@handyrep/plugin-sdk';
import {
  isServerStatusFields,
  serverStatus,
  serverStatusNumber,
  statusAfterPoll,
  unknownServerStatus,
} from './server-status.js';
import { formatStatusTimestamp } from './status-time.js';

const T0 = Date.UTC(2013, 10, 14, 0, 35, 49);
const T1 = Date.UTC(2013, 10, 14, 3, 57, 43);

describe('formatStatusTimestamp', () => {
  const rows: [spec: string, ms: number, expected: string][] = [
    ['spec example "2013-11-14 03:57:43"', T1, '2013-11-14 03:57:43'],
    ['UTC, zero-padded, milliseconds dropped', Date.UTC(2024, 0, 2, 3, 4, 5, 999), '2024-01-02 03:04:05'],
    ['epoch', 0, '1970-01-01 00:00:00'],
  ];
  for (const [spec, ms, expected] of rows) {
    it(spec, () => assert.equal(formatStatusTimestamp(ms), expected));
  }
  it('refuses a non-finite time', () => assert.throws(() => formatStatusTimestamp(Number.NaN), RangeError));
});

describe('server status numbers', () => {
  const rows: [spec: string, name: ServerStatusName, no: number][] = [
    ['0 : "unknown" server has not been checked yet', 'unknown', 0],
    ['1 : "healthy" server is operating normally', 'healthy', 1],
    ['2 : "lagged" replica has exceeded the configured lag threshold', 'lagged', 2],
    ['3 : "warning" server is operating, but has one or more issues', 'warning', 3],
    ['4 : "unavailable" cannot determine status of server because we cannot connect', 'unavailable', 4],
    ['5 : "down" server is verified down', 'down', 5],
  ];
  for (const [spec, name, no] of rows) {
    it(spec, () => {
      assert.equal(serverStatusNumber(name), no);
      assert.deepEqual(serverStatus(name, 'm', T1), {
        status: name,
        status_no: no,
        status_ts: '2013-11-14 03:57:43',
        status_message: 'm',
      });
    });
  }
  it('covers every SDK status', () => assert.equal(rows.length, SERVER_STATUSES.length));

  it('"server has not been checked yet": unknown with an empty status_ts', () => {
    assert.deepEqual(unknownServerStatus(), { status: 'unknown', status_no: 0, status_ts: '', status_message: '' });
  });

  it('isServerStatusFields accepts consistent fields and refuses a wrong number or name', () => {
    assert.equal(isServerStatusFields(serverStatus('down', 'x', T0)), true);
    assert.equal(isServerStatusFields({ ...serverStatus('down', 'x', T0), status_no: 4 }), false);
    assert.equal(isServerStatusFields({ ...serverStatus('down', 'x', T0), status: 'gone' }), false);
    assert.equal(isServerStatusFields({ status: 'down', status_no: 5, status_ts: '' }), false);
    assert.equal(isServerStatusFields(null), false);
  });
});

describe('statusAfterPoll', () => {
  const at = (name: ServerStatusName, message = `was ${name}`): StatusFields<ServerStatusName> =>
    name === 'unknown' ? unknownServerStatus() : serverStatus(name, message, T0);

  const rows: [spec: string, from: ServerStatusName, ok: boolean, expected: StatusFields<ServerStatusName>][] = [
    ['"unknown" → "healthy" when the poll answers', 'unknown', true, serverStatus('healthy', 'poll ok', T1)],
    ['"healthy" stays "healthy" with the new message', 'healthy', true, serverStatus('healthy', 'poll ok', T1)],
    [
      'polling "will not change "warning" to "healthy"": keeps status and message, refreshes status_ts',
      'warning',
      true,
      { ...serverStatus('warning', 'was warning', T1) },
    ],
    ['"lagged" is kept too: a poll cannot measure lag', 'lagged', true, serverStatus('lagged', 'was lagged', T1)],
    ['"unavailable" → "healthy" when the poll answers', 'unavailable', true, serverStatus('healthy', 'poll ok', T1)],
    ['"down" → "healthy" when the poll answers', 'down', true, serverStatus('healthy', 'poll ok', T1)],
    ['failed poll: "unavailable": "cannot connect to it" (from unknown)', 'unknown', false, serverStatus('unavailable', 'poll failed', T1)],
    ['failed poll: healthy → "unavailable"', 'healthy', false, serverStatus('unavailable', 'poll failed', T1)],
    ['failed poll: lagged → "unavailable"', 'lagged', false, serverStatus('unavailable', 'poll failed', T1)],
    ['failed poll: warning → "unavailable"', 'warning', false, serverStatus('unavailable', 'poll failed', T1)],
    ['failed poll: unavailable stays "unavailable", new message', 'unavailable', false, serverStatus('unavailable', 'poll failed', T1)],
    ['failed poll: "server is verified down" stays "down", message kept', 'down', false, serverStatus('down', 'was down', T1)],
  ];
  for (const [spec, from, ok, expected] of rows) {
    it(spec, () => {
      const before = at(from);
      const frozen = Object.freeze({ ...before });
      assert.deepEqual(statusAfterPoll(frozen, ok, ok ? 'poll ok' : 'poll failed', T1), expected);
    });
  }
});
