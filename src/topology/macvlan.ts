// The macvlan driver's part: the parent interface (the user's, on the host)
// and each child, which lives inside its sandbox with a MAC of its own. There
// is no bridge, no veth and no NAT: the children sit on the parent's wire.
import type { MacvlanNetwork } from '../store/model.js';
import { endpointsOn, ipv4Of, linkIn, type Describe } from './common.js';
import { sandboxIface } from './endpoint.js';
import { edge, ids, node, type Fragment } from './model.js';

export function describeMacvlanNetwork(d: Describe, net: MacvlanNetwork): Fragment {
  const parentName = net.parent;
  const parent = linkIn(d.kernel.host, parentName);
  const parentId = ids.hostIf(parentName);
  const mode = net.macvlanMode ?? 'bridge';
  const fragment: Fragment = {
    nodes: [
      node(parentId, 'host-if', parentName, {
        parent: ids.host(),
        details: [...ipv4Of(d.kernel.host, parentName).map((a) => a.cidr), `macvlan parent of ${net.name}`],
        networks: [net.name],
        attrs: { macvlanParentOf: net.name, ...(net.ipam ? { subnet: net.ipam.subnet } : {}) },
        absent: !parent,
      }),
    ],
    edges: [],
  };
  for (const { c, ep } of endpointsOn(d.data, net)) {
    const child = sandboxIface(d, c, net, ep, `macvlan ${mode}`);
    fragment.nodes.push(child);
    fragment.edges.push(edge('macvlan', parentId, child.id, { label: `macvlan ${mode} (${net.name})`, undirected: true, absent: child.absent || !parent }));
  }
  return fragment;
}
