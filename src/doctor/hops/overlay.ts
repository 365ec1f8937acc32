// Hop checks of the overlay driver, in the network's namespace on this host:
// br0 and vxlan0 (up, plugged, VNI, MTU 1450), each local endpoint's veth on
// br0, and for every container on another host the permanent neighbour and
// FDB entries pointing at its VTEP, the flood entries, and the underlay route
// to each VTEP. What should exist comes from the cluster store; what does,
// from the kernel.
import { FLOOD_MAC, OVERLAY_BRIDGE, OVERLAY_VXLAN, DEFAULT_OVERLAY_MTU, overlayNsName } from '../../drivers/overlay.js';
import { requireOverlay } from '../../drivers/records.js';
import { overlayPlace } from '../../engine/overlay/cluster.js';
import type { NetworkRecord, OverlayNetwork } from '../../store/model.js';
import { lookupRoute } from '../addresses.js';
import { fixForDrop, verdictObject } from '../host.js';
import { walkChain } from '../netfilter.js';
import type { Facts } from '../facts.js';
import { broken, ok, type HopResult } from '../types.js';
import { sandboxInterface } from './common.js';
import type { DriverHops, EndpointHop } from './types.js';

const mtuOf = (net: OverlayNetwork) => net.mtu ?? DEFAULT_OVERLAY_MTU;

async function network(f: Facts, record: NetworkRecord): Promise<HopResult[]> {
  const net = requireOverlay(record);
  const place = overlayPlace(f.ctx.paths, net.id);
  const name = overlayNsName(net.id);
  const ov = await f.namespace(place.netns, name);
  const local = f.runningContainers().some((c) => Object.values(c.endpoints).some((e) => e.networkId === net.id));
  if (!ov) {
    if (!local) return [];
    return [broken(name, `namespace ${name}`, 'missing', `${net.name}'s switch and tunnel on this host live there`, 'plumb system gc')];
  }
  const out: HopResult[] = [];
  const cmd = (c: string) => f.inNs(name, place.netns, c);
  const br = ov.links.find((l) => l.name === OVERLAY_BRIDGE);
  const vx = ov.links.find((l) => l.name === OVERLAY_VXLAN);
  const mtu = mtuOf(net);
  if (!br) out.push(broken(name, `bridge ${OVERLAY_BRIDGE} in ${name}`, 'missing', `${net.name}'s containers on this host have no switch`, 'plumb system gc'));
  else if (!br.up) out.push(broken(name, `bridge ${OVERLAY_BRIDGE} in ${name}`, 'is down', `nothing passes between ${net.name}'s containers`, cmd(`ip link set ${OVERLAY_BRIDGE} up`)));
  if (!vx) {
    out.push(broken(name, `vxlan ${OVERLAY_VXLAN} in ${name}`, 'missing', 'no tunnel to the other hosts', 'plumb system gc'));
  } else {
    const object = `vxlan ${OVERLAY_VXLAN} in ${name}`;
    if (!vx.up) out.push(broken(name, object, 'is down', `nothing of ${net.name} reaches other hosts`, cmd(`ip link set ${OVERLAY_VXLAN} up`)));
    if (vx.master !== OVERLAY_BRIDGE) out.push(broken(name, object, `is ${vx.master ? `on ${vx.master}` : 'on no bridge'}`, `frames on ${OVERLAY_BRIDGE} never enter the tunnel`, cmd(`ip link set ${OVERLAY_VXLAN} master ${OVERLAY_BRIDGE}`)));
    if (net.vni !== undefined && vx.vxlan?.vni !== undefined && vx.vxlan.vni !== net.vni) {
      out.push(broken(name, object, `VNI ${vx.vxlan.vni}, the network's is ${net.vni}`, 'other hosts tag the network with another VNI: their frames are not delivered here', 'plumb system gc'));
    }
    if (vx.mtu !== mtu) {
      out.push(broken(name, object, `MTU ${vx.mtu}, the network's is ${mtu}`, `VXLAN adds 50 bytes to every frame: with more than ${mtu} the wrapped packet exceeds the underlay's 1500 and is dropped`, cmd(`ip link set ${OVERLAY_VXLAN} mtu ${mtu}`)));
    }
  }
  out.push(...(await remoteEntries(f, net, name, place.netns)));
  if (!out.some((r) => !r.ok)) out.push(ok(name, `namespace ${name}`, `${OVERLAY_BRIDGE} and ${OVERLAY_VXLAN} up, VNI ${vx?.vxlan?.vni ?? net.vni}, mtu ${vx?.mtu}`));
  return out;
}

