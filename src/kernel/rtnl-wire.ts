// The rtnetlink requests a container's start sends, encoded by hand: the
// veth pair, its bridge port flags, the link settings, the address, the
// routes, a link lookup by name, and the one reply field set these need (a
// new link's echo: index, name, IFLA_LINK). Everything else (bridges, vxlan,
// macvlan, neighbours, the FDB, and decoding dumps for check, doctor, graph)
// goes through the `netlink` package (rtnl-codec.ts).
//
// Why a second encoder: loading the package's rt formatters and parsers
// costs every process that loads them 8-20 ms (measured; this file, well
// under a millisecond), and `plumb run` is a whole process per container.
// The bytes are the package's, field for field and in the same attribute
// order: test/unit/rtnl-wire.test.ts encodes the same requests both ways and
// compares them byte for byte.
//
// Pure functions, no sockets: the transport is netlink.ts.
import { endianness } from 'node:os';
import { formatIpv4, ipv4BroadcastOf, ipv4Bytes, isIpv4, parseIpv4Prefix } from '../net/address.js';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;

/** Message types (linux/rtnetlink.h). */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
} as const;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

/** Request flags (linux/netlink.h); REQUEST and ACK are added by the transport. */
export const NLM_F = {
  /** Send the requester the notification of what it changed (a new link's message, with its ifindex). */
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
} as const;

export const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof SCOPES;

const NLA_F_NESTED = 0x8000;
const IFF_UP = 0x1;
const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, PROTINFO: 12, LINKINFO: 18, NET_NS_FD: 28, EXT_MASK: 29 } as const;
const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
const VETH_INFO_PEER = 1;
const IFLA_BRPORT = { STATE: 1, MODE: 4, LEARNING: 8, UNICAST_FLOOD: 9, ISOLATED: 33 } as const;
/** STP port states by number (BR_STATE_*), named as `bridge link show` names them. */
const BR_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'] as const;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
const IFA = { ADDRESS: 1, LOCAL: 2, BROADCAST: 4 } as const;
const RTA = { DST: 1, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7 } as const;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
const RTNH_F_ONLINK = 4;

// Netlink's integers are in the host's byte order.
const LITTLE = endianness() === 'LE';

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (LITTLE) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

export function s32(b: Buffer, off = 0): number {
  return LITTLE ? b.readInt32LE(off) : b.readInt32BE(off);
}

function u16At(b: Buffer, off: number): number {
  return LITTLE ? b.readUInt16LE(off) : b.readUInt16BE(off);
}

export function cString(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s) + 1);
  b.write(s);
  return b;
}

/** One attribute: header (length without padding, type), data, padding to 4 bytes (any netlink family's layout). */
export function attr(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const out = Buffer.alloc((len + 3) & ~3);
  if (LITTLE) {
    out.writeUInt16LE(len, 0);
    out.writeUInt16LE(type, 2);
  } else {
    out.writeUInt16BE(len, 0);
    out.writeUInt16BE(type, 2);
  }
  data.copy(out, 4);
  return out;
}

/** An attribute holding attributes, flagged NLA_F_NESTED as iproute2 sends it. */
function nested(type: number, ...inner: Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(inner));
}

// ---- values ----------------------------------------------------------------

export interface Cidr {
  address: string;
  prefixLen: number;
}

/** "10.0.0.1/24", or a bare address (a /32), as the kernel layer takes it; TypeError otherwise. */
export function parseCidr(cidr: string): Cidr {
  if (isIpv4(cidr)) return { address: cidr, prefixLen: 32 };
  const p = parseIpv4Prefix(cidr);
  if (!p) throw new TypeError(`not an IPv4 CIDR: ${cidr}`);
  return { address: formatIpv4(p.ip), prefixLen: p.prefix };
}

