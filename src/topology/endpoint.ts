// One endpoint as drawn by every driver that gives a sandbox an interface:
// the interface inside the sandbox (ethN with its IP and MAC as the kernel
// reports them), and, for veth-based drivers, the host end and the cable.
import type { LinkInfo } from '../kernel/rtnl.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/model.js';
import { ipv4Of, linkIn, linkState, sandboxMembers, type Describe } from './common.js';
import { edge, ids, node, type Fragment, type TopoNode } from './model.js';

/** The interface inside `owner`'s sandbox for `ep`, from the kernel (or from the store, marked absent). */
export function sandboxIface(d: Describe, owner: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, how: string): TopoNode {
  const view = d.kernel.sandboxes[owner.name];
  const link = linkIn(view, ep.ifname);
  const addrs = link ? ipv4Of(view, ep.ifname).map((a) => a.cidr) : [];
  const cidr = addrs[0] ?? `${ep.ip}/${ep.prefix}`;
  const mac = link?.address ?? ep.mac;
  return node(ids.iface(owner.name, ep.ifname), 'iface', ep.ifname, {
    parent: ids.sandbox(owner.name),
    details: [...(addrs.length ? addrs : [cidr]), mac, ...(link && !link.up ? ['DOWN'] : [])],
    networks: [net.name],
    containers: sandboxMembers(d.data, owner),
    attrs: { ip: cidr.split('/')[0]!, cidr, mac, network: net.name, driver: net.driver, via: how, ...(link ? { state: linkState(link) } : {}) },
    absent: !link,
  });
}

/**
 * A veth endpoint: host end `ep.hostVeth` in the namespace `where` (the host,
 * or an overlay's namespace), plugged into `bridgeId` (named `bridgeName` in
 * that namespace), cabled to ethN inside the sandbox.
 */
export function vethEndpoint(
  d: Describe,
  c: ContainerRecord,
  net: NetworkRecord,
  ep: EndpointRecord,
  place: { where: string; box: string; links: LinkInfo[] | undefined; bridgeId: string; bridgeName: string },
): Fragment {
  const inside = sandboxIface(d, c, net, ep, 'veth');
  if (!ep.hostVeth) return { nodes: [inside], edges: [] };
  const host = place.links?.find((l) => l.name === ep.hostVeth);
  const vethId = ids.veth(place.where, ep.hostVeth);
  const veth = node(vethId, 'veth', ep.hostVeth, {
    parent: place.box,
    details: host ? [host.master ? `on ${host.master}` : 'on no bridge', ...(host.up ? [] : ['DOWN'])] : [],
    networks: [net.name],
    containers: inside.containers,
    attrs: { network: net.name, peer: `${c.name}:${ep.ifname}`, ...(host ? { master: host.master ?? '', state: linkState(host) } : {}) },
    absent: !host,
  });
  const plugged = !!host && host.master === place.bridgeName;
  return {
    nodes: [veth, inside],
    edges: [
      edge('port', vethId, place.bridgeId, { undirected: true, absent: !plugged, ...(plugged || !host ? {} : { label: `expected on ${place.bridgeName}` }) }),
      edge('cable', vethId, inside.id, { undirected: true, label: 'veth pair', absent: !host || inside.absent }),
    ],
  };
}
