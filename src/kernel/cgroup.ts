// cgroup v2: one cgroup per container holds every process of it (its main
// process and everything `exec` starts), so plumb can list them (`top`),
// signal them all (`stop`) and end them at once (`cgroup.kill`, `rm -f`).
//
// Hosts mount cgroup2 in different places: /sys/fs/cgroup on a unified
// system, /sys/fs/cgroup/unified on a hybrid one (v1 controllers elsewhere).
// plumb needs no controller, only the hierarchy, so it works on both. Those
// two places are asked first (one statfs each); /proc/self/mountinfo is read
// only when neither is cgroup2, since it grows by a line per mount and a host
// with a thousand sandboxes has thousands.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from './errors.js';

let mountCache: string | null | undefined;

const CGROUP2_SUPER_MAGIC = 0x63677270;
const USUAL_MOUNTS = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

function isCgroup2(dir: string): boolean {
  try {
    return statfsSync(dir).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The first cgroup2 mount point /proc/self/mountinfo lists. */
function firstInMountinfo(): string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    if (line.slice(sep + 3).split(' ')[0] !== 'cgroup2') continue;
    return line.split(' ')[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}

/** Where cgroup2 is mounted (a usual place, else the first one in mountinfo), or undefined when it is not. */
export function cgroup2Mount(): string | undefined {
  if (mountCache === undefined) mountCache = USUAL_MOUNTS.find(isCgroup2) ?? firstInMountinfo() ?? null;
  return mountCache ?? undefined;
}

/** The cgroup2 mount, or a clear error naming what is missing. */
export function requireCgroup2(): string {
  const m = cgroup2Mount();
  if (!m) throw new KernelError('cgroup2 is not mounted: mount it (mount -t cgroup2 none /sys/fs/cgroup/unified) so plumb can track container processes', 'ENOENT', 2);
  return m;
}

/** Creates `dir` (and its parent group); an existing one is reused. */
export function createCgroup(dir: string): void {
  // Another plumb may remove the (empty) parent between our mkdirs: try again.
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(dir, { recursive: true });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code === 'ENOENT' && attempt < 5) continue;
      throw KernelError.from(err, `mkdir ${dir}`);
    }
  }
}

/** The cgroups directly below `dir` (empty when it does not exist). */
export function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** PIDs of the processes in the cgroup (empty when it does not exist). */
export function cgroupPids(dir: string): number[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l)
    .map(Number);
}

export function cgroupPopulated(dir: string): boolean {
  try {
    return /populated 1/.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Sends `signal` to every process of the cgroup. */
export function signalCgroup(dir: string, signal: NodeJS.Signals | number): void {
  for (const pid of cgroupPids(dir)) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw KernelError.from(err, `kill -${signal} ${pid}`);
    }
  }
}

/** SIGKILL to every process of the cgroup and its descendants, in one write (cgroup.kill, Linux 5.14). */
export function killCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch (err) {
    // Older kernels: signal each process; a fork racing with this is caught by the caller's wait.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') signalCgroup(dir, 'SIGKILL');
    else throw KernelError.from(err, `write ${join(dir, 'cgroup.kill')}`);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves true once the cgroup holds no process (polling its events file), false after timeoutMs. */
export async function waitCgroupEmpty(dir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // A killed cgroup empties within a millisecond or two: look again soon, then less often.
  let step = 1;
  while (cgroupPopulated(dir)) {
    if (Date.now() >= deadline) return false;
    await sleep(step);
    step = Math.min(step * 2, 50);
  }
  return true;
}

/**
 * Removes the cgroup, ending what it still holds first, and then its parent
 * when that is left empty (another container may still be in it: then the
 * parent stays).
 */
export async function removeCgroup(dir: string, parent?: string): Promise<void> {
  if (existsSync(dir)) {
    if (cgroupPopulated(dir)) {
      killCgroup(dir);
      if (!(await waitCgroupEmpty(dir, 10_000))) throw new KernelError(`cgroup ${dir} still has processes after SIGKILL`, 'EBUSY', 16);
    }
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw KernelError.from(err, `rmdir ${dir}`);
    }
  }
  if (parent) {
    try {
      rmdirSync(parent);
    } catch {
      // Not empty (another container of this root) or already gone: both fine.
    }
  }
}
