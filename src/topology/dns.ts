// The embedded DNS path, read from each sandbox's nat table: processes ask
// 127.0.0.11:53, a DNAT rule in the sandbox sends that to a gateway of one of
// its networks on the resolver's port, where plumb's one resolver listens.
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
  for (const [sandbox, view] of Object.entries(d.kernel.sandboxes).sort(([a], [b]) => a.localeCompare(b))) {
    if (!view.nat) continue;
    const target = dnsTarget(view.nat);
    const box = nodes.find((n) => n.id === ids.sandbox(sandbox));
    if (!target || !box) continue;
    const [gw, port] = target.split(':');
    const bridge = nodes.find((n) => n.kind === 'bridge' && n.parent === ids.host() && n.attrs.gateway?.split('/')[0] === gw);
    const dnsId = ids.dns(sandbox);
    f.nodes.push(
      node(dnsId, 'dns', `${EMBEDDED_DNS_IP}:53`, { parent: box.id, details: ['embedded DNS'], networks: box.networks, containers: box.containers, attrs: { target } }),
    );
    if (!bridge) continue;
    f.edges.push(edge('dns', dnsId, bridge.id, { label: `DNAT ${target}` }));
    if (!f.nodes.some((n) => n.id === resolverId)) {
      f.nodes.push(
        node(resolverId, 'resolver', 'plumb resolver', {
          parent: ids.host(),
          details: d.resolver ? [`pid ${d.resolver.pid}`, `udp+tcp port ${d.resolver.port}`] : ['not running'],
          attrs: d.resolver ? { pid: String(d.resolver.pid), port: String(d.resolver.port) } : {},
          ...(d.resolver ? {} : { drift: ['the resolver is not running: 127.0.0.11 answers nothing'] }),
        }),
      );
    }
    f.edges.push(edge('dns', bridge.id, resolverId, { label: `port ${port}` }));
  }
  return f;
}
