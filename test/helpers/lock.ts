// Whether a store lock is free, as another process would find it: a second
// holder (its own open file, so its own flock) tries for a moment.
import { StoreLock } from '../../src/kernel/lock.js';

export function lockIsFree(path: string): boolean {
  const probe = new StoreLock(path);
  try {
    probe.acquire(20);
  } catch {
    return false;
  }
  probe.release();
  return true;
}
