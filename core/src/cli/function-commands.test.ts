import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { API_FUNCTIONS } from '../api/api-functions.js';
import type { FunctionCall } from './cli-arguments.js';
import { addFunctionCommands } from './function-commands.js';
import { UsageError } from './usage-error.js';

function program(calls: FunctionCall[]): Command {
  const root = new Command('handyrep').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  addFunctionCommands(root, async (call) => {
    calls.push(call);
  });
  return root;
}

async function parse(args: string[]): Promise<FunctionCall> {
  const calls: FunctionCall[] = [];
  await program(calls).parseAsync(args, { from: 'user' });
  assert.equal(calls.length, 1);
  return calls[0] as FunctionCall;
}

describe('subcommands generated from the API table', () => {
  it('has one subcommand per function, whose help names every parameter with its description', () => {
    const root = program([]);
    for (const fn of API_FUNCTIONS) {
      const command = root.commands.find((entry) => entry.name() === fn.spec);
      assert.ok(command, fn.spec);
      // Collapse the wrapping commander does at 80 columns.
      const help = command.helpInformation().replace(/\s+/g, ' ');
      assert.ok(help.includes(fn.summary), `${fn.spec}: summary`);
      for (const param of fn.params) {
        assert.ok(help.includes(param.description.replace(/\s+/g, ' ')), `${fn.spec} ${param.name}: description`);
        if (param.schema.type === 'boolean') assert.ok(help.includes(`--${param.name}`) && help.includes(`--no-${param.name}`), `${fn.spec} --${param.name}`);
        else if (fn.spec !== 'get_setting') assert.ok(help.includes(param.name), `${fn.spec} ${param.name}`);
      }
      assert.match(help, new RegExp(`^Usage: handyrep ${fn.spec} `));
    }
  });

  it('parses positionals, --flag / --no-flag and --set into the spec names', async () => {
    assert.deepEqual((await parse(['manual_failover', 'pg2', '--no-remaster', '--ignore_lag_limit'])).args, { newmaster: 'pg2', remaster: false, ignore_lag_limit: true });
    assert.deepEqual((await parse(['get_server_info', '--verify'])).args, { verify: true });
    assert.deepEqual((await parse(['add_server', 'pg9', '--set', 'hostname=127.0.0.9', '--set', 'port=5439'])).args, { servername: 'pg9', serverprops: { hostname: '127.0.0.9', port: 5439 } });
    assert.deepEqual((await parse(['get_setting', 'failover', 'poll_interval'])).args, { category: 'failover', setting: 'poll_interval' });
    assert.deepEqual((await parse(['get_setting', 'server_file'])).args, { setting: 'server_file' });
    assert.deepEqual((await parse(['read_log', '5'])).args, { numlines: 5 });
  });

  it('takes an optional argument by name too, so an earlier one can be left out', async () => {
    assert.deepEqual((await parse(['manual_failover', '--at', '2026-12-05T02:00:00Z'])).args, { at: '2026-12-05T02:00:00Z' });
    assert.deepEqual((await parse(['manual_failover', 'pg2', '--at', '2026-12-05T02:00:00Z'])).args, { newmaster: 'pg2', at: '2026-12-05T02:00:00Z' });
    assert.deepEqual((await parse(['read_log', '--numlines', '7'])).args, { numlines: 7 });
    const calls: FunctionCall[] = [];
    await assert.rejects(program(calls).parseAsync(['read_log', '5', '--numlines', '7'], { from: 'user' }), /^UsageError: read_log: numlines given twice, as an argument and as --numlines/);
    await assert.rejects(program(calls).parseAsync(['remaster', 'pg3', '--newmaster', 'bad name'], { from: 'user' }), /^UsageError: remaster: newmaster must match pattern/);
    assert.equal(calls.length, 0);
  });

  it('refuses bad values before the runner is called', async () => {
    const calls: FunctionCall[] = [];
    await assert.rejects(program(calls).parseAsync(['read_log', 'many'], { from: 'user' }), (err: unknown) => err instanceof UsageError && /^read_log: numlines must be an integer/.test(err.message));
    await assert.rejects(program(calls).parseAsync(['poll'], { from: 'user' }), /missing required argument 'servername'/);
    await assert.rejects(program(calls).parseAsync(['poll', 'pg1', 'pg2'], { from: 'user' }), /too many arguments/);
    await assert.rejects(program(calls).parseAsync(['get_setting', 'a', 'b', 'c'], { from: 'user' }), /too many arguments/);
    assert.equal(calls.length, 0);
  });

  it('says in --help whether a function is in the web API', () => {
    const root = program([]);
    const text = (name: string): string => {
      let out = '';
      const command = root.commands.find((entry) => entry.name() === name);
      command?.configureOutput({ writeOut: (chunk) => (out += chunk) });
      command?.outputHelp();
      return out;
    };
    assert.match(text('failover_check'), /library only/);
    assert.match(text('pause'), /POST \(JSON body\) \/pause, admin access/);
    assert.match(text('get_status'), /GET \(query string\) or POST \/get_status, read access/);
  });
});
