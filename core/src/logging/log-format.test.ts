import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogLine } from './log-format.js';

describe('formatLogLine', () => {
  it('renders time (UTC), level, plugin tag, message and the remaining fields', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: '2026-11-26T14:03:05.123Z',
      pid: 42,
      plugin: 'poll_isready',
      server: 'pg2',
      msg: 'server pg2 not responding',
    });
    assert.equal(formatLogLine(line), '2026-11-26 14:03:05 WARN [poll_isready] server pg2 not responding {"server":"pg2"}');
  });

  it('accepts epoch-millisecond times and numeric pino levels, tags by component without a plugin', () => {
    const line = JSON.stringify({ level: 50, time: Date.UTC(2026, 0, 2, 3, 4, 5), component: 'failover', msg: 'boom' });
    assert.equal(formatLogLine(line), '2026-01-02 03:04:05 ERROR [failover] boom');
  });

  it('returns undefined for garbage, torn lines and JSON that is not a log entry', () => {
    assert.equal(formatLogLine('not json at all'), undefined);
    assert.equal(formatLogLine('{"level":"info","time":"2026-11-26T1'), undefined);
    assert.equal(formatLogLine('[1,2,3]'), undefined);
    assert.equal(formatLogLine('{"msg":"no time or level"}'), undefined);
    assert.equal(formatLogLine('{"level":"info","time":"yesterday","msg":"x"}'), undefined);
  });
});
