// An OpSink that prints each change as shell commands: `--explain` (as each
// step happens) and `--dry-run` (the whole script at the end, instead of
// running it).
//
// Full form: steps under headings (sandbox, virtual cable, address, ...), each
// with its `# why`. Brief form: the commands alone, one step after the other.
//
// Random values (IDs, veth names, MACs) are declared by the engine as they are
// chosen. --explain prints each as a shell assignment where it appears; a
// dry-run script declares them all at the top and uses the variables
// throughout, so a learner sees which values are random and may change them.
import { ONE_TIME_SETUP, type Declared, type Op, type OpSink } from '../kernel/ops.js';
import { commentLines, hasWhy, newRenderState, renderOp, scriptHeader, type RenderOptions } from './render.js';
import { headingLine, sectionOf } from './sections.js';

/** Anything with a string `write`, e.g. process.stdout or a Writable. */
export interface TextOut {
  write(chunk: string): unknown;
}

export type ExplainStyle = 'full' | 'brief';


export interface PrinterOptions extends RenderOptions {
  /**
   * Print a whole script at finish(): `#!/bin/sh`, `set -e`, the random values
   * as variables, then the steps (a dry run). Without it, each step is printed
   * as it is recorded (--explain).
   */
  header?: boolean;
  /** 'brief': one line per step, the command only (default 'full'). */
  style?: ExplainStyle;
}

export class ExplainPrinter implements OpSink {
  private readonly opts: PrinterOptions;
  private readonly brief: boolean;
  private started = false;
  private count = 0;
  private section?: string;
  private readonly lines: string[] = [];
  private readonly declared: Declared[] = [];
  /** --explain: declarations wait for the next step, to be shown under its heading. */
  private pending: Declared[] = [];
  /** Brief --explain: steps of the one-time setup shown as one line, not one by one. */
  private readonly fold: boolean;
  private folded = 0;

  constructor(
    private readonly out: TextOut,
    opts: PrinterOptions = {},
  ) {
    // Without comments there are no headings either: the commands alone.
    this.brief = opts.style === 'brief' || opts.comments === false;
    this.opts = { ...opts, state: opts.state ?? newRenderState(), comments: this.brief ? false : opts.comments };
    this.fold = opts.style === 'brief' && !opts.header;
  }

  /** How many ops have been printed. */
  get printed(): number {
    return this.count;
  }

  declare(d: Declared): void {
    this.declared.push(d);
    if (!this.opts.header) this.pending.push(d);
  }

  private declarationLines(): string[] {
    const lines = this.pending.map((d) => `${d.name}=${d.value}${this.brief ? '' : `  # ${oneLine(d.why)}`}`);
    this.pending = [];
    return lines;
  }

  record(op: Op): void {
    if (this.fold && op.section?.startsWith(ONE_TIME_SETUP)) {
      // Brief: the default bridge's setup is one line (a whole --explain of it is a command away).
      if (this.folded++ === 0) this.emit([`# ${oneLine(op.section)} (folded: --explain shows each step)`]);
      this.declarationLines();
      return;
    }
    const lines = renderOp(op, this.opts);
    if (lines.length === 0) return;
    const out: string[] = [];
    const section = sectionOf(op);
    if (!this.brief && section !== this.section) {
      if (this.started) out.push('');
      out.push(headingLine(section));
      this.section = section;
      if (hasWhy(op, this.opts)) out.push('');
    } else if (this.started && hasWhy(op, this.opts)) {
      // A blank line before each explained step groups its commands into a paragraph.
      out.push('');
    }
    // Random values the step uses come just before it: after its heading, above its paragraph.
    const declared = this.declarationLines();
    if (declared.length && out.at(-1) === '') {
      if (out.length === 1) out.push(...declared, '');
      else out.splice(-1, 0, ...declared);
    } else out.push(...declared);
    out.push(...lines);
    this.count++;
    this.emit(out);
  }

  /**
   * A dry run's script, printed once the operation is over: header, the random
   * values as variables, the steps with the variables in place of the values,
   * then `trailer` (what the command itself would print) as comments.
   */
  finish(trailer: readonly string[] = []): void {
    if (!this.opts.header) return;
    const body = this.lines.splice(0);
    const used = this.declared.filter((d) => body.some((l) => l.includes(d.value)) || trailer.some((l) => l.includes(d.value)));
    const text: string[] = [...scriptHeader(), ''];
    if (used.length) {
      if (!this.brief) {
        text.push('# Values plumb chose at random for this run (the real command picks its own): change them freely.');
      }
      for (const d of used) text.push(`${d.name}=${d.value}${this.brief ? '' : `  # ${oneLine(d.why)}`}`);
      text.push('');
    }
    text.push(...useVariables(body, used));
    if (trailer.length) {
      text.push('');
      text.push(...useVariables(commentLines(`plumb would print:\n${trailer.join('\n')}`), used));
    }
    this.out.write(text.join('\n') + '\n');
  }

  private emit(lines: string[]): void {
    this.started = true;
    if (this.opts.header) this.lines.push(...lines);
    else this.out.write(lines.join('\n') + '\n');
  }
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Puts `${NAME}` wherever a declared value stands on its own (not inside a
 * longer word). A heredoc whose body then holds a variable is unquoted so the
 * shell expands it, with anything else the shell would expand escaped.
 */
export function useVariables(lines: readonly string[], declared: readonly Declared[]): string[] {
  if (declared.length === 0) return [...lines];
  // Longest first: a full ID before its 12-character prefix.
  const subs = [...declared]
    .sort((a, b) => b.value.length - a.value.length)
    .map((d) => ({ re: new RegExp(`(?<![\\w-]|[0-9a-fA-F]{2}:)${escapeRegExp(d.value)}(?![\\w-]|:[0-9a-fA-F]{2})`, 'g'), to: `\${${d.name}}` }));
  const substitute = (line: string): string => subs.reduce((l, s) => l.replace(s.re, s.to), line);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const opener = /<<'([A-Za-z0-9_]+)'$/.exec(line);
    if (!opener) {
      out.push(line.startsWith('#') || !line.includes("'") ? substitute(line) : line);
      continue;
    }
    const delim = opener[1]!;
    let end = i + 1;
    while (end < lines.length && lines[end] !== delim) end++;
    const body = lines.slice(i + 1, end);
    const replaced = body.map(substitute);
    if (replaced.some((l, k) => l !== body[k])) {
      out.push(substitute(line).replace(/<<'([A-Za-z0-9_]+)'$/, '<<$1'));
      out.push(...body.map((l) => substitute(l.replace(/[\\$`]/g, '\\$&'))));
    } else {
      out.push(substitute(line), ...body);
    }
    if (end < lines.length) out.push(delim);
    i = end;
  }
  return out;
}

/** Shorthand: a printer on `out` (stdout by default). */
export function explainPrinter(out: TextOut = process.stdout, opts?: PrinterOptions): ExplainPrinter {
  return new ExplainPrinter(out, opts);
}
