// The xtables DNAT target's info as the kernel stores it, in each revision
// iptables may pick: the address and port are read at the right offsets, and
// a layout this reader does not know is never vouched for.
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { dnatsTo } from '../../src/firewall/sandbox-dns-nft.js';
import type { NftExpression } from '../../src/net/nftables-rule.js';

const LE = endianness() === 'LE';
const u32host = (v: number) => {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
};
const be32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const ip = (s: string) => Buffer.from(s.split('.').map(Number));
const port = (p: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(p);
  return b;
};
const target = (name: string, rev: number, info: Buffer): NftExpression => ({
  name: 'target',
  attrs: new Map([
    [1, Buffer.from(`${name}\0`)],
    [2, be32(rev)],
    [3, info],
  ]),
});
const MAP_IPS_AND_PROTO = 3;

/** struct nf_nat_range2: flags, min_addr[16], max_addr[16], min_proto, max_proto, base_proto. */
const range2 = (flags: number, addr: string, p: number) =>
  Buffer.concat([u32host(flags), ip(addr), Buffer.alloc(12), ip(addr), Buffer.alloc(12), port(p), port(p), Buffer.alloc(2), Buffer.alloc(2)]);
/** struct nf_nat_ipv4_multi_range_compat: rangesize, then flags, min_ip, max_ip, min, max. */
const compat = (flags: number, addr: string, p: number) => Buffer.concat([u32host(1), u32host(flags), ip(addr), ip(addr), port(p), port(p)]);

describe('dnatsTo', () => {
  it('reads revision 2 and 1 (nf_nat_range2 / nf_nat_range)', () => {
    expect(dnatsTo(target('DNAT', 2, range2(MAP_IPS_AND_PROTO, '172.18.0.1', 5311)), '172.18.0.1', 5311)).toBe(true);
    expect(dnatsTo(target('DNAT', 1, range2(MAP_IPS_AND_PROTO, '172.18.0.1', 5311).subarray(0, 40)), '172.18.0.1', 5311)).toBe(true);
    expect(dnatsTo(target('DNAT', 2, range2(MAP_IPS_AND_PROTO, '172.18.0.1', 5311)), '172.18.0.1', 5312)).toBe(false);
    expect(dnatsTo(target('DNAT', 2, range2(MAP_IPS_AND_PROTO, '172.18.0.9', 5311)), '172.18.0.1', 5311)).toBe(false);
  });

  it('reads revision 0 (the IPv4 compat layout)', () => {
    expect(dnatsTo(target('DNAT', 0, compat(MAP_IPS_AND_PROTO, '10.0.0.1', 53)), '10.0.0.1', 53)).toBe(true);
    expect(dnatsTo(target('DNAT', 0, compat(MAP_IPS_AND_PROTO, '10.0.0.1', 54)), '10.0.0.1', 53)).toBe(false);
  });

  it('vouches for nothing it does not know: no port given, another target, another revision, short info', () => {
    expect(dnatsTo(target('DNAT', 2, range2(1, '172.18.0.1', 5311)), '172.18.0.1', 5311)).toBe(false);
    expect(dnatsTo(target('SNAT', 2, range2(MAP_IPS_AND_PROTO, '172.18.0.1', 5311)), '172.18.0.1', 5311)).toBe(false);
    expect(dnatsTo(target('DNAT', 3, range2(MAP_IPS_AND_PROTO, '172.18.0.1', 5311)), '172.18.0.1', 5311)).toBe(false);
    expect(dnatsTo(target('DNAT', 2, range2(MAP_IPS_AND_PROTO, '172.18.0.1', 5311).subarray(0, 30)), '172.18.0.1', 5311)).toBe(false);
  });
});
