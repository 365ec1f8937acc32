// A picture of the host's network stack taken just before plumb first changes
// it: links, addresses, routes, the firewall (iptables-save, normalised) and the
// sysctls plumb touches. `plumb system reset --verify` compares the host with it
// afterwards, so "reset removes everything" is shown, not promised. gc also reads
// it to learn a sysctl's original value when a crash kept it out of the store.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir } from '../../kernel/private.js';
import { join } from 'node:path';
import { readSysctl } from '../../kernel/sysctl.js';
import { parseIptablesSave } from '../../firewall/index.js';
import type { Paths } from '../../store/paths.js';
import type { Context } from '../core/context.js';

/** Host sysctls plumb may change (engine/networks/host-setup.ts). */
export const TOUCHED_SYSCTLS = ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'];

const BUILTIN_CHAINS = new Set(['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING']);

export interface HostSnapshot {
  taken: string;
  links: string[];
  addresses: string[];
  routes: string[];
  /** `table :CHAIN POLICY` for policies other than ACCEPT and for user chains; `table -A ...` for rules. */
  iptables: string[];
  sysctls: Record<string, string>;
}

export const snapshotFile = (p: Paths) => join(p.state, 'host-snapshot.json');

/** iptables-save text as comparable lines: no counters, comments or empty default tables. */
export function normaliseIptables(text: string): string[] {
  const lines: string[] = [];
  for (const [table, t] of parseIptablesSave(text)) {
    for (const [chain, policy] of t.chains) {
      if (BUILTIN_CHAINS.has(chain) && policy === 'ACCEPT') continue;
      lines.push(`${table} :${chain} ${policy}`);
    }
    for (const [chain, rules] of t.rules) for (const args of rules) lines.push(`${table} -A ${chain} ${args.join(' ')}`);
  }
  return lines.sort();
}

export async function captureHost(ctx: Context): Promise<HostSnapshot> {
  const rtnl = ctx.hostRtnl();
  const links = (await rtnl.links()).map(
    (l) => `${l.name} ${l.kind ?? 'device'} ${l.up ? 'up' : 'down'} mtu ${l.mtu}${l.master ? ` master ${l.master}` : ''}`,
  );
  const addresses = (await rtnl.addresses()).map((a) => `${a.dev} ${a.cidr}`);
  const routes = (await rtnl.routes()).map(
    (r) => `${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.src ? ` src ${r.src}` : ''} scope ${r.scope} type ${r.type}`,
  );
  const sysctls: Record<string, string> = {};
  for (const key of TOUCHED_SYSCTLS) {
    const v = readSysctl(ctx.hostNs(), key);
    if (v !== undefined) sysctls[key] = v;
  }
  return {
    taken: new Date().toISOString(),
    links: links.sort(),
    addresses: addresses.sort(),
    routes: routes.sort(),
    iptables: normaliseIptables(await ctx.firewall.save(ctx.hostNs())),
    sysctls,
  };
}

export function readSnapshot(paths: Paths): HostSnapshot | undefined {
  try {
    return JSON.parse(readFileSync(snapshotFile(paths), 'utf8')) as HostSnapshot;
  } catch {
    return undefined;
  }
}

/** Takes the snapshot if this plumb root has none yet (i.e. before its first change to the host). */
export async function takeSnapshotOnce(ctx: Context): Promise<void> {
  if (ctx.dryRun || existsSync(snapshotFile(ctx.paths))) return;
  const snap = await captureHost(ctx);
  ensurePrivateDir(ctx.paths.state);
  writeFileSync(snapshotFile(ctx.paths), JSON.stringify(snap, null, 1));
}

/** One line per difference: `- what was there and is gone`, `+ what is there and was not`. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  const out: string[] = [];
  const section = (name: string, a: string[], b: string[]) => {
    const left = new Map<string, number>();
    for (const x of a) left.set(x, (left.get(x) ?? 0) + 1);
    for (const x of b) {
      const n = left.get(x) ?? 0;
      if (n > 0) left.set(x, n - 1);
      else out.push(`+ ${name} ${x}`);
    }
    for (const [x, n] of left) for (let i = 0; i < n; i++) out.push(`- ${name} ${x}`);
  };
  section('link', before.links, after.links);
  section('address', before.addresses, after.addresses);
  section('route', before.routes, after.routes);
  section('iptables', before.iptables, after.iptables);
  for (const key of new Set([...Object.keys(before.sysctls), ...Object.keys(after.sysctls)])) {
    if (before.sysctls[key] !== after.sysctls[key]) out.push(`~ sysctl ${key} was ${before.sysctls[key] ?? '(absent)'}, is ${after.sysctls[key] ?? '(absent)'}`);
  }
  return out;
}
