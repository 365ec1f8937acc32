// Graphviz's `dot`, run once per picture: DOT text on stdin, the rendered
// image (SVG or PNG) on stdout.
import { spawn } from './spawn.js';
import { KernelError } from './errors.js';

export class GraphvizMissing extends Error {}

export function runGraphviz(dot: string, format: 'svg' | 'png', program = process.env.PLUMB_DOT ?? 'dot'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [`-T${format}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new GraphvizMissing(`--format ${format} needs Graphviz's dot, which is not installed: apt-get install graphviz (or use --format ascii|dot|mermaid|json)`));
      } else reject(KernelError.from(e, `cannot run ${program}`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new KernelError(`${program} -T${format} failed (exit ${code}): ${Buffer.concat(err).toString('utf8').trim().split('\n')[0] || 'no message'}`, 'EGRAPHVIZ'));
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(dot);
  });
}
