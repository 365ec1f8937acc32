// The processes of a container: its main process (COMMAND, or a holder when
// there is none) held by plumb-monitor, and whatever `exec` adds; all of them
// in one cgroup per container, so stop, kill, rm -f and top see every one.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupPids,
  childCgroups,
  cgroupPopulated,
  createCgroup,
  killCgroup,
  removeCgroup,
  requireCgroup2,
  signalCgroup,
  waitCgroupEmpty,
} from '../../kernel/cgroup.js';
import { CONTAINER_PATH, execArgv, initCommand } from '../../kernel/container-init.js';
import { readExitFile, startMonitor } from '../../kernel/monitor.js';
import { isRecordedProcessAlive, processStartTime } from '../../kernel/process.js';
import type { ContainerRecord, StoreData } from '../../store/model.js';
import { containerDir, exitedDir, exitsDir, netnsDir, sandboxDir, utsDir } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { sandboxFiles } from './etc-files.js';
import { linkEnv } from './links.js';
import type { Transaction } from '../core/transaction.js';
import { imageInfo, requireRootfs } from './images.js';

/** How the main process is to be run: what `run` / `create` asked for. */
export interface ProcessOptions {
  tty: boolean;
  stdin: boolean;
  size?: { rows: number; cols: number };
  /** Hold the command until the first attach (foreground `run`), see plumb-monitor --wait-attach. */
  onPid?: (pid: number, sock: string) => Promise<void>;
}

/**
 * The cgroup holding every container of this plumb root: `plumb` for the
 * default root, else named after the run directory, so instances with
 * different PLUMB_ROOTs (parallel test labs) never share one.
 */
export function rootCgroup(ctx: Context): string {
  const name = ctx.paths.run === '/run/plumb' ? 'plumb' : `plumb${ctx.paths.run.replace(/[^A-Za-z0-9_.]+/g, '-')}`;
  // A cgroup name is one path component of at most 255 bytes.
  return join(requireCgroup2(), name.length > 200 ? `plumb-${name.slice(-190)}` : name);
}

export function containerCgroup(ctx: Context, c: ContainerRecord): string {
  return join(rootCgroup(ctx), c.id.slice(0, 12));
}

/**
 * The monitor's files: the log with the container's state; the socket and
 * the exit status in the run directory. The status lands in exits/ so the
 * next command finds the containers that ended by listing one directory
 * (reapExited), and moves to exited/ once reaped.
 */
export function monitorFiles(ctx: Context, c: ContainerRecord) {
  const dir = containerDir(ctx.paths, c.id);
  return {
    log: join(dir, 'container.log'),
    exit: join(exitsDir(ctx.paths), c.id),
    reaped: join(exitedDir(ctx.paths), c.id),
    /** Where monitors started by an earlier plumb write it. */
    legacyExit: join(dir, 'exit-status'),
    sock: join(ctx.paths.run, 'attach', `${c.id.slice(0, 12)}.sock`),
  };
}

/** The exit status the monitor recorded, wherever it is now. */
export function readExit(files: ReturnType<typeof monitorFiles>): ReturnType<typeof readExitFile> {
  return readExitFile(files.exit) ?? readExitFile(files.reaped) ?? readExitFile(files.legacyExit);
}

/** What runs as the container's main process: COMMAND, the image's shell for -i/-t, or nothing (the holder). */
export function mainCommand(c: ContainerRecord): string[] | undefined {
  if (c.command.length) return c.command;
  if (c.tty || c.openStdin) return imageInfo(c.image).shell;
  return undefined;
}

export function containerEnv(c: ContainerRecord, data?: StoreData): Record<string, string> {
  // Docker's order: PATH, HOSTNAME, the legacy links' variables, then -e (which may override them).
  const env: Record<string, string> = { PATH: CONTAINER_PATH, HOSTNAME: c.hostname, ...(data ? linkEnv(data, c) : {}), ...c.env };
  if (c.tty && !env.TERM) env.TERM = 'xterm';
  if (!env.HOME) env.HOME = '/root';
  return env;
}

/** Starts the monitor and the main process; registers their undo. Sets pid, monitorPid, cgroup, rootfs. */
export async function startMain(ctx: Context, data: StoreData, c: ContainerRecord, tx: Transaction, opts: ProcessOptions): Promise<void> {
  c.tty = opts.tty;
  c.openStdin = opts.stdin;
  const image = imageInfo(c.image);
  c.rootfs = image.rootfs ? requireRootfs(c.image, image.rootfs) : undefined;
  if (ctx.dryRun) return;
  const dir = containerDir(ctx.paths, c.id);
  const files = monitorFiles(ctx, c);
  mkdirSync(join(ctx.paths.run, 'attach'), { recursive: true });
  mkdirSync(exitsDir(ctx.paths), { recursive: true });
  for (const f of [files.exit, files.reaped, files.legacyExit]) rmSync(f, { force: true });
  const etc = sandboxFiles(sandboxDir(ctx.paths, c.id));
  const init = initCommand({
    netnsPath: c.sandbox?.netns,
    utsPath: c.sandbox?.uts,
    files: { hosts: etc.hosts, resolvConf: etc.resolvConf, hostname: etc.hostname },
    rootfs: c.rootfs,
    argv: mainCommand(c),
    fstabPath: join(dir, 'mounts.fstab'),
    detach: [netnsDir(ctx.paths), utsDir(ctx.paths), ctx.paths.netnsNames],
  });
  const cgroup = containerCgroup(ctx, c);
  await tx.step(
    'cgroup',
    () => createCgroup(cgroup),
    () => removeCgroup(cgroup, rootCgroup(ctx)),
  );
  c.cgroup = cgroup;
  const started = await tx.step(
    'start process',
    () =>
      startMonitor({
        files,
        cgroup,
        tty: opts.tty,
        stdin: opts.stdin,
        size: opts.size,
        init: init.options,
        argv: init.argv,
        env: containerEnv(c, data),
        onPid: opts.onPid ? (pid) => opts.onPid!(pid, files.sock) : undefined,
      }),
    async () => {
      killCgroup(cgroup);
      await waitCgroupEmpty(cgroup, 10_000);
    },
  );
  c.pid = started.pid;
  c.pidStart = processStartTime(started.pid);
  c.monitorPid = started.monitorPid;
  c.monitorStart = processStartTime(started.monitorPid);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Ended meanwhile.
  }
}

