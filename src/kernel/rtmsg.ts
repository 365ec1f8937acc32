// rtnetlink wire format: the bodies plumb sends (struct header + attributes)
// and the few fields it reads back. Pure functions, no sockets, so every byte
// can be unit-tested.
//
// Attributes are encoded and decoded here, for the handful plumb uses. The
// `netlink` package's generated formatters and parsers cover every attribute
// the kernel knows, and loading them cost a plumb process ~10 ms of start-up;
// its full parsers also reject attributes whose size changed in newer
// kernels. The unit tests still read plumb's bytes back with that package, as
// an independent check of the layout.
import { endianness } from 'node:os';
import { formatIpv4, ipv4BroadcastOf, ipv4Bytes, ipv4FromBytes, isIpv4, parseIpv4Prefix } from '../net/address.js';

// Netlink is host byte order; ports and addresses are network order.
const LE = endianness() === 'LE';

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

/** Request flags (linux/netlink.h); REQUEST and ACK are added by the package. */
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

const NLA_F_NESTED = 0x8000;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_MASTER = 10;
const IFLA_PROTINFO = 12;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_EXT_MASK = 29;
const IFLA_LINK_NETNSID = 37;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFLA_MACVLAN_MODE = 1;
/** IFLA_EXT_MASK bit: leave counters out of link dumps (smaller replies). */
const RTEXT_FILTER_SKIP_STATS = 1 << 3;

export const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
export const RT_TABLE_MAIN = 254;
/** What `ip route add` marks its routes with (not printed by `ip route`). */
export const RTPROT_BOOT = 3;
export const RTN_UNICAST = 1;
const RTNH_F_ONLINK = 4;
const RTM_F_CLONED = 0x200;

const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_VLAN = 5;
const NDA_VNI = 7;
const NDA_MASTER = 9;
export const NUD_NOARP = 0x40;
export const NUD_PERMANENT = 0x80;
export const NTF_SELF = 0x2;
export const NTF_MASTER = 0x4;

export const SCOPES = { global: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof SCOPES;

export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];
const NUD_NAMES: [number, string][] = [
  [0x01, 'incomplete'],
  [0x02, 'reachable'],
  [0x04, 'stale'],
  [0x08, 'delay'],
  [0x10, 'probe'],
  [0x20, 'failed'],
  [NUD_NOARP, 'noarp'],
  [NUD_PERMANENT, 'permanent'],
];

// ---- host-order integers ---------------------------------------------------

