// IPv4 addresses and CIDR blocks as IPAM uses them: uint32 numbers, parsed
// and formatted by the address module (src/net/), with IPAM's own errors
// (Go's texts, which Docker passes through unchanged).

import {
  formatIpv4,
  formatIpv4Prefix,
  ipv4BroadcastOf,
  ipv4PrefixContains,
  isIpv4,
  maskOf,
  parseIpv4,
  parseIpv4Prefix,
  type Ipv4Prefix,
  type ParsedIpv4Prefix,
} from '../net/address.js';
import { IpamError } from './errors.js';

export type Cidr = Ipv4Prefix;
export type ParsedCidr = ParsedIpv4Prefix;
export { maskOf };

/** Parses a dotted quad; undefined when it is not one. Leading zeros are refused, as Go's net.ParseIP does. */
export const tryParseIp = parseIpv4;
export const isIp = isIpv4;
export const intToIp = formatIpv4;
export const tryParseCidr = parseIpv4Prefix;
export const formatCidr = formatIpv4Prefix;

export function ipToInt(text: string): number {
  const value = parseIpv4(text);
  if (value === undefined) throw new IpamError(`invalid IP address: ${text}`, 'INVALID_ADDRESS');
  return value;
}

/** Parses "10.1.2.3/8"; the error text is Go's, which Docker passes through unchanged. */
export function parseCidr(text: string): ParsedCidr {
  const parsed = parseIpv4Prefix(text);
  if (!parsed) throw new IpamError(`invalid CIDR address: ${text}`, 'INVALID_ADDRESS');
  return parsed;
}

export function isCidr(text: string): boolean {
  return parseIpv4Prefix(text) !== undefined;
}

/** "10.1.2.3/8" -> "10.0.0.0/8". */
export function normalizeCidr(text: string): string {
  return formatCidr(parseCidr(text));
}

/** Accepts a Cidr or its text, so callers need not parse first. */
export function toCidr(c: Cidr | string): Cidr {
  return typeof c === 'string' ? parseCidr(c) : c;
}

export function prefixLength(c: Cidr | string): number {
  return toCidr(c).prefix;
}

/** Number of addresses in the block (2^32 for /0, so a plain number, not uint32). */
export function sizeOf(c: Cidr | string): number {
  return 2 ** (32 - toCidr(c).prefix);
}

export function broadcastOf(c: Cidr | string): number {
  return ipv4BroadcastOf(toCidr(c));
}

export function broadcast(c: Cidr | string): string {
  return intToIp(broadcastOf(c));
}

export function containsIp(c: Cidr | string, ip: number | string): boolean {
  return ipv4PrefixContains(toCidr(c), typeof ip === 'string' ? ipToInt(ip) : ip);
}

/** True when `inner` lies completely inside `outer`. */
export function containsCidr(outer: Cidr | string, inner: Cidr | string): boolean {
  const o = toCidr(outer);
  const i = toCidr(inner);
  return i.prefix >= o.prefix && containsIp(o, i.network);
}

/** Two CIDR blocks overlap exactly when one contains the other's network address. */
export function overlaps(a: Cidr | string, b: Cidr | string): boolean {
  const x = toCidr(a);
  const y = toCidr(b);
  return x.prefix <= y.prefix ? containsIp(x, y.network) : containsIp(y, x.network);
}

/**
 * First and last address Docker's IPAM will hand out: it always reserves the
 * network and broadcast addresses, even for a /31 (RFC 3021 is not honoured),
 * so /31 and /32 have no usable host at all.
 */
export function firstHostOf(c: Cidr | string): number | undefined {
  const cidr = toCidr(c);
  return cidr.prefix >= 31 ? undefined : cidr.network + 1;
}

export function lastHostOf(c: Cidr | string): number | undefined {
  const cidr = toCidr(c);
  return cidr.prefix >= 31 ? undefined : broadcastOf(cidr) - 1;
}

export function firstHost(c: Cidr | string): string | undefined {
  const v = firstHostOf(c);
  return v === undefined ? undefined : intToIp(v);
}

export function lastHost(c: Cidr | string): string | undefined {
  const v = lastHostOf(c);
  return v === undefined ? undefined : intToIp(v);
}
