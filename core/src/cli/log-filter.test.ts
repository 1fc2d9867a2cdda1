import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { formatLogLine, stderrLogFilter } from './log-filter.js';

describe('library-mode log on stderr', () => {
  it('shows warnings and errors by default, everything with --show-log', () => {
    const info = JSON.stringify({ level: 'info', msg: 'opened' });
    const warn = JSON.stringify({ level: 'warn', msg: 'careful' });
    assert.equal(formatLogLine(info, false), undefined);
    assert.equal(formatLogLine(info, true), 'handyrep: info: opened');
    assert.equal(formatLogLine(warn, false), 'handyrep: warn: careful');
    assert.equal(formatLogLine('not json', false), 'not json');
    assert.equal(formatLogLine('', true), undefined);
  });

  it('reassembles lines split across writes', async () => {
    const target = new PassThrough();
    const filter = stderrLogFilter(false, target);
    const line = JSON.stringify({ level: 'error', msg: 'broken' });
    filter.write(line.slice(0, 10));
    filter.write(`${line.slice(10)}\n${JSON.stringify({ level: 'debug', msg: 'hidden' })}\n`);
    await new Promise<void>((resolve) => filter.end(resolve));
    assert.equal(String(target.read() ?? ''), 'handyrep: error: broken\n');
  });
});
