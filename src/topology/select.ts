// `plumb graph NETWORK|CONTAINER...`: the part of the picture about the named
// networks and containers. A network brings everything on it; a container
// brings its sandbox and the networks it is plugged into (not their other
// containers). The host, its uplink and the resolver always stay, and every
// box that holds something kept.
import type { TopoNode, Topology } from './model.js';

export class UnknownSelection extends Error {}

export function selectTopology(t: Topology, names: string[]): Topology {
  if (!names.length) return t;
  const networks = new Set(t.nodes.flatMap((n) => n.networks));
  const containers = new Set(t.nodes.flatMap((n) => n.containers));
  for (const name of names) {
    if (!networks.has(name) && !containers.has(name)) throw new UnknownSelection(`No such network or container: ${name} (plumb network ls, plumb ps)`);
  }
  const wantNets = new Set(names.filter((n) => networks.has(n)));
  const wantCons = new Set(names.filter((n) => containers.has(n) && !networks.has(n)));
  const netsOfCons = new Set(t.nodes.filter((n) => n.kind === 'container' && wantCons.has(n.label)).flatMap((n) => n.networks));
  // Interfaces carry only their own network, so a sandbox on a named network keeps only its interfaces on it.
  const keep = (n: TopoNode): boolean =>
    (!n.networks.length && !n.containers.length) ||
    n.networks.some((x) => wantNets.has(x)) ||
    n.containers.some((x) => wantCons.has(x)) ||
    // A named container brings its networks' own objects (bridges, overlay namespaces, peers), not their other containers.
    (!n.containers.length && n.networks.some((x) => netsOfCons.has(x)));
  const kept = new Set(t.nodes.filter(keep).map((n) => n.id));
  // Boxes of kept nodes stay.
  for (const n of t.nodes) {
    let p = kept.has(n.id) ? n.parent : undefined;
    while (p) {
      kept.add(p);
      p = t.nodes.find((x) => x.id === p)?.parent;
    }
  }
  const nodes = t.nodes.filter((n) => kept.has(n.id));
  const edges = t.edges.filter((e) => kept.has(e.from) && kept.has(e.to));
  const ids = new Set(nodes.map((n) => n.id));
  const drift = t.drift.filter((line) => nodes.some((n) => n.drift?.includes(line) && ids.has(n.id)) || edges.some((e) => e.drift?.includes(line)));
  return { ...t, nodes, edges, drift };
}
