// Names a user gives plumb: networks, container hostnames, network aliases and
// link aliases. Docker's rules where it has them (texts included), and no
// control characters anywhere. Pure: the CLI and the engine both call these.
import { InputError } from './errors.js';
import { hasControlChars, quote, refuseBlanks } from './text.js';

const CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker's rule: at least two characters, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, optional leading '/'. */
export function isValidContainerName(name: string): boolean {
  return CONTAINER_NAME.test(name);
}

/**
 * Returns the name without a leading '/', or throws Docker's
 * `Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`.
 */
export function validateContainerName(name: string): string {
  if (!isValidContainerName(name)) {
    throw new InputError(`Invalid container name (${hasControlChars(name) ? quote(name) : name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name.slice(1) : name;
}

/** The networks every engine has; they cannot be created or removed by name. */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none', 'default'];

export function isPredefinedNetwork(name: string): boolean {
  return PREDEFINED_NETWORKS.includes(name);
}

/**
 * The name given to `network create`, with Docker's texts:
 * `operation is not permitted on predefined bridge network ` (the trailing
 * space is Docker's) and `invalid name: name is empty` for a blank name.
 * Docker accepts any other text; plumb also refuses '/' (a name is a path
 * component in places) and control characters (it is printed in tables).
 */
export function validateNetworkName(name: string): string {
  if (isPredefinedNetwork(name)) {
    throw new InputError(`operation is not permitted on predefined ${name} network `);
  }
  if (hasControlChars(name)) {
    throw new InputError(`invalid name: ${quote(name)}: network names cannot contain control characters (newline, tab, ...)`);
  }
  if (name.trim() === '') throw new InputError('invalid name: name is empty');
  if (name.includes('/')) throw new InputError(`invalid name: ${quote(name)}: network names cannot contain '/'`);
  return name;
}

/** Linux keeps at most 64 bytes of hostname (HOST_NAME_MAX); Docker refuses longer ones. */
export const MAX_HOSTNAME_BYTES = 64;

/**
 * `-h/--hostname`: Docker's limit and text (`hostname "x" is too long
 * (maximum 64 bytes)`); plumb also refuses blanks and control characters,
 * which would change the lines of the sandbox's /etc/hosts.
 */
export function validateHostname(hostname: string): string {
  refuseBlanks(hostname, 'hostname');
  if (hostname === '') throw new InputError('invalid hostname "": leave -h out for the default (the short container id)');
  if (Buffer.byteLength(hostname) > MAX_HOSTNAME_BYTES) {
    throw new InputError(`hostname ${quote(hostname)} is too long (maximum ${MAX_HOSTNAME_BYTES} bytes)`);
  }
  return hostname;
}

/**
 * `--network-alias`, `network connect --alias` and the alias of a `--link`:
 * names the embedded DNS answers and /etc/hosts lines carry. Docker accepts
 * any text; plumb refuses empty ones, blanks and control characters.
 */
export function validateAlias(alias: string, what = 'network alias'): string {
  refuseBlanks(alias, what);
  if (alias === '') throw new InputError(`invalid ${what} "": an alias cannot be empty`);
  return alias;
}
