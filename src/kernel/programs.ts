// Read-only programs run inside a namespace for diagnosis: `bridge -j`,
// `conntrack -L`, `nft`, and the probes (ping, socat, dig). Every run is
// bounded in time, so a diagnosis never hangs on a dead path.
import { spawn } from './spawn.js';
import { inNetnsArgv } from './iptables.js';
import type { Netns } from './netns.js';

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed because it ran past its deadline. */
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
}

/** Runs argv in `ns` (nsenter for another namespace) and collects its output; never rejects. */
export function runIn(ns: Pick<Netns, 'path'>, argv: string[], opts: RunOptions = {}): Promise<ProgramResult> {
  const full = inNetnsArgv(ns as Netns, argv);
  return new Promise((resolve) => {
    let timedOut = false;
    const child = spawn(full[0]!, full.slice(1), { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 10_000);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: '', stderr: e.message, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}