/** The broadcast address `ip addr add X/n brd +` would set, or undefined for /31 and /32. */
export function broadcastOf(c: Cidr): string | undefined {
  if (c.prefixLen >= 31) return undefined;
  return formatIpv4(ipv4BroadcastOf(parseIpv4Prefix(`${c.address}/${c.prefixLen}`)!));
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new TypeError(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

// ---- links -----------------------------------------------------------------

/** struct ifinfomsg: family, ifindex, flags and the change mask (IFF_UP is all plumb sets). */
export function ifinfomsg(h: { family?: number; index?: number; up?: boolean; changeUp?: boolean } = {}): Buffer {
  const b = Buffer.alloc(16);
  b[0] = h.family ?? AF_UNSPEC;
  if (LITTLE) b.writeInt32LE(h.index ?? 0, 4);
  else b.writeInt32BE(h.index ?? 0, 4);
  if (h.up) b.set(u32(IFF_UP), 8);
  if (h.changeUp) b.set(u32(IFF_UP), 12);
  return b;
}

/** The link attributes plumb sends; undefined fields are left out. */
export interface LinkAttrs {
  address?: Buffer;
  ifname?: string;
  mtu?: number;
  /** IFLA_LINK: the lower device's ifindex. */
  link?: number;
  master?: number;
  netNsFd?: number;
}

/** Link attributes, in the order rtnl-codec.ts's linkAttrs gives them to the package. */
export function linkAttrs(a: LinkAttrs): Buffer {
  const out: Buffer[] = [];
  if (a.ifname !== undefined) out.push(attr(IFLA.IFNAME, cString(a.ifname)));
  if (a.mtu !== undefined) out.push(attr(IFLA.MTU, u32(a.mtu)));
  if (a.address !== undefined) out.push(attr(IFLA.ADDRESS, a.address));
  if (a.link !== undefined) out.push(attr(IFLA.LINK, u32(a.link)));
  if (a.master !== undefined) out.push(attr(IFLA.MASTER, u32(a.master)));
  if (a.netNsFd !== undefined) out.push(attr(IFLA.NET_NS_FD, u32(a.netNsFd)));
  return Buffer.concat(out);
}

/** IFLA_LINKINFO { IFLA_INFO_KIND kind, IFLA_INFO_DATA data }. */
function linkInfo(kind: string, data?: Buffer): Buffer {
  const parts = [attr(IFLA_INFO.KIND, cString(kind))];
  if (data !== undefined) parts.push(nested(IFLA_INFO.DATA, data));
  return nested(IFLA.LINKINFO, ...parts);
}

export interface VethRequest {
  name: string;
  peer: string;
  peerNsFd: number;
  mtu?: number;
  peerAddress?: string;
  master?: number;
  up?: boolean;
}

/**
 * RTM_NEWLINK body of `ip link add NAME [master BR] [up] type veth peer name
 * PEER netns PEERNS`: VETH_INFO_PEER holds a whole struct ifinfomsg, then the
 * peer's own attributes (not flagged nested: it starts with a struct).
 */
export function vethBody(v: VethRequest): Buffer {
  const peer = linkAttrs({ ifname: v.peer, mtu: v.mtu, address: v.peerAddress === undefined ? undefined : macBytes(v.peerAddress), netNsFd: v.peerNsFd });
  const data = attr(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), peer]));
  return Buffer.concat([ifinfomsg({ up: v.up, changeUp: v.up }), linkAttrs({ ifname: v.name, mtu: v.mtu, master: v.master }), linkInfo('veth', data)]);
}

/** RTM_SETLINK / RTM_DELLINK body: ifinfomsg, then the attributes. */
export function linkBody(head: Buffer, attrs: LinkAttrs = {}): Buffer {
  return Buffer.concat([head, linkAttrs(attrs)]);
}

export interface BridgePortChange {
  hairpin?: boolean;
  learning?: boolean;
  flood?: boolean;
  isolated?: boolean;
}

