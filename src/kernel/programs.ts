// Read-only programs run inside a namespace for diagnosis: `bridge -j`,
// `conntrack -L`, `nft`, and the probes (ping, socat, dig). Every run is
// bounded in time, so a diagnosis never hangs on a dead path.
import { runBounded } from './runner.js';
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
  return runBounded(inNetnsArgv(ns as Netns, argv), opts);
}
