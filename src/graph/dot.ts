// Topology -> Graphviz DOT. Left to right: the outside world, the host's
// uplink and bridges, the veth host ends, then the sandboxes with their
// interfaces and containers. Boxes are clusters. Drift is red and dashed;
// what the store expects but the kernel lacks is grey and dashed.
import type { EdgeKind, NodeKind, TopoEdge, TopoNode, Topology } from '../topology/model.js';
import { boxLines, boxTree, nodeLines } from './tree.js';

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

const NODE_STYLE: Record<NodeKind, string> = {
  host: '',
  sandbox: '',
  'overlay-ns': '',
  peer: '',
  internet: 'shape=ellipse, fillcolor="#e9ecef"',
  uplink: 'fillcolor="#dee2e6"',
  'host-if': 'fillcolor="#dee2e6"',
  bridge: 'fillcolor="#cfe2ff", penwidth=1.5',
  veth: 'fillcolor="#fff3cd"',
  iface: 'fillcolor="#d1e7dd"',
  container: 'shape=box3d, style=filled, fillcolor="#ffffff"',
  vxlan: 'fillcolor="#e0cffc"',
  vtep: 'fillcolor="#e0cffc"',
  remote: 'fillcolor="#d1e7dd"',
  port: 'shape=cds, style=filled, fillcolor="#f8d7da"',
  dns: 'shape=note, style=filled, fillcolor="#d1e7dd"',
  resolver: 'shape=component, style=filled, fillcolor="#d1e7dd"',
};

const BOX_STYLE: Partial<Record<NodeKind, string>> = {
  host: 'style="rounded,filled"; fillcolor="#f8f9fa"; color="#495057"',
  sandbox: 'style="rounded,filled"; fillcolor="#f0faf4"; color="#198754"',
  'overlay-ns': 'style="rounded,filled"; fillcolor="#f5f0ff"; color="#6f42c1"',
  peer: 'style="rounded,dashed"; color="#6c757d"',
};

const EDGE_STYLE: Record<EdgeKind, string> = {
  cable: 'dir=none, penwidth=2.5, color="#212529"',
  port: 'dir=none, color="#495057"',
  uplink: 'dir=none, penwidth=2, color="#495057"',
  // A macvlan child is as far from its parent as a veth's inside end is from the uplink (ethN, veth, bridge, uplink): its sandbox then lines up with the others.
  macvlan: 'dir=none, penwidth=2, color="#6f42c1", fontcolor="#6f42c1", minlen=3',
  dnat: 'color="#0d6efd", fontcolor="#0d6efd"',
  masquerade: 'color="#fd7e14", fontcolor="#fd7e14"',
  isolation: 'dir=none, style=dotted, penwidth=2, color="#dc3545", fontcolor="#dc3545", constraint=false',
  dns: 'color="#198754", fontcolor="#198754", arrowhead=vee',
  tunnel: 'dir=both, penwidth=2.5, color="#6f42c1", fontcolor="#6f42c1"',
  link: 'color="#6c757d", fontcolor="#6c757d", arrowhead=onormal, constraint=false',
};

const DRIFT = 'color="#dc3545", fontcolor="#dc3545", penwidth=2.5';

function nodeAttrs(n: TopoNode): string {
  const attrs = [`label=${quote(nodeLines(n).join('\n'))}`];
  if (NODE_STYLE[n.kind]) attrs.push(NODE_STYLE[n.kind]);
  const base = n.kind === 'container' || n.kind === 'port' || n.kind === 'dns' || n.kind === 'resolver' ? 'filled' : 'rounded,filled';
  if (n.drift?.length) attrs.push(`style="${base},dashed"`, DRIFT, `tooltip=${quote(n.drift.join('\n'))}`);
  else if (n.absent) attrs.push(`style="${base},dashed"`, 'color="#adb5bd"', 'fontcolor="#6c757d"');
  return attrs.join(', ');
}

function edgeAttrs(e: TopoEdge): string {
  const attrs: string[] = [EDGE_STYLE[e.kind]];
  // A cable is recognisable by its weight; a label on each would crowd the picture.
  // Isolation walls are many (every pair of networks): a short mark each, the legend says what it means.
  if (e.kind === 'isolation') attrs.unshift('label="✕"');
  else if (e.label && e.kind !== 'cable') attrs.unshift(`label=${quote(e.label)}`);
  if (e.drift?.length) attrs.push('style=dashed', DRIFT, `tooltip=${quote(e.drift.join('\n'))}`);
  else if (e.absent) attrs.push('style=dashed', 'color="#adb5bd"');
  return attrs.join(', ');
}

/**
 * Graphviz starts its crossing minimisation from the order nodes are written
 * in: host ends written in the order of the sandboxes they lead to (which are
 * written by name) give it fewer veth cables crossing to undo.
 */
