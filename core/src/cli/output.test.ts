import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, renderHuman, renderTable } from './output.js';

describe('human output', () => {
  it('aligns tables', () => {
    assert.equal(renderTable(['a', 'bb'], [['xxx', 'y']]), 'a    bb\n---  --\nxxx  y');
  });

  it('renders get_status as the cluster line and a server table', () => {
    const text = renderHuman({
      cluster: { status: 'healthy', status_no: 1, status_ts: 't', status_message: '' },
      servers: { pg1: { hostname: 'h1', enabled: true, role: 'master', status: 'healthy', status_no: 1, status_ts: '2026-01-01 00:00:00', status_message: 'ok' } },
    });
    assert.match(text, /^cluster: healthy \(1\)\n/);
    assert.match(text, /pg1\s+master\s+h1\s+yes\s+healthy \(1\)\s+2026-01-01 00:00:00\s+ok/);
    assert.doesNotMatch(text, /retained WAL/);
  });

  it("shows the synchronous standby set under the cluster line and each replica's lag", () => {
    const text = renderHuman({
      cluster: { status: 'healthy', status_no: 1, status_ts: 't', status_message: '', synchronous_standbys: 'ANY 1 (pg2, pg3)' },
      servers: {
        pg1: { hostname: 'h1', enabled: true, role: 'master', status: 'healthy', status_no: 1, status_ts: 't1', status_message: 'ok' },
        pg2: { hostname: 'h2', enabled: true, role: 'replica', status: 'lagged', status_no: 2, status_ts: 't2', status_message: 'behind', lag_mb: 17 },
      },
    });
    assert.match(text, /^cluster: healthy \(1\)\nsynchronous standbys: ANY 1 \(pg2, pg3\)\n/);
    assert.match(text, /server\s+role\s+host\s+enabled\s+status\s+lag MB\s+checked\s+message\n/);
    assert.match(text, /\npg1\s+master\s+h1\s+yes\s+healthy \(1\)\s+t1\s+ok\n/);
    assert.match(text, /\npg2\s+replica\s+h2\s+yes\s+lagged \(2\)\s+17\s+t2\s+behind$/);
    const withoutSync = renderHuman({ cluster: { status: 'healthy', status_no: 1, status_ts: 't', status_message: '' }, servers: {} });
    assert.doesNotMatch(withoutSync, /synchronous/);
  });

  it("adds a table of the master's replication slots when get_status has any", () => {
    const text = renderHuman({
      cluster: {
        status: 'healthy',
        status_no: 1,
        status_ts: 't',
        status_message: '',
        replication_slots: [
          { slot_name: 'pg2', server: 'pg2', active: true, retained_wal_bytes: 0 },
          { slot_name: 'backup', server: null, active: false, retained_wal_bytes: 4096 },
        ],
      },
      servers: { pg1: { hostname: 'h1', enabled: true, role: 'master', status: 'healthy', status_no: 1, status_ts: 't', status_message: '' } },
    });
    assert.match(text, /slot\s+server\s+active\s+retained WAL bytes\n/);
    assert.match(text, /\npg2\s+pg2\s+yes\s+0\n/);
    assert.match(text, /\nbackup\s+\(none\)\s+no\s+4096$/);
  });

  it('shows a scheduled switchover under the cluster line', () => {
    const scheduled = { at: '2026-12-03T22:00:00.000Z', newmaster: 'pg2', remaster: true, ignore_lag_limit: false, master: 'pg1', requested_at: '2026-12-03T12:00:00.000Z' };
    const text = renderHuman({ cluster: { status: 'healthy', status_no: 1, status_ts: 't', status_message: '', scheduled_switchover: scheduled }, servers: {} });
    assert.match(text, /^cluster: healthy \(1\)\nscheduled switchover: pg1 → pg2 at 2026-12-03T22:00:00.000Z /);
    const best = renderHuman({ cluster: { status: 'healthy', status_no: 1, status_ts: 't', status_message: '', scheduled_switchover: { ...scheduled, newmaster: null } }, servers: {} });
    assert.match(best, /scheduled switchover: pg1 → best candidate at /);
  });

  it('renders return dictionaries as RESULT: details, then the other keys', () => {
    assert.equal(renderHuman({ result: 'FAIL', details: "unknown server 'x'", code: 'HR_UNKNOWN_SERVER' }), "FAIL: unknown server 'x'\ncode: HR_UNKNOWN_SERVER");
    assert.equal(renderHuman({ result: 'SUCCESS', details: '' }), 'SUCCESS');
    assert.equal(renderHuman({ result: 'SUCCESS', details: '', setting: 'failover.poll_interval', value: 10 }), 'SUCCESS\nsetting: failover.poll_interval\nvalue: 10');
  });

  it('renders a failover\'s steps as a table of step, result, duration, details', () => {
    const text = renderHuman({
      result: 'SUCCESS',
      details: 'pg2 is the new master',
      old_master: 'pg1',
      new_master: 'pg2',
      steps: [
        { step: 'fence', result: 'SUCCESS', details: 'pg1 stopped', duration_ms: 1520 },
        { step: 'promote', result: 'SUCCESS', details: 'promoted\nand writable', duration_ms: 80 },
      ],
      duration_ms: 1700,
    });
    const lines = text.split('\n');
    assert.equal(lines[0], 'SUCCESS: pg2 is the new master');
    assert.ok(lines.includes('steps:'));
    assert.match(text, /\n {2}step\s+result\s+duration\s+details\n/);
    assert.match(text, /\n {2}fence\s+SUCCESS\s+1\.5 s\s+pg1 stopped/);
    assert.match(text, /\n {2}promote\s+SUCCESS\s+80 ms\s+promoted and writable/);
  });

  it('renders nested failover results (failover_check) with their steps table', () => {
    const text = renderHuman({ result: 'SUCCESS', details: 'failed over', failover: { result: 'SUCCESS', details: 'x', steps: [{ step: 'promote', result: 'FAIL', details: 'no', duration_ms: 5 }] } });
    assert.match(text, /failover:\n {2}SUCCESS: x\n {2}steps:\n {4}step\s+result/);
  });

  it('renders per-server results (verify_all) as one row per server', () => {
    const text = renderHuman({ result: 'SUCCESS', details: 'master is up and running', failover_ok: true, servers: { pg1: { result: 'SUCCESS', details: 'master verified', status: 'healthy' }, pg2: { result: 'SUCCESS', details: 'replica ok', status: 'healthy', lag_mb: 0 } } });
    assert.match(text, /servers:\n {2}name\s+result\s+status\s+lag_mb\s+details\n/);
    assert.match(text, /pg1\s+SUCCESS\s+healthy\s+-\s+master verified/);
    assert.match(text, /pg2\s+SUCCESS\s+healthy\s+0\s+replica ok/);
  });

  it('renders lists of flat records (restart_cluster\'s steps and skipped servers) as tables', () => {
    const text = renderHuman({
      result: 'FAIL',
      details: 'stopped at pg2',
      steps: [
        { server: 'pg1', action: 'check', result: 'SUCCESS', seconds: 0.05, details: 'healthy' },
        { server: 'pg2', action: 'restart', result: 'FAIL', seconds: 0.3, details: 'did not start' },
      ],
      skipped: [{ server: 'pg3', reason: 'nothing pending' }],
      stopped_at: { server: 'pg2', action: 'restart' },
    });
    assert.match(text, /steps:\n {2}result\s+server\s+action\s+seconds\s+details\n/);
    assert.match(text, /\n {2}FAIL\s+pg2\s+restart\s+0\.3\s+did not start/);
    assert.match(text, /skipped:\n {2}server\s+reason\n[- ]+\n {2}pg3\s+nothing pending/);
  });

  it('renders get_server_info with one column per server', () => {
    const text = renderHuman({ pg1: { name: 'pg1', hostname: 'h1', role: 'master', port: 5432 }, pg2: { name: 'pg2', hostname: 'h2', role: 'replica', port: 5433, socket_dir: '' } });
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^property\s+pg1\s+pg2$/);
    assert.ok(lines.some((line) => /^port\s+5432\s+5433$/.test(line)));
    assert.ok(lines.some((line) => /^socket_dir\s+-\s+-$/.test(line)));
    assert.ok(!lines.some((line) => line.startsWith('name')), 'the name is the column header');
  });

  it('renders read_log as lines, get_master_name as the name or (none)', () => {
    assert.equal(renderHuman(['newest', 'older']), 'newest\nolder');
    assert.equal(renderHuman([]), '(none)');
    assert.equal(renderHuman('pg1'), 'pg1');
    assert.equal(renderHuman(null), '(none)');
  });

  it('formats durations', () => {
    assert.equal(formatDuration(999), '999 ms');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(undefined), '-');
  });
});
