import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, ErrorCodes, errorMessage, hasErrorCode } from '@handyrep/plugin-sdk';
import { loadConfig } from '../config/load-config.js';
import { HandyRep } from '../handyrep.js';
import type { FunctionCall } from './cli-arguments.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import { addFunctionCommands } from './function-commands.js';
import { TransportError } from './http-request.js';
import { callLibrary } from './library-call.js';
import { stderrLogFilter } from './log-filter.js';
import { renderHuman } from './output.js';
import { callRemote, defaultTimeoutSeconds } from './remote-call.js';
import type { RemoteSettings } from './remote-call.js';
import { remoteSettings } from './remote-settings.js';
import type { OptionSource, RemoteOptions } from './remote-settings.js';
import { UsageError } from './usage-error.js';

interface GlobalOptions extends Partial<RemoteOptions> {
  config: string;
  json: boolean;
  showLog: boolean;
}

/** Options that only remote mode uses; given on the command line in library mode they are a mistake, not something to ignore. */
const REMOTE_ONLY = [['user', '--user'], ['password', '--password'], ['passwordFile', '--password-file'], ['caFile', '--ca-file'], ['timeout', '--timeout']] as const;

const HELP_AFTER = `
Modes:
  library  (default) opens HandyRep in this process on --config (default
           handyrep.conf); every function works, logs go to stderr.
  remote   --url or HANDYREP_URL: calls a running daemon's web API; plain reads
           by GET, actions and checks (polls, verifications) by POST;
           library-only functions are refused (exit 2).
Arguments: a function's string and integer parameters are positional, in the
spec's order; boolean ones are --name / --no-name; serverprops is a JSON object
and/or repeated --set key=value. "handyrep <function> --help" lists them.
Environment: HANDYREP_URL, HANDYREP_USER, HANDYREP_PASSWORD,
  HANDYREP_PASSWORD_FILE, HANDYREP_CA_FILE, HANDYREP_TIMEOUT, HANDYREP_CONFIG
  (command-line options win).
Exit status: 0 SUCCESS (or data), 1 FAIL (also refused credentials, no
  connection, timeout), 2 usage or configuration error. See docs/cli.md.`;

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function transportMessage(err: TransportError, settings: RemoteSettings, timeoutSeconds: number): string {
  const where = settings.baseUrl.origin;
  switch (err.failure) {
    case 'refused':
      return `cannot connect to ${where}: connection refused (is the daemon running there? check --url / HANDYREP_URL)`;
    case 'timeout':
      return `no answer from ${where} within ${timeoutSeconds} s (--timeout); an action may still be running on the daemon: check get_status`;
    case 'tls':
      return `TLS failure talking to ${where}: ${err.message} (a private CA needs --ca-file)`;
    case 'unreachable':
      return `cannot reach ${where}: ${err.message}`;
    default:
      return `request to ${where} failed: ${err.message}`;
  }
}

