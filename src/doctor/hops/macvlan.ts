// Hop checks of the macvlan driver: the parent interface on the host (there,
// up) and the child in the sandbox (a macvlan in the network's mode). The
// host itself cannot reach its own macvlan children: that is the design of
// macvlan, not a fault.
import { requireMacvlan } from '../../drivers/records.js';
import type { MacvlanNetwork, NetworkRecord } from '../../store/model.js';
import type { Facts } from '../facts.js';
import { broken, ok, type HopResult } from '../types.js';
import { sandboxInterface } from './common.js';
import type { DriverHops, EndpointHop } from './types.js';

async function parentMtu(f: Facts, net: MacvlanNetwork): Promise<number> {
  const h = await f.hostLinks();
  return (net.mtu ?? h.links.find((l) => l.name === net.parent)?.mtu) || 1500;
}

async function network(f: Facts, record: NetworkRecord): Promise<HopResult[]> {
  const net = requireMacvlan(record);
  const h = await f.hostLinks();
  const hop = `${net.name} parent ${net.parent}`;
  const object = `link ${net.parent}`;
  const link = h.links.find((l) => l.name === net.parent);
  if (!link) return [broken(hop, object, 'missing', `every container of ${net.name} hangs off ${net.parent}: without it they reach nothing outside`, `create ${net.parent} again, then plumb network rm and create ${net.name}`)];
  if (!link.up) return [broken(hop, object, 'is down', `the children of a macvlan parent that is down carry no traffic, not even between each other`, `ip link set ${net.parent} up`)];
  return [ok(hop, object, `up, mtu ${link.mtu}`)];
}

async function endpoint(f: Facts, e: EndpointHop): Promise<HopResult[]> {
  const net = requireMacvlan(e.net);
  const mtu = await parentMtu(f, net);
  const inside = sandboxInterface(f, e, mtu);
  const out = [...inside.results];
  const link = inside.link;
  if (link && link.kind !== 'macvlan') {
    out.push(broken(`${e.c.name} ${e.ep.ifname}`, `link ${e.ep.ifname} in ${e.c.name}`, `is a ${link.kind ?? 'plain'} link, not a macvlan of ${net.parent}`, `it is not joined to ${e.net.name}`, `plumb network disconnect -f ${e.net.name} ${e.c.name} && plumb network connect ${e.net.name} ${e.c.name}`));
  } else if (link && net.macvlanMode && link.macvlanMode && link.macvlanMode !== net.macvlanMode) {
    out.push(broken(`${e.c.name} ${e.ep.ifname}`, `link ${e.ep.ifname} in ${e.c.name}`, `macvlan mode ${link.macvlanMode}, the network's is ${net.macvlanMode}`, 'children in different modes do not talk to each other directly', `plumb network disconnect -f ${e.net.name} ${e.c.name} && plumb network connect ${e.net.name} ${e.c.name}`));
  }
  return out;
}

export const macvlanHops: DriverHops = { network, endpoint, mtu: (f, net) => parentMtu(f, requireMacvlan(net)) };
