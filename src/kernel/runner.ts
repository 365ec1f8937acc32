// The one way plumb runs another program: iptables-restore / -save, the
// commands of containers (attached, detached, captured), the resolver and
// agent daemons, the kernel probe. Built on execa, which is loaded on the
// first program run: a command that starts none (ps, inspect, network ls,
// and every process that only talks netlink) never evaluates it. In the
// bundle, import() becomes a lazy module initialiser (scripts/bundle.mjs), so
// execa's code is there but runs only when a program does.
//
// One path does not use execa: iptables-restore / -save of the firewall
// (runProgramDirect), measured to be too dear on `run -p` and `rm -f`.
//
// Exit statuses are the shell's: the program's code, or 128+N when signal N
// ended it.
import { fileURLToPath } from 'node:url';
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import type { Options, ResultPromise } from 'execa';
import { KernelError } from './errors.js';
import { withinNetns, type Netns } from './netns.js';

type Execa = typeof import('execa').execa;
let execaFn: Execa | undefined;

async function execa(): Promise<Execa> {
  execaFn ??= (await import('execa')).execa;
  return execaFn;
}

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** argv for running `cmd` inside `ns`: directly for plumb's own namespace, else under nsenter (which execs it: still one process). */
export function inNetnsArgv(ns: Netns, cmd: string[]): string[] {
  return ns.path === null ? cmd : ['nsenter', `--net=${ns.path}`, '--', ...cmd];
}

function statusOf(r: { exitCode?: number; signal?: string }): number {
  if (r.exitCode !== undefined) return r.exitCode;
  return 128 + (r.signal ? (osConstants.signals[r.signal as NodeJS.Signals] ?? 0) : 0);
}

/** The error of a program that could not be started at all (not found, not executable), else undefined. */
function startFailure(r: { exitCode?: number; signal?: string; failed?: boolean; cause?: unknown }, doing: string, file: string): KernelError | undefined {
  if (r.exitCode !== undefined || r.signal !== undefined || !r.failed) return undefined;
  return KernelError.from(r.cause ?? new Error('could not start'), `${doing}: cannot run ${file}`);
}

/** Options every run shares: output as the program wrote it, no environment merging surprises. */
function baseOptions(env: NodeJS.ProcessEnv | undefined, cwd: string | undefined): Options {
  return { reject: false, stripFinalNewline: false, env, extendEnv: env === undefined, cwd };
}

/**
 * Runs a program to its end, output collected (stdin fed from `input`, else
 * none). Resolves with its status and output whatever the status; rejects
 * only when it cannot be started.
 */
