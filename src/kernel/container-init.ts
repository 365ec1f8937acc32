// How a process is put inside a container.
//
// The container's first process (its COMMAND, or a holder when there is
// none) makes the container's mount namespace, and every later process
// (`exec`) joins that process's namespaces, as `docker exec` joins those of
// the container's init:
//
//   init: plumb-monitor run ... --netns NETNS --uts UTS --fstab FSTAB [--detach DIR]... [--root ROOT] -- COMMAND...
//         which, in the child it forks, does what this would:
//           nsenter --net=NETNS --uts=UTS -- unshare --mount --propagation private -- \
//             sh -c 'umount -l DIR...; mount -n -a -T FSTAB && exec [chroot ROOT] COMMAND...'
//   exec: plumb-monitor enter --cgroup CG -- nsenter -t PID -m -n -u -- [chroot ROOT] COMMAND...
//
// The monitor does the first itself (native/monitor/init.c: setns, unshare,
// mount, chroot, then exec) rather than through those five programs, each
// started in turn: that chain cost every `run` ~100 ms on a loaded machine.
// What is mounted stays decided here: FSTAB binds the sandbox's hosts,
// resolv.conf and hostname over /etc (of the host, or of ROOT), and for a
// root filesystem also mounts /proc, /sys, /dev, and a /tmp of its own, with
// ROOT itself read-only (it is shared by every container of that image).
import { existsSync, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from './errors.js';

export interface ContainerFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

export interface InitSpec {
  netnsPath?: string;
  utsPath?: string;
  files: ContainerFiles;
  /** Root filesystem to enter (busybox images); absent: the host's. */
  rootfs?: string;
  /** COMMAND; absent: the holder process. */
  argv?: string[];
  /** Where the fstab is written. */
  fstabPath: string;
  /**
   * Directories of namespace files (every sandbox's) that the container's
   * mount namespace lets go of: its copy of them would pin nothing useful and
   * make each later removal on the host detach it here too.
   */
  detach?: string[];
}

export const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** plumb-monitor, built by scripts/build-native.mjs next to the addon. */
export function monitorBinary(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const path = join(here, '..', '..', 'native', 'build', 'plumb-monitor');
  if (!existsSync(path)) throw new KernelError(`${path} is missing: run npm run build:native (scripts/setup does)`, 'ENOENT', 2);
  return path;
}

const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
const toolPaths = new Map<string, string>();

/** Absolute path of a host tool, so neither PATH nor a chroot changes which one runs. */
function tool(name: string): string {
  let p = toolPaths.get(name);
  if (!p) {
    p = TOOL_DIRS.map((d) => join(d, name)).find((f) => existsSync(f)) ?? name;
    toolPaths.set(name, p);
  }
  return p;
}

function fstabField(field: string): string {
  return field.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The mounts that make the container's view of the filesystem. */
export function containerFstab(files: ContainerFiles, rootfs?: string): string {
  const lines: string[][] = [];
  const etc = rootfs ? join(rootfs, 'etc') : '/etc';
  if (rootfs) lines.push([rootfs, rootfs, 'none', 'bind,ro']);
  for (const [src, name] of [
    [files.hosts, 'hosts'],
    [files.resolvConf, 'resolv.conf'],
    [files.hostname, 'hostname'],
  ] as const) {
    // A bind needs an existing target: an /etc file missing on this host is skipped.
    if (existsSync(join(etc, name))) lines.push([src, join(etc, name), 'none', 'bind']);
  }
  if (rootfs) {
    lines.push(['proc', join(rootfs, 'proc'), 'proc', 'rw,nosuid,nodev,noexec']);
    lines.push(['sysfs', join(rootfs, 'sys'), 'sysfs', 'ro,nosuid,nodev,noexec']);
    lines.push(['/dev', join(rootfs, 'dev'), 'none', 'rbind']);
    lines.push(['tmpfs', join(rootfs, 'tmp'), 'tmpfs', 'rw,nosuid,nodev,mode=1777']);
    lines.push(['tmpfs', join(rootfs, 'root'), 'tmpfs', 'rw,nosuid,nodev,mode=700']);
  }
  return lines.map((l) => `${l.map(fstabField).join(' ')} 0 0\n`).join('');
}

function writeIfChanged(path: string, text: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    throw KernelError.from(err, `write ${path}`);
  }
}

/**
 * Docker's messages when COMMAND cannot run, checked before anything starts:
 * not found (ENOENT, exit 127) or a file that is not executable (EACCES, 126).
 */
export function checkCommand(argv0: string, rootfs: string | undefined, pathVar = CONTAINER_PATH): void {
  // lstat: the applets of a busybox root are absolute symlinks that only resolve inside it.
  const kind = (p: string): 'exec' | 'file' | undefined => {
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) return 'exec';
      if (!st.isFile()) return undefined;
      return st.mode & 0o111 ? 'exec' : 'file';
    } catch {
      return undefined;
    }
  };
  const under = (p: string) => (rootfs ? join(rootfs, p) : p);
  if (argv0.includes('/')) {
    const k = kind(under(argv0));
    if (k === 'exec') return;
    if (k === 'file') throw new KernelError(`exec: "${argv0}": permission denied`, 'EACCES', 13);
  } else if (pathVar.split(':').some((d) => d && kind(under(join(d, argv0))) === 'exec')) {
    return;
  }
  throw new KernelError(`exec: "${argv0}": executable file not found in $PATH`, 'ENOENT', 2);
}

/** How the monitor starts the container's first process: its options (before `--`), then the command. */
export interface InitCommand {
  options: string[];
  argv: string[];
}

/**
 * The monitor's options that set the container's first process up, and the
 * command it then execs. A setup failure is reported by the monitor with
 * exit status 125, as `docker run` gives.
 */
export function initCommand(spec: InitSpec): InitCommand {
  for (const p of [spec.netnsPath, spec.utsPath]) {
    if (p !== undefined && !existsSync(p)) throw new KernelError(`namespace file ${p} does not exist`, 'ENOENT', 2);
  }
  for (const f of Object.values(spec.files)) {
    if (!existsSync(f)) throw new KernelError(`sandbox file ${f} does not exist`, 'ENOENT', 2);
  }
  if (spec.argv) checkCommand(spec.argv[0]!, spec.rootfs);
  writeIfChanged(spec.fstabPath, containerFstab(spec.files, spec.rootfs));
  const options: string[] = [];
  if (spec.netnsPath !== undefined) options.push('--netns', spec.netnsPath);
  if (spec.utsPath !== undefined) options.push('--uts', spec.utsPath);
  options.push('--fstab', spec.fstabPath);
  for (const dir of spec.detach ?? []) options.push('--detach', dir);
  // The holder needs no chroot: later processes enter the root themselves.
  if (spec.argv && spec.rootfs) options.push('--root', spec.rootfs);
  return { options, argv: spec.argv ?? [monitorBinary(), 'pause'] };
}

/** The argv of a process started in a running container (its init is `pid`), inside its cgroup. */
export function execArgv(pid: number, cgroup: string | undefined, argv: string[], rootfs?: string): string[] {
  checkCommand(argv[0]!, rootfs);
  const enter = cgroup ? [monitorBinary(), 'enter', '--cgroup', cgroup, '--'] : [];
  return [...enter, tool('nsenter'), '-t', String(pid), '-m', '-n', '-u', '--', ...(rootfs ? [tool('chroot'), rootfs] : []), ...argv];
}
