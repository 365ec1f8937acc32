// Write-ahead log of kernel changes. An operation that crashes half-way
// (SIGKILL, power cut of the process) never commits its store record, so the
// store cannot tell what it made. Before each kernel change the journal hands
// the op to this log, which appends it to <run>/intents/<pid>-<start>.jsonl.
// The log is removed when the operation ends cleanly; one whose process is
// gone names exactly what the crash may have left, so `plumb system gc` can
// remove it without guessing (and without touching look-alike objects of a
// real Docker on the same host).
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Op, OpSink } from '../../kernel/ops.js';
import { isAlive, processStartTime } from '../../kernel/process.js';
import type { Paths } from '../../store/paths.js';
import type { Context } from './context.js';

export const intentsDir = (p: Paths) => join(p.run, 'intents');

/**
 * The log of whoever holds the store lock (withIntent holds it throughout).
 * It is emptied, not removed, when an operation ends, so the next operation
 * writes into an existing file instead of creating one (a new file is the
 * dearest thing an operation writes on some filesystems). Its first line
 * names the writer: `# PID START`.
 */
export const SHARED_LOG = 'active.jsonl';

/** Name of a log set aside for gc: its writer, so staleIntents can tell whether it is gone. */
const ownedName = (pid: number, start: number, n: number) => `${pid}-${start}-${n}.jsonl`;

function ownerLine(text: string): { pid: number; start: number } | undefined {
  const m = /^# (\d+) (\d+)\n/.exec(text);
  return m ? { pid: Number(m[1]), start: Number(m[2]) } : undefined;
}

class IntentLog implements OpSink {
  /** Opened on the first op and kept open: one write per op after that. */
  private fd = -1;
  private file = '';
  private shared = false;
  active = true;

  constructor(
    private readonly dir: string,
    private readonly pid: number,
    private readonly start: number,
    private readonly seq: number,
  ) {}

  /**
   * Names the operation under way (`# intent {...}`), so gc can finish it if it is cut short.
   * Not `declare`: that is OpSink's hook for the journal's random values, which this log does not keep.
   */
  declareIntent(what: DeclaredIntent): void {
    if (!this.active) return;
    let line = `# intent ${JSON.stringify(what)}\n`;
    if (this.fd < 0) line = this.open() + line;
    writeSync(this.fd, line);
  }

  record(op: Op): void {
    if (!this.active) return;
    let line = `${JSON.stringify(op)}\n`;
    if (this.fd < 0) line = this.open() + line;
    // One write per op: the page cache keeps it even if this process is killed right after.
    writeSync(this.fd, line);
  }

  /** Opens the log; returns what must precede the first op (the owner line of the shared log). */
  private open(): string {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, SHARED_LOG);
    const fd = openSync(file, 'a+');
    const left = fstatSync(fd).size > 0 ? ownerLine(readFileSync(file, 'utf8')) ?? { pid: 0, start: 0 } : undefined;
    if (!left) {
      this.shared = true;
      this.file = file;
      this.fd = fd;
      return `# ${this.pid} ${this.start}\n`;
    }
    closeSync(fd);
    // Ours: an operation still open in this process (a nested one); it keeps the shared log.
    if (left.pid === this.pid && left.start === this.start) return this.openPrivate();
    // Left by a writer that died holding the lock (we hold it now): set it aside for gc, under its writer's name.
    renameSync(file, join(this.dir, ownedName(left.pid, left.start, Date.now())));
    return this.open();
  }

  /** A log of our own, named after this process, for an operation nested in another. */
  private openPrivate(): string {
    this.file = join(this.dir, ownedName(this.pid, this.start, this.seq));
    this.fd = openSync(this.file, 'a');
    return '';
  }

  close(keep: boolean): void {
    this.active = false;
    if (this.fd < 0) return;
    if (keep && this.shared) renameSync(this.file, join(this.dir, ownedName(this.pid, this.start, this.seq)));
    else if (!keep && this.shared) ftruncateSync(this.fd, 0);
    closeSync(this.fd);
    this.fd = -1;
    if (!keep && !this.shared) rmSync(this.file, { force: true });
  }
}

let seq = 0;
/** The log of the operation this process runs under withIntent, if any. */
let current: IntentLog | undefined;

/**
 * An operation that gc finishes rather than rolls back when it is cut short:
 * `rm` of a container (its teardown may be half done; the user asked for it gone).
 */
export interface DeclaredIntent {
  op: 'rm';
  container: string;
}

/** Declares what the running operation is about to do (a no-op outside withIntent). */
export function declareIntent(what: DeclaredIntent): void {
  current?.declareIntent(what);
}

/**
 * Runs `body` with the store lock held and every kernel change logged ahead.
 * The log is emptied when the body succeeds, or fails with a clean rollback;
 * it stays for gc when the rollback itself failed (and, by nature, when the
 * process dies). The lock is held until the log is settled, so the next
 * operation never finds a live writer's log.
 */
export async function withIntent<T>(ctx: Context, body: () => Promise<T>): Promise<T> {
  if (ctx.dryRun) return body();
  return ctx.store.exclusive(async () => {
    const log = new IntentLog(intentsDir(ctx.paths), process.pid, processStartTime(process.pid) ?? 0, seq++);
    ctx.journal.addSink(log);
    const outer = current;
    current = log;
    try {
      const result = await body();
      log.close(false);
      return result;
    } catch (err) {
      log.close(/rollback failed/.test((err as Error)?.message ?? ''));
      throw err;
    } finally {
      current = outer;
    }
  });
}

export interface StaleIntent {
  file: string;
  pid: number;
  ops: Op[];
  /** Operations it declared (declareIntent) that gc finishes. */
  declared: DeclaredIntent[];
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
  // A zombie (killed, not yet reaped by its parent) or a reused PID is no live writer.
  const gone = (pid: number, start: string) => pid !== process.pid && !isAlive(pid, Number(start));
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    let pid: number;
    if (name === SHARED_LOG) {
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      const owner = ownerLine(text);
      // Empty: no operation under way. No owner line yet: its first write is under way.
      if (!owner || !gone(owner.pid, String(owner.start))) continue;
      pid = owner.pid;
    } else {
      const m = /^(\d+)-(\d+)-\d+\.jsonl$/.exec(name);
      if (!m) continue;
      pid = Number(m[1]);
      if (!gone(pid, m[2]!)) continue; // still running
      text = readFileSync(file, 'utf8');
    }
    const ops: Op[] = [];
    const declared: DeclaredIntent[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith('# intent ')) {
        try {
          declared.push(JSON.parse(line.slice('# intent '.length)) as DeclaredIntent);
        } catch {
          // cut short by the crash: the operation had not begun
        }
        continue;
      }
      if (!line.trim() || line.startsWith('# ')) continue;
      try {
        ops.push(JSON.parse(line) as Op);
      } catch {
        // a line cut short by the crash: the op it describes never ran
      }
    }
    out.push({ file, pid, ops, declared });
  }
  return out;
}
