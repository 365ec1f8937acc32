// IPv4 addresses and CIDR blocks as plain uint32 numbers. Everything else in
// ipam/ builds on these few helpers, so they stay strict and allocation-free.

import { IpamError } from './errors.js';

export interface Cidr {
  /** Network address (host bits cleared), as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefix: number;
}

export interface ParsedCidr extends Cidr {
  /** The address exactly as written before the slash (host bits kept). */
  readonly ip: number;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a dotted quad; undefined when it is not one. Leading zeros are refused, as Go's net.ParseIP does. */
export function tryParseIp(text: string): number | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function isIp(text: string): boolean {
  return tryParseIp(text) !== undefined;
}

export function ipToInt(text: string): number {
  const value = tryParseIp(text);
  if (value === undefined) throw new IpamError(`invalid IP address: ${text}`, 'INVALID_ADDRESS');
  return value;
}

export function intToIp(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Netmask for a prefix length; `>>> 0` keeps it unsigned (JS shifts are signed). */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function tryParseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = tryParseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  return { ip, network: (ip & maskOf(prefix)) >>> 0, prefix };
}

/** Parses "10.1.2.3/8"; the error text is Go's, which Docker passes through unchanged. */
export function parseCidr(text: string): ParsedCidr {
  const parsed = tryParseCidr(text);
  if (!parsed) throw new IpamError(`invalid CIDR address: ${text}`, 'INVALID_ADDRESS');
  return parsed;
}

export function isCidr(text: string): boolean {
  return tryParseCidr(text) !== undefined;
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
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
  const { network, prefix } = toCidr(c);
  return (network | ~maskOf(prefix)) >>> 0;
}

export function broadcast(c: Cidr | string): string {
  return intToIp(broadcastOf(c));
}

export function containsIp(c: Cidr | string, ip: number | string): boolean {
  const { network, prefix } = toCidr(c);
  const value = typeof ip === 'string' ? ipToInt(ip) : ip;
  return ((value & maskOf(prefix)) >>> 0) === network;
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
