import { readFile } from 'node:fs/promises';
import { errorMessage } from '@handyrep/plugin-sdk';
import type { RemoteSettings } from './remote-call.js';
import { UsageError } from './usage-error.js';

/** The remote-mode options as commander parsed them (environment variables already applied). */
export interface RemoteOptions {
  url: string;
  user?: string;
  password?: string;
  passwordFile?: string;
  caFile?: string;
  timeout?: string;
}

/** Where a value came from: commander's option value source. */
export type OptionSource = 'cli' | 'env' | 'default' | 'config' | 'implied' | undefined;

/** Longest --timeout accepted: a week, far beyond any clone, but a typo like 1e9 is caught. */
const MAX_TIMEOUT_S = 7 * 24 * 3600;

/** Parses --url: http(s) only, no credentials in it (they would show in process lists and shell history). */
export function parseDaemonUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL such as http://127.0.0.1:8080, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('--url must not contain credentials: use --user and --password-file (or HANDYREP_USER and HANDYREP_PASSWORD)');
  }
  if (url.search !== '' || url.hash !== '') throw new UsageError(`--url must not have a query or fragment, got ${JSON.stringify(text)}`);
  return url;
}

/** Parses --timeout: positive seconds, fractions allowed. */
export function parseTimeout(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(seconds > 0) || seconds > MAX_TIMEOUT_S) {
    throw new UsageError(`--timeout must be a number of seconds from 0.001 to ${MAX_TIMEOUT_S}, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

/** The first line of a password file (without its line ending); an empty or unreadable file is a usage error. */
export async function readPasswordFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the password file: ${errorMessage(err)}`);
  }
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw new UsageError(`the password file ${file} has an empty first line`);
  return line;
}

/**
 * The password: --password-file or --password, whichever came from the
 * command line, before the environment (HANDYREP_PASSWORD_FILE,
 * HANDYREP_PASSWORD); both from the same place is ambiguous, a usage error.
 */
async function password(options: RemoteOptions, source: (name: string) => OptionSource): Promise<string | undefined> {
  const direct = options.password;
  const file = options.passwordFile;
  if (direct !== undefined && file !== undefined) {
    const directSource = source('password');
    const fileSource = source('passwordFile');
    if (directSource === fileSource) {
      const names = directSource === 'env' ? 'HANDYREP_PASSWORD and HANDYREP_PASSWORD_FILE' : '--password and --password-file';
      throw new UsageError(`give either ${names}, not both`);
    }
    return fileSource === 'cli' ? readPasswordFile(file) : direct;
  }
  if (file !== undefined) return readPasswordFile(file);
  return direct;
}

/** Everything remote mode needs, checked and read (password file, CA file) before any request. */
export async function remoteSettings(options: RemoteOptions, source: (name: string) => OptionSource): Promise<RemoteSettings> {
  const baseUrl = parseDaemonUrl(options.url);
  const settings: RemoteSettings = {
    baseUrl,
    username: options.user ?? '',
    password: await password(options, source),
  };
  if (options.timeout !== undefined) settings.timeoutSeconds = parseTimeout(options.timeout);
  if (options.caFile !== undefined) {
    if (baseUrl.protocol !== 'https:') throw new UsageError('--ca-file needs an https:// --url');
    try {
      settings.ca = await readFile(options.caFile);
    } catch (err) {
      throw new UsageError(`cannot read the CA file: ${errorMessage(err)}`);
    }
  }
  return settings;
}
