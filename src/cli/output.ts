// Shared CLI plumbing: errors as one line, the root check, and an engine
// context wired to --explain / --dry-run.
import type { Command } from 'commander';
import type { Context } from '../engine/context.js';

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
  const { Context } = await import('../engine/context.js');
  const sinks = [];
  if (g.explain || g.dryRun) {
    const { ExplainPrinter } = await import('../explain/printer.js');
    // A dry run's output is the script itself (stdout); --explain narrates on stderr so stdout stays what Docker prints.
    sinks.push(new ExplainPrinter(g.dryRun ? process.stdout : process.stderr, { header: !!g.dryRun }));
  }
  return new Context({ root: g.root, dryRun: !!g.dryRun, sinks });
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}
