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
  const keep = (n: TopoNode): boolean => {
    if (!n.networks.length && !n.containers.length) return true;
    if (n.networks.some((x) => wantNets.has(x))) {
      // A sandbox on the network keeps only its interfaces on it.
      if (n.kind === 'iface' || n.kind === 'veth') return n.networks.some((x) => wantNets.has(x));
      return true;
    }
    if (n.containers.some((x) => wantCons.has(x))) return true;
    return !n.containers.length && n.networks.some((x) => netsOfCons.has(x)) && n.kind !== 'remote';
  };
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
