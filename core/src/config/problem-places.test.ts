import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeShell, FakeSql } from '@handyrep/plugin-sdk/testing';
import { HandyRep } from '../handyrep.js';
import { writeTempConfig } from '../test-support/temp-config.js';

describe('reload_conf pointed at another file', () => {
  it('says where the problems are, never what the file holds; the running file keeps its detailed errors', async () => {
    const temp = await writeTempConfig(['[handyrep]', 'log_file = handyrep.log', '[servers.db1]', 'hostname = 127.0.0.1', 'role = master'].join('\n'));
    const hr = await HandyRep.open(temp.file, { capabilities: { shell: new FakeShell(), sql: new FakeSql() } });
    try {
      const shadowLike = join(temp.dir, 'shadow');
      await writeFile(shadowLike, 'root:$6$S3CRET-HASH:19000:0:99999:7:::\n', { mode: 0o600 });
      const malformed = await hr.reloadConf(shadowLike);
      assert.equal(malformed.result, 'FAIL');
      assert.match(malformed.details, /is not a usable configuration \(HR_CONFIG_MALFORMED\): problems at line 1/);
      assert.doesNotMatch(malformed.details, /S3CRET|root:/);

      const iniLike = join(temp.dir, 'other.ini');
      await writeFile(iniLike, '[handyrep]\nlog_verbose = TOP-SECRET-VALUE\napi_token = abc123\n', { mode: 0o600 });
      const invalid = await hr.reloadConf(iniLike);
      assert.equal(invalid.result, 'FAIL');
      assert.match(invalid.details, /HR_CONFIG_INVALID\): problems at \[handyrep\] log_verbose, \[handyrep\] api_token/);
      assert.doesNotMatch(invalid.details, /TOP-SECRET|abc123/);
      assert.doesNotMatch(JSON.stringify(await hr.readLog(50)), /TOP-SECRET|abc123|S3CRET/);

      // The running file is the operator's own: its problems are shown in full.
      await writeFile(temp.file, '[handyrep]\nlog_verbose = perhaps\n[servers.db1]\nhostname = 127.0.0.1\nrole = master\n', { mode: 0o600 });
      const own = await hr.reloadConf();
      assert.match(own.details, /log_verbose: must be a boolean \(got "perhaps"\)/);
    } finally {
      await hr.close();
      await temp.cleanup();
    }
  });
});
