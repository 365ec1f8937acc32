// Write-ahead log of kernel changes. An operation that crashes half-way
// (SIGKILL, power cut of the process) never commits its store record, so the
// store cannot tell what it made. Before each kernel change the journal hands
// the op to this log, which appends it to <run>/intents/<pid>-<start>.jsonl.
// The log is removed when the operation ends cleanly; one whose process is
// gone names exactly what the crash may have left, so `plumb system gc` can
// remove it without guessing (and without touching look-alike objects of a
// real Docker on the same host).
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Op, OpSink } from '../kernel/ops.js';
import { processStartTime } from '../kernel/process.js';
import type { Paths } from '../store/paths.js';
import type { Context } from './context.js';

export const intentsDir = (p: Paths) => join(p.run, 'intents');

class IntentLog implements OpSink {
  /** Opened on the first op and kept open: one write per op after that. */
  private fd = -1;
  active = true;

  constructor(readonly file: string) {}

  record(op: Op): void {
    if (!this.active) return;
    if (this.fd < 0) {
      mkdirSync(join(this.file, '..'), { recursive: true });
      this.fd = openSync(this.file, 'a');
    }
    // One write per op: the page cache keeps it even if this process is killed right after.
    writeSync(this.fd, `${JSON.stringify(op)}\n`);
  }

  close(keep: boolean): void {
    this.active = false;
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    if (!keep) rmSync(this.file, { force: true });
  }
}

let seq = 0;

/**
 * Runs `body` with every kernel change logged ahead. The log goes away when
 * the body succeeds, or fails with a clean rollback; it stays for gc when the
 * rollback itself failed (and, by nature, when the process dies).
 */
export async function withIntent<T>(ctx: Context, body: () => Promise<T>): Promise<T> {
  if (ctx.dryRun) return body();
  const log = new IntentLog(join(intentsDir(ctx.paths), `${process.pid}-${processStartTime(process.pid) ?? 0}-${seq++}.jsonl`));
  ctx.journal.addSink(log);
  try {
    const result = await body();
    log.close(false);
    return result;
  } catch (err) {
    log.close(/rollback failed/.test((err as Error)?.message ?? ''));
    throw err;
  }
}

export interface StaleIntent {
  file: string;
  pid: number;
  ops: Op[];
}

/** Logs whose writer is gone: what crashed (or badly failed) operations did to the kernel. */
export function staleIntents(paths: Paths): StaleIntent[] {
  const dir = intentsDir(paths);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: StaleIntent[] = [];
  for (const name of names) {
    const m = /^(\d+)-(\d+)-\d+\.jsonl$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || String(processStartTime(pid) ?? '') === m[2]) continue; // still running
    const file = join(dir, name);
    const ops: Op[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        ops.push(JSON.parse(line) as Op);
      } catch {
        // a line cut short by the crash: the op it describes never ran
      }
    }
    out.push({ file, pid, ops });
  }
  return out;
}