/** Runs the `handyrep` command line; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: ExitCode = EXIT.ok;
  const print = (value: unknown, options: GlobalOptions): void => {
    console.log(options.json ? JSON.stringify(value ?? null, null, 2) : renderHuman(value));
  };

  const program = new Command('handyrep')
    .description('HandyRep: PostgreSQL streaming-replication manager. Every spec function is a subcommand, run in-process (library mode) or on a daemon (remote mode).')
    .version(packageVersion(), '-V, --version')
    .addOption(new Option('-c, --config <file>', 'library mode: configuration file').default('handyrep.conf').env('HANDYREP_CONFIG'))
    .addOption(new Option('--url <url>', 'remote mode: the daemon, http(s)://host:port').env('HANDYREP_URL'))
    .addOption(new Option('-u, --user <name>', 'remote mode: HTTP Basic user name').env('HANDYREP_USER'))
    .addOption(new Option('--password <password>', 'remote mode: password (visible to other local users; prefer --password-file)').env('HANDYREP_PASSWORD'))
    .addOption(new Option('--password-file <file>', 'remote mode: read the password from the first line of this file').env('HANDYREP_PASSWORD_FILE'))
    .addOption(new Option('--ca-file <file>', 'remote mode: PEM CA certificate(s) to trust for an https daemon').env('HANDYREP_CA_FILE'))
    .addOption(new Option('--timeout <seconds>', 'remote mode: give up waiting after this long (default 60; clone, rejoin and restart_cluster 3600; failover, promote, remaster, restart, shutdown, startup, disable 600)').env('HANDYREP_TIMEOUT'))
    .option('--json', 'print the exact JSON answer instead of tables', false)
    .option('--show-log', 'library mode: show every log line on stderr, not only warnings and errors', false)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', HELP_AFTER);
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const source = (name: string): OptionSource => program.getOptionValueSource(name) as OptionSource;

  const mode = (): 'library' | 'remote' => {
    const url = source('url');
    const config = source('config');
    if (url === 'cli' && config === 'cli') throw new UsageError('--url (remote mode) and --config (library mode) exclude each other');
    const remote = url === 'cli' || (url === 'env' && config !== 'cli');
    if (!remote) {
      const misplaced = REMOTE_ONLY.filter(([name]) => source(name) === 'cli').map(([, flag]) => flag);
      if (misplaced.length > 0) throw new UsageError(`${misplaced.join(', ')} ${misplaced.length === 1 ? 'applies' : 'apply'} only to remote mode (--url or HANDYREP_URL)`);
    }
    return remote ? 'remote' : 'library';
  };

  const runRemote = async (call: FunctionCall, options: GlobalOptions): Promise<void> => {
    if (!call.fn.web) {
      throw new UsageError('library only: the web API does not offer this function; run it in library mode (--config) on the HandyRep host');
    }
    const settings = await remoteSettings({ ...options, url: options.url ?? '' }, source);
    let answer;
    try {
      answer = await callRemote(settings, call);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      console.error(`handyrep: ${transportMessage(err, settings, settings.timeoutSeconds ?? defaultTimeoutSeconds(call.fn))}`);
      exitCode = EXIT.fail;
      return;
    }
    print(answer.value, options);
    if (answer.status === 401 && settings.password === undefined) {
      console.error('handyrep: no password was given: use --password-file, --password or HANDYREP_PASSWORD (and --user or HANDYREP_USER)');
    }
    // Refused credentials, unknown servers (400) and the like are FAILs of the call, not command-line mistakes.
    exitCode = answer.status >= 400 ? EXIT.fail : exitCodeFor(answer.value);
  };

  const runLibrary = async (call: FunctionCall, options: GlobalOptions): Promise<void> => {
    const logs = stderrLogFilter(options.showLog);
    // Refused (HR_STATE_LOCKED, nothing read or written) while a daemon or another library call has the state file.
    const hr = await HandyRep.open(options.config, { logDestination: logs, lockHolder: { role: 'library', command: ['handyrep', ...argv.slice(2)].join(' ') } });
    let value: unknown;
    try {
      value = await callLibrary(hr, call);
    } finally {
      await hr.close();
      logs.end();
    }
    print(value, options);
    exitCode = exitCodeFor(value);
  };

  program
    .command('check-config')
    .helpGroup('Administration:')
    .description('load and validate the configuration and its plugins, listing every problem')
    .action(async () => {
      const loaded = await loadConfig(globals().config);
      const plugins = [...loaded.plugins.values()].map((p) => `${p.configName} (${p.packageName}@${p.packageVersion ?? '?'})`);
      print({ result: 'SUCCESS', details: `${loaded.file} is valid`, plugins }, globals());
    });
  program
    .command('daemon')
    .helpGroup('Administration:')
    .description('run the periodic failover_check, the web API and the dashboard until SIGTERM (SIGHUP reloads the configuration)')
    .option('--port <port>', 'listen on this port instead of [handyrep] web_port')
    .action(async (options: { port?: string }) => {
      const { startDaemon } = await import('../daemon/daemon.js');
      const daemon = await startDaemon(globals().config, {
        handleSignals: true,
        logDestination: process.stderr,
        ...(options.port === undefined ? {} : { port: Number(options.port) }),
      });
      console.error(`handyrep daemon: web API and dashboard at ${daemon.url}`);
      await new Promise<never>(() => undefined);
    });

  addFunctionCommands(program, async (call) => {
    const options = globals();
    if (mode() === 'remote') await runRemote(call, options);
    else await runLibrary(call, options);
  });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      console.error(`handyrep ${err.message}`);
      console.error('(add --help for usage)');
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return EXIT.usage;
    }
    if (hasErrorCode(err, ErrorCodes.STATE_LOCKED)) {
      // Not a usage error: the command was right, another process has the state file (a refusal, like a busy action lock).
      console.error(`handyrep: ${errorMessage(err)}`);
      return EXIT.fail;
    }
    console.error(`handyrep: ${errorMessage(err)}`);
    return EXIT.fail;
  }
  return exitCode;
}
