import { Argument, Command, Option } from 'commander';
import { API_FUNCTIONS } from '../api/api-functions.js';
import type { ApiFunction } from '../api/api-functions.js';
import { buildCall, isFlag, isNamedOption, isObjectParam, positionalParams } from './cli-arguments.js';
import type { FunctionCall } from './cli-arguments.js';
import { UsageError } from './usage-error.js';

/** Runs a validated call (library or remote) and records the exit code. */
export type CallRunner = (call: FunctionCall) => Promise<void>;

function accessText(fn: ApiFunction): string {
  if (!fn.web) return 'library only: not in the web API, so it needs library mode (--config) on the HandyRep host';
  const verbs = fn.access === 'read' ? 'GET (query string) or POST' : 'POST (JSON body)';
  return `web API: ${verbs} /${fn.spec}, ${fn.access} access`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The commander subcommand for one row of the API table; its action validates, then hands the call to `run`. */
export function functionCommand(fn: ApiFunction, run: CallRunner): Command {
  const command = new Command(fn.spec).description(`${fn.summary}${fn.web ? '' : ' (library only)'}`);
  if (fn.spec === 'get_setting') {
    // The spec's optional category comes before the required setting name, which commander cannot declare.
    const category = fn.params.find((param) => param.name === 'category');
    const setting = fn.params.find((param) => param.name === 'setting');
    command
      .usage('[options] [category] <setting>')
      .addArgument(new Argument('<category_or_setting>', `${setting?.description ?? 'setting name'} in [handyrep]; or, with a setting after it, the ${category?.description ?? 'config section'}`))
      .addArgument(new Argument('[setting]', setting?.description ?? 'setting name'));
  } else {
    for (const param of positionalParams(fn)) {
      // Object parameters may come from --set alone, so commander must not insist on them.
      const required = param.required && !isObjectParam(param);
      command.addArgument(new Argument(required ? `<${param.name}>` : `[${param.name}]`, param.description));
      if (isNamedOption(param)) {
        command.addOption(new Option(`--${param.name} <${param.name}>`, `the argument ${param.name} by name, so an earlier optional one can be left out`));
      }
      if (isObjectParam(param)) {
        command.addOption(new Option('--set <key=value>', `one property of ${param.name} (repeatable; merged over the JSON object)`).argParser(collect));
      }
    }
    for (const param of fn.params.filter(isFlag)) {
      command.addOption(new Option(`--${param.name}`, `${param.name} = true: ${param.description}`));
      command.addOption(new Option(`--no-${param.name}`, `${param.name} = false`));
    }
  }
  command.addHelpText('after', `\n${accessText(fn)}.\nExit status: 0 SUCCESS, 1 FAIL, 2 usage or configuration error.`);
  command.action(async (...received: unknown[]) => {
    // commander passes the positional values, then the options object, then the command.
    const positionals = received.slice(0, -2) as (string | string[] | undefined)[];
    const options = (received[received.length - 2] ?? {}) as Record<string, unknown>;
    try {
      await run(buildCall(fn, { positionals, options }));
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${fn.spec}: ${err.message}`);
      throw err;
    }
  });
  return command;
}

/** Adds one subcommand per API function, grouped in --help by access. */
export function addFunctionCommands(program: Command, run: CallRunner): void {
  for (const fn of API_FUNCTIONS) {
    const heading = fn.access === 'read' ? 'Information and checks (read access):' : 'Actions (admin access):';
    // addCommand (unlike .command()) does not copy exitOverride and the error hint from the program.
    program.addCommand(functionCommand(fn, run).copyInheritedSettings(program).helpGroup(heading));
  }
}
