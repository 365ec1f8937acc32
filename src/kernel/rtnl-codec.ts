// rtnetlink wire format through the `netlink` package: its generated `rt`
// formatters build the fixed headers (ifinfomsg, ifaddrmsg, rtmsg, ndmsg) and
// the attributes plumb sends, its parsers read the kernel's replies, and this
// module turns both into the few plain shapes the rest of plumb uses. Pure
// functions, no sockets: the transport is netlink.ts.
//
// Only the package's rt modules are loaded (not its index, which also loads a
// native socket binding and the generic-netlink and wireless tables).
//
// What the package cannot say is written by hand next to where it is used:
// the NLA_F_NESTED flag (its attribute stream never sets it). The requests
// a container's start sends (veth pair, bridge port flags, addresses,
// routes, link lookups) are rtnl-wire.ts's, encoded without the package;
// test/unit/rtnl-wire.test.ts holds them byte-equal to what the package's
// formatters make.
import { AttrStream, getU32, putU32, readS32, readU16, writeU16, type StreamData } from 'netlink/dist/structs.js';
import * as rt from 'netlink/dist/rt/gen_structs.js';
import * as ifla from 'netlink/dist/rt/ifla.js';
import { ipv4Bytes, ipv4FromBytes } from '../net/address.js';
import { AF_BRIDGE, AF_INET, AF_UNSPEC, SCOPES, macBytes, type LinkAttrs, type ScopeName } from './rtnl-wire.js';

// The values that need no formatter are rtnl-wire.ts's (it loads no package): one definition of each.
export { AF_BRIDGE, AF_INET, AF_UNSPEC, NLMSG_DONE, NLMSG_ERROR, NLM_F, SCOPES, broadcastOf, macBytes, parseCidr } from './rtnl-wire.js';
export type { Cidr, LinkAttrs, ScopeName } from './rtnl-wire.js';

/** Message types (linux/rtnetlink.h). */
export const RTM = {
  NEWLINK: rt.MessageType.NEWLINK,
  DELLINK: rt.MessageType.DELLINK,
  GETLINK: rt.MessageType.GETLINK,
  SETLINK: rt.MessageType.SETLINK,
  NEWADDR: rt.MessageType.NEWADDR,
  DELADDR: rt.MessageType.DELADDR,
  GETADDR: rt.MessageType.GETADDR,
  NEWROUTE: rt.MessageType.NEWROUTE,
  DELROUTE: rt.MessageType.DELROUTE,
  GETROUTE: rt.MessageType.GETROUTE,
  NEWNEIGH: rt.MessageType.NEWNEIGH,
  DELNEIGH: rt.MessageType.DELNEIGH,
  GETNEIGH: rt.MessageType.GETNEIGH,
} as const;

const NLA_F_NESTED = 0x8000;
const IFLA_LINKINFO = 18;

export const RT_TABLE_MAIN = 254;
const RTNH_F_ONLINK = 4;
const RTM_F_CLONED = 0x200;

export const NUD_NOARP = 0x40;
export const NUD_PERMANENT = 0x80;
export const NTF_SELF = 0x2;
export const NTF_MASTER = 0x4;

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

// ---- streams ---------------------------------------------------------------

/**
 * The bytes of one attribute stream (each attribute aligned from the
 * stream's start), padded to 4 bytes at the end as iproute2 sends them (the
 * package's stream pads before an attribute, not after the last).
 */
export function bytesOf(...parts: StreamData[]): Buffer {
  const out = new AttrStream();
  for (const p of parts) out.emit(p);
  const b = Buffer.concat(out.bufs);
  return b.length % 4 ? Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]) : b;
}

/**
 * One attribute with NLA_F_NESTED set, which the package's stream cannot
 * write (its push keeps the type's low 14 bits): pushed as usual, then the
 * flag is set in the header push just wrote (the buffer before the data).
 */
export function nested(type: number, inner: StreamData): StreamData {
  return (out: AttrStream) => {
    out.push(type, bytesOf(inner));
    const header = out.bufs[out.bufs.length - 2] as Buffer;
    writeU16.call(header, readU16.call(header, 2) | NLA_F_NESTED, 2);
  };
}

/** A u32 in host order, as attribute data. */
export function u32Bytes(v: number): Buffer {
  return putU32(v >>> 0);
}

/** A host-order s32 at `off` (netlink headers and error codes). */
export function s32(b: Buffer, off = 0): number {
  return readS32.call(b, off);
}

