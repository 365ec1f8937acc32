// The host's own network stack: the box everything host-side sits in, its
// uplink (the interface of the default route) and the world beyond it.
import { ipv4Of, linkState, type Describe } from './common.js';
import { edge, ids, node, type Fragment } from './model.js';

export function describeHost(d: Describe): Fragment {
  const f: Fragment = {
    nodes: [node(ids.host(), 'host', `host ${d.hostName}`, { details: ["the host's network namespace"], attrs: { name: d.hostName } })],
    edges: [],
  };
  const defaults = d.kernel.host.routes
    .filter((r) => r.dst === 'default' && r.dev)
    .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0) || a.dev!.localeCompare(b.dev!));
  if (!defaults.length) return f;
  f.nodes.push(node(ids.internet(), 'internet', 'outside world', { details: ['beyond the default route'] }));
  const seen = new Set<string>();
  for (const r of defaults) {
    if (seen.has(r.dev!)) continue;
    seen.add(r.dev!);
    const link = d.kernel.host.links.find((l) => l.name === r.dev);
    const addrs = ipv4Of(d.kernel.host, r.dev!).map((a) => a.cidr);
    f.nodes.push(
      node(ids.hostIf(r.dev!), 'uplink', r.dev!, {
        parent: ids.host(),
        details: [...addrs, 'uplink'],
        attrs: { uplink: 'true', ...(addrs[0] ? { cidr: addrs[0] } : {}), ...(r.via ? { via: r.via } : {}), ...(link ? { state: linkState(link) } : {}) },
      }),
    );
    f.edges.push(edge('uplink', ids.hostIf(r.dev!), ids.internet(), { label: r.via ? `default via ${r.via}` : 'default route', undirected: true }));
  }
  return f;
}
