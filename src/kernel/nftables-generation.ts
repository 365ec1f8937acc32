// The nf_tables generation of plumb's own network namespace: a counter the
// kernel bumps on every committed change to any nf_tables ruleset there
// (iptables-nft's included: each table an iptables-restore commits is one
// batch, one bump). Two reads that return the same number saw the same rules,
// so rules read at generation N are still the kernel's rules while the
// generation stays N: that lets the firewall skip an `iptables-save` process
// (engine/firewall/rules-memo.ts). One netlink request, NFT_MSG_GETGEN.
import { readFileSync, statSync } from 'node:fs';
import { attributes } from '../net/nftables-rule.js';
import { NetlinkSocket } from './netlink.js';

export const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
/** An nf_tables message type as nfnetlink numbers it: the subsystem in the high byte. */
export const nftMessage = (msg: number) => (NFNL_SUBSYS_NFTABLES << 8) | msg;
const NFT_MSG_GETGEN = 16;
const NFT_MSG_NEWGEN = 15;
const NFTA_GEN_ID = 1;
/** struct nfgenmsg: family (AF_UNSPEC), version (NFNETLINK_V0), res_id. */
const NFGENMSG = Buffer.alloc(4);

/** The generation now, or undefined when the kernel will not say (no nf_tables, no permission). */
export function nftablesGeneration(): number | undefined {
  let sock: NetlinkSocket | undefined;
  try {
    sock = new NetlinkSocket(NETLINK_NETFILTER, 1000);
    const answer = sock.request(nftMessage(NFT_MSG_GETGEN), 0, NFGENMSG);
    const gen = answer.find((m) => m.type === nftMessage(NFT_MSG_NEWGEN));
    // Attributes follow the 4-byte nfgenmsg; NFTA_GEN_ID is a big-endian u32.
    const id = gen && attributes(gen.data.subarray(4)).get(NFTA_GEN_ID);
    return id && id.length >= 4 ? id.readUInt32BE(0) : undefined;
  } catch {
    return undefined;
  } finally {
    sock?.close();
  }
}

/**
 * Which namespace, in which boot, a generation belongs to: its counter starts
 * again in every new namespace and after a reboot, so a number remembered
 * across processes is only compared within the same pair. Undefined when
 * either cannot be read.
 */
export function netnsIdentity(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}/${statSync('/proc/thread-self/ns/net').ino}`;
  } catch {
    return undefined;
  }
}