function layoutOrder(nodes: TopoNode[]): TopoNode[] {
  const key = (n: TopoNode) => (n.kind === 'veth' && n.attrs.peer ? `veth ${n.attrs.peer}` : `${n.kind === 'veth' ? 'veth ~' : ''}${n.id}`);
  return [...nodes].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const LEGEND: Array<[EdgeKind | 'drift', string, string]> = [
  ['cable', '#212529', 'veth cable: host end to ethN'],
  ['macvlan', '#6f42c1', 'macvlan child on its parent'],
  ['tunnel', '#6f42c1', 'VXLAN tunnel to another host'],
  ['dnat', '#0d6efd', 'published port (DNAT)'],
  ['masquerade', '#fd7e14', "MASQUERADE: leaves with the host's address"],
  ['dns', '#198754', 'DNS: 127.0.0.11 to the resolver'],
  ['isolation', '#dc3545', '✕ networks isolated from each other'],
  ['link', '#6c757d', '--link (a line in /etc/hosts)'],
  ['drift', '#dc3545', 'dashed red: drift (not as plumb expects)'],
];

/** One legend row per kind of edge the picture has. */
function legendRows(t: Topology): string[] {
  const kinds = new Set<string>(t.edges.map((e) => e.kind));
  if (t.nodes.some((n) => n.drift?.length) || t.edges.some((e) => e.drift?.length)) kinds.add('drift');
  return LEGEND.filter(([k]) => kinds.has(k)).map(([, color, text]) => `<tr><td align="left"><font color="${color}">━━</font></td><td align="left"><font point-size="9">${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</font></td></tr>`);
}

export function renderDot(t: Topology): string {
  const tree = boxTree(t);
  const lines = [
    'digraph plumb {',
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labeljust=l, nodesep=0.25, ranksep=0.7, newrank=true, label=${quote(`plumb: the network of ${t.host}`)}, labelloc=t];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, margin="0.12,0.06"];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  let clusters = 0;
  const emit = (parent: string, indent: string) => {
    for (const n of layoutOrder(tree.children(parent))) {
      if (tree.isBox(n)) {
        lines.push(`${indent}subgraph cluster_${clusters++} {`);
        lines.push(`${indent}  label=${quote(boxLines(n).join('\n'))};`);
        const style = n.drift?.length ? 'style="rounded,dashed"; color="#dc3545"; fontcolor="#dc3545"; penwidth=2' : n.absent ? 'style="rounded,dashed"; color="#adb5bd"' : BOX_STYLE[n.kind];
        if (style) lines.push(`${indent}  ${style};`);
        emit(n.id, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}${quote(n.id)} [${nodeAttrs(n)}];`);
      }
    }
  };
  emit('', '  ');
  // The host's own interfaces (uplink, macvlan parents) line up in one column, the world beyond them.
  const hostIfs = t.nodes.filter((n) => n.kind === 'uplink' || n.kind === 'host-if');
  if (hostIfs.length > 1) lines.push(`  { rank=same; ${hostIfs.map((n) => quote(n.id)).join('; ')}; }`);
  const legend = legendRows(t);
  if (legend.length) {
    lines.push(`  "legend" [shape=plaintext, style="", margin=0, label=<<table border="0" cellborder="0" cellspacing="2">${legend.join('')}</table>>];`);
  }
  if (t.drift.length) {
    // The findings in words, on the picture itself: a PNG has no tooltips.
    const text = ['drift (plumb system check; plumb system gc repairs):', ...t.drift.map((d) => `! ${d}`)].map((l) => l.replace(/\\/g, '\\\\').replace(/"/g, '\\"')).join('\\l') + '\\l';
    lines.push(`  "drift" [shape=note, style=filled, fillcolor="#fff5f5", color="#dc3545", fontcolor="#dc3545", label="${text}"];`);
  }
  const kindOf = new Map(t.nodes.map((n) => [n.id, n.kind]));
  for (const e of t.edges) {
    // Graphviz ranks an edge's tail left of its head. Laid out so a packet
    // leaving a container reads left to right (ethN, veth, bridge, uplink,
    // world), some edges are written tail-last: undirected ones simply swapped,
    // a DNAT arrow drawn backwards.
    const flip = e.kind === 'cable' || e.kind === 'macvlan' || e.kind === 'dnat' || (e.kind === 'port' && (kindOf.get(e.from) === 'remote' || kindOf.get(e.from) === 'vxlan'));
    const [tail, head] = flip ? [e.to, e.from] : [e.from, e.to];
    const extra = flip && !e.undirected ? ', dir=back' : '';
    lines.push(`  ${quote(tail)} -> ${quote(head)} [${edgeAttrs(e)}${extra}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
