// plumb graph [NETWORK|CONTAINER...] [--format F] [-o FILE]: the host's
// network as a picture, drawn from the kernel.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { openContext, out } from '../output.js';

export interface GraphOptions {
  format: string;
  output?: string;
}

export async function graph(names: string[], o: GraphOptions, cmd: Command): Promise<number> {
  const { isGraphFormat, GRAPH_FORMATS, renderGraph } = await import('../../graph/index.js');
  const format = o.format.toLowerCase();
  if (!isGraphFormat(format)) throw new Error(`unknown --format ${o.format}: use one of ${GRAPH_FORMATS.join(', ')}`);
  if ((format === 'png' || format === 'svg') && !o.output && process.stdout.isTTY) {
    throw new Error(`--format ${format} writes an image: give a file with -o FILE (or pipe the output)`);
  }
  const ctx = await openContext(cmd, false, 'plumb graph');
  try {
    const { gatherTopology } = await import('../../engine/system/graph.js');
    const { selectTopology } = await import('../../topology/select.js');
    const topology = selectTopology(await gatherTopology(ctx), names);
    const picture = await renderGraph(topology, format);
    if (o.output) writeFileSync(o.output, picture);
    else if (format === 'png') process.stdout.write(picture);
    else out(picture.toString('utf8'));
    return 0;
  } finally {
    ctx.close();
  }
}
