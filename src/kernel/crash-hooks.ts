// Hooks the crash tests use to kill plumb at chosen moments, leaving real
// leftovers for `plumb system check` / `gc` to find:
//   PLUMB_CRASH_AT_OP=N          SIGKILL just before the Nth recorded kernel
//                                change of the process runs (it is already in
//                                the write-ahead journal, as in a real crash);
//   PLUMB_CRASH_AFTER_LOCK_US=N  SIGKILL N microseconds after the store lock is
//                                first taken, from a thread of its own, so the
//                                kill lands wherever the program is then.
// Both are read once and removed from the environment, so processes plumb
// starts (the resolver, the agent, a container's command) never inherit them.
import { native } from './native.js';

function take(name: string): number {
  const value = Number(process.env[name] ?? 0);
  delete process.env[name];
  return Number.isFinite(value) && value > 0 ? value : 0;
}

const crashAtOp = take('PLUMB_CRASH_AT_OP');
let crashAfterLockUs = take('PLUMB_CRASH_AFTER_LOCK_US');
let ops = 0;

/** Called for every recorded kernel change, after it is journaled and before it runs. */
export function beforeKernelChange(): void {
  if (crashAtOp && ++ops === crashAtOp) process.kill(process.pid, 'SIGKILL');
}

/** Called when the store lock is taken. */
export function lockTaken(): void {
  if (!crashAfterLockUs) return;
  native().killSelfAfter(crashAfterLockUs);
  crashAfterLockUs = 0;
}
