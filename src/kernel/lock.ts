// One lock for the whole store: every plumb operation is read-modify-write
// under it, so two plumb processes never hand out the same address.
//
// flock(2) on a lock file that stays in place. The kernel releases the lock
// when its holder's last descriptor closes, however the process ends (crash,
// SIGKILL), so there is no stale lock to detect or take over. A new file per
// operation (O_EXCL, then unlink) would cost two inode changes every time,
// the dearest writes on some disks. The holder writes its PID and start time
// into the file, for the message of whoever waits too long.
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { ensurePrivateDir, isPermissionError, rootOnly } from './private.js';
import { dirname } from 'node:path';
import { LOCK_EX, LOCK_NB, native } from './native.js';
import { lockTaken } from './crash-hooks.js';
import { processStartTime } from './process.js';

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleepBuffer, 0, 0, ms);

/** Fixed width, so each holder overwrites the last in place and the file never grows or shrinks. */
const HOLDER_WIDTH = 40;


function holderOf(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

export class StoreLock {
  /** How many acquire()s of this holder are not yet released: the lock nests, the outermost release frees it. */
  private depth = 0;
  private fd = -1;

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
    let fd: number;
    try {
      ensurePrivateDir(dirname(this.path));
      fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o600);
    } catch (err) {
      if (isPermissionError(err)) throw rootOnly(dirname(this.path));
      throw err;
    }
    try {
      const deadline = Date.now() + timeoutMs;
      let wait = 1;
      while (!native().flock(fd, LOCK_EX | LOCK_NB)) {
        if (Date.now() > deadline) {
          throw new Error(`another plumb process holds the lock ${this.path} (pid and start time: ${holderOf(this.path) || 'unknown'}); wait for it to finish`);
        }
        sleep(wait);
        wait = Math.min(wait * 2, 20);
      }
      writeSync(fd, `${process.pid} ${processStartTime(process.pid)}`.padEnd(HOLDER_WIDTH - 1) + '\n', 0);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
    this.depth = 1;
    lockTaken();
  }

  release(): void {
    if (!this.held) return;
    if (--this.depth > 0) return;
    // Closing the only descriptor of this open file releases the flock.
    closeSync(this.fd);
    this.fd = -1;
  }
}
