// Minimal, strict option parsing shared by the commands: unknown options are errors that name
// the option, so a typo never silently falls back to a default.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserInputError } from '../pipelines/errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UserInputError((e as Error).message.split('\n')[0]!);
  }
}

export function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UserInputError(`missing required option --${name}`);
  return value;
}

export function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserInputError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}
