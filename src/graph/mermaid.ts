// Topology -> Mermaid flowchart, for course notes in Markdown. Boxes are
// subgraphs; drift is a red dashed class (nodes) and a red link style (edges).
import type { EdgeKind, TopoNode, Topology } from '../topology/model.js';
import { boxLines, boxTree, nodeLines } from './tree.js';

/** Mermaid ids must be plain words: n0, n1, ... in identifier order. */
function idMap(t: Topology): Map<string, string> {
  return new Map(t.nodes.map((n, i) => [n.id, `n${i}`]));
}

const text = (s: string) => s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');

/** Several lines of text in one Mermaid label. */
const lines_ = (xs: string[]) => xs.map(text).join('<br/>');

const SHAPE: Partial<Record<TopoNode['kind'], [string, string]>> = {
  internet: ['((', '))'],
  port: ['>', ']'],
  container: ['[[', ']]'],
  resolver: ['[/', '/]'],
  dns: ['[/', '/]'],
};

const ARROW: Record<EdgeKind, string> = {
  cable: '===',
  port: '---',
  uplink: '---',
  macvlan: '===',
  dnat: '-->',
  masquerade: '-->',
  isolation: '-.-',
  dns: '-.->',
  tunnel: '<==>',
  link: '-.->',
};

export function renderMermaid(t: Topology): string {
  const id = idMap(t);
  const tree = boxTree(t);
  const lines = ['flowchart LR'];
  const emit = (parent: string, indent: string) => {
    for (const n of tree.children(parent)) {
      if (tree.isBox(n)) {
        lines.push(`${indent}subgraph ${id.get(n.id)}["${lines_(boxLines(n))}"]`);
        emit(n.id, `${indent}  `);
        lines.push(`${indent}end`);
      } else {
        const [open, close] = SHAPE[n.kind] ?? ['[', ']'];
        lines.push(`${indent}${id.get(n.id)}${open}"${lines_(nodeLines(n))}"${close}`);
      }
    }
  };
  emit('', '  ');
  const redEdges: number[] = [];
  const greyEdges: number[] = [];
  t.edges.forEach((e, i) => {
    const arrow = ARROW[e.kind];
    lines.push(`  ${id.get(e.from)} ${arrow}${e.label ? `|"${text(e.label)}"|` : ''} ${id.get(e.to)}`);
    if (e.drift?.length) redEdges.push(i);
    else if (e.absent) greyEdges.push(i);
  });
  lines.push('  classDef drift stroke:#dc3545,stroke-width:3px,stroke-dasharray:6 4,color:#dc3545');
  lines.push('  classDef absent stroke:#adb5bd,stroke-dasharray:4 4,color:#6c757d');
  // Classes for nodes; boxes (subgraphs) get a style line each, the form every Mermaid version takes for them.
  const drifted = t.nodes.filter((n) => n.drift?.length && !tree.isBox(n)).map((n) => id.get(n.id));
  const absent = t.nodes.filter((n) => n.absent && !n.drift?.length && !tree.isBox(n)).map((n) => id.get(n.id));
  for (const n of t.nodes.filter((x) => tree.isBox(x) && (x.drift?.length || x.absent))) {
    lines.push(`  style ${id.get(n.id)} ${n.drift?.length ? 'stroke:#dc3545,stroke-width:3px,stroke-dasharray:6 4,color:#dc3545' : 'stroke:#adb5bd,stroke-dasharray:4 4'}`);
  }
  if (drifted.length) lines.push(`  class ${drifted.join(',')} drift`);
  if (absent.length) lines.push(`  class ${absent.join(',')} absent`);
  if (redEdges.length) lines.push(`  linkStyle ${redEdges.join(',')} stroke:#dc3545,stroke-width:3px,stroke-dasharray:6 4`);
  if (greyEdges.length) lines.push(`  linkStyle ${greyEdges.join(',')} stroke:#adb5bd,stroke-dasharray:4 4`);
  return lines.join('\n') + '\n';
}
