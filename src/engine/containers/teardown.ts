// Tearing a container's sandbox down while keeping its record: on stop, and
// when its main process has ended on its own (reaped by any later command,
// as Docker does when a container exits). Apart from the lifecycle so that
// network operations can reap without importing the lifecycle.
import { rmSync } from 'node:fs';
import { isNamespaceFile } from '../../kernel/netns.js';
import type { ContainerRecord, StoreData } from '../../store/model.js';
import { containerDir } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import { Transaction } from '../core/transaction.js';
import { syncFirewall } from '../firewall/sync.js';
import { detachEndpoint } from '../networks/endpoints.js';
import { releaseSandboxDns } from '../networks/resolver-sockets.js';
import { sandboxFiles } from './etc-files.js';
import { involvedInLinks } from './links.js';
import { endProcesses, mainAlive } from './processes.js';
import { destroySandbox } from './sandbox.js';

/** Files of a container: its directory and /etc files (the monitor's are in processes.ts, monitorFiles). */
export function containerFiles(ctx: Context, c: ContainerRecord) {
  const dir = containerDir(ctx.paths, c.id);
  return { dir, ...sandboxFiles(dir) };
}

/** Tears down what start built: process, endpoints, sandbox. Leaves the record. */
export async function stopInPlace(ctx: Context, data: StoreData, c: ContainerRecord, timeoutMs: number, exitCode?: number): Promise<void> {
  // Every process of the container (its cgroup), then its monitor, which records the main process's status.
  const ended = (c.pid || c.cgroup || c.monitorPid) && !ctx.dryRun ? await endProcesses(ctx, c, timeoutMs) : undefined;
  const code = exitCode ?? ended?.code ?? (c.pid ? 137 : 0);
  // The sandbox is deleted next; its links go with it (see LeaveOptions) — unless a container:NAME
  // container still shares it: the namespace then lives on, and Docker leaves it only lo.
  const sandboxGoing = !Object.values(data.containers).some((o) => o.state === 'running' && o.sandbox?.joined === c.id);
  // The resolver's sockets inside (macvlan) would keep the namespace, and its macvlan child, alive.
  await releaseSandboxDns(ctx, data, c);
  for (const [netId, ep] of Object.entries(c.endpoints)) await detachEndpoint(ctx, data, c, data.networks[netId], ep, { sandboxGoing });
  c.endpoints = {};
  const hadPorts = c.ports.length > 0;
  c.ports = [];
  destroySandbox(ctx, c);
  c.state = 'exited';
  c.exitCode = code;
  c.pid = undefined;
  c.monitorPid = undefined;
  c.cgroup = undefined;
  c.finishedAt = ended?.finishedAt ?? new Date().toISOString();
  if (hadPorts || involvedInLinks(data, c)) await Transaction.run('firewall', (tx) => syncFirewall(ctx, data, tx, `withdraw ${c.name}'s published ports`));
}

/**
 * Whether a container recorded as running has in fact ended: its main
 * process (COMMAND or the holder) is gone (a zombie or a reused PID counts as
 * gone), or it has no process (a record from before every container had one)
 * and its sandbox namespace is no longer mounted (a reboot, or a crash that
 * unmounted it): nothing holds its network stack any more.
 */
export function hasEnded(c: ContainerRecord): boolean {
  if (c.state !== 'running') return false;
  if (c.pid) return !mainAlive(c);
  return !!c.sandbox?.netns && !isNamespaceFile(c.sandbox.netns);
}

/** Containers that ended on their own (hasEnded): tear their sandboxes down, as Docker does when a container exits. */
export async function reapExited(ctx: Context, data: StoreData): Promise<void> {
  for (const c of Object.values(data.containers)) {
    if (!hasEnded(c)) continue;
    await stopInPlace(ctx, data, c, 0);
    if (c.autoRemove) removeRecord(ctx, data, c);
  }
}

export function removeRecord(ctx: Context, data: StoreData, c: ContainerRecord): void {
  delete data.containers[c.id];
  const dir = containerFiles(ctx, c).dir;
  ctx.journal.runSync({ kind: 'file.remove', path: dir, why: `${c.name}'s own files go: its /etc files, output log and exit code` }, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

