// Option parsing shared by the drivers: a clear refusal of an option the
// driver does not know or of control characters, Docker's spellings of
// booleans (Go's strconv.ParseBool) and MTUs, and kernel interface names.
// Docker's texts where it has them: `failed to parse <key> value: <value> (<why>)`. Pure.
import { hasControlChars, quote } from '../validate/text.js';
import { DriverError } from './errors.js';

export const MTU_OPTION = 'com.docker.network.driver.mtu';

/** The value of `key` when the request gave it (never one inherited from Object.prototype). */
export function ownOption(options: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(options, key) ? options[key] : undefined;
}

/**
 * Refuses control characters anywhere in the options (they would end up in
 * the store, rule comments and messages), and keys in Docker's option
 * namespace the driver does not know: a mistake, not something to ignore.
 */
export function checkOptionKeys(options: Readonly<Record<string, string>>, known: readonly string[], driver: string): void {
  for (const [key, value] of Object.entries(options)) {
    if (hasControlChars(key) || hasControlChars(value)) {
      throw new DriverError(`invalid option ${quote(`${key}=${value}`)}: control characters (newline, tab, ...) are not allowed`);
    }
    if (key.startsWith('com.docker.network.') && !known.includes(key)) throw new DriverError(`unknown ${driver} option ${key}`);
  }
}

export function optionParseError(key: string, value: string, why: string): DriverError {
  return new DriverError(`failed to parse ${key} value: ${hasControlChars(value) ? quote(value) : value} (${why})`);
}

/** Go's strconv.ParseBool: exactly these spellings. */
export function parseGoBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw optionParseError(key, value, `strconv.ParseBool: parsing ${quote(value)}: invalid syntax`);
}

/** A boolean option, or `fallback` when not given. */
export function boolOption(options: Readonly<Record<string, string>>, key: string, fallback: boolean): boolean {
  const value = ownOption(options, key);
  return value === undefined ? fallback : parseGoBool(key, value);
}

/** Kernel interface names: 1-15 bytes, no '/', no blanks; plumb keeps to letters, digits, '_', '.', '-'. */
export function checkInterfaceName(name: string, what: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new DriverError(`invalid ${what} ${quote(name)}: interface names are 1-15 characters of letters, digits, '_', '.' and '-'`);
  }
  return name;
}

/** MTU of a network's links; the kernel takes 68 (IPv4's minimum) to 65535. */
export function parseMtuOption(key: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw optionParseError(key, value, `strconv.Atoi: parsing ${quote(value)}: invalid syntax`);
  const mtu = Number(value);
  if (mtu < 68 || mtu > 65535) throw new DriverError(`invalid MTU ${mtu}: use a number from 68 to 65535`);
  return mtu;
}

/** com.docker.network.driver.mtu, or `fallback` when not given. */
export function mtuOption(options: Readonly<Record<string, string>>, fallback?: number): number | undefined {
  const text = ownOption(options, MTU_OPTION);
  return text === undefined ? fallback : parseMtuOption(MTU_OPTION, text);
}
