// Drift on the picture: each finding of `system check` (store vs. kernel) is
// pinned on the thing it is about — a veth, an interface, a bridge, a
// container — so it shows red and dashed where it is. What names no node
// (a sysctl, a chain) is pinned on the host. Every finding is also kept in
// the topology's list, word for word.
import type { StoreData } from '../store/model.js';
import { findContainer } from '../store/store.js';
import { sandboxOwner } from './common.js';
import { ids, type TopoEdge, type TopoNode } from './model.js';
import type { DriftFinding } from './view.js';

function pin(target: TopoNode | TopoEdge | undefined, text: string): boolean {
  if (!target) return false;
  target.drift = [...(target.drift ?? []), text];
  return true;
}

export function markDrift(nodes: TopoNode[], edges: TopoEdge[], findings: DriftFinding[], data: StoreData): string[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const lines: string[] = [];
  for (const f of findings) {
    const text = `${f.owner}: ${f.problem}`;
    lines.push(text);
    const veths = f.problem.match(/\bveth[0-9a-f]{7}\b/g) ?? [];
    let pinned = false;
    for (const v of new Set(veths)) {
      const vethNodes = nodes.filter((n) => n.kind === 'veth' && n.label === v);
      for (const n of vethNodes) {
        pinned = pin(n, text) || pinned;
        for (const e of edges) if ((e.from === n.id || e.to === n.id) && (e.kind === 'cable' || e.kind === 'port')) pin(e, text);
      }
    }
    if (pinned) continue;
    const container = /^container (.+)$/.exec(f.owner)?.[1];
    const network = /^network (.+)$/.exec(f.owner)?.[1];
    if (container) {
      const c = findContainer(data, container);
      const owner = c ? sandboxOwner(data, c) : undefined;
      const ifname = /\b(eth\d+|lo)\b/.exec(f.problem)?.[1];
      if (owner && ifname && pin(byId.get(ids.iface(owner.name, ifname)), text)) continue;
      if (/sandbox namespace|UTS namespace|ip netns/.test(f.problem) && owner && pin(byId.get(ids.sandbox(owner.name)), text)) continue;
      // A published port's rule: pinned on the port it is about.
      const dport = /-j DNAT\b/.test(f.problem) ? /--dport (\d+)/.exec(f.problem) : null;
      if (dport) {
        const lo = Number(dport[1]);
        const ports = nodes.filter((n) => n.kind === 'port' && n.attrs.owner === container && Number((n.attrs.hostPorts ?? '').split('-')[0]) === lo);
        if (ports.map((n) => pin(n, text)).some(Boolean)) continue;
      }
      if (pin(byId.get(ids.container(container)), text)) continue;
    }
    if (network) {
      const target = nodes.find((n) => (n.kind === 'bridge' || (n.kind === 'host-if' && n.attrs.macvlanParentOf)) && n.attrs.network === network)
        ?? nodes.find((n) => n.kind === 'host-if' && n.attrs.macvlanParentOf === network);
      if (pin(target, text)) continue;
    }
    pin(byId.get(ids.host()), text);
  }
  return lines;
}
