import { BadArgumentError } from '@handyrep/plugin-sdk';

/** A boolean argument; the web API's and CLI's strings `true`/`false` are accepted too. */
export function booleanArgument(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new BadArgumentError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

/** An integer argument within bounds; numeric strings are accepted. */
export function integerArgument(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw new BadArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** A required, non-empty string argument of bounded length. */
export function stringArgument(name: string, value: unknown, maxLength = 256): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadArgumentError(`${name} is required and must be a non-empty string`);
  }
  if (value.length > maxLength) throw new BadArgumentError(`${name} is longer than ${maxLength} characters`);
  return value;
}

/** One of a fixed set of strings. */
export function choiceArgument<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new BadArgumentError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
}
