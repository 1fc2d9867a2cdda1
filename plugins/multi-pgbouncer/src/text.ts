import { errorMessage } from '@handyrep/plugin-sdk';
import type { Secrets } from '@handyrep/plugin-sdk';

/** Longest tool output kept in a return dictionary; the end is kept, where tools put the reason. */
const MAX_OUTPUT_CHARS = 1000;

/** `[passwords]` keys always masked in text this plugin passes on. */
const ALWAYS_MASKED = ['superuser_password', 'replication_password'];

/** Trims a tool's output for a return dictionary, keeping its end. */
export function trimOutput(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_OUTPUT_CHARS ? trimmed : `...${trimmed.slice(-MAX_OUTPUT_CHARS)}`;
}

/** Replaces the values of known `[passwords]` keys in `text` with `***`, in case a tool echoed one. */
export function scrubSecrets(text: string, secrets: Secrets, extraKeys: readonly (string | undefined)[] = []): string {
  let clean = text;
  for (const key of [...ALWAYS_MASKED, ...extraKeys]) {
    if (key === undefined || key === '') continue;
    const value = secrets.get(key);
    if (value !== undefined && value !== '') clean = clean.split(value).join('***');
  }
  return clean;
}

/** A thrown value as text for details, with its coded error name when it has one. */
export function describeError(err: unknown, secrets: Secrets, extraKeys: readonly (string | undefined)[] = []): string {
  const code = (err as { code?: unknown } | null)?.code;
  const prefix = typeof code === 'string' && code.startsWith('HR_') ? `${code}: ` : '';
  return scrubSecrets(`${prefix}${errorMessage(err)}`, secrets, extraKeys);
}
