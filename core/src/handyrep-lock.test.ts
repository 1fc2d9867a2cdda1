import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorCodes, hasErrorCode } from '@handyrep/plugin-sdk';
import { HandyRep } from './handyrep.js';
import { lockInChild } from './test-support/lock-holder.js';
import type { LockChild } from './test-support/lock-holder.js';
import { writeTempConfig } from './test-support/temp-config.js';
import type { TempConfig } from './test-support/temp-config.js';

const config = (serverFile = 'servers.save'): string =>
  ['[handyrep]', 'log_file = hr.log', `server_file = ${serverFile}`, '[servers.a]', 'hostname = 127.0.0.1', 'role = master'].join('\n');

describe('HandyRep: one process per state file', { timeout: 60_000 }, () => {
  const temps: TempConfig[] = [];
  const children: LockChild[] = [];
  const opened: HandyRep[] = [];

  after(async () => {
    for (const hr of opened) await hr.close().catch(() => undefined);
    for (const child of children) await child.stop('SIGKILL');
    for (const temp of temps) await temp.cleanup();
  });

  const temp = async (text = config()): Promise<TempConfig> => {
    const made = await writeTempConfig(text);
    temps.push(made);
    return made;
  };
  const open = async (file: string): Promise<HandyRep> => {
    const hr = await HandyRep.open(file);
    opened.push(hr);
    return hr;
  };
  const tryLock = async (serverFile: string): Promise<LockChild> => {
    const child = await lockInChild(serverFile, { role: 'library', command: 'probe' });
    children.push(child);
    return child;
  };

  it('open is refused while another process holds the file: HR_STATE_LOCKED naming it, and nothing is written', async () => {
    const t = await temp();
    const serverFile = join(t.dir, 'servers.save');
    const holder = await lockInChild(serverFile, { role: 'daemon', url: 'http://127.0.0.1:8754' });
    children.push(holder);
    await assert.rejects(HandyRep.open(t.file), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.STATE_LOCKED));
      assert.match(
        (err as Error).message,
        new RegExp(`^another HandyRep process \\(daemon pid ${holder.pid}, web API at http://127\\.0\\.0\\.1:8754\\) manages ${serverFile}; send actions to it: handyrep --url http://127\\.0\\.0\\.1:8754 <function>`),
      );
      return true;
    });
    assert.equal(existsSync(serverFile), false, 'no state file written');
    assert.equal(existsSync(join(t.dir, 'hr.log')), false, 'no log file written');
    await holder.stop();
    const hr = await open(t.file);
    assert.equal(existsSync(serverFile), true, 'written once the lock is free');
    await hr.close();
  });

  it('holds the lock from open to close; a second instance in the same process is refused', async () => {
    const t = await temp();
    const serverFile = join(t.dir, 'servers.save');
    const hr = await open(t.file);
    const record = JSON.parse(readFileSync(`${serverFile}.lock`, 'utf8')) as Record<string, unknown>;
    assert.equal(record['pid'], process.pid);
    assert.equal(record['role'], 'library');
    assert.match((await tryLock(serverFile)).outcome, /^refused HR_STATE_LOCKED another HandyRep process \(library pid \d+: /);
    await assert.rejects(HandyRep.open(t.file), (err: unknown) => {
      assert.ok(hasErrorCode(err, ErrorCodes.STATE_LOCKED));
      assert.match((err as Error).message, /^another HandyRep instance in this process/);
      return true;
    });
    hr.describeLockHolder({ role: 'daemon', url: 'http://127.0.0.1:9999' });
    assert.match((await tryLock(serverFile)).outcome, /\(daemon pid \d+, web API at http:\/\/127\.0\.0\.1:9999\)/);
    await hr.close();
    await hr.close();
    assert.equal((await tryLock(serverFile)).outcome, 'locked', 'released by close');
  });

  it('reload_conf keeps the lock on the same file, moves it to a new server_file, and changes nothing when the new one is held', async () => {
    const t = await temp();
    const first = join(t.dir, 'servers.save');
    const hr = await open(t.file);
    hr.describeLockHolder({ role: 'daemon', url: 'http://127.0.0.1:8754' });

    assert.equal((await hr.reloadConf()).result, 'SUCCESS');
    assert.match((await tryLock(first)).outcome, /^refused HR_STATE_LOCKED .*daemon pid/, 'still held after a reload on the same file');

    writeFileSync(t.file, config('other.save'));
    const moved = await hr.reloadConf();
    assert.equal(moved.result, 'SUCCESS', moved.details);
    const second = join(t.dir, 'other.save');
    assert.match((await tryLock(second)).outcome, /^refused HR_STATE_LOCKED another HandyRep process \(daemon pid \d+, web API at http:\/\/127\.0\.0\.1:8754\)/, 'the new file is locked, with the same role');
    const old = await tryLock(first);
    assert.equal(old.outcome, 'locked', 'the old file is released');
    await old.stop();

    const taken = join(t.dir, 'taken.save');
    const holder = await tryLock(taken);
    assert.equal(holder.outcome, 'locked');
    writeFileSync(t.file, config('taken.save'));
    const refused = await hr.reloadConf();
    assert.equal(refused.result, 'FAIL');
    assert.match(refused.details, new RegExp(`^configuration not reloaded, nothing changed: another HandyRep process \\(library pid ${holder.pid}: probe\\) manages ${taken}`));
    assert.equal(hr.settingsWithoutSecrets().handyrep.server_file, second);
    assert.match((await tryLock(second)).outcome, /^refused HR_STATE_LOCKED/, 'the running file stays locked');
    assert.equal(existsSync(taken), false);
    await hr.close();
  });
});
