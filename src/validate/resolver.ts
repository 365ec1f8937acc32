// What a sandbox's /etc/resolv.conf is made of: --dns, --dns-search and
// --dns-option. Docker's CLI validators and texts (20.10), and no control
// characters: one value must stay one word on one line of the file.
import { isIp } from '../net/address.js';
import { InputError } from './errors.js';
import { refuseControlChars } from './text.js';

/**
 * `--dns`: an IPv4 or IPv6 address, surrounding blanks ignored, as Docker's
 * ValidateIPAddress does. Text: `x is not an ip address`. Returns the address
 * without the blanks.
 */
export function validateDnsServer(value: string): string {
  refuseControlChars(value, 'DNS server');
  const ip = value.trim();
  if (ip.includes('%') || !isIp(ip)) throw new InputError(`${value} is not an ip address`);
  return ip;
}

const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = new RegExp(`^(${LABEL}(?:\\.${LABEL})*)\\.?$`);

/**
 * `--dns-search`: `.` (no search list) or a domain of letters, digits and
 * inner hyphens, with at least one letter, under 255 characters. Returns the
 * domain without a trailing dot. Text: `x is not a valid domain`.
 */
export function validateDnsSearch(value: string): string {
  refuseControlChars(value, 'DNS search domain');
  const v = value.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = DOMAIN.exec(v);
  if (!/[a-zA-Z]/.test(v) || !m || m[1]!.length >= 255) throw new InputError(`${value} is not a valid domain`);
  return m[1]!;
}

/**
 * `--dns-option` (e.g. `ndots:2`, `use-vc`): Docker passes these through
 * unchecked; plumb refuses empty ones and control characters.
 */
export function validateDnsOption(value: string): string {
  refuseControlChars(value, 'DNS option');
  if (value.trim() === '') throw new InputError('invalid DNS option "": give an option such as ndots:2');
  return value.trim();
}
