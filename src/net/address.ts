// Addresses and prefixes, IPv4 and IPv6: the one place plumb parses, formats
// and computes them, on the `ip-address` package. Every other module asks
// here, so the whole program agrees on what an address is.
//
// What is accepted is ip-address's strict reading: four decimal octets, no
// leading zeros (Go's net.ParseIP refuses them too, and Docker passes its
// errors through), no spaces, no hex or shortened forms. A prefix length is
// one or two digits, at most 32 (128 for IPv6).
//
// IPv4 addresses are also handed out as unsigned 32-bit numbers: IPAM counts,
// masks and compares them by the thousand, and a number is what the kernel
// and the allocator's sets want. The conversion to and from text is
// ip-address's; the bit arithmetic on the numbers is plain integer math.
import { Address4, Address6 } from 'ip-address';

export interface Ipv4Prefix {
  /** Network address (host bits cleared), as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefix: number;
}

export interface ParsedIpv4Prefix extends Ipv4Prefix {
  /** The address exactly as written before the slash (host bits kept). */
  readonly ip: number;
}

const PREFIX_DIGITS = /^\d{1,3}$/;

function address4(text: string): Address4 | undefined {
  // ip-address also reads "a.b.c.d/n"; a bare address must have no slash.
  if (text.includes('/') || !Address4.isValid(text)) return undefined;
  return new Address4(text);
}

/** A dotted quad as a uint32; undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const a = address4(text);
  return a === undefined ? undefined : Number(a.bigInt());
}

export function isIpv4(text: string): boolean {
  return address4(text) !== undefined;
}

/** A uint32 as a dotted quad. */
export function formatIpv4(value: number): string {
  return Address4.fromInteger(value >>> 0).correctForm();
}

/** The four bytes of a dotted quad, network order; throws TypeError when it is not one. */
export function ipv4Bytes(text: string): Buffer {
  const a = address4(text);
  if (!a) throw new TypeError(`not an IPv4 address: ${text}`);
  return Buffer.from(a.toArray());
}

/** The dotted quad of the first four bytes of `bytes` (network order). */
export function ipv4FromBytes(bytes: Uint8Array): string {
  return Address4.fromByteArray([...bytes.subarray(0, 4)]).correctForm();
}

/** Netmask for a prefix length; `>>> 0` keeps it unsigned (JS shifts are signed). */
export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.2.3/8"; undefined when it is not an IPv4 address, a slash and a prefix length up to 32. */
export function parseIpv4Prefix(text: string): ParsedIpv4Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !PREFIX_DIGITS.test(prefixText) || prefixText.length > 2) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const network = Number(new Address4(`${formatIpv4(ip)}/${prefix}`).startAddress().bigInt());
  return { ip, network, prefix };
}

export function formatIpv4Prefix(c: Ipv4Prefix): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

/** Last address of a prefix (all host bits one). */
export function ipv4BroadcastOf(c: Ipv4Prefix): number {
  return (c.network | ~maskOf(c.prefix)) >>> 0;
}

export function ipv4PrefixContains(c: Ipv4Prefix, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.network;
}

/** The IPv4 address a reverse-lookup name stands for (`3.0.18.172.in-addr.arpa` -> 172.18.0.3), if it is one. */
export function ipv4OfReverseName(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const m = /^(.*)\.in-addr\.arpa$/.exec(lower);
  if (!m) return undefined;
  const forward = m[1]!.split('.').reverse().join('.');
  return isIpv4(forward) ? forward : undefined;
}

/** `172.18.0.3` -> `3.0.18.172.in-addr.arpa` (no trailing dot). */
export function reverseNameOfIpv4(ip: string): string {
  const a = address4(ip);
  if (!a) throw new TypeError(`not an IPv4 address: ${ip}`);
  return a.reverseForm({ omitSuffix: false }).replace(/\.$/, '');
}

// ---- IPv6 and either family ------------------------------------------------

export function isIpv6(text: string): boolean {
  return !text.includes('/') && Address6.isValid(text);
}

/** An address of either family (no prefix length). */
export function isIp(text: string): boolean {
  return isIpv4(text) || isIpv6(text);
}

/**
 * The IPv4 address an IPv6 socket address also stands for, as far as binding a
 * port goes: `::` takes IPv4 too (unless IPV6_V6ONLY), `::ffff:a.b.c.d` is that
 * address; any other IPv6 address does not clash with an IPv4 binding.
 */
export function ipv4OfIpv6(text: string): string | undefined {
  if (!isIpv6(text)) return undefined;
  const n = new Address6(text).bigInt();
  if (n === 0n) return '0.0.0.0';
  return n >> 32n === 0xffffn ? formatIpv4(Number(n & 0xffffffffn)) : undefined;
}

/** Canonical text of an IPv6 address (RFC 5952: lower case, longest zero run shortened). */
export function formatIpv6(text: string): string {
  if (!isIpv6(text)) throw new TypeError(`not an IPv6 address: ${text}`);
  return new Address6(text).correctForm();
}

/** An IPv6 address from its 16 bytes, network order. */
export function ipv6FromBytes(bytes: Uint8Array): string {
  return Address6.fromByteArray([...bytes.subarray(0, 16)]).correctForm();
}
