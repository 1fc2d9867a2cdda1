import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { staticServerView, testServer } from '@handyrep/plugin-sdk/testing';
import type { TestServer } from '@handyrep/plugin-sdk/testing';
import { renderDatabasesFile } from './databases-file.js';
import { databaseAliases } from './names.js';
import { bestReplica, routingPlan } from './routing.js';

const healthy = { status: 'healthy', status_no: 1 } as const;
const lagged = { status: 'lagged', status_no: 2 } as const;

function view(servers: TestServer[]) {
  return staticServerView(servers.map(testServer));
}

const CLUSTER: TestServer[] = [
  { name: 'pg1', hostname: '10.0.0.1', role: 'master', ...healthy },
  { name: 'pg2', hostname: '10.0.0.2', role: 'replica', failover_priority: 2, ...healthy },
  { name: 'pg3', hostname: '10.0.0.3', role: 'replica', failover_priority: 1, ...lagged },
  { name: 'pg4', hostname: '10.0.0.4', role: 'replica', failover_priority: 0, status: 'down', status_no: 5 },
  { name: 'pg5', hostname: '10.0.0.5', role: 'replica', failover_priority: 0, enabled: false, ...healthy },
  { name: 'pg6', hostname: '10.0.0.6', role: 'replica', failover_priority: 0, status: 'unknown', status_no: 0 },
  { name: 'bouncer1', hostname: '10.0.0.11', role: 'pgbouncer', port: 6432, ...healthy },
];

describe('routing', () => {
  it('reads go to a healthy replica before a lagged one, then by failover_priority, never to a down, disabled or unchecked one', () => {
    assert.equal(bestReplica(view(CLUSTER).list(), 'pg1')?.name, 'pg2');
    assert.equal(bestReplica(view(CLUSTER).list(), 'pg2')?.name, 'pg3', 'the new master is never its own read replica');
    const twoHealthy = CLUSTER.map((s) => (s.name === 'pg3' ? { ...s, ...healthy } : s));
    assert.equal(bestReplica(view(twoHealthy).list(), 'pg1')?.name, 'pg3', 'lower failover_priority wins among equals');
    const tie = CLUSTER.map((s) => (s.name === 'pg3' ? { ...s, ...healthy, failover_priority: 2 } : s));
    assert.equal(bestReplica(view(tie).list(), 'pg1')?.name, 'pg2', 'then the name, so the choice is stable');
  });

  it('without a usable replica the read-only aliases point at the master', () => {
    const plan = routingPlan(view(CLUSTER.slice(0, 1)), 'pg1', databaseAliases(['appdb'], '_ro'));
    assert.equal(plan.readonlyTarget.server, 'pg1');
    assert.match(plan.readonlyReason, /no healthy or lagged replica/);
    assert.deepEqual(plan.databases.map((db) => [db.alias, db.target.server]), [['appdb', 'pg1'], ['appdb_ro', 'pg1']]);
  });

  it('refuses an unknown server, a proxy as master, and hostnames pgbouncer would misread', () => {
    const aliases = databaseAliases(['appdb'], '_ro');
    assert.throws(() => routingPlan(view(CLUSTER), 'nosuch', aliases), { code: 'HR_UNKNOWN_SERVER' });
    assert.throws(() => routingPlan(view(CLUSTER), 'bouncer1', aliases), /cannot be the master/);
    const hostile = CLUSTER.map((s) => (s.name === 'pg2' ? { ...s, hostname: '10.0.0.2 password=x' } : s));
    assert.throws(() => routingPlan(view(hostile), 'pg2', aliases), /cannot be written/);
    assert.throws(() => routingPlan(view(hostile), 'pg1', aliases), /cannot be written/, 'nor as the read target');
  });

  it('renders one line per alias, without user or password, under [databases]', () => {
    const plan = routingPlan(view(CLUSTER), 'pg1', databaseAliases(['appdb', 'reports'], '_ro'));
    const text = renderDatabasesFile(plan, '/etc/pgbouncer/handyrep-databases.ini');
    const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith(';'));
    assert.deepEqual(lines, [
      '[databases]',
      'appdb = host=10.0.0.1 port=5432 dbname=appdb',
      'reports = host=10.0.0.1 port=5432 dbname=reports',
      'appdb_ro = host=10.0.0.2 port=5432 dbname=appdb',
      'reports_ro = host=10.0.0.2 port=5432 dbname=reports',
    ]);
    assert.doesNotMatch(text, /password|user=/);
    assert.match(text, /^; pgbouncer.ini includes it with its last line: %include \/etc\/pgbouncer\/handyrep-databases.ini$/m);
    assert.equal(renderDatabasesFile(plan, '/x.ini'), renderDatabasesFile(plan, '/x.ini'), 'same plan, same bytes');
  });
});
