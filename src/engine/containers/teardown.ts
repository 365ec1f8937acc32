// Tearing a container's sandbox down while keeping its record: on stop, and
// when its main process has ended on its own (reaped by any later command,
// as Docker does when a container exits). Apart from the lifecycle so that
// network operations can reap without importing the lifecycle.
import { containersWhere } from '../../store/store.js';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord, StoreData } from '../../store/model.js';
import { containerDir, exitedDir, exitsDir, sandboxDir } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import { Transaction } from '../core/transaction.js';
import { syncFirewall } from '../firewall/sync.js';
import { detachEndpoint } from '../networks/endpoints.js';
import { releaseSandboxDns } from '../networks/resolver-sockets.js';
import { sandboxFiles } from './etc-files.js';
import { involvedInLinks } from './links.js';
import { endProcesses } from './processes.js';
import { hasEnded } from './ended.js';
import { destroySandbox } from './sandbox.js';

/** Files of a container: its directory (log) in the state, its /etc files in the run directory (the monitor's are in processes.ts, monitorFiles). */
export function containerFiles(ctx: Context, c: ContainerRecord) {
  const dir = containerDir(ctx.paths, c.id);
  const etcDir = sandboxDir(ctx.paths, c.id);
  return { dir, etcDir, ...sandboxFiles(etcDir) };
}

/**
 * Tears down what start built: process, endpoints, sandbox. Leaves the record.
 * `timeoutMs` 0 is rm -f: no grace period, so nothing is left to serve, and
 * the container's published ports are withdrawn while its processes end and
 * its sandbox goes. The restore that deletes them waits on the kernel (RCU
 * grace periods, one per table) and so does the teardown; waiting at once
 * costs the longer wait, not both. A stop keeps its ports until its
 * processes have ended, as Docker does: a graceful exit may still answer.
 */
export async function stopInPlace(ctx: Context, data: StoreData, c: ContainerRecord, timeoutMs: number, exitCode?: number): Promise<void> {
  if (timeoutMs === 0 && c.ports.length && !ctx.dryRun && !involvedInLinks(data, c)) {
    c.ports = [];
    await Transaction.run('firewall', (tx) =>
      syncFirewall(ctx, data, tx, `withdraw ${c.name}'s published ports`, undefined, () => tearDown(ctx, data, c, timeoutMs, exitCode)),
    );
    return;
  }
  const hadPorts = c.ports.length > 0;
  await tearDown(ctx, data, c, timeoutMs, exitCode);
  if (hadPorts || involvedInLinks(data, c)) await Transaction.run('firewall', (tx) => syncFirewall(ctx, data, tx, `withdraw ${c.name}'s published ports`));
}

async function tearDown(ctx: Context, data: StoreData, c: ContainerRecord, timeoutMs: number, exitCode?: number): Promise<void> {
  // Every process of the container (its cgroup), then its monitor, which records the main process's status.
  const ended = (c.pid || c.cgroup || c.monitorPid) && !ctx.dryRun ? await endProcesses(ctx, c, timeoutMs) : undefined;
  const code = exitCode ?? ended?.code ?? (c.pid ? 137 : 0);
  // The sandbox is deleted next; its links go with it (see LeaveOptions) — unless a container:NAME
  // container still shares it: the namespace then lives on, and Docker leaves it only lo.
  const sandboxGoing = !containersWhere(data, 'joined').some((o) => o.state === 'running' && o.sandbox?.joined === c.id);
  // The resolver's sockets inside (macvlan) would keep the namespace, and its macvlan child, alive.
  await releaseSandboxDns(ctx, data, c);
  for (const [netId, ep] of Object.entries(c.endpoints)) await detachEndpoint(ctx, data, c, data.networks[netId], ep, { sandboxGoing });
  c.endpoints = {};
  c.ports = [];
  destroySandbox(ctx, c);
  c.state = 'exited';
  c.exitCode = code;
  c.pid = undefined;
  c.monitorPid = undefined;
  c.cgroup = undefined;
  c.finishedAt = ended?.finishedAt ?? new Date().toISOString();
}

export { hasEnded };

/**
 * Containers that ended on their own (hasEnded): tear their sandboxes down,
 * as Docker does when a container exits. Which ones to look at: those whose
 * monitor recorded an exit status since (the run directory's exits/, one
 * listing), not every container on the host. `all` looks at every container:
 * gc and check do, and so does the first command after the run directory
 * was emptied (a reboot), when no monitor is left to report.
 */
export async function reapExited(ctx: Context, data: StoreData, scope: 'reported' | 'all' = 'reported'): Promise<void> {
  const dir = exitsDir(ctx.paths);
  let reported: string[] | undefined;
  if (scope === 'reported') {
    try {
      reported = readdirSync(dir);
    } catch {
      // No exits/ yet: a fresh run directory. Look at everything once, then rely on the reports.
    }
  }
  const candidates = reported ? reported.map((id) => data.containers[id]).filter((c): c is ContainerRecord => !!c) : Object.values(data.containers);
  for (const c of candidates) await reapIfEnded(ctx, data, c);
  if (!ctx.dryRun) {
    mkdirSync(dir, { recursive: true });
    // Reports of containers that are gone or no longer running are not looked at again.
    for (const id of reported ?? []) if (data.containers[id]?.state !== 'running') archiveExit(ctx, id);
  }
}

/**
 * Containers holding host ports whose process ended unreported (a monitor
 * killed, a reboot): reaped before a container publishes, so their ports are
 * free again, as Docker's would be. Only the few with ports are looked at.
 */
export async function reapPublishers(ctx: Context, data: StoreData, except?: string): Promise<void> {
  for (const o of containersWhere(data, 'ports')) if (o.id !== except) await reapIfEnded(ctx, data, o);
}

/** One container, if it ended on its own: torn down, or removed with --rm. */
export async function reapIfEnded(ctx: Context, data: StoreData, c: ContainerRecord): Promise<void> {
  if (!hasEnded(c)) return;
  await stopInPlace(ctx, data, c, 0);
  if (!ctx.dryRun) archiveExit(ctx, c.id);
  if (c.autoRemove) removeRecord(ctx, data, c);
}

/** The monitor's report, once read into the record, moves out of exits/ (wait and a foreground run may still read it). */
function archiveExit(ctx: Context, id: string): void {
  try {
    mkdirSync(exitedDir(ctx.paths), { recursive: true });
    renameSync(join(exitsDir(ctx.paths), id), join(exitedDir(ctx.paths), id));
  } catch {
    rmSync(join(exitsDir(ctx.paths), id), { force: true });
  }
}

export function removeRecord(ctx: Context, data: StoreData, c: ContainerRecord): void {
  delete data.containers[c.id];
  if (!ctx.dryRun) for (const d of [exitsDir(ctx.paths), exitedDir(ctx.paths)]) rmSync(join(d, c.id), { force: true });
  const { dir, etcDir } = containerFiles(ctx, c);
  ctx.journal.runSync({ kind: 'file.remove', path: etcDir, why: `${c.name}'s /etc files go (hosts, resolv.conf, hostname)` }, () =>
    rmSync(etcDir, { recursive: true, force: true }),
  );
  ctx.journal.runSync({ kind: 'file.remove', path: dir, why: `${c.name}'s own files go: its output log` }, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

