// One gate for every command: no flag value or argument may carry a control
// character (newline, tab, escape, ...). Each field also has its own rule
// (validate/), checked again by the engine; this gate makes sure no field is
// forgotten, including ones only printed back (filters, labels, references).
// Process data is the exception, as in Docker: -e values and COMMAND
// arguments reach the process untouched, and --format templates only shape
// the output.
import type { Command } from 'commander';
import { InputError } from '../../validate/errors.js';
import { hasControlChars, quote } from '../../validate/text.js';
import { flagValueError } from './errors.js';

/** Options whose values are process data or output templates. */
const FREE_OPTIONS = new Set(['env', 'format']);
/** Positional arguments that are process data. */
const FREE_ARGUMENTS = new Set(['command']);

const REASON = 'control characters (newline, tab, ...) are not allowed';

function values(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** Throws (exit 125, as Docker's flag errors) for the first flag value or argument with a control character. */
export function refuseControlCharacters(cmd: Command): void {
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const option of c.options) {
      const key = option.attributeName();
      if (FREE_OPTIONS.has(key)) continue;
      for (const v of values(c.getOptionValue(key))) {
        if (hasControlChars(v)) {
          const flag = option.flags.replace(/\s*[<[].*$/, '');
          throw new InputError(flagValueError(v, flag, REASON), 125);
        }
      }
    }
  }
  cmd.registeredArguments.forEach((arg, i) => {
    if (FREE_ARGUMENTS.has(arg.name())) return;
    for (const v of values(cmd.processedArgs[i])) {
      if (hasControlChars(v)) throw new InputError(`invalid ${arg.name()} ${quote(v)}: ${REASON}`, 125);
    }
  });
}
