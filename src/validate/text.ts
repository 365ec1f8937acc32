// Control characters in user input. A newline in a hostname becomes a second
// line of /etc/hosts, in a --dns value a second nameserver, in a network name
// a broken `network ls` table. plumb refuses them in every name, address and
// option it keeps; only process data (-e values, COMMAND arguments, --format
// templates) may carry them, as in Docker.
import { InputError } from './errors.js';

// C0 controls, DEL, C1 controls (NEL among them), and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function hasControlChars(text: string): boolean {
  return CONTROL.test(text);
}

/** A Go %q rendering (double quotes, escapes): makes any value printable on one line. */
export function quote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if ((cp >= 0x80 && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Throws `invalid <what> "<value>": control characters (newline, tab, ...) are not allowed`. */
export function refuseControlChars(value: string, what: string): string {
  if (hasControlChars(value)) {
    throw new InputError(`invalid ${what} ${quote(value)}: control characters (newline, tab, ...) are not allowed`);
  }
  return value;
}

/** Like refuseControlChars, and also refuses blanks (spaces split a hosts line or a resolv.conf word). */
export function refuseBlanks(value: string, what: string): string {
  refuseControlChars(value, what);
  if (/\s/.test(value)) throw new InputError(`invalid ${what} ${quote(value)}: spaces are not allowed`);
  return value;
}
