// Graphviz's `dot`, run once per picture: DOT text on stdin, the rendered
// image (SVG or PNG) on stdout.
import { KernelError } from './errors.js';
import { runFilter } from './runner.js';

export class GraphvizMissing extends Error {}

export async function runGraphviz(dot: string, format: 'svg' | 'png', program = process.env.PLUMB_DOT ?? 'dot'): Promise<Buffer> {
  let r: Awaited<ReturnType<typeof runFilter>>;
  try {
    r = await runFilter([program, `-T${format}`], dot, { doing: `draw the picture with ${program}` });
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      throw new GraphvizMissing(`--format ${format} needs Graphviz's dot, which is not installed: apt-get install graphviz (or use --format ascii|dot|mermaid|json)`);
    }
    throw err;
  }
  if (r.code !== 0) {
    throw new KernelError(`${program} -T${format} failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0] || 'no message'}`, 'EGRAPHVIZ');
  }
  return r.stdout;
}