export async function runProgram(
  argv: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; doing?: string } = {},
): Promise<ProgramResult> {
  const run = await execa();
  const r = await run(argv[0]!, argv.slice(1), {
    ...baseOptions(opts.env, opts.cwd),
    ...(opts.input === undefined ? { stdin: 'ignore' } : { input: opts.input }),
  });
  const failure = startFailure(r, opts.doing ?? argv[0]!, argv[0]!);
  if (failure) throw failure;
  return { code: statusOf(r), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/**
 * Runs a filter program: `input` on its stdin, its stdout returned as bytes
 * (a PNG from Graphviz is no text). Same contract as runProgram otherwise.
 */
export async function runFilter(argv: string[], input: string, opts: { doing?: string } = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const run = await execa();
  const r = await run(argv[0]!, argv.slice(1), { ...baseOptions(undefined, undefined), input, encoding: 'buffer' });
  const failure = startFailure(r, opts.doing ?? argv[0]!, argv[0]!);
  if (failure) throw failure;
  return { code: statusOf(r), stdout: Buffer.from(r.stdout as Uint8Array), stderr: Buffer.from(r.stderr as Uint8Array).toString('utf8') };
}

/**
 * Runs a diagnostic program with a deadline (doctor's probes and reads): it
 * is killed when the deadline passes, and never rejects; a program that
 * cannot start answers 127, as a shell would.
 */
export async function runBounded(
  argv: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<ProgramResult & { timedOut: boolean }> {
  const run = await execa();
  const r = await run(argv[0]!, argv.slice(1), {
    ...baseOptions(undefined, undefined),
    ...(opts.input === undefined ? { stdin: 'ignore' } : { input: opts.input }),
    timeout: opts.timeoutMs ?? 10_000,
    killSignal: 'SIGKILL',
  });
  if (startFailure(r, argv[0]!, argv[0]!)) return { code: 127, stdout: '', stderr: String((r as { shortMessage?: string }).shortMessage ?? 'cannot run'), timedOut: false };
  return { code: statusOf(r), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), timedOut: !!r.timedOut };
}

/**
 * runProgram for the one path where loading execa was measured to cost too
 * much: the firewall's iptables-restore / iptables-save, which `run -p` and
 * `rm -f` of a published container run once each. Loading execa there added
 * about a quarter to those whole commands (README, design notes), so this
 * path spawns the program with child_process directly (loaded on first use,
 * like execa). Same contract as runProgram: status and output whatever the
 * status, rejection only when the program cannot start.
 */
export function runProgramDirect(argv: string[], opts: DirectOptions = {}): Promise<ProgramResult> {
  return startProgramDirect(argv, opts).result;
}

export interface DirectOptions {
  input?: string;
  doing?: string;
  /**
   * The network namespace to start the program in. It is forked from the
   * main thread inside a namespace window (withinNetns), so it starts there
   * directly: no `nsenter` process before it, which cost every program in a
   * sandbox an exec. Only the network namespace changes, as with `nsenter --net`.
   */
  ns?: Netns;
}

/** A program started by startProgramDirect. */
export interface FedProgram {
  /** Settles once the program has its whole input and its end of file (at once without input, or if it could not start). */
  inputSent: Promise<void>;
  /** runProgramDirect's promise: status and output at its end. */
  result: Promise<ProgramResult>;
}

/**
 * runProgramDirect, split where the caller may do something else meanwhile:
 * once `inputSent` settles the program needs nothing more from this process,
 * so it keeps working even while this thread blocks in the kernel (a
 * synchronous netlink request). Before that, its end of file still waits for
 * the event loop.
 */
export function startProgramDirect(argv: string[], opts: DirectOptions = {}): FedProgram {
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  let sent!: () => void;
  const inputSent = new Promise<void>((r) => (sent = r));
  const result = new Promise<ProgramResult>((resolve, reject) => {
    const start = () => spawn(argv[0]!, argv.slice(1), { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    // spawn forks before it returns, so the child is made inside the window and stays in `ns`.
    const ns = opts.ns;
    const child = ns && ns.path !== null && ns.fd >= 0 ? withinNetns(ns, start) : start();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      sent();
      reject(KernelError.from(e, `${opts.doing ?? argv[0]}: cannot run ${argv[0]}`));
    });
    child.on('close', (code, signal) => {
      sent();
      resolve({ code: statusOf({ exitCode: code ?? undefined, signal: signal ?? undefined }), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (opts.input !== undefined) {
      // A program that dies early closes its stdin; its status tells the story.
      child.stdin!.on('error', sent);
      // 'finish': the input is written and the pipe shut down, so the program sees its end of file.
      child.stdin!.on('finish', sent);
      child.stdin!.end(opts.input);
    } else {
      sent();
    }
  });
  return { inputSent, result };
}

/**
 * Runs a program on plumb's own terminal: stdout and stderr inherited, stdin
 * too when `stdin` is true (so `-it` gets the caller's TTY). SIGINT, SIGTERM
 * and SIGHUP reaching plumb meanwhile are passed on to it, and plumb waits
 * for its status instead of dying first.
 */
export async function runOnTerminal(
  argv: string[],
  opts: { stdin?: boolean; env?: NodeJS.ProcessEnv; cwd?: string; doing?: string } = {},
): Promise<number> {
  const run = await execa();
  const child = run(argv[0]!, argv.slice(1), {
    ...baseOptions(opts.env, opts.cwd),
    stdin: opts.stdin ? 'inherit' : 'ignore',
    stdout: 'inherit',
    stderr: 'inherit',
    // A passed-on SIGTERM is the program's to handle, as with `docker run`'s signal proxy: no SIGKILL after it.
    forceKillAfterDelay: false,
  });
  const forward = (sig: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    const r = await child;
    const failure = startFailure(r, opts.doing ?? argv[0]!, argv[0]!);
    if (failure) throw failure;
    return statusOf(r);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

export interface StartedProgram {
  pid: number;
  /** Its status once it ended while this process watched, else null. */
  exited(): number | null;
}

/**
 * Starts a program in its own session (the PID leads its process group),
 * stdin from /dev/null, stdout and stderr to `stdout`/`stderr`: a file
 * descriptor (the program keeps writing after plumb exits), or 'pipe' for
 * stderr to read it here. Resolves once it runs; `onStarted` gets the
 * subprocess first, to read its pipe. plumb does not wait for it.
 */
export async function startInBackground(
  argv: string[],
  io: { stdout: number; stderr: number | 'pipe' },
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; doing?: string } = {},
): Promise<StartedProgram & { subprocess: ResultPromise<Options> }> {
  const run = await execa();
  const child = run(argv[0]!, argv.slice(1), {
    ...baseOptions(opts.env, opts.cwd),
    detached: true,
    cleanup: false,
    buffer: false,
    stdin: 'ignore',
    stdout: io.stdout,
    stderr: io.stderr,
  } as Options);
  let status: number | null = null;
  const settled = child.then((r) => {
    status = statusOf(r);
    return r;
  });
  if (child.pid === undefined) {
    const r = await settled;
    throw startFailure(r, opts.doing ?? argv[0]!, argv[0]!) ?? new KernelError(`${opts.doing ?? argv[0]}: could not start`, 'ELAUNCH');
  }
  child.unref();
  return { pid: child.pid, exited: () => status, subprocess: child };
}

/**
 * The environment a plumb daemon (resolver, agent) starts with: this one,
 * minus what belongs to this command only. No daemon makes a TLS connection,
 * so no CA bundle to parse at start (bin/plumb's shebang drops it the same
 * way); the step-failure hooks of tests are meant for this command, not for
 * a daemon it starts.
 */
// This file sits two directories below the repository, like the bundle
// (dist/bundle/plumb.cjs), so the same relative path works from both.
const PLUMB_BIN = fileURLToPath(new URL('../../bin/plumb', import.meta.url));

export function daemonEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['NODE_EXTRA_CA_CERTS', 'PLUMB_CRASH_AT_STEP', 'PLUMB_FAIL_AT_STEP']) delete env[key];
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * Starts plumb itself as a daemon (`plumb dns serve`, `plumb agent`): its own
 * session, output appended to `logFile`, environment from daemonEnv.
 */
export async function startDaemon(args: string[], opts: { logFile: string; env: Record<string, string | undefined>; cwd?: string }): Promise<StartedProgram> {
  const log = openSync(opts.logFile, 'a', 0o640);
  try {
    const started = await startInBackground([process.execPath, PLUMB_BIN, ...args], { stdout: log, stderr: log }, { env: daemonEnv(opts.env), cwd: opts.cwd, doing: `start plumb ${args[0]}` });
    return { pid: started.pid, exited: started.exited };
  } finally {
    closeSync(log);
  }
}
