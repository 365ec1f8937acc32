// The box structure shared by the renderers that nest (DOT clusters, Mermaid
// subgraphs): which nodes sit directly in which box, in identifier order.
import { BOX_KINDS, type TopoNode, type Topology } from '../topology/model.js';

export interface BoxTree {
  /** Nodes directly in the box (or at the top level for ''), boxes included. */
  children(parent: string): TopoNode[];
  isBox(n: TopoNode): boolean;
}

export function boxTree(t: Topology): BoxTree {
  const ids = new Set(t.nodes.map((n) => n.id));
  const byParent = new Map<string, TopoNode[]>();
  for (const n of t.nodes) {
    const p = n.parent && ids.has(n.parent) ? n.parent : '';
    if (!byParent.has(p)) byParent.set(p, []);
    byParent.get(p)!.push(n);
  }
  return { children: (p) => byParent.get(p) ?? [], isBox: (n) => BOX_KINDS.has(n.kind) };
}

/** The lines a node shows: its label, its details, and a note when it is drawn from the store alone or has drift. */
export function nodeLines(n: TopoNode): string[] {
  return [n.label, ...n.details, ...(n.absent ? ['(missing in the kernel)'] : []), ...(n.drift?.length ? ['! drift'] : [])];
}

/** A box's title: what it is, then its kernel name. */
export function boxTitle(n: TopoNode): string {
  if (n.kind === 'sandbox') return `sandbox ${n.label}`;
  if (n.kind === 'overlay-ns') return `overlay ${n.attrs.network}: namespace ${n.label}`;
  return n.label;
}

/** The lines of a box's title. */
export function boxLines(n: TopoNode): string[] {
  return [boxTitle(n), ...n.details, ...(n.absent ? ['(missing in the kernel)'] : []), ...(n.drift?.length ? ['! drift'] : [])];
}
