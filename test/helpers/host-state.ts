// What a lab host's network stack looks like, as comparable lines: links,
// IPv4 addresses, routes, iptables-save (counters and comments dropped), plumb's
// namespace files and ip_forward. Two equal states mean an operation left no trace.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MOUNT_POINT_TEMPLATE } from '../../src/kernel/netns.js';
import type { Lab } from './lab.js';

export interface HostState {
  links: string[];
  addresses: string[];
  routes: string[];
  iptables: string[];
  nsFiles: string[];
  ipForward: string;
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export function hostState(lab: Lab): HostState {
  const links = lab
    .ipJson<Array<{ ifname: string; master?: string; flags: string[]; mtu: number }>>(['link', 'show'])
    .map((l) => `${l.ifname} mtu ${l.mtu}${l.master ? ` master ${l.master}` : ''}${l.flags.includes('UP') ? ' up' : ''}`)
    .sort();
  const addresses = lab
    .ipJson<Array<{ ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>>(['addr', 'show'])
    .flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
    .sort();
  const routes = lab
    .ipJson<Array<{ dst: string; gateway?: string; dev?: string }>>(['route', 'show'])
    .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`)
    .sort();
  const iptables = normaliseSave(lab.iptablesSave());
  // Namespace files, not the empty file they are made from (kernel/netns.ts): it stays, like the directories, until system reset.
  const nsFiles = [join(lab.root, 'run', 'netns'), join(lab.root, 'run', 'uts'), lab.netnsDir]
    .flatMap(filesUnder)
    .filter((f) => basename(f) !== MOUNT_POINT_TEMPLATE)
    .sort();
  const ipForward = lab.execSync(['cat', '/proc/sys/net/ipv4/ip_forward']).stdout.trim();
  return { links, addresses, routes, iptables, nsFiles, ipForward };
}

/**
 * iptables-save without comments and counters, and without tables that hold
 * nothing but built-in chains with policy ACCEPT (with the nf_tables backend a
 * table stays listed once used, though it filters nothing).
 */
export function normaliseSave(text: string): string[] {
  const out: string[] = [];
  let block: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/ \[\d+:\d+\]$/, '');
    if (!line || line.startsWith('#')) continue;
    block.push(line);
    if (line === 'COMMIT') {
      const meaningful = block.some((l) => l.startsWith('-') || (l.startsWith(':') && !/^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT$/.test(l)));
      if (meaningful) out.push(...block);
      block = [];
    }
  }
  return out;
}