/** RTM_SETLINK body of `bridge link set dev X ...`: IFLA_PROTINFO, flagged nested (a bridge reads it unflagged as the old STP byte). */
export function bridgePortBody(index: number, c: BridgePortChange): Buffer {
  const flag = (type: number, v: boolean | undefined) => (v === undefined ? [] : [attr(type, Buffer.from([v ? 1 : 0]))]);
  const info = [
    ...flag(IFLA_BRPORT.MODE, c.hairpin),
    ...flag(IFLA_BRPORT.LEARNING, c.learning),
    ...flag(IFLA_BRPORT.UNICAST_FLOOD, c.flood),
    ...flag(IFLA_BRPORT.ISOLATED, c.isolated),
  ];
  return Buffer.concat([ifinfomsg({ family: AF_BRIDGE, index }), nested(IFLA.PROTINFO, ...info)]);
}

/** Body of an RTM_GETLINK for one link, by name or by index, without statistics (IFLA_EXT_MASK). */
export function getLinkBody(which: { name?: string; index?: number }): Buffer {
  return Buffer.concat([ifinfomsg({ index: which.index }), linkAttrs({ ifname: which.name }), attr(IFLA.EXT_MASK, u32(RTEXT_FILTER_SKIP_STATS))]);
}

/** What a link's message says about its identity: its index, name and IFLA_LINK (a veth's twin). */
export function linkIdentity(b: Buffer): { index: number; name: string; parentIndex?: number } {
  if (b.length < 16) throw new RangeError(`link message of ${b.length} bytes`);
  const out: { index: number; name: string; parentIndex?: number } = { index: s32(b, 4), name: '' };
  for (let off = 16; off + 4 <= b.length; ) {
    const len = u16At(b, off);
    const type = u16At(b, off + 2) & 0x3fff;
    if (len < 4 || off + len > b.length) throw new RangeError(`attribute of ${len} bytes at ${off}`);
    const data = b.subarray(off + 4, off + len);
    if (type === IFLA.IFNAME) out.name = data.toString('utf8').replace(/\0.*$/s, '');
    else if (type === IFLA.LINK && data.length >= 4) out.parentIndex = LITTLE ? data.readUInt32LE(0) : data.readUInt32BE(0);
    off += (len + 3) & ~3;
  }
  return out;
}

/**
 * Body of an RTM_GETLINK dump without statistics. AF_BRIDGE is the dump
 * `bridge link show` sends: the kernel answers it with one message per
 * bridge port, its flags in IFLA_PROTINFO.
 */
export function linkDumpBody(family: typeof AF_UNSPEC | typeof AF_BRIDGE): Buffer {
  return Buffer.concat([ifinfomsg({ family }), attr(IFLA.EXT_MASK, u32(RTEXT_FILTER_SKIP_STATS))]);
}

export interface BridgePortFlags {
  index: number;
  ifname: string;
  masterIndex?: number;
  /** STP port state: forwarding, disabled, blocking, ... */
  state?: string;
  hairpin: boolean;
  learning: boolean;
  flood: boolean;
  isolated: boolean;
}

/** Iterates the attributes of `b` from `off`: type (without flags) and data. */
function* attrsOf(b: Buffer, off: number): Generator<{ type: number; data: Buffer }> {
  while (off + 4 <= b.length) {
    const len = u16At(b, off);
    if (len < 4 || off + len > b.length) throw new RangeError(`attribute of ${len} bytes at ${off}`);
    yield { type: u16At(b, off + 2) & 0x3fff, data: b.subarray(off + 4, off + len) };
    off += (len + 3) & ~3;
  }
}

/**
 * One bridge port of an AF_BRIDGE link dump, read as `bridge -d link show`
 * reads it: an absent learning or flood flag is on, an absent hairpin or
 * isolated flag off; an IFLA_PROTINFO that is not nested is the old one-byte
 * STP state.
 */
