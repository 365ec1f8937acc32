// `--link name[:alias]`, as Docker's ParseLink reads it (texts included), with
// an alias that stays one word of one /etc/hosts line.
import { InputError } from './errors.js';
import { refuseControlChars } from './text.js';
import { validateAlias } from './names.js';

export interface LinkSpec {
  target: string;
  alias: string;
}

export function parseLink(value: string): LinkSpec {
  if (value === '') throw new InputError('empty string specified for links');
  refuseControlChars(value, 'link');
  const parts = value.split(':');
  if (parts.length > 2) throw new InputError(`bad format for links: ${value}`);
  const target = parts[0]!.replace(/^\//, '');
  // Docker's stored form `/target:/container/alias` names the alias last.
  const alias = parts.length === 1 ? target : parts[1]!.split('/').pop() || target;
  if (target === '') throw new InputError(`bad format for links: ${value}`);
  validateAlias(alias, 'link alias');
  return { target, alias };
}
