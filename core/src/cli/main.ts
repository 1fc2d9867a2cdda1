import { Command, CommanderError } from 'commander';
import { ConfigError, errorMessage } from '@handyrep/plugin-sdk';
import { loadConfig } from '../config/load-config.js';
import { HandyRep } from '../handyrep.js';
import { renderHuman } from './output.js';

/** Exit codes: 0 SUCCESS, 1 FAIL, 2 usage or configuration error. */
const EXIT = { ok: 0, fail: 1, usage: 2 } as const;

interface GlobalOptions {
  config: string;
  json: boolean;
}

function isFailure(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { result?: unknown }).result === 'FAIL';
}

/** Runs the `handyrep` command line; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const print = (value: unknown, options: GlobalOptions): void => {
    console.log(options.json ? JSON.stringify(value, null, 2) : renderHuman(value));
    if (isFailure(value)) exitCode = EXIT.fail;
  };
  const withHandyRep = async (options: GlobalOptions, work: (hr: HandyRep) => Promise<unknown> | unknown): Promise<void> => {
    const hr = await HandyRep.open(options.config, { logDestination: process.stderr });
    try {
      print(await work(hr), options);
    } finally {
      await hr.close();
    }
  };

  const program = new Command('handyrep')
    .description('HandyRep: PostgreSQL streaming-replication manager')
    .option('-c, --config <file>', 'configuration file', 'handyrep.conf')
    .option('--json', 'print JSON instead of tables', false)
    .exitOverride()
    .showHelpAfterError();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('check-config')
    .description('load and validate the configuration and its plugins, listing every problem')
    .action(async () => {
      const loaded = await loadConfig(globals().config);
      const plugins = [...loaded.plugins.values()].map((p) => `${p.configName} (${p.packageName}@${p.packageVersion ?? '?'})`);
      print({ result: 'SUCCESS', details: `${loaded.file} is valid`, plugins }, globals());
    });
  program
    .command('get_status')
    .description('cluster and server status')
    .argument('[check_type]', 'cached, poll or verify', 'cached')
    .action((checkType: string) => withHandyRep(globals(), (hr) => hr.getStatus(checkType as 'cached')));
  program
    .command('get_cluster_status')
    .description('the cluster status fields')
    .option('--verify', 'verify before answering', false)
    .action((options: { verify: boolean }) => withHandyRep(globals(), (hr) => hr.getClusterStatus(options.verify)));
  program
    .command('get_master_name')
    .description('the name of the enabled master')
    .action(() => withHandyRep(globals(), (hr) => hr.getMasterName()));
  program
    .command('get_server_info')
    .description('definition and status of one server, or of all')
    .argument('[servername]', 'server name (all when omitted)')
    .option('--verify', 'verify before answering', false)
    .action((servername: string | undefined, options: { verify: boolean }) =>
      withHandyRep(globals(), (hr) => hr.getServerInfo(servername ?? null, options.verify)),
    );
  program
    .command('read_log')
    .description('the last log entries, newest first')
    .argument('[numlines]', 'how many', '20')
    .action((numlines: string) => withHandyRep(globals(), (hr) => hr.readLog(Number(numlines))));
  program
    .command('get_setting')
    .description('one setting: a [handyrep] key, or section and key (never a password)')
    .argument('<path...>', 'setting name, or section followed by key')
    .action((path: string[]) => withHandyRep(globals(), (hr) => hr.getSetting(path.length === 1 ? (path[0] ?? '') : path)));

  program
    .command('daemon')
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

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return EXIT.usage;
    }
    console.error(`handyrep: ${errorMessage(err)}`);
    return EXIT.fail;
  }
  return exitCode;
}
