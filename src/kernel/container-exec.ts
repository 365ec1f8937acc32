// Running a process in a running container (`plumb exec`): attached, with the
// caller's terminal or pipes, or detached (-d), returning at once. The argv
// comes from container-init.ts (execArgv) and joins the container's cgroup
// itself, so a detached process is tracked like the rest.
import { constants as osConstants } from 'node:os';
import { spawn } from './spawn.js';
import { KernelError } from './errors.js';

function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
}

/** Runs argv with plumb's stdout and stderr (and stdin when asked); resolves with its exit status. */
export function execAttached(argv: string[], env: Record<string, string>, opts: { stdin: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [opts.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit'], env, cwd: '/' });
    const forward = (sig: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    const handlers: [NodeJS.Signals, () => void][] = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)]);
    for (const [s, h] of handlers) process.on(s, h);
    const done = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    child.on('error', (e) => {
      done();
      reject(KernelError.from(e, `exec ${argv[0]}`));
    });
    child.on('close', (code, signal) => {
      done();
      resolve(exitStatus(code, signal));
    });
  });
}

/** Starts argv in its own session with no terminal and no output (docker exec -d); resolves with its PID. */
export function execDetached(argv: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env, cwd: '/', detached: true });
    child.once('error', (e) => reject(KernelError.from(e, `exec ${argv[0]}`)));
    child.once('spawn', () => {
      child.unref();
      resolve(child.pid!);
    });
  });
}

/** `ps -f` rows for these PIDs (docker top's default columns); extra ps options replace -f. */
export function psTable(pids: number[], psArgs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = [...(psArgs.length ? psArgs : ['-f']), '-p', pids.join(',')];
    const child = spawn('ps', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e) => reject(KernelError.from(e, 'ps')));
    // ps exits 1 when a PID ended meanwhile; the rows it printed are still right.
    child.on('close', (code) => (code === 0 || out ? resolve(out) : reject(new KernelError(`ps ${args.join(' ')}: ${err.trim()}`, 'EPS'))));
  });
}
