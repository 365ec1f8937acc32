// Starting a container's process inside its sandbox.
//
// A sandbox is a persistent network namespace file, a persistent UTS namespace
// file (its hostname already set), and three files (hosts, resolv.conf,
// hostname) that the process must see over /etc/hosts, /etc/resolv.conf and
// /etc/hostname. Node is multithreaded, so plumb cannot unshare a mount
// namespace for itself; util-linux does it in the child instead:
//
//   nsenter --net=NETNS --uts=UTS -- unshare --mount --propagation private -- \
//     /bin/sh -c 'mount -n -a -T BINDS.FSTAB ... exec "$@"' sh ... COMMAND...
//
// nsenter and unshare exec their successor, so the PID never changes: the PID
// node sees is the one that ends up running the command (attached) or the
// wrapper shell that records its exit code (detached). The three binds are
// made by one `mount -a` over a small fstab written next to the hosts file
// (one mount process instead of three). Binds follow the inode, so rewriting
// the hosts file in place (truncate + write, never rename) reaches processes
// that are already running.
import { accessSync, closeSync, constants as fsc, existsSync, openSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { KernelError } from './errors.js';
import { runOnTerminal, runProgram, startInBackground } from './runner.js';

export interface SandboxFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

export interface SandboxProcessSpec {
  /** Network namespace file to join; absent: plumb's own network namespace (host network mode). */
  netnsPath?: string;
  /** UTS namespace file to join (hostname); absent: plumb's own. */
  utsPath?: string;
  /** Files to bind over /etc/hosts, /etc/resolv.conf, /etc/hostname; absent: no private mount namespace. */
  files?: SandboxFiles;
  argv: string[];
  /** The command's whole environment (PATH defaults to the usual one); absent: plumb's own environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Exit status the launcher uses when the sandbox could not be set up (what `docker run` returns then). */
export const LAUNCH_FAILED = 125;

const BIND_TARGETS: [keyof SandboxFiles, string][] = [
  ['hosts', '/etc/hosts'],
  ['resolvConf', '/etc/resolv.conf'],
  ['hostname', '/etc/hostname'],
];

// ---------------------------------------------------------------- launcher

const toolCache = new Map<string, string>();

/** Absolute path of a host tool (nsenter, unshare), so the command's own PATH does not matter. */
function tool(name: string): string {
  let p = toolCache.get(name);
  if (!p) {
    p = findExecutable(name, `${process.env.PATH ?? ''}${delimiter}${DEFAULT_PATH}`, process.cwd()) ?? name;
    toolCache.set(name, p);
  }
  return p;
}

function findExecutable(cmd: string, path: string, cwd: string): string | undefined {
  const usable = (p: string): boolean => {
    try {
      accessSync(p, fsc.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) {
    const p = isAbsolute(cmd) ? cmd : resolvePath(cwd, cmd);
    return usable(p) ? p : undefined;
  }
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(isAbsolute(dir) ? dir : resolvePath(cwd, dir), cmd);
    if (usable(p)) return p;
  }
  return undefined;
}

function escapeFstab(field: string): string {
  return field.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The fstab that binds the sandbox files over /etc. An /etc file missing on
 * this machine is skipped (a bind needs an existing target).
 */
export function bindsFstab(files: SandboxFiles): string {
  return BIND_TARGETS.filter(([, target]) => existsSync(target))
    .map(([key, target]) => `${escapeFstab(files[key])} ${target} none bind 0 0\n`)
    .join('');
}

/** Where the fstab for these files lives: next to the hosts file. */
export function bindsFstabPath(files: SandboxFiles): string {
  return join(dirname(files.hosts), 'binds.fstab');
}

/** Writes the fstab when it is missing or different (atomically); undefined when there is nothing to bind. */
function ensureFstab(files: SandboxFiles): string | undefined {
  for (const [key] of BIND_TARGETS) {
    if (!existsSync(files[key])) throw new KernelError(`sandbox file ${files[key]} does not exist`, 'ENOENT', 2);
  }
  const text = bindsFstab(files);
  if (!text) return undefined;
  const path = bindsFstabPath(files);
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== text) {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, text, { mode: 0o644 });
      renameSync(tmp, path);
    } catch (err) {
      throw KernelError.from(err, `write ${path}`);
    }
  }
  return path;
}

function checkSpec(spec: SandboxProcessSpec): { env: NodeJS.ProcessEnv; cwd: string } {
  if (spec.argv.length === 0) throw new KernelError('no command given', 'EINVAL', 22);
  for (const p of [spec.netnsPath, spec.utsPath]) {
    if (p !== undefined && !existsSync(p)) throw new KernelError(`namespace file ${p} does not exist`, 'ENOENT', 2);
  }
  const cwd = spec.cwd ?? process.cwd();
  if (spec.cwd !== undefined && !existsSync(spec.cwd)) throw new KernelError(`working directory ${spec.cwd} does not exist`, 'ENOENT', 2);
  const env: NodeJS.ProcessEnv = spec.env ? { ...spec.env } : { ...process.env };
  if (!env.PATH) env.PATH = DEFAULT_PATH;
  // The mount namespace only changes three files in /etc, so the command can be looked up from here.
  if (!findExecutable(spec.argv[0], env.PATH, cwd)) {
    // A path to a file that exists but cannot be run is refused as Docker's runtime words it (and exits 126, not 127).
    const named = spec.argv[0].includes('/') ? resolvePath(cwd, spec.argv[0]) : undefined;
    if (named && existsSync(named)) throw new KernelError(`exec: "${spec.argv[0]}": permission denied`, 'EACCES', 13);
    throw new KernelError(`exec: "${spec.argv[0]}": executable file not found in $PATH`, 'ENOENT', 2);
  }
  return { env, cwd };
}

/** nsenter/unshare prefix for the spec, plus the fstab to mount (if any). */
function namespacePrefix(spec: SandboxProcessSpec): { prefix: string[]; fstab?: string } {
  const prefix: string[] = [];
  if (spec.netnsPath !== undefined || spec.utsPath !== undefined) {
    prefix.push(tool('nsenter'));
    if (spec.netnsPath !== undefined) prefix.push(`--net=${spec.netnsPath}`);
    if (spec.utsPath !== undefined) prefix.push(`--uts=${spec.utsPath}`);
    prefix.push('--');
  }
  const fstab = spec.files ? ensureFstab(spec.files) : undefined;
  if (fstab) prefix.push(tool('unshare'), '--mount', '--propagation', 'private', '--');
  return { prefix, fstab };
}

// Attached: bind the files (if any), then become the command.
const ATTACHED_SCRIPT = 'mount -n -a -T "$1" || exit 125; shift; exec "$@"';

// Detached: the wrapper stays the process group leader. It binds the files
// (errors go to stderr, still a pipe to plumb), says "ready" there, points its
// stderr at the log, runs the command as a child and writes its exit status.
// `trap : TERM` lets the wrapper outlive a SIGTERM sent to the whole group so
// it can record the command's status (143); the command itself gets default
// signal handling back when it is exec'd.
const DETACHED_SCRIPT = [
  'trap : TERM',
  'e="$2"',
  'if [ -n "$1" ]; then mount -n -a -T "$1" || exit 125; fi',
  'echo ready >&2',
  'exec 2>&1',
  'shift 2',
  '"$@"',
  'echo $? > "$e"',
].join('\n');

/** The full argv plumb runs for an attached command (shown by --explain-style output and tests). */
export function attachedArgv(spec: SandboxProcessSpec): string[] {
  const { prefix, fstab } = namespacePrefix(spec);
  return fstab ? [...prefix, '/bin/sh', '-c', ATTACHED_SCRIPT, 'sh', fstab, ...spec.argv] : [...prefix, ...spec.argv];
}

export function detachedArgv(spec: SandboxProcessSpec, exitFile: string): string[] {
  const { prefix, fstab } = namespacePrefix(spec);
  return [...prefix, '/bin/sh', '-c', DETACHED_SCRIPT, 'sh', fstab ?? '', exitFile, ...spec.argv];
}

// ---------------------------------------------------------------- starting

/**
 * Starts the command detached: a new session (so the PID is its process
 * group's leader), stdin from /dev/null, stdout and stderr appended to
 * logFile. Resolves with the PID once the sandbox files are bound and the
 * command is being started; rejects with the launcher's message otherwise.
 * The wrapper writes the command's exit status to exitFile when it ends.
 */
export async function startDetached(spec: SandboxProcessSpec, io: { logFile: string; exitFile: string }): Promise<{ pid: number }> {
  let argv: string[];
  let opts: { env: NodeJS.ProcessEnv; cwd: string };
  let logFd: number;
  try {
    opts = checkSpec(spec);
    argv = detachedArgv(spec, io.exitFile);
    logFd = openSync(io.logFile, 'a', 0o640);
  } catch (err) {
    throw KernelError.from(err, `start ${spec.argv[0] ?? 'command'}`);
  }
  let started: Awaited<ReturnType<typeof startInBackground>>;
  try {
    started = await startInBackground(argv, { stdout: logFd, stderr: 'pipe' }, { env: opts.env, cwd: opts.cwd, doing: `start ${spec.argv[0]}` });
  } finally {
    closeSync(logFd);
  }
  // The wrapper says "ready" on stderr once the binds are made, then points
  // stderr at the log: the pipe closes either way.
  const stderr = started.subprocess.stderr!;
  let said = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (s: string) => {
    said += s;
  });
  await new Promise<void>((resolve) => stderr.once('close', resolve));
  if (said.endsWith('ready\n')) return { pid: started.pid };
  const message = said.trim() || 'the launcher exited before the command started';
  const r = await started.subprocess;
  const status = r.exitCode ?? started.exited() ?? 1;
  throw new KernelError(`start ${spec.argv[0]} in its sandbox (exit ${status}): ${message}`, 'ELAUNCH');
}

