// Topology -> JSON, for anyone's own tools: the model as it is, versioned,
// with every object's keys in one fixed order.
import type { TopoEdge, TopoNode, Topology } from '../topology/model.js';

export const TOPOLOGY_JSON_VERSION = 1;

const sortedAttrs = (a: Record<string, string>) => Object.fromEntries(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));

function nodeJson(n: TopoNode) {
  return {
    id: n.id,
    kind: n.kind,
    label: n.label,
    ...(n.parent ? { parent: n.parent } : {}),
    details: n.details,
    networks: n.networks,
    containers: n.containers,
    attrs: sortedAttrs(n.attrs),
    ...(n.absent ? { absent: true } : {}),
    ...(n.drift?.length ? { drift: n.drift } : {}),
  };
}

function edgeJson(e: TopoEdge) {
  return {
    id: e.id,
    kind: e.kind,
    from: e.from,
    to: e.to,
    ...(e.label ? { label: e.label } : {}),
    ...(e.undirected ? { undirected: true } : {}),
    ...(e.absent ? { absent: true } : {}),
    ...(e.drift?.length ? { drift: e.drift } : {}),
  };
}

export function renderJson(t: Topology): string {
  return JSON.stringify({ version: TOPOLOGY_JSON_VERSION, host: t.host, nodes: t.nodes.map(nodeJson), edges: t.edges.map(edgeJson), drift: t.drift }, null, 2) + '\n';
}