export function decodeBridgePort(b: Buffer): BridgePortFlags {
  if (b.length < 16) throw new RangeError(`link message of ${b.length} bytes`);
  const out: BridgePortFlags = { index: s32(b, 4), ifname: '', hairpin: false, learning: true, flood: true, isolated: false };
  for (const a of attrsOf(b, 16)) {
    if (a.type === IFLA.IFNAME) out.ifname = a.data.toString('utf8').replace(/\0.*$/s, '');
    else if (a.type === IFLA.MASTER && a.data.length >= 4) out.masterIndex = LITTLE ? a.data.readUInt32LE(0) : a.data.readUInt32BE(0);
    else if (a.type === IFLA.PROTINFO) {
      // A nested IFLA_PROTINFO has attributes (at least 4 bytes each); the old form is one byte.
      if (a.data.length < 4) {
        if (a.data.length >= 1) out.state = BR_STATES[a.data[0]!];
        continue;
      }
      for (const p of attrsOf(a.data, 0)) {
        const v = p.data.length ? p.data[0]! : 0;
        if (p.type === IFLA_BRPORT.STATE) out.state = BR_STATES[v];
        else if (p.type === IFLA_BRPORT.MODE) out.hairpin = v !== 0;
        else if (p.type === IFLA_BRPORT.LEARNING) out.learning = v !== 0;
        else if (p.type === IFLA_BRPORT.UNICAST_FLOOD) out.flood = v !== 0;
        else if (p.type === IFLA_BRPORT.ISOLATED) out.isolated = v !== 0;
      }
    }
  }
  return out;
}

// ---- addresses and routes --------------------------------------------------

/**
 * RTM_NEWADDR / RTM_DELADDR body, as `ip addr add X/n brd + dev D` sends it:
 * IFA_LOCAL and IFA_ADDRESS both the address, IFA_BROADCAST when given.
 */
export function addrBody(index: number, c: Cidr, broadcast?: string): Buffer {
  const local = ipv4Bytes(c.address);
  const head = Buffer.alloc(8);
  head[0] = AF_INET;
  head[1] = c.prefixLen;
  // Like iproute2: loopback addresses get host scope, everything else global.
  head[3] = local[0] === 127 ? SCOPES.host : SCOPES.global;
  head.set(u32(index), 4);
  const attrs = [attr(IFA.LOCAL, local), attr(IFA.ADDRESS, local)];
  if (broadcast !== undefined) attrs.push(attr(IFA.BROADCAST, ipv4Bytes(broadcast)));
  return Buffer.concat([head, ...attrs]);
}

export interface RouteBody {
  /** null: the default route. */
  dst: Cidr | null;
  via?: string;
  oif?: number;
  src?: string;
  scope?: ScopeName;
  metric?: number;
  onlink?: boolean;
  /** Deletes match loosely (any scope, type, protocol), like `ip route del`. */
  forDelete?: boolean;
}

/** RTM_NEWROUTE / RTM_DELROUTE body for the main IPv4 table, with iproute2's defaults. */
export function routeBody(r: RouteBody): Buffer {
  let scope: number;
  if (r.scope !== undefined) scope = SCOPES[r.scope];
  else if (r.forDelete) scope = SCOPES.nowhere;
  // A route with no gateway is directly on the link.
  else scope = r.via === undefined ? SCOPES.link : SCOPES.global;
  const head = Buffer.alloc(12);
  head[0] = AF_INET;
  head[1] = r.dst?.prefixLen ?? 0;
  head[4] = RT_TABLE_MAIN;
  // A delete leaves protocol and type zero: it matches any.
  if (!r.forDelete) {
    head[5] = RTPROT_BOOT;
    head[7] = RTN_UNICAST;
  }
  head[6] = scope;
  if (r.onlink) head.set(u32(RTNH_F_ONLINK), 8);
  const attrs: Buffer[] = [];
  if (r.dst && r.dst.prefixLen > 0) attrs.push(attr(RTA.DST, ipv4Bytes(r.dst.address)));
  if (r.via !== undefined) attrs.push(attr(RTA.GATEWAY, ipv4Bytes(r.via)));
  if (r.oif !== undefined) attrs.push(attr(RTA.OIF, u32(r.oif)));
  if (r.src !== undefined) attrs.push(attr(RTA.PREFSRC, ipv4Bytes(r.src)));
  if (r.metric !== undefined) attrs.push(attr(RTA.PRIORITY, u32(r.metric)));
  return Buffer.concat([head, ...attrs]);
}