/**
 * Runs the command attached: it inherits plumb's stdout and stderr (and stdin
 * when `stdin` is true, so `-it` works on the caller's terminal). Resolves
 * with its exit status (128+N when killed by signal N). SIGINT, SIGTERM and
 * SIGHUP reaching plumb meanwhile are passed on to the command.
 */
export async function runAttached(spec: SandboxProcessSpec, opts: { stdin?: boolean } = {}): Promise<number> {
  const { argv, env, cwd } = attachedLaunch(spec);
  return runOnTerminal(argv, { stdin: opts.stdin, env, cwd, doing: `run ${spec.argv[0]}` });
}

/** Like runAttached, but collects stdout and stderr (for `plumb exec` in scripts, and tests). */
export async function runCaptured(spec: SandboxProcessSpec, opts: { input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { argv, env, cwd } = attachedLaunch(spec);
  return runProgram(argv, { input: opts.input, env, cwd, doing: `run ${spec.argv[0]}` });
}

function attachedLaunch(spec: SandboxProcessSpec): { argv: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  try {
    const opts = checkSpec(spec);
    return { argv: attachedArgv(spec), ...opts };
  } catch (err) {
    throw KernelError.from(err, `run ${spec.argv[0] ?? 'command'}`);
  }
}

// ---------------------------------------------------------------- watching and stopping

interface ProcStat {
  state: string;
  pgrp: number;
  startTime: number;
}

function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return { state: rest[0], pgrp: Number(rest[2]), startTime: Number(rest[19]) };
}

