// An OpSink that prints each kernel change as shell commands the moment it is
// recorded: `--explain` (while running) and `--dry-run` (instead of running).
import type { Op, OpSink } from '../kernel/ops.js';
import { hasWhy, newRenderState, renderOp, scriptHeader, type RenderOptions } from './render.js';

/** Anything with a string `write`, e.g. process.stdout or a Writable. */
export interface TextOut {
  write(chunk: string): unknown;
}

export interface PrinterOptions extends RenderOptions {
  /** Print the `#!/bin/sh` / `set -e` lines before the first op, so the output is itself a script. */
  header?: boolean;
}

export class ExplainPrinter implements OpSink {
  private readonly opts: PrinterOptions;
  private started = false;
  private count = 0;

  constructor(
    private readonly out: TextOut,
    opts: PrinterOptions = {},
  ) {
    this.opts = { ...opts, state: opts.state ?? newRenderState() };
  }

  /** How many ops have been printed. */
  get printed(): number {
    return this.count;
  }

  record(op: Op): void {
    const lines = renderOp(op, this.opts);
    if (lines.length === 0) return;
    let text = '';
    if (!this.started) {
      this.started = true;
      if (this.opts.header) text += scriptHeader().join('\n') + '\n\n';
    } else if (hasWhy(op, this.opts)) {
      // A blank line before each explained step groups its commands into a paragraph.
      text += '\n';
    }
    text += lines.join('\n') + '\n';
    this.count++;
    this.out.write(text);
  }
}

/** Shorthand: a printer on `out` (stdout by default). */
export function explainPrinter(out: TextOut = process.stdout, opts?: PrinterOptions): ExplainPrinter {
  return new ExplainPrinter(out, opts);
}
