// Wire encoding of rtnetlink requests (src/kernel/rtnl-codec.ts, built on the
// netlink package's rt formatters, and src/kernel/rtnl-wire.ts for the
// requests a container's start sends), checked by parsing the bytes back
// with the package's parsers, and against the bytes iproute2 sends.
import { describe, expect, it } from 'vitest';
import nl from 'netlink';
import {
  AF_BRIDGE,
  AF_INET,
  NTF_MASTER,
  NTF_SELF,
  NUD_NOARP,
  NUD_PERMANENT,
  RT_TABLE_MAIN,
  broadcastOf,
  bytesOf,
  decodeLink,
  decodeNeigh,
  decodeRoute,
  fdbBody,
  ifinfomsg,
  linkBody,
  linkAttrs,
  linkInfo,
  macBytes,
  macString,
  macvlanData,
  neighBody,
  nested,
  nudNames,
  parseCidr,
  vxlanData,
} from '../../src/kernel/rtnl-codec.js';
import { addrBody, bridgePortBody, getLinkBody, routeBody } from '../../src/kernel/rtnl-wire.js';

/** What `ip route add` marks its routes with. */
const RTPROT_BOOT = 3;
/** A bridge port's request without its ifinfomsg (16 bytes): the attributes alone. */
const portAttrs = (change: Parameters<typeof bridgePortBody>[1]) => bridgePortBody(0, change).subarray(16);

/** Top-level attributes of a buffer, by type; keeps the raw type word too (for the nested flag). */
function attrsOf(b: Buffer): Map<number, { data: Buffer; nested: boolean }> {
  const out = new Map<number, { data: Buffer; nested: boolean }>();
  nl.parseAttributes(b, (a) => out.set(a.type, { data: a.data, nested: !!a.nested }));
  return out;
}

describe('attribute basics', () => {
  it('pads every attribute to 4 bytes and sets the nested flag when asked', () => {
    const a = bytesOf(linkAttrs({ ifname: 'eth0' }));
    expect(a.length).toBe(12);
    expect(a.readUInt16LE(0)).toBe(9); // length excludes padding
    const n = bytesOf(linkAttrs({ ifname: 'eth0' }), nested(12, Buffer.alloc(4)));
    expect(n.readUInt16LE(12)).toBe(8);
    expect(n.readUInt16LE(14)).toBe(12 | 0x8000);
  });

  it('asks for one link by name or index, without statistics, as `ip link show dev X` does', () => {
    // ifinfomsg (16 zero bytes), IFLA_IFNAME "eth0", IFLA_EXT_MASK RTEXT_FILTER_SKIP_STATS
    expect(getLinkBody({ name: 'eth0' }).toString('hex')).toBe(`${'00'.repeat(16)}0900030065746830000000000800${'1d00'}08000000`);
    const byIndex = nl.rt.parseLinkMessage(getLinkBody({ index: 9 }));
    expect(byIndex.data.index).toBe(9);
    expect(byIndex.attrs.ifname).toBeUndefined();
  });

  it('formats and parses MACs, CIDRs and broadcasts like ip(8)', () => {
    expect(macString(macBytes('02:42:AC:11:00:02'))).toBe('02:42:ac:11:00:02');
    expect(() => macBytes('02:42:ac:11:00')).toThrow(TypeError);
    expect(parseCidr('172.17.0.1/16')).toEqual({ address: '172.17.0.1', prefixLen: 16 });
    expect(() => parseCidr('172.17.0.300/16')).toThrow(TypeError);
    expect(() => parseCidr('10.0.0.1/33')).toThrow(TypeError);
    expect(broadcastOf(parseCidr('172.17.0.1/16'))).toBe('172.17.255.255');
    expect(broadcastOf(parseCidr('10.88.0.1/24'))).toBe('10.88.0.255');
    expect(broadcastOf(parseCidr('10.0.0.0/31'))).toBeUndefined();
    expect(broadcastOf(parseCidr('10.0.0.1/32'))).toBeUndefined();
  });
});

