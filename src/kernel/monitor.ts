// Starting plumb-monitor (native/monitor/monitor.c) for a container, and
// talking to it: its status pipe at start, its attach socket later, the exit
// file it leaves.
import type { Socket } from 'node:net';
import type * as ChildProcessModule from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { KernelError } from './errors.js';
import { monitorBinary } from './container-init.js';

export interface MonitorFiles {
  log: string;
  exit: string;
  sock: string;
}

export interface MonitorStart {
  files: MonitorFiles;
  cgroup?: string;
  tty: boolean;
  stdin: boolean;
  /** Terminal size for -t (the caller's, when it has one). */
  size?: { rows: number; cols: number };
  /** Options that set the process up before it execs argv (container-init.ts). */
  init?: string[];
  argv: string[];
  env: Record<string, string>;
  /** Called with the container's PID before it may run (before "ready"): attach here to miss no output. */
  onPid?: (pid: number) => Promise<void>;
}

export interface Started {
  monitorPid: number;
  pid: number;
}

/** The last lines of the container's log, for an error message. */
function logTail(log: string, lines = 3): string {
  let text = '';
  try {
    const size = statSync(log).size;
    const fd = openSync(log, 'r');
    const buf = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    closeSync(fd);
    text = buf.toString('utf8');
  } catch {
    return '';
  }
  return text
    .split('\n')
    .filter((l) => l)
    .slice(-lines)
    .map((l) => l.split(' ').slice(3).join(' ').replace(/\r$/, ''))
    .join('; ');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// The monitor is spawned with child_process itself, not through runner.ts
// (execa): every `run` and `start` starts one, the path where loading execa
// was measured to cost most (as for the firewall's runProgramDirect), and
// the monitor reports on a pipe at fd 3 that plumb reads while the monitor
// lives on detached, in its own session. Loaded on first use, like execa.
let childProcess: typeof ChildProcessModule | undefined;
function spawn(...args: Parameters<typeof ChildProcessModule.spawn>): ReturnType<typeof ChildProcessModule.spawn> {
  childProcess ??= createRequire(import.meta.url)('node:child_process') as typeof ChildProcessModule;
  return childProcess.spawn(...args);
}

/**
 * Starts the monitor detached (its own session: it outlives plumb) and
 * resolves once the container's process is set up and starting. Rejects with
 * the launcher's own words when it is not.
 */
export function startMonitor(spec: MonitorStart): Promise<Started> {
  const args = ['run', '--log', spec.files.log, '--exit', spec.files.exit, '--sock', spec.files.sock];
  if (spec.cgroup) args.push('--cgroup', spec.cgroup);
  if (spec.tty) args.push('--tty');
  if (spec.stdin) args.push('--stdin');
  if (spec.size && spec.size.rows > 0 && spec.size.cols > 0) args.push('--size', `${spec.size.rows}x${spec.size.cols}`);
  // The command waits for the attach onPid makes: it may start and end within a millisecond.
  if (spec.onPid) args.push('--wait-attach');
  args.push(...(spec.init ?? []), '--', ...spec.argv);
  let bin: string;
  try {
    bin = monitorBinary();
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: spec.env, cwd: '/' });
    const status = child.stdio[3] as Socket;
    let said = '';
    let pid = 0;
    let pidSeen: Promise<void> = Promise.resolve();
    let failed = false;
    child.on('error', (err) => {
      failed = true;
      reject(KernelError.from(err, `start ${bin}`));
    });
    status.setEncoding('utf8');
    status.on('data', (s: string) => {
      said += s;
      const m = /^pid (\d+)$/m.exec(said);
      if (m && !pid) {
        pid = Number(m[1]);
        if (spec.onPid) {
          pidSeen = spec.onPid(pid).catch((err) => {
            // The command waits for an attach that will not come: end it, so the monitor ends too.
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
            throw err;
          });
          // Awaited once the status pipe closes; until then a rejection is not unhandled.
          pidSeen.catch(() => {});
        }
      }
    });
    status.on('close', async () => {
      if (failed) return;
      try {
        await pidSeen;
      } catch (err) {
        reject(err);
        return;
      }
      // "error" after "ready": the command itself could not be exec'd.
      if (pid && /^ready$/m.test(said) && !/^error /m.test(said)) {
        child.unref();
        resolve({ monitorPid: child.pid!, pid });
        return;
      }
      // The launcher said nothing more: wait for the monitor to record the status, then quote the log.
      const deadline = Date.now() + 5000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(10);
      const exit = readExitFile(spec.files.exit);
      const why = /^error (.*)$/m.exec(said)?.[1] ?? (logTail(spec.files.log) || 'the container process ended before it started');
      child.unref();
      reject(new KernelError(`start ${spec.argv.at(-1) ?? 'container'} in its sandbox${exit ? ` (exit ${exit.code})` : ''}: ${why}`, 'ELAUNCH'));
    });
  });
}

/** What the monitor recorded when the container's main process ended; undefined while it runs. */
export function readExitFile(path: string): { code: number; finishedAt: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  const m = /^(\d+)(?: (\S+))?$/.exec(text);
  return m ? { code: Number(m[1]), finishedAt: m[2] ?? new Date().toISOString() } : undefined;
}

/**
 * Connects to the monitor's attach socket. The path may be longer than a
 * unix socket name allows, so the connection is made relative to its
 * directory (the monitor binds it the same way).
 */
export async function connectMonitor(sock: string, header: string): Promise<Socket> {
  const net = await import('node:net');
  const dir = sock.slice(0, sock.lastIndexOf('/')) || '/';
  const name = sock.slice(sock.lastIndexOf('/') + 1);
  const here = process.cwd();
  return new Promise((resolve, reject) => {
    let s: Socket;
    try {
      process.chdir(dir);
      s = net.createConnection({ path: name });
    } catch (err) {
      reject(KernelError.from(err, `connect ${sock}`));
      return;
    } finally {
      process.chdir(here);
    }
    s.once('error', (err) => reject(KernelError.from(err, `connect ${sock}`)));
    s.once('connect', () => {
      s.removeAllListeners('error');
      s.write(`${header}\n`);
      resolve(s);
    });
  });
}

/** Sets the container terminal's size (a short connection of its own). */
export async function resizeMonitor(sock: string, rows: number, cols: number): Promise<void> {
  try {
    const s = await connectMonitor(sock, `resize ${rows} ${cols}`);
    s.end();
  } catch {
    // The container may have just ended; its size no longer matters.
  }
}
