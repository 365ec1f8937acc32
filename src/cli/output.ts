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
    sinks.push(new ExplainPrinter(g.dryRun ? process.stdout : process.stderr, { header: !!g.dryRun }));
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
