// Errors for invalid command-line input. The message is the text Docker
// prints for the same mistake, without any "docker:" or "Error response from
// daemon:" prefix; the command layer adds those.

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

/** A Go %q rendering of a string (double quotes, Go escapes). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}
