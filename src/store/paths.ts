// Where plumb keeps things. PLUMB_ROOT (or --root) moves everything below one
// directory so tests and learners can run many independent instances.
import { join } from 'node:path';

export interface Paths {
  /** Durable state: the store (a record per container), each container's log. */
  state: string;
  /** Runtime: namespace files, each sandbox's hosts / resolv.conf / hostname, the lock. Gone after a reboot, like /run (tmpfs on systemd distributions). */
  run: string;
  /** Where sandboxes are also registered under their container name for `ip netns`. */
  netnsNames: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env, rootFlag?: string): Paths {
  const root = rootFlag ?? env.PLUMB_ROOT;
  const state = root ? join(root, 'lib') : '/var/lib/plumb';
  // PLUMB_RUN_DIR moves the run directory alone (e.g. to a tmpfs, with the state on disk, as /run and /var/lib are).
  const run = env.PLUMB_RUN_DIR ?? (root ? join(root, 'run') : '/run/plumb');
  const netnsNames = env.PLUMB_NETNS_DIR ?? (root ? join(root, 'netns-names') : '/run/netns');
  return { state, run, netnsNames };
}

export const storeFile = (p: Paths) => join(p.state, 'store.json');
export const lockFile = (p: Paths) => join(p.run, 'lock');
export const netnsDir = (p: Paths) => join(p.run, 'netns');
export const utsDir = (p: Paths) => join(p.run, 'uts');
/** Exit statuses the monitors wrote that no command has reaped yet: what reapExited reads instead of every container. */
export const exitsDir = (p: Paths) => join(p.run, 'exits');
/** Exit statuses already reaped (kept for `wait` and foreground `run` until the container starts again or goes). */
export const exitedDir = (p: Paths) => join(p.run, 'exited');
export const containersDir = (p: Paths) => join(p.state, 'containers');
/** A container's durable files: its output log. */
export const containerDir = (p: Paths, id: string) => join(containersDir(p), id);
export const sandboxesDir = (p: Paths) => join(p.run, 'containers');
/**
 * A sandbox's /etc/hosts, /etc/resolv.conf and /etc/hostname: in the run
 * directory (a tmpfs), as Podman keeps them in its runroot. They are written
 * on every start from the record, so nothing is lost with the run directory.
 */
export const sandboxDir = (p: Paths, id: string) => join(sandboxesDir(p), id);
