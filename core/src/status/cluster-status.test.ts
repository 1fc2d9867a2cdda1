import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterStatusName, ServerDefinition, ServerStatusName } from '@handyrep/plugin-sdk';
import { computeClusterStatus, isClusterStatusFields, unknownClusterStatus } from './cluster-status.js';
import { serverStatus, unknownServerStatus } from './server-status.js';

const AT = Date.UTC(2013, 10, 14, 3, 57, 43);
const TS = '2013-11-14 03:57:43';

/** A server written as `name:role:status[:disabled]`, its message "<name> is <status>". */
function s(spec: string): ServerDefinition {
  const [name = '', role = '', status = 'unknown', disabled] = spec.split(':');
  const fields =
    status === 'unknown' ? unknownServerStatus() : serverStatus(status as ServerStatusName, `${name} is ${status}`, AT - 1000);
  return { name, hostname: `${name}.example`, role, enabled: disabled !== 'disabled', port: 5432, ...fields };
}

interface Row {
  spec: string;
  servers: string[];
  issues?: string[];
  status: ClusterStatusName;
  no: number;
  message: string | RegExp;
}

const rows: Row[] = [
  // "unknown": status checks have not been run.
  { spec: '0 "unknown": "status checks have not been run" (all unknown)', servers: ['m:master:unknown', 'r:replica:unknown'], status: 'unknown', no: 0, message: 'status checks have not been run' },
  { spec: '0 "unknown": no servers at all', servers: [], status: 'unknown', no: 0, message: 'no enabled servers to check' },
  { spec: '0 "unknown": only disabled servers', servers: ['m:master:healthy:disabled'], status: 'unknown', no: 0, message: 'no enabled servers to check' },
  { spec: '0 "unknown": master not checked while replicas are', servers: ['m:master:unknown', 'r:replica:healthy'], status: 'unknown', no: 0, message: 'master m not yet checked' },
  // "down": "cluster has no working master, or is in an indeterminate state".
  { spec: '5 "down": "no working master" (none enabled)', servers: ['m:master:healthy:disabled', 'r:replica:healthy'], status: 'down', no: 5, message: 'no master configured' },
  { spec: '5 "down": "indeterminate state" (two enabled masters)', servers: ['a:master:healthy', 'b:master:healthy', 'r:replica:healthy'], status: 'down', no: 5, message: /^2 enabled masters \(a, b\)/ },
  { spec: '5 "down": "no working master" (master unavailable)', servers: ['m:master:unavailable', 'r:replica:healthy'], status: 'down', no: 5, message: 'master m is unavailable: m is unavailable' },
  { spec: '5 "down": "no working master" (master verified down)', servers: ['m:master:down', 'r:replica:healthy'], status: 'down', no: 5, message: 'master m is down: m is down' },
  // "healthy": "cluster has a viable master, and all replicas are "healthy" or "lagged"".
  { spec: '1 "healthy": viable master, all replicas "healthy"', servers: ['m:master:healthy', 'r1:replica:healthy', 'p:pgbouncer:healthy'], status: 'healthy', no: 1, message: 'cluster healthy: master m, 1 replicas' },
  { spec: '1 "healthy": replicas "healthy" or "lagged"', servers: ['m:master:healthy', 'r1:replica:healthy', 'r2:replica:lagged'], status: 'healthy', no: 1, message: 'cluster healthy: master m, 2 replicas, 1 lagged' },
  { spec: '1 "healthy": a master without replicas is viable', servers: ['m:master:healthy'], status: 'healthy', no: 1, message: 'cluster healthy: master m, 0 replicas' },
  { spec: '1 "healthy": disabled servers are "neither checked nor chosen"', servers: ['m:master:healthy', 'r:replica:healthy', 'old:replica:down:disabled', 'x:master:down:disabled'], status: 'healthy', no: 1, message: 'cluster healthy: master m, 1 replicas' },
  { spec: '1 "healthy": "archive servers are not polled"', servers: ['m:master:healthy', 'a:archive:down', 'w:witness:unavailable'], status: 'healthy', no: 1, message: 'cluster healthy: master m, 0 replicas' },
  { spec: '1 "healthy": a disabled replica still unknown does not hold the cluster at unknown', servers: ['m:master:healthy', 'r:replica:unknown:disabled'], status: 'healthy', no: 1, message: 'cluster healthy: master m, 0 replicas' },
  // "warning": "viable master, but has one or more issues, including connection problems, failure to fail over, or downed replicas".
  { spec: '3 "warning": "downed replicas" — spec example "1 replicas are down"', servers: ['john:master:healthy', 'paul:replica:unavailable'], status: 'warning', no: 3, message: '1 replicas are down (paul)' },
  { spec: '3 "warning": "downed replicas" counts unavailable and down', servers: ['m:master:healthy', 'a:replica:down', 'b:replica:unavailable', 'c:replica:healthy'], status: 'warning', no: 3, message: '2 replicas are down (a, b)' },
  { spec: '3 "warning": a "lagged" master is still viable', servers: ['m:master:lagged', 'r:replica:down'], status: 'warning', no: 3, message: '1 replicas are down (r)' },
  { spec: '3 "warning": master operating with issues ("warning")', servers: ['m:master:warning', 'r:replica:healthy'], status: 'warning', no: 3, message: 'master m has a warning: m is warning' },
  { spec: '3 "warning": replica with issues ("connection problems")', servers: ['m:master:healthy', 'r:replica:warning'], status: 'warning', no: 3, message: '1 replicas have warnings (r)' },
  { spec: '3 "warning": replica not yet checked is not "healthy" or "lagged"', servers: ['m:master:healthy', 'r:replica:unknown'], status: 'warning', no: 3, message: '1 replicas not yet checked (r)' },
  { spec: '3 "warning": proxy down', servers: ['m:master:healthy', 'r:replica:healthy', 'p:proxy:down', 'b:pgbouncer:unavailable'], status: 'warning', no: 3, message: '2 proxies are down (p, b)' },
  { spec: '3 "warning": proxy with a warning', servers: ['m:master:healthy', 'b:pgbouncer:warning'], status: 'warning', no: 3, message: '1 proxies have warnings (b)' },
  { spec: '3 "warning": "failure to fail over" (issue passed in)', servers: ['m:master:healthy', 'r:replica:healthy'], issues: ['failure to fail over'], status: 'warning', no: 3, message: 'failure to fail over' },
  { spec: '3 "warning": every issue listed, joined with "; "', servers: ['m:master:warning', 'r1:replica:down', 'r2:replica:warning', 'p:proxy:unknown'], issues: ['failure to fail over'], status: 'warning', no: 3, message: 'master m has a warning: m is warning; 1 replicas are down (r1); 1 replicas have warnings (r2); 1 proxies not yet checked (p); failure to fail over' },
  { spec: '5 "down" wins over issues passed in', servers: ['m:master:down', 'r:replica:healthy'], issues: ['failure to fail over'], status: 'down', no: 5, message: 'master m is down: m is down' },
];

