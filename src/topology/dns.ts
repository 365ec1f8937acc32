// The embedded DNS path, read from each sandbox's nat table: processes ask
// 127.0.0.11:53, a DNAT rule in the sandbox sends that to a gateway of one of
// its networks on the resolver's port, where plumb's one resolver listens.
// A sandbox whose networks cannot reach the host (macvlan) has the resolver's
// own socket on 127.0.0.11:53 instead: drawn straight to the resolver.
import { EMBEDDED_DNS_IP, OUTPUT_CHAIN } from '../firewall/sandbox-dns.js';
import { parseIptablesSave } from '../firewall/index.js';
import type { Describe } from './common.js';
import { edge, ids, node, type Fragment, type TopoNode } from './model.js';

/** Where a sandbox's nat table sends 127.0.0.11:53, as "ip:port". */
export function dnsTarget(nat: string): string | undefined {
  const rules = parseIptablesSave(nat).get('nat')?.rules.get(OUTPUT_CHAIN) ?? [];
  for (const args of rules) {
    const i = args.indexOf('--to-destination');
    if (i >= 0 && args[i + 1]) return args[i + 1];
  }
  return undefined;
}

export function describeDns(d: Describe, nodes: TopoNode[]): Fragment {
  const f: Fragment = { nodes: [], edges: [] };
  const resolverId = ids.resolver();
  const addResolver = () => {
    if (f.nodes.some((n) => n.id === resolverId)) return;
    f.nodes.push(
      node(resolverId, 'resolver', 'plumb resolver', {
        parent: ids.host(),
        details: d.resolver ? [`pid ${d.resolver.pid}`, `udp+tcp port ${d.resolver.port}`] : ['not running'],
        attrs: d.resolver ? { pid: String(d.resolver.pid), port: String(d.resolver.port) } : {},
        ...(d.resolver ? {} : { drift: ['the resolver is not running: 127.0.0.11 answers nothing'] }),
      }),
    );
  };
  for (const [sandbox, view] of Object.entries(d.kernel.sandboxes).sort(([a], [b]) => a.localeCompare(b))) {
    const box = nodes.find((n) => n.id === ids.sandbox(sandbox));
    if (view.resolverInside !== undefined && box) {
      // No gateway on the host (macvlan): the resolver's own socket in the sandbox, no DNAT.
      const dnsId = ids.dns(sandbox);
      const drift = view.resolverInside ? [] : [`the resolver holds no socket on ${EMBEDDED_DNS_IP}:53 in ${sandbox}: its names do not resolve`];
      f.nodes.push(
        node(dnsId, 'dns', `${EMBEDDED_DNS_IP}:53`, {
          parent: box.id,
          details: ['embedded DNS', "the resolver's socket in the sandbox"],
          networks: box.networks,
          containers: box.containers,
          attrs: { target: 'resolver socket inside' },
          ...(drift.length ? { drift } : {}),
        }),
      );
      addResolver();
      if (view.resolverInside) f.edges.push(edge('dns', dnsId, resolverId, { label: 'socket held in the sandbox' }));
      continue;
    }
    if (!view.nat) continue;
    const target = dnsTarget(view.nat);
    if (!target || !box) continue;
    const [gw, port] = target.split(':');
    const bridge = nodes.find((n) => n.kind === 'bridge' && n.parent === ids.host() && n.attrs.gateway?.split('/')[0] === gw);
    const dnsId = ids.dns(sandbox);
    f.nodes.push(
      node(dnsId, 'dns', `${EMBEDDED_DNS_IP}:53`, { parent: box.id, details: ['embedded DNS'], networks: box.networks, containers: box.containers, attrs: { target } }),
    );
    if (!bridge) continue;
    f.edges.push(edge('dns', dnsId, bridge.id, { label: `DNAT ${target}` }));
    addResolver();
    f.edges.push(edge('dns', bridge.id, resolverId, { label: `port ${port}` }));
  }
  return f;
}
