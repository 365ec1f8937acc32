// The rules of one nf_tables table, read straight from the kernel with one
// netlink dump (NFT_MSG_GETRULE), as the expressions iptables-nft stored them.
// `plumb system check` confirms each sandbox's DNS redirection this way: at a
// thousand sandboxes, one `iptables-save` process per sandbox cost seconds,
// and a dump costs a fraction of a millisecond.
//
// The decoding itself is pure and lives in net/nftables-rule.ts.
import { decodeRules, type NftRule } from '../net/nftables-rule.js';
import { NetlinkSocket } from './netlink.js';
import { NETLINK_NETFILTER, nftMessage } from './nftables-generation.js';
import { attr, cString, NLM_F, NLMSG_ERROR, s32 } from './rtnl-wire.js';

const NFT_MSG_NEWRULE = 6;
const NFT_MSG_GETRULE = 7;
const NFPROTO_IPV4 = 2;
const NFTA_RULE_TABLE = 1;

/** The dump request for every IPv4 rule of `table`: nfgenmsg (family, version 0, res_id 0), then NFTA_RULE_TABLE. */
export function ruleDumpRequest(table: string): Buffer {
  return Buffer.concat([Buffer.from([NFPROTO_IPV4, 0, 0, 0]), attr(NFTA_RULE_TABLE, cString(table))]);
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
    const answer = sock.request(nftMessage(NFT_MSG_GETRULE), NLM_F.DUMP, ruleDumpRequest(table));
    if (answer.some((m) => m.type === NLMSG_ERROR && m.data.length >= 4 && s32(m.data) !== 0)) return undefined;
    return decodeRules(answer.filter((m) => m.type === nftMessage(NFT_MSG_NEWRULE)).map((m) => m.data));
  } catch {
    return undefined;
  } finally {
    sock?.close();
  }
}

export type { NftRule };