describe('computeClusterStatus', () => {
  for (const row of rows) {
    it(row.spec, () => {
      const result = computeClusterStatus(row.servers.map(s), row.issues ?? [], AT);
      assert.equal(result.status, row.status);
      assert.equal(result.status_no, row.no);
      if (typeof row.message === 'string') assert.equal(result.status_message, row.message);
      else assert.match(result.status_message, row.message);
      assert.equal(isClusterStatusFields(result), true);
      // "status checks have not been run": no check time to report yet.
      const nothingChecked = row.status === 'unknown' && !/master .* not yet checked/.test(result.status_message);
      assert.equal(result.status_ts, nothingChecked ? '' : TS);
    });
  }

  it('does not modify its input', () => {
    const servers = ['m:master:healthy', 'r:replica:down'].map((x) => Object.freeze(s(x)));
    computeClusterStatus(Object.freeze(servers), Object.freeze(['x']), AT);
  });
});

describe('cluster status fields', () => {
  it('cluster numbers: unknown 0, healthy 1, warning 3, down 5', () => {
    assert.equal(unknownClusterStatus().status_no, 0);
    assert.equal(isClusterStatusFields({ status: 'warning', status_no: 3, status_ts: TS, status_message: '' }), true);
    assert.equal(isClusterStatusFields({ status: 'warning', status_no: 2, status_ts: TS, status_message: '' }), false);
    assert.equal(isClusterStatusFields({ status: 'lagged', status_no: 2, status_ts: TS, status_message: '' }), false);
  });
});
