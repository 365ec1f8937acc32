// One lock for the whole store: every plumb operation is read-modify-write
// under it, so two plumb processes never hand out the same address.
// A lock file created with O_EXCL holds the owner's PID and start time; a lock
// whose owner is gone (crash, SIGKILL) is stale and taken over.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleepBuffer, 0, 0, ms);

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerAlive(content: string): boolean {
  const [pid, start] = content.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  return startTime(n) === start;
}

export class StoreLock {
  /** How many acquire()s of this holder are not yet released: the lock nests, the outermost release frees it. */
  private depth = 0;

  constructor(private readonly path: string) {}

  /** Whether this process holds the lock now. */
  get held(): boolean {
    return this.depth > 0;
  }

  /** Blocks until the lock is ours (or timeoutMs passes: then a clear error). */
  acquire(timeoutMs = 30_000): void {
    if (this.held) {
      this.depth++;
      return;
    }
    mkdirSync(dirname(this.path), { recursive: true });
    const me = `${process.pid} ${startTime(process.pid)}\n`;
    const deadline = Date.now() + timeoutMs;
    let wait = 1;
    for (;;) {
      try {
        const fd = openSync(this.path, 'wx', 0o600);
        writeSync(fd, me);
        closeSync(fd);
        this.depth = 1;
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST') throw err;
      }
      let content = '';
      try {
        content = readFileSync(this.path, 'utf8');
      } catch {
        continue; // released between our open and read
      }
      // An empty file is a lock being written right now; only a dead owner is stale.
      if (content && !ownerAlive(content)) {
        try {
          // Remove only if it is still the same stale content.
          if (readFileSync(this.path, 'utf8') === content) unlinkSync(this.path);
        } catch {
          /* someone else removed it */
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`another plumb process holds the lock ${this.path} (owner ${content.trim() || 'unknown'}); wait for it or remove the file if that process is gone`);
      }
      sleep(wait);
      wait = Math.min(wait * 2, 20);
    }
  }

  release(): void {
    if (!this.held) return;
    if (--this.depth > 0) return;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
