// The rules of one nf_tables table, read straight from the kernel with one
// netlink dump (NFT_MSG_GETRULE), as the expressions iptables-nft stored them.
// `plumb system check` confirms each sandbox's DNS redirection this way: at a
// thousand sandboxes, one `iptables-save` process per sandbox cost seconds,
// and a dump costs a fraction of a millisecond.
//
// The decoding itself is pure and lives in net/nftables-rule.ts.
import { endianness } from 'node:os';
import { decodeRules, type NftRule } from '../net/nftables-rule.js';
import { NetlinkSocket } from './netlink.js';

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWRULE = 6;
const NFT_MSG_GETRULE = 7;
const NLM_F_DUMP = 0x300;
const NFPROTO_IPV4 = 2;

const NFTA_RULE_TABLE = 1;

// Netlink headers are in host byte order.
const LE = endianness() === 'LE';
const writeU16 = (b: Buffer, v: number, off: number) => (LE ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
const readI32 = (b: Buffer, off: number) => (LE ? b.readInt32LE(off) : b.readInt32BE(off));
const NLMSG_ERROR = 2;

/** The dump request for every IPv4 rule of `table`: nfgenmsg, then NFTA_RULE_TABLE. */
export function ruleDumpRequest(table: string): Buffer {
  const name = Buffer.from(`${table}\0`);
  const attrLen = 4 + name.length;
  const body = Buffer.alloc(4 + ((attrLen + 3) & ~3));
  body[0] = NFPROTO_IPV4;
  writeU16(body, attrLen, 4);
  writeU16(body, NFTA_RULE_TABLE, 6);
  name.copy(body, 8);
  return body;
}

/**
 * The IPv4 rules of `table` in the calling thread's network namespace (callers
 * enter it first), or undefined when the kernel will not say (no nf_tables, no
 * such table, no permission).
 */
export function readNftRules(table: string): NftRule[] | undefined {
  let sock: NetlinkSocket | undefined;
  try {
    sock = new NetlinkSocket(NETLINK_NETFILTER, 1000);
    const answer = sock.request((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE, NLM_F_DUMP, ruleDumpRequest(table));
    if (answer.some((m) => m.type === NLMSG_ERROR && m.data.length >= 4 && readI32(m.data, 0) !== 0)) return undefined;
    return decodeRules(answer.filter((m) => m.type === ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)).map((m) => m.data));
  } catch {
    return undefined;
  } finally {
    sock?.close();
  }
}

export type { NftRule };
