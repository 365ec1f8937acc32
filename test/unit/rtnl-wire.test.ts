// The hand-written encoder of a container start's rtnetlink requests
// (src/kernel/rtnl-wire.ts) must send exactly what the netlink package's
// formatters would: each request is encoded both ways and the bytes
// compared, over the shapes plumb sends. The package side is built here
// (with rtnl-codec.ts's stream helpers) for the requests only rtnl-wire.ts
// sends in the product.
import { describe, expect, it } from 'vitest';
import * as rt from 'netlink/dist/rt/gen_structs.js';
import * as ifla from 'netlink/dist/rt/ifla.js';
import * as C from '../../src/kernel/rtnl-codec.js';
import * as W from '../../src/kernel/rtnl-wire.js';
import { ipv4Bytes } from '../../src/net/address.js';

const hex = (b: Buffer) => b.toString('hex');

/** A veth request through the package, as rtnl.ts built it before rtnl-wire.ts. */
function packageVeth(v: W.VethRequest): Buffer {
  const peer = C.linkAttrs({ ifname: v.peer, mtu: v.mtu, netNsFd: v.peerNsFd, address: v.peerAddress === undefined ? undefined : C.macBytes(v.peerAddress) });
  const data = C.bytesOf((out) => out.push(1 /* VETH_INFO_PEER */, C.linkBody(C.ifinfomsg(), peer)));
  return C.linkBody(C.ifinfomsg({ up: v.up, changeUp: v.up }), C.linkAttrs({ ifname: v.name, mtu: v.mtu, master: v.master }), C.linkInfo('veth', data));
}

const u8flag = (v: boolean | undefined) => (v === undefined ? undefined : v ? 1 : 0);

/** A bridge port's flags through the package: IFLA_PROTINFO (12), flagged nested. */
function packageBridgePort(index: number, c: W.BridgePortChange): Buffer {
  const protinfo = C.nested(
    12,
    ifla.formatBridgePort({
      mode: u8flag(c.hairpin),
      learning: u8flag(c.learning),
      unicastFlood: u8flag(c.flood),
      isolated: c.isolated === undefined ? undefined : Buffer.from([c.isolated ? 1 : 0]),
    }),
  );
  return C.linkBody(C.ifinfomsg({ family: W.AF_BRIDGE, index }), protinfo);
}

/** An address request through the package, as `ip addr add X/n brd + dev D` sends it. */
function packageAddr(index: number, c: W.Cidr, broadcast?: string): Buffer {
  const local = ipv4Bytes(c.address);
  const scope = local[0] === 127 ? W.SCOPES.host : W.SCOPES.global;
  return C.bytesOf(
    rt.formatAddress({ family: W.AF_INET, prefixlen: c.prefixLen, scope, index }),
    rt.formatAddressAttrs({ local, address: local, broadcast: broadcast === undefined ? undefined : ipv4Bytes(broadcast) }),
  );
}

/** A route request through the package, main table, with iproute2's defaults. */
function packageRoute(r: W.RouteBody): Buffer {
  let scope: number;
  if (r.scope !== undefined) scope = W.SCOPES[r.scope];
  else if (r.forDelete) scope = W.SCOPES.nowhere;
  else scope = r.via === undefined ? W.SCOPES.link : W.SCOPES.global;
  return C.bytesOf(
    rt.formatRoute({
      family: W.AF_INET,
      dstLen: r.dst?.prefixLen ?? 0,
      table: C.RT_TABLE_MAIN,
      protocol: r.forDelete ? undefined : rt.RouteProtocol.BOOT,
      scope,
      type: r.forDelete ? undefined : rt.RouteType.UNICAST,
      flags: r.onlink ? rt.parseRouteFlags(4 /* RTNH_F_ONLINK */) : {},
    }),
    rt.formatRouteAttrs({
      dst: r.dst && r.dst.prefixLen > 0 ? ipv4Bytes(r.dst.address) : undefined,
      gateway: r.via === undefined ? undefined : ipv4Bytes(r.via),
      oif: r.oif,
      prefsrc: r.src === undefined ? undefined : ipv4Bytes(r.src),
      priority: r.metric,
    }),
  );
}

