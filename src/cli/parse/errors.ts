// Errors for invalid command-line input. The message is the text Docker
// prints for the same mistake, without any "docker:" or "Error response from
// daemon:" prefix; the command layer adds those.
import { quote } from '../../validate/text.js';

export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string) {
    super(message);
  }
}

/**
 * How Docker's flag library reports a value its validator rejected:
 * `invalid argument "x" for "-e, --env" flag: invalid environment variable: x`.
 * `flag` is the flag as Docker names it, e.g. `--label` or `-p, --publish`.
 */
export function flagValueError(value: string, flag: string, reason: string): string {
  return `invalid argument ${goQuote(value)} for ${goQuote(flag)} flag: ${reason}`;
}

/** A Go %q rendering of a string (double quotes, Go escapes): one printable line whatever the value holds. */
export const goQuote = quote;
