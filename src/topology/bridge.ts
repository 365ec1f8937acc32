// The bridge driver's part of the picture: the bridge with its name and
// gateway, and a veth cable per endpoint from the bridge to ethN inside the
// sandbox. Host ends on the bridge that no endpoint owns are drawn too: they
// are what a crash leaves behind.
import type { BridgeNetwork } from '../store/model.js';
import { endpointsOn, ipv4Of, linkIn, linkState, type Describe } from './common.js';
import { vethEndpoint } from './endpoint.js';
import { edge, ids, node, type Fragment } from './model.js';

const HOST_VETH = /^veth[0-9a-f]{7}$/;

export function describeBridgeNetwork(d: Describe, net: BridgeNetwork): Fragment {
  const name = net.bridge;
  const link = linkIn(d.kernel.host, name);
  const gateways = ipv4Of(d.kernel.host, name).map((a) => a.cidr);
  const expected = net.ipam ? `${net.ipam.gateway}/${net.ipam.subnet.split('/')[1]}` : undefined;
  const flags = [
    ...(net.internal ? ['internal: no way out'] : []),
    ...(net.icc === false ? ['icc off: containers cannot talk'] : []),
    ...(net.masquerade === false && !net.internal ? ['no masquerade'] : []),
  ];
  const bridgeId = ids.bridge(name);
  const fragment: Fragment = {
    nodes: [
      node(bridgeId, 'bridge', name, {
        parent: ids.host(),
        details: [`network ${net.name}`, ...(gateways.length ? gateways : expected ? [expected] : []).map((g) => `gateway ${g}`), ...flags, ...(link && !link.up ? ['DOWN'] : [])],
        networks: [net.name],
        attrs: {
          network: net.name,
          driver: 'bridge',
          ...(net.ipam ? { subnet: net.ipam.subnet } : {}),
          gateway: gateways[0] ?? expected ?? '',
          ...(link ? { state: linkState(link) } : {}),
          ...(flags.length ? { flags: flags.join('; ') } : {}),
        },
        absent: !link,
      }),
    ],
    edges: [],
  };
  const owned = new Set<string>();
  for (const { c, ep } of endpointsOn(d.data, net)) {
    if (ep.hostVeth) owned.add(ep.hostVeth);
    const f = vethEndpoint(d, c, net, ep, { where: 'host', box: ids.host(), links: d.kernel.host.links, bridgeId, bridgeName: name });
    fragment.nodes.push(...f.nodes);
    fragment.edges.push(...f.edges);
  }
  for (const l of d.kernel.host.links) {
    if (l.master !== name || owned.has(l.name) || !HOST_VETH.test(l.name)) continue;
    const id = ids.veth('host', l.name);
    fragment.nodes.push(node(id, 'veth', l.name, { parent: ids.host(), details: [`on ${name}`, 'no endpoint'], networks: [net.name], attrs: { network: net.name, master: name, state: linkState(l) } }));
    fragment.edges.push(edge('port', id, bridgeId, { undirected: true }));
  }
  return fragment;
}