/** A link lookup through the package, without statistics. */
function packageGetLink(which: { name?: string; index?: number }): Buffer {
  return C.bytesOf(C.ifinfomsg({ index: which.index }), ifla.formatLinkAttrs({ ifname: which.name }), C.skipStatsAttr());
}

describe('rtnl-wire encodes what the netlink package encodes', () => {
  it('has the same constants', () => {
    // The message types are the package's in rtnl-codec.ts.
    expect(W.RTM).toEqual(C.RTM);
    // The rest is defined once, in rtnl-wire.ts, and rtnl-codec.ts passes it on.
    expect([C.NLM_F, C.NLMSG_ERROR, C.NLMSG_DONE, C.AF_INET, C.AF_BRIDGE, C.AF_UNSPEC, C.SCOPES]).toEqual([W.NLM_F, W.NLMSG_ERROR, W.NLMSG_DONE, W.AF_INET, W.AF_BRIDGE, W.AF_UNSPEC, W.SCOPES]);
    expect([C.parseCidr, C.broadcastOf, C.macBytes]).toEqual([W.parseCidr, W.broadcastOf, W.macBytes]);
  });

  it.each([
    { name: 'veth1a2b3c4', peer: 'eth0', peerNsFd: 23, mtu: 1500, peerAddress: '02:42:ac:11:00:02', master: 4, up: true },
    { name: 'veth1a2b3c4', peer: 'eth12', peerNsFd: 7 },
    { name: 'vx', peer: 'eth1', peerNsFd: 100, mtu: 9000, up: false },
    { name: 'veth0000000', peer: 'e', peerNsFd: 3, master: 70000 },
  ])('veth pair %o', (v) => {
    expect(hex(W.vethBody(v))).toBe(hex(packageVeth(v)));
  });

  it.each([
    [{ index: 0, up: true, changeUp: true }, { ifname: 'eth0' }],
    [{ index: 17, up: false, changeUp: true }, {}],
    [{ index: 5 }, { ifname: 'new0', mtu: 1400, address: Buffer.from([2, 0x42, 0xac, 0x11, 0, 9]), master: 3, netNsFd: 12 }],
    [{ index: 9 }, { master: 0 }],
    [{}, { ifname: 'vethdeadbee' }],
  ])('link settings %o %o', (head, attrs) => {
    expect(hex(W.linkBody(W.ifinfomsg(head), attrs))).toBe(hex(C.linkBody(C.ifinfomsg(head), C.linkAttrs(attrs))));
  });

  it.each([{ hairpin: true }, { hairpin: false, learning: true }, { flood: false, isolated: true }, { hairpin: true, learning: false, flood: true, isolated: false }])(
    'bridge port %o',
    (change) => {
      expect(hex(W.bridgePortBody(42, change))).toBe(hex(packageBridgePort(42, change)));
    },
  );

  it.each([{ name: 'eth0' }, { name: 'plumb0' }, { index: 9 }, { name: 'veth1234567' }])('link lookup %o', (which) => {
    expect(hex(W.getLinkBody(which))).toBe(hex(packageGetLink(which)));
  });

  it.each([
    ['172.17.0.2/16', true],
    ['10.0.0.1/24', false],
    ['127.0.0.1/8', true],
    ['192.168.1.7/31', true],
    ['192.168.1.7', true],
  ] as const)('address %s (broadcast: %s)', (cidr, withBroadcast) => {
    const w = W.parseCidr(cidr);
    const brd = withBroadcast ? W.broadcastOf(w) : undefined;
    expect(hex(W.addrBody(11, w, brd))).toBe(hex(packageAddr(11, w, brd)));
  });

  it.each([
    { dst: null, via: '172.17.0.1', oif: 2 },
    { dst: { address: '10.1.0.0', prefixLen: 16 }, oif: 3 },
    { dst: { address: '10.1.0.0', prefixLen: 16 }, via: '10.0.0.1', src: '10.0.0.5', metric: 100, onlink: true },
    { dst: { address: '192.168.9.9', prefixLen: 32 }, scope: 'host' as const, oif: 1 },
    { dst: null, via: '172.17.0.1', forDelete: true },
    { dst: { address: '10.2.0.0', prefixLen: 24 }, oif: 4, forDelete: true, scope: 'link' as const },
  ])('route %o', (r) => {
    expect(hex(W.routeBody(r))).toBe(hex(packageRoute(r)));
  });

  it('refuses a bad address or MAC', () => {
    expect(() => W.parseCidr('10.0.0.300/8')).toThrow(TypeError);
    expect(() => W.macBytes('02:42:zz:00:00:01')).toThrow(TypeError);
  });
});

