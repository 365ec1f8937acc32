// A sandbox is a container's network stack: a network namespace (registered
// under the container's name for `ip netns`), a UTS namespace holding its
// hostname, and the /etc files its processes see. Building and tearing one
// down, and the endpoints that plug it into networks.
import { join } from 'node:path';
import { createNetns, createUtsNs, deleteNsFile, registerNetns, removeNsFile, unregisterNetns, type Netns, type NsFileOptions } from '../../kernel/netns.js';
import { setSysctl } from '../../kernel/sysctl.js';
import { existsSync } from 'node:fs';
import type { ContainerRecord } from '../../store/model.js';
import { netnsDir, utsDir } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import type { Transaction } from '../core/transaction.js';

export function sandboxPaths(ctx: Context, c: ContainerRecord): { netns: string; uts: string; alias: string } {
  const short = c.id.slice(0, 12);
  return { netns: join(netnsDir(ctx.paths), short), uts: join(utsDir(ctx.paths), short), alias: join(ctx.paths.netnsNames, c.name) };
}

/**
 * How the sandbox's namespace files are made: in plumb's run directory they
 * are links of one template file (kernel/netns.ts), unless that directory is
 * also where `ip netns` looks (a root of /), which must show namespaces only.
 */
export function sandboxNsFiles(ctx: Context): NsFileOptions {
  const listed = new Set([ctx.paths.netnsNames, '/run/netns']);
  return { ownDir: !listed.has(netnsDir(ctx.paths)) && !listed.has(utsDir(ctx.paths)) };
}

/** Creates the sandbox's namespaces and brings up lo. Every step registers its undo. */
export async function buildSandbox(ctx: Context, tx: Transaction, c: ContainerRecord): Promise<Netns> {
  const p = sandboxPaths(ctx, c);
  const ns = await tx.step(
    'sandbox netns',
    () => ctx.adopt(createNetns(ctx.journal, c.name, p.netns, `sandbox ${c.name}: a private network stack for the container`, sandboxNsFiles(ctx))),
    () => removeNsFile(p.netns),
  );
  await tx.step(
    'register netns',
    () => registerNetns(ctx.journal, c.name, p.netns, ctx.paths.netnsNames, c.name, `let \`ip netns exec ${c.name}\` find it`),
    () => removeNsFile(p.alias),
  );
  await tx.step(
    'sandbox uts',
    () => createUtsNs(ctx.journal, c.name, p.uts, c.hostname, `its own hostname, ${c.hostname}, in a UTS namespace`, sandboxNsFiles(ctx)),
    () => removeNsFile(p.uts),
  );
  c.sandbox = { id: c.id, netns: p.netns, uts: p.uts };
  const rtnl = ctx.rtnlIn(ns);
  await tx.step('lo up', () => rtnl.setLink('lo', { up: true }, 'bring up the loopback interface inside the sandbox'));
  await tx.step('no ipv6', () =>
    setSysctl(ctx.journal, ns, 'net.ipv6.conf.all.disable_ipv6', '1', 'these networks are IPv4-only: disable IPv6 in the sandbox, as Docker does'),
  );
  return ns;
}

/** Removes the sandbox's namespace files; links inside die with the namespace. */
export function destroySandbox(ctx: Context, c: ContainerRecord): void {
  if (!c.sandbox) return;
  const p = sandboxPaths(ctx, c);
  // The name under ip netns is a second mount of the same namespace: it goes first, or the namespace outlives its removal.
  if (existsSync(p.alias)) {
    unregisterNetns(ctx.journal, c.name, ctx.paths.netnsNames, c.name, `forget the name ${c.name} under ip netns: that mount alone would keep the sandbox alive`);
  }
  if (c.sandbox.uts && existsSync(c.sandbox.uts)) deleteNsFile(ctx.journal, c.name, c.sandbox.uts, 'uts.del', `${c.name}'s hostname goes with its UTS namespace`);
  if (c.sandbox.netns && existsSync(c.sandbox.netns)) {
    deleteNsFile(
      ctx.journal,
      c.name,
      c.sandbox.netns,
      'netns.del',
      `remove sandbox ${c.name}: its interfaces go with it, and with each veth's inner end the end on the host too (the cable is cut)`,
    );
  }
  c.sandbox = undefined;
}