describe('link requests', () => {
  it('wraps kind and data in IFLA_LINKINFO', () => {
    const top = attrsOf(bytesOf(linkInfo('bridge')));
    expect([...top.keys()]).toEqual([18]);
    expect(top.get(18)!.nested).toBe(true);
    const info = nl.ifla.parseInfo(top.get(18)!.data);
    expect(info.kind).toBe('bridge');
    expect(info.data).toBeUndefined();
  });

  it('puts the veth peer (ifinfomsg + name + namespace fd) in VETH_INFO_PEER', () => {
    const data = bytesOf((out) => out.push(1, linkBody(ifinfomsg(), linkAttrs({ ifname: 'eth0', mtu: 1450, netNsFd: 42, address: macBytes('02:42:0a:00:00:02') }))));
    const peer = attrsOf(data).get(1)!; // VETH_INFO_PEER
    expect(peer.nested).toBe(false);
    const head = nl.rt.parseLink(peer.data.subarray(0, 16));
    expect(head.index ?? 0).toBe(0);
    const attrs = nl.ifla.parseLinkAttrs(peer.data.subarray(16));
    expect(attrs.ifname).toBe('eth0');
    expect(attrs.netNsFd).toBe(42);
    expect(attrs.mtu).toBe(1450);
    expect(macString(attrs.address!)).toBe('02:42:0a:00:00:02');

    // Inside a whole RTM_NEWLINK body.
    const body = linkBody(ifinfomsg(), linkAttrs({ ifname: 'vethab12cd3' }), linkInfo('veth', data));
    const msg = nl.rt.parseLinkMessage(body);
    expect(msg.attrs.ifname).toBe('vethab12cd3');
    const info = nl.ifla.parseInfo(msg.attrs.linkinfo!);
    expect(info.kind).toBe('veth');
    expect(info.data!.equals(data)).toBe(true);
  });

  it('encodes vxlan options, port in network order, absent booleans left to the kernel', () => {
    const v = nl.ifla.parseVxlan(bytesOf(vxlanData({ vni: 256, port: 4789, local: '192.0.2.1', link: 7, learning: false, proxy: true, l2miss: true, l3miss: true })));
    expect(v.id).toBe(256);
    expect(v.port!.readUInt16BE(0)).toBe(4789);
    expect([...v.local!]).toEqual([192, 0, 2, 1]);
    expect(v.link).toBe(7);
    expect(v.learning).toBe(0);
    expect(v.proxy).toBe(1);
    expect(v.l2miss).toBe(1);
    expect(v.l3miss).toBe(1);
    const bare = nl.ifla.parseVxlan(bytesOf(vxlanData({ vni: 1, port: 8472 })));
    expect(bare.learning).toBeUndefined();
    expect(bare.local).toBeUndefined();
  });

  it('encodes macvlan modes', () => {
    const mode = (m: Parameters<typeof macvlanData>[0]) => nl.ifla.parseMacvlan(bytesOf(macvlanData(m))).mode!;
    expect(mode('bridge')).toBe(4);
    expect(nl.ifla.parseMacvlanMode(mode('passthru')).passthru).toBe(true);
    expect(nl.ifla.parseMacvlanMode(mode('private')).private).toBe(true);
  });

  it('marks IFLA_PROTINFO nested and encodes only the port flags asked for', () => {
    const top = attrsOf(portAttrs({ hairpin: true, learning: false }));
    const p = top.get(12)!;
    expect(p.nested).toBe(true);
    const port = nl.ifla.parseBridgePort(p.data);
    expect(port.mode).toBe(1);
    expect(port.learning).toBe(0);
    expect(port.unicastFlood).toBeUndefined();
    expect(port.isolated).toBeUndefined();
    expect(nl.ifla.parseBridgePort(attrsOf(portAttrs({ isolated: true, flood: false })).get(12)!.data)).toMatchObject({ unicastFlood: 0, isolated: Buffer.from([1]) });
  });

  it('decodes a link reply', () => {
    const info = linkInfo('vxlan', vxlanData({ vni: 300, port: 4789, learning: false }));
    const body = linkBody(ifinfomsg({ index: 9, up: true }), linkAttrs({ ifname: 'vxlan0', mtu: 1450, master: 4, address: macBytes('02:00:00:00:00:01') }), info);
    // IFF_LOWER_UP is the kernel's to report: set it in the header the way a reply carries it.
    body.writeUInt32LE(0x1 | 0x10000, 8);
    const link = decodeLink(body);
    expect(link).toMatchObject({ index: 9, name: 'vxlan0', mtu: 1450, masterIndex: 4, up: true, lowerUp: true, kind: 'vxlan', address: '02:00:00:00:00:01' });
    expect(link.vxlan).toMatchObject({ vni: 300, port: 4789, learning: false });
    const mv = decodeLink(linkBody(ifinfomsg({ index: 3 }), linkAttrs({ ifname: 'mv0' }), linkInfo('macvlan', macvlanData('vepa'))));
    expect(mv).toMatchObject({ kind: 'macvlan', macvlanMode: 'vepa', up: false });
  });
});

