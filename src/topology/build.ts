// Builds the topology from one read of the kernel: the host, each network as
// its driver describes it, the sandboxes, then what the firewall and the DNS
// rules add on top, then the drift `system check` found. Nodes and edges come
// out sorted by identifier, so the same state always gives the same output.
import { describeBridgeNetwork } from './bridge.js';
import { byDriver, sortedNetworks, type ByDriver, type Describe } from './common.js';
import { describeDns } from './dns.js';
import { markDrift } from './drift.js';
import { describeFirewall } from './firewall.js';
import { describeHost } from './host.js';
import { describeMacvlanNetwork } from './macvlan.js';
import type { Fragment, TopoEdge, TopoNode, Topology } from './model.js';
import { describeOverlayNetwork } from './overlay.js';
import { describeSandboxes } from './sandbox.js';
import type { TopologyInput } from './view.js';

/** Each driver's own description of one network (host and null have nothing of their own to draw). */
const describers = (d: Describe): ByDriver<Fragment> => ({
  bridge: (net) => describeBridgeNetwork(d, net),
  macvlan: (net) => describeMacvlanNetwork(d, net),
  overlay: (net) => describeOverlayNetwork(d, net),
});

const unique = <T>(xs: T[]) => [...new Set(xs)];
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Merges a node described twice (an uplink that is also a macvlan parent, a peer of two overlays). */
function mergeInto(nodes: Map<string, TopoNode>, n: TopoNode): void {
  const had = nodes.get(n.id);
  if (!had) {
    nodes.set(n.id, { ...n, details: [...n.details], networks: [...n.networks], containers: [...n.containers], attrs: { ...n.attrs } });
    return;
  }
  had.details = unique([...had.details, ...n.details]);
  had.networks = unique([...had.networks, ...n.networks]);
  had.containers = unique([...had.containers, ...n.containers]);
  had.attrs = { ...n.attrs, ...had.attrs };
  if (n.kind === 'uplink') had.kind = 'uplink';
  had.parent ??= n.parent;
  had.absent = !!had.absent && !!n.absent;
  if (n.drift) had.drift = unique([...(had.drift ?? []), ...n.drift]);
}

function add(nodes: Map<string, TopoNode>, edges: Map<string, TopoEdge>, f: Fragment): void {
  for (const n of f.nodes) mergeInto(nodes, n);
  for (const e of f.edges) if (!edges.has(e.id)) edges.set(e.id, { ...e });
}

export function buildTopology(input: TopologyInput): Topology {
  const nodes = new Map<string, TopoNode>();
  const edges = new Map<string, TopoEdge>();
  add(nodes, edges, describeHost(input));
  for (const net of sortedNetworks(input.data)) {
    const fragment = byDriver(describers(input), net);
    if (fragment) add(nodes, edges, fragment);
  }
  add(nodes, edges, describeSandboxes(input));
  add(nodes, edges, describeFirewall(input, [...nodes.values()]));
  add(nodes, edges, describeDns(input, [...nodes.values()]));

  const nodeList = [...nodes.values()].sort((a, b) => cmp(a.id, b.id));
  for (const n of nodeList) {
    n.networks = unique(n.networks).sort(cmp);
    n.containers = unique(n.containers).sort(cmp);
    if (!n.absent) delete n.absent;
  }
  const edgeList = [...edges.values()].filter((e) => nodes.has(e.from) && nodes.has(e.to)).sort((a, b) => cmp(a.id, b.id));
  for (const e of edgeList) if (!e.absent) delete e.absent;
  const drift = markDrift(nodeList, edgeList, input.drift, input.data);
  return { host: input.hostName, nodes: nodeList, edges: edgeList, drift };
}