async function remoteEntries(f: Facts, net: NetworkRecord, name: string, path: string): Promise<HopResult[]> {
  const cluster = await f.cluster();
  if (!cluster) return [broken(name, 'cluster store', `not reachable: ${f.clusterError ?? 'unknown error'}`, 'the entries for containers on other hosts cannot be checked (nor updated by the agent)', 'start etcd or check --cluster-store')];
  const ov = await f.namespace(path, name);
  if (!ov) return [];
  const fdb = await ov.rtnl.fdb(OVERLAY_VXLAN).catch(() => []);
  const h = await f.host();
  const out: HopResult[] = [];
  const cmd = (c: string) => f.inNs(name, path, c);
  const remote = cluster.snapshot.endpoints.filter((e) => e.networkId === net.id && e.vtep !== cluster.vtep);
  for (const e of remote) {
    const hop = `${name} -> ${e.containerName}@${e.node}`;
    const n = ov.neigh.find((x) => x.dev === OVERLAY_VXLAN && x.ip === e.ip);
    if (!n || n.lladdr !== e.mac) {
      out.push(broken(hop, `neighbour ${e.ip} dev ${OVERLAY_VXLAN}`, n ? `says ${n.lladdr ?? 'nothing'}, ${e.containerName} has ${e.mac}` : 'missing', `ARP is not sent through the tunnel: without this entry nobody here learns ${e.containerName}'s MAC`, cmd(`ip neigh replace ${e.ip} lladdr ${e.mac} dev ${OVERLAY_VXLAN} nud permanent`)));
    }
    const fe = fdb.filter((x) => x.mac === e.mac && x.self);
    if (!fe.some((x) => x.dst === e.vtep)) {
      out.push(broken(hop, `fdb ${e.mac} dev ${OVERLAY_VXLAN}`, fe.length ? `points at ${fe.map((x) => x.dst ?? '?').join(', ')}, not ${e.vtep}` : 'missing', `${OVERLAY_VXLAN} does not know which host to send ${e.containerName}'s frames to`, cmd(`bridge fdb replace ${e.mac} dev ${OVERLAY_VXLAN} dst ${e.vtep} self permanent`)));
    }
    const route = lookupRoute(h.routes, e.vtep);
    if (!route && !h.addrs.some((a) => a.address === e.vtep)) {
      out.push(broken(hop, `route to ${e.vtep}`, 'missing on the underlay', `the wrapped packets (UDP 4789) to ${e.node} cannot be sent`, `ip route add ${e.vtep} via <underlay gateway>`));
    }
  }
  for (const vtep of [...new Set(remote.map((e) => e.vtep))]) {
    // vxlan0's UDP socket lives in this host's namespace: its INPUT chain must let the other hosts' packets in.
    const inIf = lookupRoute(h.routes, vtep)?.dev;
    const v = walkChain(h.rules, 'filter', 'INPUT', { src: vtep, dst: cluster.vtep, proto: 'udp', sport: 40000, dport: 4789, inIf, ctstate: ['NEW'], dstLocal: true });
    if (v.verdict !== 'ACCEPT') {
      out.push(broken(`${name} <- ${vtep}`, verdictObject(v, 'filter', 'INPUT'), `drops VXLAN (UDP 4789) from ${vtep}`, `nothing ${net.name}'s containers on that host send arrives here`, fixForDrop(v)));
    }
    if (!fdb.some((x) => x.mac === FLOOD_MAC && x.dst === vtep)) {
      out.push(broken(`${name} -> ${vtep}`, `fdb ${FLOOD_MAC} dev ${OVERLAY_VXLAN} dst ${vtep}`, 'missing', 'broadcasts (and unknown destinations) are not flooded to that host', cmd(`bridge fdb append ${FLOOD_MAC} dev ${OVERLAY_VXLAN} dst ${vtep} self permanent`)));
    }
  }
  if (remote.length && !out.length) out.push(ok(`${name} peers`, `${OVERLAY_VXLAN} entries`, `neighbour and fdb entries for ${remote.length} remote container(s) point at ${[...new Set(remote.map((e) => e.vtep))].join(', ')}`));
  return out;
}

async function endpoint(f: Facts, e: EndpointHop): Promise<HopResult[]> {
  const mtu = mtuOf(requireOverlay(e.net));
  const out = [...sandboxInterface(f, e, mtu).results];
  const place = overlayPlace(f.ctx.paths, e.net.id);
  const name = overlayNsName(e.net.id);
  const ov = await f.namespace(place.netns, name);
  if (!ov || !e.ep.hostVeth) return out;
  const veth = ov.links.find((l) => l.name === e.ep.hostVeth);
  const hop = `${e.ep.hostVeth} (${e.c.name} ${e.ep.ifname})`;
  const object = `veth ${e.ep.hostVeth} in ${name}`;
  const cmd = (c: string) => f.inNs(name, place.netns, c);
  if (!veth) out.push(broken(hop, object, 'missing', `${e.c.name}'s cable to ${OVERLAY_BRIDGE} is gone`, 'plumb system gc'));
  else {
    if (veth.master !== OVERLAY_BRIDGE) out.push(broken(hop, object, 'is on no bridge', `${e.c.name}'s frames reach no switch`, cmd(`ip link set ${veth.name} master ${OVERLAY_BRIDGE}`)));
    if (!veth.up) out.push(broken(hop, object, 'is down', `nothing passes between ${e.c.name} and ${e.net.name}`, cmd(`ip link set ${veth.name} up`)));
    if (veth.mtu !== mtu) out.push(broken(hop, object, `MTU ${veth.mtu}, the network's is ${mtu}`, 'frames larger than that are dropped', cmd(`ip link set ${veth.name} mtu ${mtu}`)));
  }
  return out;
}

export const overlayHops: DriverHops = { network, endpoint, mtu: async (_f, net) => mtuOf(requireOverlay(net)) };
