// One entry for every picture format: text formats are rendered here, SVG and
// PNG are DOT handed to Graphviz.
import { runGraphviz } from '../kernel/graphviz.js';
import type { Topology } from '../topology/model.js';
import { renderAscii } from './ascii.js';
import { renderDot } from './dot.js';
import { renderJson } from './json.js';
import { renderMermaid } from './mermaid.js';

export const GRAPH_FORMATS = ['ascii', 'dot', 'mermaid', 'json', 'svg', 'png'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export function isGraphFormat(f: string): f is GraphFormat {
  return (GRAPH_FORMATS as readonly string[]).includes(f);
}

export function renderText(t: Topology, format: Exclude<GraphFormat, 'svg' | 'png'>): string {
  switch (format) {
    case 'ascii':
      return renderAscii(t);
    case 'dot':
      return renderDot(t);
    case 'mermaid':
      return renderMermaid(t);
    case 'json':
      return renderJson(t);
  }
}

export async function renderGraph(t: Topology, format: GraphFormat): Promise<Buffer> {
  if (format === 'svg' || format === 'png') return runGraphviz(renderDot(t), format);
  return Buffer.from(renderText(t, format));
}

export { renderAscii, renderDot, renderJson, renderMermaid };