describe('rtnl-wire reads a link message as the package does', () => {
  it('finds the index, the name and IFLA_LINK of a link', () => {
    // A reply as the kernel sends it: ifinfomsg, then attributes the decoder must skip, then the ones it reads.
    const body = C.bytesOf(
      C.ifinfomsg({ index: 31, up: true }),
      C.linkAttrs({ mtu: 1500, ifname: 'veth7654321', address: Buffer.from([2, 0x42, 0, 0, 0, 1]), link: 2, master: 4 }),
      C.linkInfo('veth'),
    );
    const full = C.decodeLink(body);
    expect(W.linkIdentity(body)).toEqual({ index: full.index, name: full.name, parentIndex: full.parentIndex });
    expect(W.linkIdentity(body)).toEqual({ index: 31, name: 'veth7654321', parentIndex: 2 });
  });

  it('leaves IFLA_LINK out when the link has none', () => {
    const body = C.bytesOf(C.ifinfomsg({ index: 1 }), C.linkAttrs({ ifname: 'lo' }));
    expect(W.linkIdentity(body)).toEqual({ index: 1, name: 'lo' });
  });

  it('refuses a truncated message', () => {
    const body = C.bytesOf(C.ifinfomsg({ index: 1 }), C.linkAttrs({ ifname: 'eth0' }));
    expect(() => W.linkIdentity(body.subarray(0, 10))).toThrow(RangeError);
    expect(() => W.linkIdentity(body.subarray(0, body.length - 6))).toThrow(RangeError);
  });
});

describe('bridge ports are read as `bridge -d link show` reads them', () => {
  it('asks with the link dumps the package builds', () => {
    expect(hex(W.linkDumpBody(W.AF_BRIDGE))).toBe(hex(C.dumpBody(C.RTM.GETLINK, C.AF_BRIDGE)));
    expect(hex(W.linkDumpBody(W.AF_UNSPEC))).toBe(hex(C.dumpBody(C.RTM.GETLINK, C.AF_UNSPEC)));
  });

  /** A port's message as the kernel sends it, its IFLA_PROTINFO nested (encoded by the package). */
  const portMessage = (port: ifla.BridgePort) =>
    C.bytesOf(C.ifinfomsg({ family: C.AF_BRIDGE, index: 6 }), C.linkAttrs({ ifname: 'veth1ae47b0', master: 4, mtu: 1500 }), C.nested(12, ifla.formatBridgePort(port)));

  it.each([
    [{ state: 3, mode: 1, learning: 1, unicastFlood: 1, isolated: Buffer.from([0]) }, { state: 'forwarding', hairpin: true, learning: true, flood: true, isolated: false }],
    [{ state: 0, mode: 0, learning: 0, unicastFlood: 0, isolated: Buffer.from([1]) }, { state: 'disabled', hairpin: false, learning: false, flood: false, isolated: true }],
    [{ state: 4, priority: 32, cost: 2 }, { state: 'blocking', hairpin: false, learning: true, flood: true, isolated: false }],
    [{}, { hairpin: false, learning: true, flood: true, isolated: false }],
  ])('port flags %o', (port, flags) => {
    expect(W.decodeBridgePort(portMessage(port))).toEqual({ index: 6, ifname: 'veth1ae47b0', masterIndex: 4, ...flags });
  });

  it('reads an IFLA_PROTINFO that is not nested as the old one-byte STP state', () => {
    const old = C.bytesOf(C.ifinfomsg({ family: C.AF_BRIDGE, index: 6 }), C.linkAttrs({ ifname: 'p' }), (out) => out.push(12, Buffer.from([2])));
    expect(W.decodeBridgePort(old)).toEqual({ index: 6, ifname: 'p', state: 'learning', hairpin: false, learning: true, flood: true, isolated: false });
  });

  it('rejects a message cut short', () => {
    const m = portMessage({ state: 3 });
    expect(() => W.decodeBridgePort(m.subarray(0, 10))).toThrow(RangeError);
    expect(() => W.decodeBridgePort(m.subarray(0, m.length - 3))).toThrow(RangeError);
  });
});
