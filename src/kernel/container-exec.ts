// Running a process in a running container (`plumb exec`): attached, with the
// caller's terminal or pipes, or detached (-d), returning at once; and `ps`
// for `top`. The argv comes from container-init.ts (execArgv) and joins the
// container's cgroup itself, so a detached process is tracked like the rest.
// All through the one runner (runner.ts).
import { closeSync, openSync } from 'node:fs';
import { KernelError } from './errors.js';
import { runOnTerminal, runProgram, startInBackground } from './runner.js';

/** Runs argv with plumb's stdout and stderr (and stdin when asked); resolves with its exit status. */
export function execAttached(argv: string[], env: Record<string, string>, opts: { stdin: boolean }): Promise<number> {
  return runOnTerminal(argv, { stdin: opts.stdin, env, cwd: '/', doing: `exec ${argv.at(-1) ?? ''}`.trim() });
}

/** Starts argv in its own session with no terminal and no output (docker exec -d); resolves with its PID. */
export async function execDetached(argv: string[], env: Record<string, string>): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  try {
    const started = await startInBackground(argv, { stdout: devNull, stderr: devNull }, { env, cwd: '/', doing: 'exec -d' });
    return started.pid;
  } finally {
    closeSync(devNull);
  }
}

/** `ps -f` rows for these PIDs (docker top's default columns); extra ps options replace -f. */
export async function psTable(pids: number[], psArgs: string[]): Promise<string> {
  const args = [...(psArgs.length ? psArgs : ['-f']), '-p', pids.join(',')];
  const r = await runProgram(['ps', ...args], { doing: 'ps' });
  // ps exits 1 when a PID ended meanwhile; the rows it printed are still right.
  if (r.code === 0 || r.stdout) return r.stdout;
  throw new KernelError(`ps ${args.join(' ')}: ${r.stderr.trim()}`, 'EPS');
}
