// plumb network create|ls|inspect|rm|prune
import type { Command } from 'commander';
import { activeEndpoints, createNetwork, ensureBuiltinNetworks, pruneNetworks, removeNetworks } from '../../engine/networks/lifecycle.js';
import { formatTable } from '../format/table.js';
import { openContext, out } from '../output.js';
import type { Context } from '../../engine/core/context.js';
import { networkFilterFromFlags, parseAuxAddresses, parseKeyValues, parseLabels } from '../parse/options.js';
import { networkInspectJson } from './inspect.js';
import { PlumbError } from '../../engine/core/errors.js';
import { renderFormat, renderTemplate } from '../format/template.js';
import { renderInspect } from '../format/inspect.js';

interface CreateOpts {
  driver: string;
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  auxAddress: string[];
  internal?: boolean;
  attachable?: boolean;
  label: string[];
  opt: string[];
}

/** plumb keeps one IPv4 subnet per network; Docker pairs several --subnet/--gateway/--ip-range values, plumb refuses them. */
function single(values: string[], flag: string): string | undefined {
  if (values.length > 1) {
    throw new PlumbError(`plumb supports one ${flag} per network, got ${values.length} (${values.join(', ')}): create one network per subnet`);
  }
  return values[0];
}

export async function create(name: string, o: CreateOpts, cmd: Command): Promise<number> {
  const subnet = single(o.subnet, '--subnet');
  const gateway = single(o.gateway, '--gateway');
  const ipRange = single(o.ipRange, '--ip-range');
  const ctx = await openContext(cmd, true, 'plumb network create');
  try {
    const net = await createNetwork(ctx, {
      name,
      driver: o.driver,
      subnet,
      gateway,
      ipRange,
      aux: parseAuxAddresses(o.auxAddress),
      internal: !!o.internal,
      attachable: !!o.attachable,
      labels: parseLabels(o.label),
      options: parseKeyValues(o.opt),
    });
    out(net.id);
    return 0;
  } finally {
    ctx.close();
  }
}

/** Labels as Docker's list formatters print them: `k=v` pairs joined by commas, in key order. */
export function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels![k]}`)
    .join(',');
}

export async function list(o: { quiet?: boolean; trunc: boolean; filter: string[]; format?: string }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb network ls');
  try {
    if (process.getuid?.() === 0) await ensureBuiltinNetworks(ctx);
    if (process.getuid?.() === 0) await refreshClusterNetworks(ctx);
    const data = ctx.store.read();
    const keep = networkFilterFromFlags(o.filter);
    const nets = Object.values(data.networks)
      // `dangling` needs the number of containers on each network, as prune counts them.
      .filter((n) => keep({ id: n.id, name: n.name, driver: n.driver, scope: n.scope, labels: n.labels, builtin: n.builtin, containers: activeEndpoints(data, n.id).length }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const id = (full: string) => (o.trunc ? full.slice(0, 12) : full);
    if (o.quiet) {
      out(nets.map((n) => id(n.id)).join('\n'));
      return 0;
    }
    if (o.format) {
      // Docker's networkContext answers with text: booleans as "true"/"false", labels as "k=v,k2=v2", one label by `.Label "k"`.
      const rows = nets.map((n) => ({
        ID: id(n.id),
        Name: n.name,
        Driver: n.driver,
        Scope: n.scope,
        IPv6: 'false',
        Internal: String(n.internal),
        Labels: labelsText(n.labels),
        Label: (key: string) => n.labels[key] ?? '',
        CreatedAt: n.created,
      }));
      process.stdout.write(
        renderFormat(o.format, rows, {
          typeName: '*formatter.networkContext',
          headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', Label: 'LABEL', CreatedAt: 'CREATED AT' },
        }),
      );
      return 0;
    }
    out(formatTable([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...nets.map((n) => [id(n.id), n.name, n.driver, n.scope])]));
    return 0;
  } finally {
    ctx.close();
  }
}

export async function inspect(refs: string[], o: { format?: string }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb network inspect');
  try {
    if (process.getuid?.() === 0) await ensureBuiltinNetworks(ctx);
    if (process.getuid?.() === 0) await refreshClusterNetworks(ctx);
    const { json, missing } = await networkInspectJson(ctx, refs);
    await addOverlayFacts(ctx, json as Array<Record<string, unknown>>);
    await addKernelFacts(ctx, json as Array<Record<string, unknown>>);
    if (o.format) for (const item of json) process.stdout.write(renderTemplate(o.format, item));
    else out(renderInspect(json));
    for (const m of missing) process.stderr.write(`Error: No such network: ${m}\n`);
    return missing.length ? 1 : 0;
  } finally {
    ctx.close();
  }
}

export async function remove(refs: string[], _o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb network rm');
  try {
    const { removed, errors } = await removeNetworks(ctx, refs);
    for (const r of removed) out(r);
    for (const e of errors) process.stderr.write(`Error: ${e}\n`);
    return errors.length ? 1 : 0;
  } finally {
    ctx.close();
  }
}

export async function prune(o: { force?: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb network prune');
  try {
    if (!o.force && process.stdin.isTTY) {
      process.stdout.write('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
      const answer = await new Promise<string>((resolve) => process.stdin.once('data', (d) => resolve(String(d))));
      process.stdin.pause();
      if (!/^y/i.test(answer.trim())) return 0;
    }
    const removed = await pruneNetworks(ctx);
    if (removed.length) out(`Deleted Networks:\n${removed.join('\n')}\n`);
    return 0;
  } finally {
    ctx.close();
  }
}

/** Without a cluster store this does nothing and loads nothing. */
async function refreshClusterNetworks(ctx: Context): Promise<void> {
  await (await import('../../engine/overlay/networks.js')).refreshClusterNetworks(ctx, { tolerant: true });
}

/** Bridge and macvlan networks: what the kernel has next to what the store expects, under Plumb.Kernel. */
export async function addKernelFacts(ctx: Context, items: Array<Record<string, unknown>>): Promise<void> {
  const wanted = items.filter((i) => i.Driver === 'bridge' || i.Driver === 'macvlan');
  if (!wanted.length || process.getuid?.() !== 0) return;
  const { Facts } = await import('../../doctor/facts.js');
  const { networkKernelView } = await import('../../doctor/hops/kernel-view.js');
  const data = ctx.store.read();
  const f = new Facts(ctx, data);
  for (const item of wanted) {
    const net = data.networks[item.Id as string];
    if (!net) continue;
    const kernel = await networkKernelView(f, net).catch((err: Error) => ({ Error: err.message }));
    if (!kernel) continue;
    const plumb = { ...((item.Plumb as Record<string, unknown> | undefined) ?? {}), Kernel: kernel };
    delete item.Plumb;
    item.Plumb = plumb;
  }
}

/** Overlay networks: Docker's Peers list, and plumb's expected-vs-actual forwarding entries under Plumb.Overlay. */
async function addOverlayFacts(ctx: Context, items: Array<Record<string, unknown>>): Promise<void> {
  const overlays = items.filter((i) => i.Driver === 'overlay');
  if (!overlays.length) return;
  const { inspectOverlay } = await import('../../engine/overlay/inspect.js');
  const data = ctx.store.read();
  for (const item of overlays) {
    const net = data.networks[item.Id as string];
    if (net?.driver !== 'overlay') continue;
    const facts = await inspectOverlay(ctx, net);
    const plumb = { ...((item.Plumb as Record<string, unknown> | undefined) ?? {}), ...facts.plumb };
    delete item.Plumb;
    item.Peers = facts.peers.map((p) => ({ Name: p.name, IP: p.ip }));
    item.Plumb = plumb;
  }
}