describe('address, route and neighbour requests', () => {
  it('sets local, address and broadcast like `ip addr add X/n brd +`', () => {
    const m = nl.rt.parseAddressMessage(addrBody(5, parseCidr('172.17.0.1/16'), '172.17.255.255'));
    expect(m.data).toMatchObject({ family: AF_INET, prefixlen: 16, index: 5 });
    expect(m.data.scope ?? 0).toBe(0);
    expect([...m.attrs.local!]).toEqual([172, 17, 0, 1]);
    expect([...m.attrs.address!]).toEqual([172, 17, 0, 1]);
    expect([...m.attrs.broadcast!]).toEqual([172, 17, 255, 255]);
    expect(nl.rt.parseAddressMessage(addrBody(1, parseCidr('127.0.0.2/8'))).data.scope).toBe(254);
  });

  it('builds a default route via a gateway in the main table', () => {
    const body = routeBody({ dst: null, via: '10.88.0.1', oif: 3, metric: 100, onlink: true });
    const m = nl.rt.parseRouteMessage(body);
    expect(m.data).toMatchObject({ family: AF_INET, table: RT_TABLE_MAIN });
    expect(m.data.dstLen ?? 0).toBe(0);
    expect(m.attrs.dst).toBeUndefined();
    expect([...m.attrs.gateway!]).toEqual([10, 88, 0, 1]);
    expect(m.attrs.oif).toBe(3);
    expect(m.attrs.priority).toBe(100);
    const r = decodeRoute(body)!;
    expect(r).toMatchObject({ dst: 'default', via: '10.88.0.1', oif: 3, metric: 100, protocol: RTPROT_BOOT, type: 1, scope: 0, onlink: true });
  });

  it('gives gateway-less routes link scope and deletes a loose match', () => {
    const link = decodeRoute(routeBody({ dst: parseCidr('10.1.0.0/16'), oif: 2 }))!;
    expect(link).toMatchObject({ dst: '10.1.0.0/16', scope: 253 });
    const del = decodeRoute(routeBody({ dst: parseCidr('10.1.0.0/16'), forDelete: true }))!;
    expect(del).toMatchObject({ scope: 255, protocol: 0, type: 0 });
  });

  it('makes permanent ARP entries', () => {
    const body = neighBody(6, '10.0.5.5', '02:42:0a:00:05:05');
    const m = nl.rt.parseNeighborMessage(body);
    expect(m.data).toMatchObject({ family: AF_INET, ifindex: 6 });
    expect(m.data.state!.permanent).toBe(true);
    expect([...m.attrs.dst!]).toEqual([10, 0, 5, 5]);
    expect(macString(m.attrs.lladdr!)).toBe('02:42:0a:00:05:05');
    expect(nudNames(decodeNeigh(body).state)).toEqual(['permanent']);
  });

  it('makes vxlan FDB entries (self, permanent) and bridge ones (master, static)', () => {
    const self = decodeNeigh(fdbBody(8, '00:00:00:00:00:00', true, '192.0.2.11'));
    expect(self).toMatchObject({ family: AF_BRIDGE, index: 8, state: NUD_PERMANENT, flags: NTF_SELF, lladdr: '00:00:00:00:00:00', dst: '192.0.2.11' });
    const master = decodeNeigh(fdbBody(8, '02:42:0a:00:00:07', false));
    expect(master).toMatchObject({ state: NUD_NOARP, flags: NTF_MASTER });
    expect(master.dst).toBeUndefined();
    expect(nl.rt.parseNeighborMessage(fdbBody(8, '02:42:0a:00:00:07', true)).data.flags!.self).toBe(true);
  });
});