// ---- addresses -------------------------------------------------------------
export function macString(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

// ---- link requests ---------------------------------------------------------

/** struct ifinfomsg: family, ifindex, flags and the change mask (IFF_UP is all plumb sets). */
export function ifinfomsg(h: { family?: number; index?: number; up?: boolean; changeUp?: boolean } = {}): Buffer {
  return rt.formatLink({ family: h.family ?? AF_UNSPEC, index: h.index ?? 0, flags: h.up ? { up: true } : {}, change: h.changeUp ? { up: true } : {} });
}

/** Link attributes (undefined fields are left out). */
export function linkAttrs(a: LinkAttrs): StreamData {
  return ifla.formatLinkAttrs({
    ifname: a.ifname,
    mtu: a.mtu,
    address: a.address,
    link: a.link === undefined ? undefined : u32Bytes(a.link),
    master: a.master,
    netNsFd: a.netNsFd,
  });
}

/** IFLA_LINKINFO { IFLA_INFO_KIND kind, IFLA_INFO_DATA data }, flagged nested as iproute2 sends it. */
export function linkInfo(kind: string, data?: StreamData): StreamData {
  return nested(IFLA_LINKINFO, (out: AttrStream) => {
    out.emit(ifla.formatInfo({ kind }));
    if (data !== undefined) out.emit(nested(2 /* IFLA_INFO_DATA */, data));
  });
}

/** A whole RTM_*LINK body: ifinfomsg, then the attributes. */
export function linkBody(head: Buffer, ...attrs: StreamData[]): Buffer {
  return bytesOf(head, ...attrs);
}

/** Asks link replies to leave out statistics (IFLA_EXT_MASK RTEXT_FILTER_SKIP_STATS). */
export function skipStatsAttr(): StreamData {
  return ifla.formatLinkAttrs({ extMask: u32Bytes(rt.formatRtExtFilter({ skipStats: true })) });
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

const u8flag = (v: boolean | undefined) => (v === undefined ? undefined : v ? 1 : 0);

export function vxlanData(o: VxlanData): StreamData {
  const port = Buffer.alloc(2);
  port.writeUInt16BE(o.port);
  return ifla.formatVxlan({
    id: o.vni,
    port,
    local: o.local === undefined ? undefined : ipv4Bytes(o.local),
    link: o.link,
    learning: u8flag(o.learning),
    proxy: u8flag(o.proxy),
    l2miss: u8flag(o.l2miss),
    l3miss: u8flag(o.l3miss),
  });
}

export function macvlanData(mode: MacvlanMode): StreamData {
  return ifla.formatMacvlan({ mode: MACVLAN_MODES[mode] });
}

// ---- neighbour requests ----------------------------------------------------

/** RTM_NEWNEIGH / RTM_DELNEIGH body for an IPv4 neighbour (ARP entry). */
export function neighBody(index: number, ip: string, lladdr?: string): Buffer {
  return bytesOf(
    rt.formatNeighbor({ family: AF_INET, ifindex: index, state: rt.parseNeighborState(NUD_PERMANENT) }),
    rt.formatNeighborAttrs({ dst: ipv4Bytes(ip), lladdr: lladdr === undefined ? undefined : macBytes(lladdr) }),
  );
}

/**
 * RTM_NEWNEIGH / RTM_DELNEIGH body for a bridge FDB entry. self: the device's
 * own table (vxlan: which VTEP owns a MAC), kept "permanent" like Docker's
 * overlay does. Otherwise the bridge it is plugged into (master), as a "static"
 * entry: for a bridge, "permanent" would mean a MAC of the bridge itself.
 */
export function fdbBody(index: number, mac: string, self: boolean, dst?: string): Buffer {
  return bytesOf(
    rt.formatNeighbor({
      family: AF_BRIDGE,
      ifindex: index,
      state: rt.parseNeighborState(self ? NUD_PERMANENT : NUD_NOARP),
      flags: rt.parseNeighborFlags(self ? NTF_SELF : NTF_MASTER),
    }),
    rt.formatNeighborAttrs({ lladdr: macBytes(mac), dst: dst === undefined ? undefined : ipv4Bytes(dst) }),
  );
}

/** Header-only body for a dump of one family (struct size depends on the message). */
export function dumpBody(type: number, family: number): Buffer {
  switch (type) {
    case RTM.GETLINK:
      return bytesOf(ifinfomsg({ family }), skipStatsAttr());
    case RTM.GETADDR:
      return rt.formatAddress({ family });
    case RTM.GETROUTE:
      return rt.formatRoute({ family });
    case RTM.GETNEIGH:
      return rt.formatNeighbor({ family });
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

const bool = (v: number | undefined) => (v === undefined ? undefined : v !== 0);

function decodeVxlan(b: Buffer): VxlanInfo {
  const v = ifla.parseVxlan(b);
  const info: VxlanInfo = {
    vni: v.id,
    port: v.port && v.port.length >= 2 ? v.port.readUInt16BE(0) : undefined,
    local: v.local && v.local.length === 4 ? ipv4FromBytes(v.local) : undefined,
    link: v.link,
    learning: bool(v.learning),
    proxy: bool(v.proxy),
    l2miss: bool(v.l2miss),
    l3miss: bool(v.l3miss),
  };
  return Object.fromEntries(Object.entries(info).filter(([, x]) => x !== undefined)) as VxlanInfo;
}

/** Decodes an RTM_NEWLINK reply body. */
export function decodeLink(b: Buffer): LinkInfo {
  const head = rt.parseLink(b.subarray(0, rt.__LENGTH_Link));
  const a = ifla.parseLinkAttrs(b.subarray(rt.__LENGTH_Link));
  const link: LinkInfo = {
    index: head.index ?? 0,
    name: a.ifname ?? '',
    up: !!head.flags?.up,
    lowerUp: !!head.flags?.lowerUp,
    operstate: a.operstate === undefined ? 'unknown' : (OPERSTATES[a.operstate] ?? String(a.operstate)),
    mtu: a.mtu ?? 0,
  };
  if (a.address && a.address.length === 6) link.address = macString(a.address);
  if (a.master !== undefined) link.masterIndex = a.master;
  if (a.link !== undefined) link.parentIndex = getU32(a.link);
  if (a.linkNetnsid !== undefined) link.linkNetnsid = a.linkNetnsid;
  if (a.linkinfo) {
    const info = ifla.parseInfo(a.linkinfo);
    if (info.kind !== undefined) link.kind = info.kind;
    if (info.data && link.kind === 'vxlan') link.vxlan = decodeVxlan(info.data);
    if (info.data && link.kind === 'macvlan') {
      const mode = ifla.parseMacvlan(info.data).mode;
      link.macvlanMode = (Object.keys(MACVLAN_MODES) as MacvlanMode[]).find((k) => MACVLAN_MODES[k] === mode);
    }
  }
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
  const head = rt.parseAddress(b.subarray(0, rt.__LENGTH_Address));
  if (head.family !== AF_INET) return undefined;
  const attrs = rt.parseAddressAttrs(b.subarray(rt.__LENGTH_Address));
  const a: RawAddr = { index: head.index ?? 0, address: '', prefixLen: head.prefixlen ?? 0, scope: head.scope ?? 0 };
  const local = attrs.local ?? attrs.address;
  if (local) a.address = ipv4FromBytes(local);
  if (attrs.broadcast) a.broadcast = ipv4FromBytes(attrs.broadcast);
  if (attrs.label !== undefined) a.label = attrs.label;
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

/** An enum field as its number, whether the package named it or not. */
function enumNumber(mapping: object, v: string | number | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : ((mapping as Record<string, number>)[v] ?? 0);
}

export function decodeRoute(b: Buffer): RawRoute | undefined {
  const head = rt.parseRoute(b.subarray(0, rt.__LENGTH_Route));
  if (head.family !== AF_INET) return undefined;
  const attrs = rt.parseRouteAttrs(b.subarray(rt.__LENGTH_Route));
  const dstLen = head.dstLen ?? 0;
  const flags = head.flags ? rt.formatRouteFlags(head.flags) : 0;
  const r: RawRoute = {
    dst: dstLen === 0 ? 'default' : '',
    scope: enumNumber(rt.RouteScope, head.scope),
    protocol: enumNumber(rt.RouteProtocol, head.protocol),
    type: enumNumber(rt.RouteType, head.type),
    table: attrs.table ?? head.table ?? 0,
    onlink: (flags & RTNH_F_ONLINK) !== 0,
    cloned: (flags & RTM_F_CLONED) !== 0,
  };
  if (attrs.dst) r.dst = dstLen === 32 ? ipv4FromBytes(attrs.dst) : `${ipv4FromBytes(attrs.dst)}/${dstLen}`;
  if (attrs.gateway) r.via = ipv4FromBytes(attrs.gateway);
  if (attrs.oif !== undefined) r.oif = attrs.oif;
  if (attrs.prefsrc) r.src = ipv4FromBytes(attrs.prefsrc);
  if (attrs.priority !== undefined) r.metric = attrs.priority;
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
  const head = rt.parseNeighbor(b.subarray(0, rt.__LENGTH_Neighbor));
  const attrs = rt.parseNeighborAttrs(b.subarray(rt.__LENGTH_Neighbor));
  const n: RawNeigh = {
    family: head.family ?? 0,
    index: head.ifindex ?? 0,
    state: head.state ? rt.formatNeighborState(head.state) : 0,
    flags: head.flags ? rt.formatNeighborFlags(head.flags) : 0,
  };
  if (attrs.dst && attrs.dst.length === 4) n.dst = ipv4FromBytes(attrs.dst);
  if (attrs.lladdr && attrs.lladdr.length === 6) n.lladdr = macString(attrs.lladdr);
  if (attrs.master !== undefined) n.masterIndex = attrs.master;
  if (attrs.vlan !== undefined) n.vlan = attrs.vlan;
  if (attrs.vni && attrs.vni.length >= 4) n.vni = getU32(attrs.vni.subarray(0, 4));
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
