// Network and UTS namespaces: create them persistent (bind-mounted onto a file,
// as `ip netns add` does), open them, delete them, and step into one for a
// moment to create sockets or write sysctls there.
//
// Node runs JavaScript on one thread, and setns() moves only the calling thread,
// so a namespace "window" is strictly synchronous: enter, do the work, leave.
// Nothing may await inside it, or other callbacks would run in the wrong namespace.
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLONE_NEWNET, CLONE_NEWUTS, MNT_DETACH, MS_BIND, MS_REC, MS_SHARED, native } from './native.js';
import type { Journal } from './ops.js';
import { KernelError } from './errors.js';

/** An open handle on a network namespace. `name` is what `ip -n` calls it (null: plumb's own namespace). */
export interface Netns {
  readonly name: string | null;
  readonly path: string | null;
  readonly fd: number;
}

let hostNs: Netns | undefined;

function threadNsPath(kind: 'net' | 'uts'): string {
  return `/proc/self/task/${native().gettid()}/ns/${kind}`;
}

/** The namespace plumb was started in; every window returns here. */
export function hostNetns(): Netns {
  if (!hostNs) hostNs = { name: null, path: null, fd: openSync(threadNsPath('net'), 'r') };
  return hostNs;
}

let nsfsDevice: number | undefined;

/**
 * True when `path` is a namespace (a bind mount of one), not the plain empty
 * file a namespace is mounted onto: a process killed between creating the
 * file and mounting it leaves such a file, and so does a reboot or a lazy
 * unmount. Opening one works; using it (setns) fails with EINVAL.
 */
export function isNamespaceFile(path: string): boolean {
  nsfsDevice ??= statSync('/proc/self/ns/net').dev;
  try {
    return statSync(path).dev === nsfsDevice;
  } catch {
    return false;
  }
}

/** Opens a persistent namespace file made earlier (by plumb or by `ip netns add`). */
export function openNetns(path: string, name: string | null = null): Netns {
  if (existsSync(path) && !isNamespaceFile(path)) {
    throw new KernelError(`open namespace ${path}: it is a plain file, not a namespace (its mount is gone: a crash or a reboot); run plumb system gc`, 'EINVAL');
  }
  try {
    return { name, path, fd: openSync(path, 'r') };
  } catch (err) {
    throw KernelError.from(err, `open namespace ${path}`);
  }
}

export function closeNetns(ns: Netns): void {
  if (ns !== hostNs) closeSync(ns.fd);
}

/**
 * Runs `fn` with the main thread inside `ns`, then returns to plumb's namespace,
 * even when `fn` throws. Sockets created inside stay bound to `ns`.
 */
export function withinNetns<T>(ns: Netns, fn: () => T): T {
  const home = hostNetns();
  if (ns.fd === home.fd) return guardSync(fn());
  native().setns(ns.fd, CLONE_NEWNET);
  try {
    return guardSync(fn());
  } finally {
    native().setns(home.fd, CLONE_NEWNET);
  }
}

function guardSync<T>(value: T): T {
  if (value && typeof (value as { then?: unknown }).then === 'function') {
    throw new Error('withinNetns: the callback returned a promise; namespace windows must be synchronous');
  }
  return value;
}

/**
 * Makes `dir` a shared mount point so namespace bind mounts placed in it show up
 * in other mount namespaces too (what `ip netns add` does to /run/netns).
 */
export function ensureSharedMountDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const n = native();
  try {
    n.mount('none', dir, null, MS_SHARED | MS_REC);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EINVAL') throw KernelError.from(err, `make ${dir} shared`);
    // Not a mount point yet: bind it onto itself, then share it.
    n.mount(dir, dir, 'none', MS_BIND | MS_REC);
    n.mount('none', dir, null, MS_SHARED | MS_REC);
  }
}

/** True when `dir` is itself a mount point (we made it one with ensureSharedMountDir). */
export function isMountPoint(dir: string): boolean {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => line.split(' ')[4] === dir);
}

/** Undoes ensureSharedMountDir once the directory holds no namespaces. */
export function releaseMountDir(dir: string): void {
  if (isMountPoint(dir)) native().umount2(dir, MNT_DETACH);
}

/**
 * Creates a persistent network namespace at `path` (like `ip netns add`):
 * unshare a fresh one on this thread, bind its handle onto the file, go home.
 */
export function createNetns(journal: Journal, name: string, path: string, why?: string, file: NsFileOptions = {}): Netns {
  return journal.runSync(
    { kind: 'netns.add', ns: name, path, why },
    () => {
      ensureSharedMountDir(dirname(path));
      bindFreshNamespace(path, CLONE_NEWNET, 'net', file);
      return openNetns(path, name);
    },
    { name, path, fd: -1 },
  );
}