/** Whether the container's main process still runs (the record's PID, not a reused one). */
export function mainAlive(c: ContainerRecord): boolean {
  return !!c.pid && isRecordedProcessAlive(c.pid, c.pidStart);
}

export function monitorAlive(c: ContainerRecord): boolean {
  return !!c.monitorPid && isRecordedProcessAlive(c.monitorPid, c.monitorStart);
}

/**
 * Ends every process of the container: SIGTERM to all of them, SIGKILL to
 * what is left after timeoutMs (at once when it is 0, as rm -f), then waits
 * for the monitor to record the status and removes the cgroup. Returns what
 * the monitor recorded.
 */
export async function endProcesses(ctx: Context, c: ContainerRecord, timeoutMs: number): Promise<{ code: number; finishedAt: string } | undefined> {
  const files = monitorFiles(ctx, c);
  const cgroup = c.cgroup;
  if (cgroup && cgroupPopulated(cgroup)) {
    if (timeoutMs > 0) {
      // The end of the main process ends the rest at once (the monitor kills the cgroup, as the end
      // of a PID namespace's init would): so the others get SIGTERM first, and up to half the time
      // to act on it, then the main process gets SIGTERM and the rest of the time.
      const deadline = Date.now() + timeoutMs;
      const others = () => cgroupPids(cgroup).filter((p) => p !== c.pid);
      if (others().length) {
        for (const pid of others()) signalPid(pid, 'SIGTERM');
        const half = Date.now() + timeoutMs / 2;
        while (others().length && Date.now() < half) await sleep(10);
      }
      if (c.pid && mainAlive(c)) signalPid(c.pid, 'SIGTERM');
      else signalCgroup(cgroup, 'SIGTERM');
      if (!(await waitCgroupEmpty(cgroup, Math.max(0, deadline - Date.now())))) killCgroup(cgroup);
    } else {
      killCgroup(cgroup);
    }
    if (!(await waitCgroupEmpty(cgroup, 10_000))) throw new PlumbError(`processes of ${c.name} survived SIGKILL (cgroup ${cgroup})`);
  }
  // The monitor drains the output and writes the status once the main process is gone.
  const deadline = Date.now() + 10_000;
  let step = 1;
  while (monitorAlive(c) && Date.now() < deadline) {
    await sleep(step);
    step = Math.min(step * 2, 20);
  }
  if (monitorAlive(c)) process.kill(c.monitorPid!, 'SIGKILL');
  if (cgroup) await removeCgroup(cgroup, rootCgroup(ctx));
  rmSync(files.sock, { force: true });
  return readExit(files);
}

/** `plumb kill`: a signal to the main process, as Docker sends it to the container's init. */
export function signalMain(c: ContainerRecord, signal: NodeJS.Signals | number): void {
  if (!mainAlive(c)) throw new PlumbError(`Container ${c.id} is not running`);
  process.kill(c.pid!, signal);
}

/** PIDs of every process of the container (for top). */
export function containerPids(c: ContainerRecord): number[] {
  return c.cgroup ? cgroupPids(c.cgroup) : c.pid ? [c.pid] : [];
}

/** Waits until the container's main process has ended; returns its exit status. */
export async function waitMainExit(ctx: Context, c: ContainerRecord): Promise<number> {
  const files = monitorFiles(ctx, c);
  let step = 5;
  for (;;) {
    const exit = readExit(files);
    if (exit) return exit.code;
    if (!monitorAlive(c) && !mainAlive(c)) return readExit(files)?.code ?? 137;
    await sleep(step);
    step = Math.min(step * 2, 100);
  }
}

/** argv and environment of a process to start in the running container. */
export function execCommand(c: ContainerRecord, argv: string[], env: Record<string, string>, data: StoreData): { argv: string[]; env: Record<string, string> } {
  if (!mainAlive(c)) throw new PlumbError(`Container ${c.id} is not running`);
  return { argv: execArgv(c.pid!, c.cgroup, argv, c.rootfs), env: { ...containerEnv(c, data), ...env } };
}

/** Sweeps this root's cgroups: what a crash left (system reset). */
export async function removeRootCgroup(ctx: Context): Promise<boolean> {
  let root: string;
  try {
    root = rootCgroup(ctx);
  } catch {
    return false;
  }
  if (!existsSync(root)) return false;
  for (const child of childCgroups(root)) await removeCgroup(child);
  await removeCgroup(root);
  return true;
}

/** This root's container cgroups that no running container owns (what a crash between steps leaves). */
export function strayCgroups(ctx: Context, data: StoreData): string[] {
  let root: string;
  try {
    root = rootCgroup(ctx);
  } catch {
    return [];
  }
  const owned = new Set(Object.values(data.containers).map((c) => (c.state === 'running' ? c.cgroup : undefined)));
  return childCgroups(root).filter((p) => !owned.has(p));
}
