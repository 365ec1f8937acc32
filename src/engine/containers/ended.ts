// Whether a container recorded as running has ended, on its own module: ps,
// port and inspect ask it of every container they show, and importing it from
// the teardown (which withdraws firewall rules and endpoints) made them
// evaluate the firewall, the drivers and the address library for nothing.
import { isNamespaceFile } from '../../kernel/netns.js';
import { isRecordedProcessAlive } from '../../kernel/process.js';
import type { ContainerRecord } from '../../store/model.js';

/**
 * Whether a container recorded as running has in fact ended: its main
 * process (COMMAND or the holder) is gone (a zombie or a reused PID counts as
 * gone), or it has no process (a record from before every container had one)
 * and its sandbox namespace is no longer mounted (a reboot, or a crash that
 * unmounted it): nothing holds its network stack any more.
 */
export function hasEnded(c: ContainerRecord): boolean {
  if (c.state !== 'running') return false;
  if (c.pid) return !isRecordedProcessAlive(c.pid, c.pidStart);
  return !!c.sandbox?.netns && !isNamespaceFile(c.sandbox.netns);
}