/** Creates a persistent UTS namespace at `path` whose hostname is `hostname`. */
export function createUtsNs(journal: Journal, name: string, path: string, hostname: string, why?: string, file: NsFileOptions = {}): void {
  journal.runSync({ kind: 'uts.add', ns: name, path, hostname, why }, () => {
    ensureSharedMountDir(dirname(path));
    bindFreshNamespace(path, CLONE_NEWUTS, 'uts', file, () => writeFileSync('/proc/sys/kernel/hostname', hostname));
  });
}

/**
 * The empty file that new namespace files in a directory of plumb's own are
 * hard links of (NsFileOptions.ownDir). A bind mount needs a file to sit on;
 * a new link costs a directory entry, where a new file also costs an inode,
 * the dearest write on some filesystems. Listings of namespace files skip it.
 */
export const MOUNT_POINT_TEMPLATE = '.mount-point';

export interface NsFileOptions {
  /**
   * The file's directory holds nothing but plumb's namespace files (its run
   * directory), so it may keep MOUNT_POINT_TEMPLATE. Never for a directory
   * that `ip netns` lists, where the template would show up as a namespace.
   */
  ownDir?: boolean;
}

/** Creates `path` as an empty file for a namespace to be bound onto; fails with EEXIST if it exists. */
function createMountPoint(path: string): void {
  const template = join(dirname(path), MOUNT_POINT_TEMPLATE);
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      linkSync(template, path);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EEXIST') throw err;
      if (code !== 'ENOENT' || attempt === 2) break;
    }
    // The first namespace file of this directory: make the template (another process may just have).
    try {
      closeSync(openSync(template, 'wx', 0o444));
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') break;
    }
  }
  // No template to link to (too many links, a filesystem without hard links, ...): a file of its own.
  closeSync(openSync(path, 'wx', 0o444));
}

function bindFreshNamespace(path: string, flag: number, kind: 'net' | 'uts', file: NsFileOptions, inside?: () => void): void {
  const n = native();
  const home = openSync(threadNsPath(kind), 'r');
  try {
    try {
      if (file.ownDir) createMountPoint(path);
      else closeSync(openSync(path, 'wx', 0o444));
    } catch (err) {
      throw KernelError.from(err, `create namespace file ${path}`);
    }
    try {
      n.unshare(flag);
      try {
        inside?.();
        n.mount(threadNsPath(kind), path, 'none', MS_BIND);
      } finally {
        n.setns(home, flag);
      }
    } catch (err) {
      rmSync(path, { force: true });
      throw KernelError.from(err, `create ${kind} namespace ${path}`);
    }
  } finally {
    closeSync(home);
  }
}

/** Removes a persistent namespace file: lazy unmount, then unlink (the kernel frees it when unused). */
export function deleteNsFile(journal: Journal, name: string, path: string, kind: 'netns.del' | 'uts.del' = 'netns.del', why?: string): void {
  journal.runSync({ kind, ns: name, path, why }, () => removeNsFile(path));
}

/** Best-effort removal used by deletes and by rollbacks: a missing file is not an error. */
export function removeNsFile(path: string): void {
  try {
    native().umount2(path, MNT_DETACH);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw KernelError.from(err, `unmount ${path}`);
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw KernelError.from(err, `remove ${path}`);
  }
}

/** Removes the `ip netns` name registerNetns made: a second mount that keeps the namespace alive until it goes. */
export function unregisterNetns(journal: Journal, name: string, dir: string, alias: string, why?: string): void {
  journal.runSync({ kind: 'netns.unregister', ns: name, alias, dir, why }, () => removeNsFile(join(dir, alias)));
}

/**
 * Also shows the namespace as `alias` in `dir` (by default /run/netns), so
 * `ip netns list` and `ip netns exec ALIAS` work for learners.
 */
export function registerNetns(journal: Journal, name: string, path: string, dir: string, alias: string, why?: string): void {
  journal.runSync({ kind: 'netns.register', ns: name, path, alias, dir, why }, () => {
    ensureSharedMountDir(dir);
    const target = join(dir, alias);
    if (existsSync(target)) throw new KernelError(`${target} already exists: another namespace is registered as ${alias}`, 'EEXIST');
    closeSync(openSync(target, 'wx', 0o444));
    try {
      native().mount(path, target, 'none', MS_BIND);
    } catch (err) {
      rmSync(target, { force: true });
      throw KernelError.from(err, `register ${alias} in ${dir}`);
    }
  });
}