/** Field 22 of /proc/PID/stat: start time in clock ticks after boot. Compare it to detect a reused PID. */
export function processStartTime(pid: number): number | undefined {
  return validPid(pid) ? procStat(pid)?.startTime : undefined;
}

function validPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 1;
}

/** True while the process runs (a zombie counts as gone). With `startTime`, also that the PID was not reused. */
export function isAlive(pid: number, startTime?: number): boolean {
  if (!validPid(pid)) return false;
  const st = procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** True while the very process plumb recorded runs: same PID, same start time (an unknown start time proves nothing). */
export function isRecordedProcessAlive(pid: number, startTime: number | undefined): boolean {
  return startTime !== undefined && isAlive(pid, startTime);
}

/** Live members of process group `pgid` (by scanning /proc). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const st = procStat(pid);
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') members.push(pid);
  }
  return members;
}

function kill(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ESRCH') throw KernelError.from(err, `kill -${signal} ${target}`);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let step = 5;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(step, Math.max(1, deadline - Date.now())));
    step = Math.min(step * 2, 50);
  }
  return true;
}

/**
 * Stops a process plumb started (pid = its process group's leader): SIGTERM
 * to the group, up to timeoutMs to end, then SIGKILL. The other members get
 * SIGKILL first, so a detached wrapper can still record the command's 137,
 * then the whole group. Resolves when the leader and its group are gone.
 * With `startTime`, a PID that now belongs to another process is left alone.
 */
export async function stopProcess(pid: number, timeoutMs: number, opts: { startTime?: number } = {}): Promise<void> {
  if (!validPid(pid)) throw new KernelError(`refusing to signal PID ${pid}`, 'EINVAL', 22);
  const st = procStat(pid);
  if (opts.startTime !== undefined && st && st.startTime !== opts.startTime) return;
  // A live PID that does not lead its own group is not one plumb started
  // (plumb's processes are session leaders): the PID was reused. Leave it.
  if (st && st.state !== 'Z' && st.pgrp !== pid) return;
  if (isAlive(pid)) {
    kill(-pid, 'SIGTERM');
    if (!(await waitGone(pid, timeoutMs))) {
      for (const member of groupMembers(pid)) if (member !== pid) kill(member, 'SIGKILL');
      if (!(await waitGone(pid, 1000))) {
        kill(-pid, 'SIGKILL');
        await waitGone(pid, 5000);
      }
    }
  }
  // Whatever the group still holds (background children) goes too.
  if (groupMembers(pid).length > 0) {
    kill(-pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (groupMembers(pid).length > 0 && Date.now() < deadline) await sleep(10);
  }
}

/** The exit status a detached wrapper recorded, or undefined while it runs (or if it was killed). */
export function readExitCode(exitFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(exitFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
