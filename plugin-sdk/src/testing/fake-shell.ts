import type { CommandOptions, CommandResult, RemoteShell } from '../capabilities/remote-shell.js';
import { shellJoin } from '../shell-quote.js';

/** One command the fake shell was asked to run. */
export interface RecordedCommand {
  /** Server name, or `local` for runLocal. */
  server: string;
  /** The command line as a shell would receive it (argv already quoted). */
  command: string;
  /** The argument vector, when the caller passed one. */
  argv?: readonly string[];
  /** Standard input given. */
  input?: string;
  /** For writeFile: the path and content. */
  file?: { path: string; content: string; mode?: number };
}

/** Decides the result of a command; return undefined to fall through to the next responder. */
export type ShellResponder = (command: RecordedCommand) => Partial<CommandResult> | Error | undefined;

/** A RemoteShell that records commands and answers from responders (default: exit 0, no output). */
export class FakeShell implements RemoteShell {
  /** Every command run, oldest first. */
  readonly commands: RecordedCommand[] = [];
  private readonly responders: ShellResponder[] = [];

  /** Adds a responder; later ones are asked first. */
  respond(responder: ShellResponder): this {
    this.responders.unshift(responder);
    return this;
  }

  /** Answers commands matching `pattern` with `result`. */
  when(pattern: RegExp, result: Partial<CommandResult> | Error): this {
    return this.respond((command) => (pattern.test(command.command) ? result : undefined));
  }

  async run(server: string, argv: readonly string[], options?: CommandOptions): Promise<CommandResult> {
    return this.answer({ server, command: shellJoin(argv), argv, ...inputOf(options) });
  }

  async runScript(server: string, script: string, options?: CommandOptions): Promise<CommandResult> {
    return this.answer({ server, command: script, ...inputOf(options) });
  }

  async writeFile(
    server: string,
    path: string,
    content: string,
    options?: CommandOptions & { mode?: number },
  ): Promise<void> {
    const file = options?.mode === undefined ? { path, content } : { path, content, mode: options.mode };
    const result = await this.answer({ server, command: `writeFile ${path}`, file });
    if (result.exitCode !== 0) throw new Error(`writeFile ${path} failed: ${result.stderr}`);
  }

  async runLocal(argv: readonly string[], options?: CommandOptions): Promise<CommandResult> {
    return this.answer({ server: 'local', command: shellJoin(argv), argv, ...inputOf(options) });
  }

  private answer(command: RecordedCommand): CommandResult {
    this.commands.push(command);
    for (const responder of this.responders) {
      const outcome = responder(command);
      if (outcome instanceof Error) throw outcome;
      if (outcome !== undefined) {
        return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...outcome };
      }
    }
    return { exitCode: 0, stdout: '', stderr: '', durationMs: 1 };
  }
}

function inputOf(options: CommandOptions | undefined): { input?: string } {
  return options?.input === undefined ? {} : { input: options.input };
}
