// Option parsing shared by the drivers: Docker's spellings of booleans and
// MTUs, and a clear refusal of an option the driver does not know.
import { DriverError } from './errors.js';

export const MTU_OPTION = 'com.docker.network.driver.mtu';

/** Docker's option namespace: a key in it that the driver does not know is a mistake, not something to ignore. */
export function rejectUnknownOptions(options: Record<string, string>, known: readonly string[], driver: string): void {
  for (const key of Object.keys(options)) {
    if (key.startsWith('com.docker.network.') && !known.includes(key)) throw new DriverError(`unknown ${driver} option ${key}`);
  }
}

export function parseBoolOption(options: Record<string, string>, key: string, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new DriverError(`invalid value for ${key}: ${value} (use true or false)`);
}

/** com.docker.network.driver.mtu, or `fallback` when not given. */
export function mtuOption(options: Record<string, string>, fallback?: number): number | undefined {
  const text = options[MTU_OPTION];
  if (text === undefined) return fallback;
  const mtu = Number(text);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new DriverError(`invalid MTU ${text}: use a number from 68 to 65535`);
  return mtu;
}
