// plumb system reset: remove everything plumb made, in this order: processes
// and sandboxes, bridges, firewall rules, host sysctls, then plumb's own mounts
// and files. Works from the store and also sweeps what the store forgot
// (namespace files of a crashed run).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { forwardPolicyText, removeAll } from '../../firewall/index.js';
import { releaseMountDir, removeNsFile } from '../../kernel/netns.js';
import { isRecordedProcessAlive, stopProcess } from '../../kernel/process.js';
import { containerDir, netnsDir, sandboxDir, utsDir } from '../../store/paths.js';
import { NODE_ID_FILE } from '../../cluster/node-id.js';
import { driverFor } from '../../drivers/index.js';
import { traitsOf } from '../../drivers/traits.js';
import type { Context } from '../core/context.js';
import { restoreHostSysctls } from '../networks/host-setup.js';
import { resolverStatus, stopResolver } from '../../dns/service.js';
import { destroySandbox } from '../containers/sandbox.js';
import { removeLeftovers } from './gc.js';
import { endProcesses, removeRootCgroup } from '../containers/processes.js';
import { captureHost, diffSnapshots, readSnapshot } from './snapshot.js';

export async function resetAll(ctx: Context): Promise<string[]> {
  const removed: string[] = [];
  // The overlay agent goes first, so it does not re-program what is being removed.
  if (!ctx.dryRun && (await (await import('../overlay/agent-control.js')).stopAgent(ctx.paths))) removed.push('overlay agent');
  await ctx.store.locked(async (data, commit) => {
    // Other hosts stop forwarding to this host's overlay containers (best effort: etcd may be down).
    if (!ctx.dryRun) {
      for (const w of await (await import('../overlay/services.js')).withdrawLocalEndpoints(ctx, data)) process.stderr.write(`WARNING: ${w}\n`);
    }
    // What crashed operations left (stray sandboxes with their interfaces, half-made links) goes first.
    if (!ctx.dryRun) for (const line of await removeLeftovers(ctx, data)) removed.push(line);
    for (const c of Object.values(data.containers)) {
      // Every process of the container (its cgroup), then its monitor; records from before cgroups: the PID's group.
      // A dry run stops nothing: it only prints what the real reset would change.
      if (!ctx.dryRun && (c.cgroup || c.monitorPid)) await endProcesses(ctx, c, 0);
      else if (!ctx.dryRun && c.pid && isRecordedProcessAlive(c.pid, c.pidStart)) await stopProcess(c.pid, 0);
      for (const ep of Object.values(c.endpoints)) {
        const net = data.networks[ep.networkId];
        if (net) await driverFor(net.driver)?.leaveEndpoint(ctx, net, ep);
      }
      // As rm does, step by step: the sweep of the namespace directories below then finds only what a crash left.
      destroySandbox(ctx, c);
      for (const dir of [sandboxDir(ctx.paths, c.id), containerDir(ctx.paths, c.id)]) {
        ctx.journal.runSync({ kind: 'file.remove', path: dir, why: `${c.name}'s own files go: its /etc files, output log` }, () =>
          rmSync(dir, { recursive: true, force: true }),
        );
      }
      removed.push(`container ${c.name}`);
    }
    data.containers = {};
    for (const n of Object.values(data.networks)) {
      await driverFor(n.driver)?.deleteNetwork(ctx, n);
      // The default bridge is built in but has kernel objects of its own; host and none have none.
      if (!n.builtin || !traitsOf(n).mode) removed.push(`network ${n.name}`);
    }
    data.networks = {};
    const current = await ctx.firewall.save(ctx.hostNs());
    let text = removeAll(current);
    if (data.forwardPolicyBefore && data.forwardPolicyBefore !== 'pending') {
      text = forwardPolicyText(data.forwardPolicyBefore) + text;
    }
    if (text.trim()) await ctx.firewall.apply(ctx.hostNs(), text, 'remove every rule and chain plumb made');
    data.forwardPolicyBefore = undefined;
    restoreHostSysctls(ctx, data);
    commit();
  });
  if (resolverStatus(ctx.paths)) ctx.journal.narrate('kill the `plumb dns serve` process', 'stop the embedded DNS resolver: no sandbox is left to ask it');
  if (ctx.dryRun) return removed;
  if (await stopResolver(ctx.paths)) removed.push('embedded DNS resolver');
  // cgroups a crash left behind (their processes end with them).
  if (await removeRootCgroup(ctx)) removed.push('cgroups');
  // Namespace files: those of the store's sandboxes and any a crash left behind.
  for (const dir of [netnsDir(ctx.paths), utsDir(ctx.paths)]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) removeNsFile(join(dir, f));
    releaseMountDir(dir);
  }
  const names = ctx.paths.netnsNames;
  if (existsSync(names) && names !== '/run/netns') {
    for (const f of readdirSync(names)) removeNsFile(join(names, f));
    releaseMountDir(names);
  }
  // Everything but the node ID: the host stays the same node in the cluster store, whose record of it stays valid.
  if (existsSync(ctx.paths.state)) {
    for (const f of readdirSync(ctx.paths.state)) if (f !== NODE_ID_FILE) rmSync(join(ctx.paths.state, f), { recursive: true, force: true });
  }
  return removed;
}

/**
 * system reset --verify: reset, then compare the host with the snapshot taken
 * before plumb first changed it. Returns the differences (none: the host is as
 * plumb found it), or undefined when there was no snapshot to compare with.
 */
export async function resetAndVerify(ctx: Context): Promise<{ removed: string[]; differences?: string[] }> {
  const before = readSnapshot(ctx.paths);
  const removed = await resetAll(ctx);
  if (!before || ctx.dryRun) return { removed };
  return { removed, differences: diffSnapshots(before, await captureHost(ctx)) };
}