function putU16(v: number): Buffer {
  const b = Buffer.alloc(2);
  if (LE) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

function putU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

export function u16(b: Buffer, off = 0): number {
  return LE ? b.readUInt16LE(off) : b.readUInt16BE(off);
}

export function u32(b: Buffer, off = 0): number {
  return LE ? b.readUInt32LE(off) : b.readUInt32BE(off);
}

export function s32(b: Buffer, off = 0): number {
  return LE ? b.readInt32LE(off) : b.readInt32BE(off);
}

// ---- addresses -------------------------------------------------------------

export interface Cidr {
  address: string;
  prefixLen: number;
}

export { ipv4Bytes };
export const ipv4String = ipv4FromBytes;

/** "10.0.0.1/24", or a bare address (a /32), as the kernel layer takes it. */
export function parseCidr(cidr: string): Cidr {
  if (isIpv4(cidr)) return { address: cidr, prefixLen: 32 };
  const p = parseIpv4Prefix(cidr);
  if (!p) throw new TypeError(`not an IPv4 CIDR: ${cidr}`);
  return { address: formatIpv4(p.ip), prefixLen: p.prefix };
}

/**
 * The broadcast address `ip addr add X/n brd +` would set (all host bits one),
 * or undefined for /31 and /32, which have no broadcast.
 */
export function broadcastOf(c: Cidr): string | undefined {
  if (c.prefixLen >= 31) return undefined;
  const p = parseIpv4Prefix(`${c.address}/${c.prefixLen}`)!;
  return formatIpv4(ipv4BroadcastOf(p));
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new TypeError(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

// ---- attributes ------------------------------------------------------------

function pad(b: Buffer): Buffer {
  const extra = (4 - (b.length % 4)) % 4;
  return extra ? Buffer.concat([b, Buffer.alloc(extra)]) : b;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

/** One attribute, padded so attributes can simply be concatenated. */
export function attr(type: number, data: Buffer, nested = false): Buffer {
  const head = Buffer.alloc(4);
  const len = 4 + data.length;
  if (len > 0xffff) throw new RangeError(`attribute ${type} too long (${len} bytes)`);
  head.set(putU16(len), 0);
  head.set(putU16(type | (nested ? NLA_F_NESTED : 0)), 2);
  return pad(Buffer.concat([head, data]));
}

/** Boolean option as the u8 attribute the kernel expects; absent stays absent (kernel default). */
function u8flag(v: boolean | undefined): Buffer | undefined {
  return v === undefined ? undefined : Buffer.from([v ? 1 : 0]);
}

/** A u32 attribute value; out-of-range numbers throw (RangeError), as for any Buffer write. */
function u32Value(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

/**
 * Attributes from an object's fields, in the order the fields were given
 * (undefined fields left out): `table` maps each field to its attribute type
 * and encoding. A field the table does not know is a programming error.
 */
function encodeAttrs<T extends object>(fields: T, table: { [K in keyof T]-?: [number, (v: NonNullable<T[K]>) => Buffer] }): Buffer {
  const parts: Buffer[] = [];
  for (const key of Object.keys(fields) as Array<keyof T>) {
    const value = fields[key];
    if (value === undefined) continue;
    const entry = table[key];
    if (!entry) throw new Error(`Unknown key "${String(key)}"`);
    parts.push(attr(entry[0], entry[1](value as NonNullable<T[typeof key]>)));
  }
  return Buffer.concat(parts);
}

/** The link attributes plumb sends (IFLA_*). */
export interface LinkAttrs {
  address?: Buffer;
  ifname?: string;
  mtu?: number;
  /** IFLA_LINK: the lower device's ifindex, as 4 bytes. */
  link?: Buffer;
  master?: number;
  netNsFd?: number;
}

const IFLA_NET_NS_FD = 28;
const raw = (b: Buffer) => b;

/** Link attributes (undefined fields are left out). */
export function linkAttrs(a: LinkAttrs): Buffer {
  return encodeAttrs(a, {
    address: [IFLA_ADDRESS, raw],
    ifname: [IFLA_IFNAME, cstr],
    mtu: [IFLA_MTU, u32Value],
    link: [IFLA_LINK, raw],
    master: [IFLA_MASTER, u32Value],
    netNsFd: [IFLA_NET_NS_FD, u32Value],
  });
}

export function ifnameAttr(name: string): Buffer {
  return attr(IFLA_IFNAME, cstr(name));
}

/** Asks link replies to leave out statistics. */
export function skipStatsAttr(): Buffer {
  return attr(IFLA_EXT_MASK, putU32(RTEXT_FILTER_SKIP_STATS));
}

export function u32Bytes(v: number): Buffer {
  return putU32(v);
}

/** IFLA_LINKINFO { IFLA_INFO_KIND kind, IFLA_INFO_DATA data }. */
export function linkInfo(kind: string, data?: Buffer): Buffer {
  const parts = [attr(IFLA_INFO_KIND, cstr(kind))];
  if (data) parts.push(attr(IFLA_INFO_DATA, data, true));
  return attr(IFLA_LINKINFO, Buffer.concat(parts), true);
}

export interface VethPeer {
  name: string;
  /** Namespace file descriptor: the peer is born inside that namespace. */
  nsFd?: number;
  mtu?: number;
  address?: string;
}

/**
 * IFLA_INFO_DATA for a veth: VETH_INFO_PEER holds a whole struct ifinfomsg
 * followed by the peer's own link attributes (name, namespace, mtu, MAC).
 * Not flagged nested: its payload starts with a struct, not attributes.
 */
export function vethData(peer: VethPeer): Buffer {
  const attrs = linkAttrs({
    ifname: peer.name,
    mtu: peer.mtu,
    netNsFd: peer.nsFd,
    address: peer.address === undefined ? undefined : macBytes(peer.address),
  });
  return attr(VETH_INFO_PEER, Buffer.concat([ifinfomsg(), attrs]));
}

export interface VxlanData {
  vni: number;
  /** UDP destination port (4789 is the IANA port; the kernel default is 8472). */
  port: number;
  local?: string;
  /** ifindex of the underlay device. */
  link?: number;
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
}

export function vxlanData(o: VxlanData): Buffer {
  const port = Buffer.alloc(2);
  port.writeUInt16BE(o.port);
  // IFLA_VXLAN_*: ID 1, LINK 3, LOCAL 4, LEARNING 7, PROXY 11, L2MISS 13, L3MISS 14, PORT 15 (network order).
  return encodeAttrs(
    {
      id: o.vni,
      port,
      local: o.local === undefined ? undefined : ipv4Bytes(o.local),
      link: o.link,
      learning: u8flag(o.learning),
      proxy: u8flag(o.proxy),
      l2miss: u8flag(o.l2miss),
      l3miss: u8flag(o.l3miss),
    },
    { id: [1, u32Value], port: [15, raw], local: [4, raw], link: [3, u32Value], learning: [7, raw], proxy: [11, raw], l2miss: [13, raw], l3miss: [14, raw] },
  );
}

export function macvlanData(mode: MacvlanMode): Buffer {
  // IFLA_MACVLAN_MODE, a u32.
  return attr(IFLA_MACVLAN_MODE, u32Value(MACVLAN_MODES[mode]));
}

export interface BridgePortChange {
  hairpin?: boolean;
  learning?: boolean;
  flood?: boolean;
  isolated?: boolean;
}

/**
 * IFLA_PROTINFO for a bridge port. It must carry NLA_F_NESTED: without it the
 * bridge reads the payload as the old single-byte STP state.
 */
export function brportProtinfo(c: BridgePortChange): Buffer {
  // IFLA_BRPORT_*: MODE (hairpin) 4, LEARNING 8, UNICAST_FLOOD 9, ISOLATED 33; each a u8.
  const inner = encodeAttrs(
    { mode: u8flag(c.hairpin), learning: u8flag(c.learning), unicastFlood: u8flag(c.flood), isolated: u8flag(c.isolated) },
    { mode: [4, raw], learning: [8, raw], unicastFlood: [9, raw], isolated: [33, raw] },
  );
  return attr(IFLA_PROTINFO, inner, true);
}

// ---- fixed headers ---------------------------------------------------------

/** struct ifinfomsg (16 bytes). */
export function ifinfomsg(h: { family?: number; index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(h.family ?? AF_UNSPEC, 0);
  b.set(putU32(h.index ?? 0), 4);
  b.set(putU32(h.flags ?? 0), 8);
  b.set(putU32(h.change ?? 0), 12);
  return b;
}

/** struct ifaddrmsg (8 bytes). */
function ifaddrmsg(h: { family: number; prefixLen?: number; scope?: number; index?: number }): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(h.family, 0);
  b.writeUInt8(h.prefixLen ?? 0, 1);
  b.writeUInt8(h.scope ?? 0, 3);
  b.set(putU32(h.index ?? 0), 4);
  return b;
}

/** struct rtmsg (12 bytes). */
function rtmsg(h: { family: number; dstLen?: number; table?: number; protocol?: number; scope?: number; type?: number; flags?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(h.family, 0);
  b.writeUInt8(h.dstLen ?? 0, 1);
  b.writeUInt8(h.table ?? 0, 4);
  b.writeUInt8(h.protocol ?? 0, 5);
  b.writeUInt8(h.scope ?? 0, 6);
  b.writeUInt8(h.type ?? 0, 7);
  b.set(putU32(h.flags ?? 0), 8);
  return b;
}

/** struct ndmsg (12 bytes). */
function ndmsg(h: { family: number; index?: number; state?: number; flags?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(h.family, 0);
  b.set(putU32(h.index ?? 0), 4);
  b.set(putU16(h.state ?? 0), 8);
  b.writeUInt8(h.flags ?? 0, 10);
  return b;
}

// ---- request bodies --------------------------------------------------------

/**
 * RTM_NEWADDR / RTM_DELADDR body, as `ip addr add X/n brd + dev D` sends it:
 * IFA_LOCAL and IFA_ADDRESS both the address, IFA_BROADCAST when given.
 */
export function addrBody(index: number, c: Cidr, broadcast?: string): Buffer {
  const local = ipv4Bytes(c.address);
  // Like iproute2: loopback addresses get host scope, everything else global.
  const scope = local[0] === 127 ? SCOPES.host : SCOPES.global;
  const parts = [ifaddrmsg({ family: AF_INET, prefixLen: c.prefixLen, scope, index }), attr(IFA_LOCAL, local), attr(IFA_ADDRESS, local)];
  if (broadcast !== undefined) parts.push(attr(IFA_BROADCAST, ipv4Bytes(broadcast)));
  return Buffer.concat(parts);
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
  const head = rtmsg({
    family: AF_INET,
    dstLen: r.dst?.prefixLen ?? 0,
    table: RT_TABLE_MAIN,
    protocol: r.forDelete ? 0 : RTPROT_BOOT,
    scope,
    type: r.forDelete ? 0 : RTN_UNICAST,
    flags: r.onlink ? RTNH_F_ONLINK : 0,
  });
  const parts = [head];
  if (r.dst && r.dst.prefixLen > 0) parts.push(attr(RTA_DST, ipv4Bytes(r.dst.address)));
  if (r.via !== undefined) parts.push(attr(RTA_GATEWAY, ipv4Bytes(r.via)));
  if (r.oif !== undefined) parts.push(attr(RTA_OIF, putU32(r.oif)));
  if (r.src !== undefined) parts.push(attr(RTA_PREFSRC, ipv4Bytes(r.src)));
  if (r.metric !== undefined) parts.push(attr(RTA_PRIORITY, putU32(r.metric)));
  return Buffer.concat(parts);
}

/** RTM_NEWNEIGH / RTM_DELNEIGH body for an IPv4 neighbour (ARP entry). */
export function neighBody(index: number, ip: string, lladdr?: string): Buffer {
  const parts = [ndmsg({ family: AF_INET, index, state: NUD_PERMANENT }), attr(NDA_DST, ipv4Bytes(ip))];
  if (lladdr !== undefined) parts.push(attr(NDA_LLADDR, macBytes(lladdr)));
  return Buffer.concat(parts);
}

/**
 * RTM_NEWNEIGH / RTM_DELNEIGH body for a bridge FDB entry. self: the device's
 * own table (vxlan: which VTEP owns a MAC), kept "permanent" like Docker's
 * overlay does. Otherwise the bridge it is plugged into (master), as a "static"
 * entry: for a bridge, "permanent" would mean a MAC of the bridge itself.
 */
export function fdbBody(index: number, mac: string, self: boolean, dst?: string): Buffer {
  const parts = [
    ndmsg({ family: AF_BRIDGE, index, state: self ? NUD_PERMANENT : NUD_NOARP, flags: self ? NTF_SELF : NTF_MASTER }),
    attr(NDA_LLADDR, macBytes(mac)),
  ];
  if (dst !== undefined) parts.push(attr(NDA_DST, ipv4Bytes(dst)));
  return Buffer.concat(parts);
}

/** Header-only body for a dump of one family (struct size depends on the message). */
export function dumpBody(type: number, family: number): Buffer {
  switch (type) {
    case RTM.GETLINK:
      return Buffer.concat([ifinfomsg({ family }), skipStatsAttr()]);
    case RTM.GETADDR:
      return ifaddrmsg({ family });
    case RTM.GETROUTE:
      return rtmsg({ family });
    case RTM.GETNEIGH:
      return ndmsg({ family });
    default:
      throw new RangeError(`no dump body for message type ${type}`);
  }
}

// ---- replies ---------------------------------------------------------------

export interface VxlanInfo {
  vni?: number;
  port?: number;
  local?: string;
  /** ifindex of the underlay device. */
  link?: number;
  learning?: boolean;
  proxy?: boolean;
  l2miss?: boolean;
  l3miss?: boolean;
}

export interface LinkInfo {
  index: number;
  name: string;
  /** rtnetlink kind: 'bridge', 'veth', 'vxlan', 'macvlan', ...; undefined for loopback and hardware. */
  kind?: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** The driver reports carrier (IFF_LOWER_UP). */
  lowerUp: boolean;
  operstate: string;
  mtu: number;
  address?: string;
  masterIndex?: number;
  /** Name of the master (bridge), resolved in this namespace. */
  master?: string;
  /** IFLA_LINK: veth peer or macvlan/vxlan lower device, maybe in another namespace (see linkNetnsid). */
  parentIndex?: number;
  linkNetnsid?: number;
  vxlan?: VxlanInfo;
  macvlanMode?: MacvlanMode;
}

const u8 = (b: Buffer) => b.readUInt8(0);
const str = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');

/** Calls fn for each attribute (type without the nested/byte-order flags); a bad length is malformed input. */
function eachAttr(b: Buffer, fn: (type: number, data: Buffer) => void): void {
  for (let off = 0; off < b.length; ) {
    if (b.length - off < 4) throw new Error('Not enough data');
    const len = u16(b, off);
    if (len < 4 || off + len > b.length) throw new Error(`Invalid attribute length (${len})`);
    fn(u16(b, off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
}

function decodeVxlan(b: Buffer): VxlanInfo {
  const v: VxlanInfo = {};
  eachAttr(b, (t, d) => {
    if (t === 1) v.vni = u32(d);
    else if (t === 3) v.link = u32(d);
    else if (t === 4 && d.length === 4) v.local = ipv4String(d);
    else if (t === 7) v.learning = u8(d) !== 0;
    else if (t === 11) v.proxy = u8(d) !== 0;
    else if (t === 13) v.l2miss = u8(d) !== 0;
    else if (t === 14) v.l3miss = u8(d) !== 0;
    else if (t === 15) v.port = d.readUInt16BE(0);
  });
  return v;
}

/** Decodes an RTM_NEWLINK reply body. */
export function decodeLink(b: Buffer): LinkInfo {
  const flags = u32(b, 8);
  const link: LinkInfo = { index: s32(b, 4), name: '', up: (flags & IFF_UP) !== 0, lowerUp: (flags & IFF_LOWER_UP) !== 0, operstate: 'unknown', mtu: 0 };
  let infoData: Buffer | undefined;
  eachAttr(b.subarray(16), (t, d) => {
    if (t === IFLA_IFNAME) link.name = str(d);
    else if (t === IFLA_MTU) link.mtu = u32(d);
    else if (t === IFLA_ADDRESS && d.length === 6) link.address = macString(d);
    else if (t === IFLA_MASTER) link.masterIndex = u32(d);
    else if (t === IFLA_LINK) link.parentIndex = u32(d);
    else if (t === IFLA_LINK_NETNSID) link.linkNetnsid = s32(d);
    else if (t === IFLA_OPERSTATE) link.operstate = OPERSTATES[u8(d)] ?? String(u8(d));
    else if (t === IFLA_LINKINFO)
      eachAttr(d, (it, id) => {
        if (it === IFLA_INFO_KIND) link.kind = str(id);
        else if (it === IFLA_INFO_DATA) infoData = id;
      });
  });
  if (infoData && link.kind === 'vxlan') link.vxlan = decodeVxlan(infoData);
  if (infoData && link.kind === 'macvlan')
    eachAttr(infoData, (t, d) => {
      if (t === IFLA_MACVLAN_MODE) {
        const mode = u32(d);
        link.macvlanMode = (Object.keys(MACVLAN_MODES) as MacvlanMode[]).find((k) => MACVLAN_MODES[k] === mode);
      }
    });
  return link;
}

export interface RawAddr {
  index: number;
  address: string;
  prefixLen: number;
  broadcast?: string;
  scope: number;
  label?: string;
}

export function decodeAddr(b: Buffer): RawAddr | undefined {
  if (b.readUInt8(0) !== AF_INET) return undefined;
  const a: RawAddr = { index: u32(b, 4), address: '', prefixLen: b.readUInt8(1), scope: b.readUInt8(3) };
  let prefixAddr: string | undefined;
  eachAttr(b.subarray(8), (t, d) => {
    if (t === IFA_LOCAL) a.address = ipv4String(d);
    else if (t === IFA_ADDRESS) prefixAddr = ipv4String(d);
    else if (t === IFA_BROADCAST) a.broadcast = ipv4String(d);
    else if (t === IFA_LABEL) a.label = str(d);
  });
  if (!a.address && prefixAddr) a.address = prefixAddr;
  return a;
}

export interface RawRoute {
  dst: string;
  via?: string;
  oif?: number;
  src?: string;
  scope: number;
  metric?: number;
  protocol: number;
  type: number;
  table: number;
  onlink: boolean;
  cloned: boolean;
}

export function decodeRoute(b: Buffer): RawRoute | undefined {
  if (b.readUInt8(0) !== AF_INET) return undefined;
  const dstLen = b.readUInt8(1);
  const flags = u32(b, 8);
  const r: RawRoute = {
    dst: dstLen === 0 ? 'default' : '',
    scope: b.readUInt8(6),
    protocol: b.readUInt8(5),
    type: b.readUInt8(7),
    table: b.readUInt8(4),
    onlink: (flags & RTNH_F_ONLINK) !== 0,
    cloned: (flags & RTM_F_CLONED) !== 0,
  };
  eachAttr(b.subarray(12), (t, d) => {
    if (t === RTA_DST) r.dst = dstLen === 32 ? ipv4String(d) : `${ipv4String(d)}/${dstLen}`;
    else if (t === RTA_GATEWAY) r.via = ipv4String(d);
    else if (t === RTA_OIF) r.oif = u32(d);
    else if (t === RTA_PREFSRC) r.src = ipv4String(d);
    else if (t === RTA_PRIORITY) r.metric = u32(d);
    else if (t === RTA_TABLE) r.table = u32(d);
  });
  return r;
}

export interface RawNeigh {
  family: number;
  index: number;
  state: number;
  flags: number;
  dst?: string;
  lladdr?: string;
  masterIndex?: number;
  vlan?: number;
  vni?: number;
}

export function decodeNeigh(b: Buffer): RawNeigh {
  const n: RawNeigh = { family: b.readUInt8(0), index: s32(b, 4), state: u16(b, 8), flags: b.readUInt8(10) };
  eachAttr(b.subarray(12), (t, d) => {
    if (t === NDA_DST && d.length === 4) n.dst = ipv4String(d);
    else if (t === NDA_LLADDR && d.length === 6) n.lladdr = macString(d);
    else if (t === NDA_MASTER) n.masterIndex = u32(d);
    else if (t === NDA_VLAN) n.vlan = u16(d);
    else if (t === NDA_VNI) n.vni = u32(d);
  });
  return n;
}

/** Neighbour state bits as `ip neigh` names them, lower case. */
export function nudNames(state: number): string[] {
  const names = NUD_NAMES.filter(([bit]) => state & bit).map(([, name]) => name);
  return names.length ? names : ['none'];
}

export function scopeName(scope: number): ScopeName | number {
  return (Object.keys(SCOPES) as ScopeName[]).find((k) => SCOPES[k] === scope) ?? scope;
}
