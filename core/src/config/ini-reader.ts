import { readFile } from 'node:fs/promises';
import { parse } from 'ini';
import { ConfigError, ErrorCodes, errorMessage } from '@handyrep/plugin-sdk';
import type { ConfigProblem } from '@handyrep/plugin-sdk';

/** A parsed INI file: sections as nested objects (`[servers.db1]` → `servers.db1`). */
export type RawConfig = Record<string, unknown>;

/** Where sections and keys stand in the file: `section` and `section\0key` → line number (1-based). */
export type IniPositions = Map<string, number>;

/** A parsed file and where its sections and keys are. */
export interface ParsedIni {
  /** The parsed sections. */
  raw: RawConfig;
  /** Line numbers of sections and keys. */
  positions: IniPositions;
}

const SECTION_LINE = /^\s*\[[^\]]+\]\s*$/;
const KEY_VALUE_LINE = /^\s*[^=\s[][^=]*=.*$/;
const COMMENT_OR_BLANK = /^\s*([;#].*)?$/;

/**
 * Lines the `ini` package would silently reinterpret (a broken section header
 * becomes a key, a line without `=` becomes `key = true`); we refuse them so a
 * typo can't quietly change meaning.
 */
export function findMalformedLines(text: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let section = '';
  text.split(/\r?\n/).forEach((line, index) => {
    if (COMMENT_OR_BLANK.test(line)) return;
    if (SECTION_LINE.test(line)) {
      section = line.trim().slice(1, -1).trim();
      return;
    }
    if (KEY_VALUE_LINE.test(line)) return;
    problems.push({
      section,
      key: '',
      message: `line ${index + 1} is neither a [section], a key = value pair nor a comment: ${JSON.stringify(line.trim())}`,
    });
  });
  return problems;
}

/** Line numbers of every section header and key, so problems can be listed in file order. */
export function indexPositions(text: string): IniPositions {
  const positions: IniPositions = new Map();
  let section = '';
  text.split(/\r?\n/).forEach((line, index) => {
    if (COMMENT_OR_BLANK.test(line)) return;
    if (SECTION_LINE.test(line)) {
      section = line.trim().slice(1, -1).trim();
      if (!positions.has(section)) positions.set(section, index + 1);
      return;
    }
    const key = line.split('=')[0]?.trim().replace(/\[\]$/, '') ?? '';
    if (!positions.has(`${section}\0${key}`)) positions.set(`${section}\0${key}`, index + 1);
  });
  return positions;
}

/** Reads and parses an INI config file; throws ConfigError naming the file when missing or malformed. */
export async function readIniFile(path: string): Promise<ParsedIni> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(
      missing ? ErrorCodes.CONFIG_FILE_MISSING : ErrorCodes.CONFIG_MALFORMED,
      missing
        ? `configuration file ${path} does not exist`
        : `configuration file ${path} cannot be read: ${errorMessage(err)}`,
      [],
      path,
      { cause: err },
    );
  }
  return parseIniText(text, path);
}

/** Parses INI text; `path` only names the source in errors. */
export function parseIniText(text: string, path: string): ParsedIni {
  const problems = findMalformedLines(text);
  if (problems.length > 0) {
    throw new ConfigError(
      ErrorCodes.CONFIG_MALFORMED,
      `configuration file ${path} is malformed:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
      problems,
      path,
    );
  }
  return { raw: parse(text) as RawConfig, positions: indexPositions(text) };
}
