// Starting and stopping the host agent (see agent.ts). One per host: its PID
// and start time are in the runtime dir, and a second agent refuses to start
// while the first lives. Commands that put this host on an overlay start it on
// demand, detached, with the cluster settings they were given; `plumb system
// reset` stops it. Nothing here loads the etcd client.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClusterConfig } from '../../cluster/config.js';
import { isAlive, processStartTime, stopProcess } from '../../kernel/process.js';
import { startDaemon } from '../../kernel/runner.js';
import type { Paths } from '../../store/paths.js';
import type { Context } from '../core/context.js';

export const agentPidFile = (paths: Paths) => join(paths.run, 'agent.pid');
export const agentLogFile = (paths: Paths) => join(paths.run, 'agent.log');

/** The running agent's PID, or undefined (a stale pid file counts as none). */
export function runningAgent(paths: Paths): number | undefined {
  let text: string;
  try {
    text = readFileSync(agentPidFile(paths), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, start] = text.trim().split(' ').map(Number);
  if (!pid || !isAlive(pid, start)) return undefined;
  return pid;
}

/**
 * Claims the pid file for this process; false when another live agent holds
 * it. A stale file (its process is gone) is taken over.
 */
export function claimAgentPidFile(paths: Paths): boolean {
  const file = agentPidFile(paths);
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid} ${processStartTime(process.pid)}\n`);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    if (runningAgent(paths) !== undefined) return false;
    rmSync(file, { force: true });
  }
  return false;
}

export function releaseAgentPidFile(paths: Paths): void {
  try {
    const [pid] = readFileSync(agentPidFile(paths), 'utf8').trim().split(' ').map(Number);
    if (pid === process.pid) rmSync(agentPidFile(paths), { force: true });
  } catch {
    /* already gone */
  }
}

/** The root plumb was given (PLUMB_ROOT / --root), recovered from its paths, for the agent's environment. */
function rootOf(paths: Paths): string | undefined {
  return paths.state.endsWith('/lib') && paths.run === join(dirname(paths.state), 'run') ? dirname(paths.state) : undefined;
}

/** Starts the agent in the background unless one runs already. Returns its PID (undefined in a dry run). */
export async function ensureAgent(ctx: Context, config: ClusterConfig): Promise<number | undefined> {
  const running = runningAgent(ctx.paths);
  if (running) return running;
  ctx.journal.narrate(
    `plumb agent &   (PLUMB_CLUSTER_STORE=${config.store}, node ${config.nodeName})`,
    "start this host's overlay agent once: it watches the cluster store and programs the tunnel entries (FDB, neighbours) for containers on other hosts as they come and go",
    'cluster',
  );
  if (ctx.dryRun) return undefined;
  mkdirSync(ctx.paths.run, { recursive: true });
  const started = await startDaemon(['agent'], {
    logFile: agentLogFile(ctx.paths),
    env: { PLUMB_CLUSTER_STORE: config.store, PLUMB_NODE_NAME: config.nodeName, PLUMB_CLUSTER_ADVERTISE: config.advertise, PLUMB_ROOT: rootOf(ctx.paths) },
    cwd: '/',
  });
  return started.pid;
}

/** Stops the agent (SIGTERM, then SIGKILL after 3 s) if one runs. Returns whether one did. */
export async function stopAgent(paths: Paths): Promise<boolean> {
  const pid = runningAgent(paths);
  if (pid === undefined) {
    rmSync(agentPidFile(paths), { force: true });
    return false;
  }
  await stopProcess(pid, 3000);
  rmSync(agentPidFile(paths), { force: true });
  return true;
}
