// Recognises the sandbox's DNS redirection (sandbox-dns.ts) among the rules
// iptables-nft stored in the kernel, read by kernel/nftables-rules.ts without
// a process. It answers only "certainly in place": any rule it cannot read as
// iptables-nft writes it (another iptables version, a native nft backend)
// makes it say no, and the caller asks iptables-save, whose text decides.
//
// The two facts checked are those `system check` requires of the text:
//   -A OUTPUT -d 127.0.0.11/32 -j PLUMB_DNS_OUTPUT
//   ... -j DNAT --to-destination GATEWAY:PORT
import { endianness } from 'node:os';
import { attributes, attrString, type NftExpression, type NftRule } from '../net/nftables-rule.js';
import { ipv4Bytes } from '../net/address.js';
import { EMBEDDED_DNS_IP, OUTPUT_CHAIN } from './sandbox-dns.js';

const LE = endianness() === 'LE';
// Expression attributes (linux/netfilter/nf_tables.h).
const NFTA_PAYLOAD_BASE = 2;
const NFTA_PAYLOAD_OFFSET = 3;
const NFTA_PAYLOAD_LEN = 4;
const NFT_PAYLOAD_NETWORK_HEADER = 1;
const NFTA_CMP_OP = 2;
const NFTA_CMP_DATA = 3;
const NFT_CMP_EQ = 0;
const NFTA_DATA_VALUE = 1;
const NFTA_DATA_VERDICT = 2;
const NFTA_IMMEDIATE_DATA = 2;
const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
const NFT_JUMP = -3;
const NFTA_TARGET_NAME = 1;
const NFTA_TARGET_REV = 2;
const NFTA_TARGET_INFO = 3;
// xt_nat's range flags.
const NF_NAT_RANGE_MAP_IPS = 1;
const NF_NAT_RANGE_PROTO_SPECIFIED = 2;

const be32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readInt32BE(0) : undefined);
const hostU32 = (b: Buffer, off: number) => (LE ? b.readUInt32LE(off) : b.readUInt32BE(off));

/** `-d IP/32`: the destination address (4 bytes at offset 16 of the IPv4 header) compared equal to IP. */
function matchesDestination(load: NftExpression, cmp: NftExpression, ip: string): boolean {
  if (load.name !== 'payload' || cmp.name !== 'cmp') return false;
  if (be32(load.attrs.get(NFTA_PAYLOAD_BASE)) !== NFT_PAYLOAD_NETWORK_HEADER) return false;
  if (be32(load.attrs.get(NFTA_PAYLOAD_OFFSET)) !== 16 || be32(load.attrs.get(NFTA_PAYLOAD_LEN)) !== 4) return false;
  if (be32(cmp.attrs.get(NFTA_CMP_OP)) !== NFT_CMP_EQ) return false;
  const value = attributes(cmp.attrs.get(NFTA_CMP_DATA) ?? Buffer.alloc(0)).get(NFTA_DATA_VALUE);
  return !!value && value.equals(ipv4Bytes(ip));
}

/** `-j CHAIN`: an immediate jump verdict to CHAIN. */
function jumpsTo(e: NftExpression, chain: string): boolean {
  if (e.name !== 'immediate') return false;
  const verdict = attributes(attributes(e.attrs.get(NFTA_IMMEDIATE_DATA) ?? Buffer.alloc(0)).get(NFTA_DATA_VERDICT) ?? Buffer.alloc(0));
  return be32(verdict.get(NFTA_VERDICT_CODE)) === NFT_JUMP && attrString(verdict.get(NFTA_VERDICT_CHAIN)) === chain;
}

/** `-j DNAT --to-destination IP:PORT` (xt_DNAT, revisions 0 to 2), read from the target's info. */
export function dnatsTo(e: NftExpression, ip: string, port: number): boolean {
  if (e.name !== 'target' || attrString(e.attrs.get(NFTA_TARGET_NAME)) !== 'DNAT') return false;
  const info = e.attrs.get(NFTA_TARGET_INFO);
  const rev = be32(e.attrs.get(NFTA_TARGET_REV));
  if (!info) return false;
  // rev 0: struct nf_nat_ipv4_multi_range_compat { rangesize; { flags, min_ip, max_ip, min, max } }.
  // rev 1, 2: struct nf_nat_range(2) { flags, min_addr[16], max_addr[16], min_proto, max_proto, ... }.
  const layout = rev === 0 ? { flags: 4, addr: 8, port: 16, size: 20 } : rev === 1 || rev === 2 ? { flags: 0, addr: 4, port: 36, size: 40 } : undefined;
  if (!layout || info.length < layout.size) return false;
  if (rev === 0 && hostU32(info, 0) < 1) return false;
  const flags = hostU32(info, layout.flags);
  if (!(flags & NF_NAT_RANGE_MAP_IPS) || !(flags & NF_NAT_RANGE_PROTO_SPECIFIED)) return false;
  return info.subarray(layout.addr, layout.addr + 4).equals(ipv4Bytes(ip)) && info.readUInt16BE(layout.port) === port;
}

/**
 * True when the nat rules certainly send 127.0.0.11:53 to the resolver at
 * `gateway:port`: OUTPUT jumps to the redirection chain for 127.0.0.11, and a
 * DNAT to that address and port exists. False means "not certain", never "missing".
 */
export function dnsRedirectCertain(rules: NftRule[], gateway: string, port: number): boolean {
  const jump = rules.some((r) => {
    if (r.chain !== 'OUTPUT') return false;
    const e = r.exprs.filter((x) => x.name !== 'counter');
    return e.length === 3 && matchesDestination(e[0]!, e[1]!, EMBEDDED_DNS_IP) && jumpsTo(e[2]!, OUTPUT_CHAIN);
  });
  return jump && rules.some((r) => r.exprs.some((e) => dnatsTo(e, gateway, port)));
}
