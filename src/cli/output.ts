// Shared CLI plumbing: errors as one line, the root check, and an engine
// context wired to --explain / --dry-run.
import type { Command } from 'commander';
import { writeSync } from 'node:fs';
import type { Context } from '../engine/core/context.js';

export function reportError(err: unknown): number {
  const e = err as { message?: string; exitCode?: number; name?: string };
  const message = (e?.message ?? String(err)).split('\n')[0];
  process.stderr.write(`Error: ${message}\n`);
  if (process.env.PLUMB_DEBUG && (err as Error)?.stack) process.stderr.write(`${(err as Error).stack}\n`);
  return typeof e?.exitCode === 'number' ? e.exitCode : 1;
}

export function globals(cmd: Command): { root?: string; explain?: boolean; dryRun?: boolean } {
  return cmd.optsWithGlobals();
}

/** 'brief' after `--explain=brief` (main.ts reads it from argv; commander knows only `--explain`). */
let explainStyle: 'full' | 'brief' = 'full';

export function setExplainStyle(style: 'full' | 'brief'): void {
  explainStyle = style;
}

/**
 * In a dry run, what the command prints (a container ID, a name) is kept
 * here and printed as comments after the script, so the script runs as
 * printed: its last line is not a word sh would try to execute.
 */
let dryRunTrailer: string[] | undefined;

/** Commands that change the kernel need root; say so plainly instead of failing halfway. */
export function requireRoot(what: string): void {
  if (process.getuid && process.getuid() !== 0) {
    throw Object.assign(new Error(`${what} changes network namespaces, links and firewall rules: run it as root (sudo plumb ...)`), {
      exitCode: 1,
    });
  }
}

export async function openContext(cmd: Command, mutating: boolean, what: string): Promise<Context> {
  const g = globals(cmd);
  if (mutating && !g.dryRun) requireRoot(what);
  const { Context } = await import('../engine/core/context.js');
  const sinks = [];
  if (g.explain || g.dryRun) {
    const { ExplainPrinter } = await import('../explain/printer.js');
    // A dry run's output is the script itself (stdout); --explain narrates on stderr so stdout stays what Docker prints.
    const printer = new ExplainPrinter(g.dryRun ? process.stdout : process.stderr, { header: !!g.dryRun, style: explainStyle });
    sinks.push(printer);
    if (g.dryRun && !dryRunTrailer) {
      const trailer: string[] = (dryRunTrailer = []);
      // The script is whole only once the operation is over; a failed one prints its error and no script.
      process.once('exit', (code) => {
        if (code === 0 && !process.exitCode) printer.finish(trailer);
      });
    }
  }
  return new Context({ root: g.root, dryRun: !!g.dryRun, sinks });
}

/**
 * Prints a command's output. Straight to file descriptor 1: the first use of
 * process.stdout loads Node's streams, ~3 ms of a command that prints one
 * line. Writes to pipes and terminals are synchronous either way on Linux, so
 * the order with anything else printed to process.stdout stays. Whatever
 * writeSync cannot do at once (a full non-blocking pipe, a closed one) goes
 * to process.stdout, which handles it as before.
 */
export function out(text: string): void {
  // The reader went away (`plumb system check | head -1`): the rest of the output has no one to read it.
  if (readerGone) return;
  if (dryRunTrailer) {
    dryRunTrailer.push(...text.replace(/\n$/, '').split('\n'));
    return;
  }
  const data = Buffer.from(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  let done = 0;
  try {
    while (done < data.length) done += writeSync(1, data, done);
  } catch (err) {
    if ((err as { code?: string }).code === 'EPIPE') {
      readerGone = true;
      return;
    }
    // The same for what goes through the stream: a closed pipe ends the output quietly, not with a stack trace.
    if (!streamGuarded) {
      streamGuarded = true;
      process.stdout.on('error', (e: { code?: string }) => {
        if (e.code !== 'EPIPE') throw e;
        readerGone = true;
      });
    }
    process.stdout.write(data.subarray(done));
  }
}

let readerGone = false;
let streamGuarded = false;
