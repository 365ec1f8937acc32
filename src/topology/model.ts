// The topology: what exists on this host's network, as nodes and edges, read
// from the kernel (with the store for names). Every renderer (ascii, DOT,
// Mermaid, JSON) draws this one model, so the pictures cannot disagree.
//
// Boxes (host, sandbox, overlay namespace, peer host) are nodes too: other
// nodes name them as `parent`. Edges never end on a box, always on a node
// inside one, so every renderer can draw them the same way.
//
// Identifiers are built from kernel and store names (never from order or
// chance): the same state gives the same picture, byte for byte.

export type NodeKind =
  /** Boxes. */
  | 'host'
  | 'sandbox'
  | 'overlay-ns'
  | 'peer'
  /** Things in boxes. */
  | 'internet'
  | 'uplink'
  | 'host-if'
  | 'bridge'
  | 'veth'
  | 'iface'
  | 'container'
  | 'vxlan'
  | 'vtep'
  | 'remote'
  | 'port'
  | 'dns'
  | 'resolver';

export const BOX_KINDS: ReadonlySet<NodeKind> = new Set(['host', 'sandbox', 'overlay-ns', 'peer']);

export interface TopoNode {
  id: string;
  kind: NodeKind;
  /** Short name, as the kernel or the store calls it. */
  label: string;
  /** More lines under the label: addresses, MACs, modes. */
  details: string[];
  /** The box this node sits in. */
  parent?: string;
  /** What it is about, for selection (`plumb graph mynet web`): network and container names. */
  networks: string[];
  containers: string[];
  /** Structured facts for renderers that lay things out themselves (ascii) and for tools reading the JSON. */
  attrs: Record<string, string>;
  /** What `system check` finds wrong with it (store vs. kernel). */
  drift?: string[];
  /** Expected by the store but not in the kernel: drawn from the store alone. */
  absent?: boolean;
}

export type EdgeKind =
  /** A veth pair: host end to the interface inside the sandbox. */
  | 'cable'
  /** An interface plugged into a bridge (its master). */
  | 'port'
  /** The host's way out. */
  | 'uplink'
  /** A macvlan child on its parent. */
  | 'macvlan'
  /** A published port: DNAT from host:PORT to container:PORT. */
  | 'dnat'
  /** Egress from a bridge's subnet rewritten to the host's address. */
  | 'masquerade'
  /** Two networks the firewall keeps apart. */
  | 'isolation'
  /** 127.0.0.11 -> gateway:port -> resolver. */
  | 'dns'
  /** VXLAN to another host's VTEP. */
  | 'tunnel'
  /** A legacy --link: an /etc/hosts line in the linking sandbox. */
  | 'link';

export interface TopoEdge {
  id: string;
  kind: EdgeKind;
  from: string;
  to: string;
  label?: string;
  /** Undirected (a cable, an isolation wall). */
  undirected?: boolean;
  drift?: string[];
  absent?: boolean;
}

export interface Topology {
  /** Name of the host (this machine, or its cluster node name). */
  host: string;
  nodes: TopoNode[];
  edges: TopoEdge[];
  /** Every finding of `system check`, one line each, including those drawn on no node. */
  drift: string[];
}

/** A piece of the picture, as a driver (or the modes, ports, DNS) describes it. */
export interface Fragment {
  nodes: TopoNode[];
  edges: TopoEdge[];
}

export function node(id: string, kind: NodeKind, label: string, more: Partial<TopoNode> = {}): TopoNode {
  return { id, kind, label, details: [], networks: [], containers: [], attrs: {}, ...more };
}

export function edge(kind: EdgeKind, from: string, to: string, more: Partial<TopoEdge> = {}): TopoEdge {
  return { id: `${kind}:${from}->${to}`, kind, from, to, ...more };
}

/** Stable identifiers, one scheme for every describer. */
export const ids = {
  host: () => 'host',
  internet: () => 'internet',
  hostIf: (name: string) => `hostif:${name}`,
  bridge: (name: string) => `bridge:${name}`,
  veth: (where: string, name: string) => `veth:${where}:${name}`,
  sandbox: (name: string) => `sandbox:${name}`,
  iface: (sandbox: string, ifname: string) => `if:${sandbox}:${ifname}`,
  container: (name: string) => `container:${name}`,
  overlayNs: (net: string) => `ovns:${net}`,
  overlayBridge: (net: string) => `ovbr:${net}`,
  vxlan: (net: string) => `vxlan:${net}`,
  peer: (node: string) => `peer:${node}`,
  vtep: (node: string) => `vtep:${node}`,
  remote: (net: string, ip: string) => `remote:${net}:${ip}`,
  port: (proto: string, hostIp: string, port: string) => `port:${proto}:${hostIp}:${port}`,
  dns: (sandbox: string) => `dns:${sandbox}`,
  resolver: () => 'resolver',
};
