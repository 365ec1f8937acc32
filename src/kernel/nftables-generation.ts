// The nf_tables generation of plumb's own network namespace: a counter the
// kernel bumps on every committed change to any nf_tables ruleset there
// (iptables-nft's included: each table an iptables-restore commits is one
// batch, one bump). Two reads that return the same number saw the same rules,
// so rules read at generation N are still the kernel's rules while the
// generation stays N: that lets the firewall skip an `iptables-save` process
// (engine/firewall/rules-memo.ts). One netlink request, NFT_MSG_GETGEN.
import { readFileSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { NetlinkSocket } from './netlink.js';

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_GETGEN = 16;
const NFT_MSG_NEWGEN = 15;
const NFTA_GEN_ID = 1;
/** struct nfgenmsg: family (AF_UNSPEC), version (NFNETLINK_V0), res_id. */
const NFGENMSG = Buffer.alloc(4);
/** Attribute headers are in host byte order. */
const readU16 = (b: Buffer, off: number) => (endianness() === 'LE' ? b.readUInt16LE(off) : b.readUInt16BE(off));

/** The generation now, or undefined when the kernel will not say (no nf_tables, no permission). */
export function nftablesGeneration(): number | undefined {
  let sock: NetlinkSocket | undefined;
  try {
    sock = new NetlinkSocket(NETLINK_NETFILTER, 1000);
    const answer = sock.request((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, 0, NFGENMSG);
    const gen = answer.find((m) => m.type === ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN));
    if (!gen) return undefined;
    // Attributes follow the 4-byte nfgenmsg; NFTA_GEN_ID is a big-endian u32.
    for (let off = 4; off + 4 <= gen.data.length; ) {
      const len = readU16(gen.data, off);
      const type = readU16(gen.data, off + 2) & 0x3fff;
      if (len < 4) break;
      if (type === NFTA_GEN_ID && len >= 8) return gen.data.readUInt32BE(off + 4);
      off += (len + 3) & ~3;
    }
    return undefined;
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
