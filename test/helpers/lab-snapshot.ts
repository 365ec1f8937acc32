// Everything a plumb command could change in a lab, taken cheaply enough to
// compare before and after every case of a long suite: one shell in the lab
// host reads links, addresses, routes (all tables), iptables-save, and the
// same inside every sandbox namespace plumb registered; the process list of
// the lab's namespaces; and every file and directory under PLUMB_ROOT with its
// content. Two equal snapshots mean a command left no trace.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Lab } from './lab.js';

/**
 * Files that change without a change of state: the lock's holder line, the
 * resolver's log, and the store's spare (the version a rewrite replaced,
 * kept for the next write: rewriting the same data changes it).
 */
const VOLATILE = new Set(['run/lock', 'run/dns.log', 'lib/store.json.spare']);

/** IPv6 link-local addresses and their routes come and go with carrier, on the kernel's own schedule. */
const LINK_LOCAL = /\bfe80:|\bff00::/;

const SCRIPT = `
set -u
dump() {
  ip -j link show; echo; echo @@addr
  ip -j addr show; echo; echo @@route
  ip -j route show table all; echo; echo @@rules
  iptables-save; echo @@end
}
echo "@@ns host"; dump
for f in "$1"/*; do
  [ -e "$f" ] || continue
  echo "@@ns $(basename "$f")"
  nsenter --net="$f" sh -c "$(declare -f dump); dump" 2>&1
done
echo "@@ns forward"; cat /proc/sys/net/ipv4/ip_forward
`;

interface IpLink {
  ifname: string;
  mtu?: number;
  master?: string;
  address?: string;
  flags?: string[];
  link_type?: string;
}

function normaliseSection(kind: string, text: string): string[] {
  const t = text.trim();
  if (kind === 'links') {
    return (JSON.parse(t || '[]') as IpLink[])
      .map((l) => `${l.ifname} mtu ${l.mtu} ${l.link_type ?? ''} ${l.address ?? ''}${l.master ? ` master ${l.master}` : ''}${l.flags?.includes('UP') ? ' up' : ''}`)
      .sort();
  }
  if (kind === 'addr') {
    return (JSON.parse(t || '[]') as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>)
      .flatMap((l) => l.addr_info.map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
      .filter((a) => !LINK_LOCAL.test(a))
      .sort();
  }
  if (kind === 'route') {
    return (JSON.parse(t || '[]') as Array<Record<string, unknown>>)
      .map((r) => `${r.table ?? 'main'} ${r.type ?? ''} ${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''} ${r.prefsrc ?? ''}`)
      .filter((r) => !LINK_LOCAL.test(r))
      .sort();
  }
  // iptables-save: drop comments (timestamps) and counters.
  return t
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
}

function kernelState(lab: Lab): Record<string, string[]> {
  const r = lab.execSync(['bash', '-c', SCRIPT, 'snapshot', lab.netnsDir]);
  if (r.code !== 0) throw new Error(`lab snapshot failed: ${r.stderr}`);
  const out: Record<string, string[]> = {};
  for (const block of r.stdout.split('@@ns ').slice(1)) {
    const nl = block.indexOf('\n');
    const ns = block.slice(0, nl);
    const body = block.slice(nl + 1);
    if (ns === 'forward') {
      out.forward = [body.trim()];
      continue;
    }
    const [links, rest1] = body.split('@@addr\n');
    const [addr, rest2] = (rest1 ?? '').split('@@route\n');
    const [route, rest3] = (rest2 ?? '').split('@@rules\n');
    const [rules] = (rest3 ?? '').split('@@end');
    out[`${ns} links`] = normaliseSection('links', links ?? '');
    out[`${ns} addresses`] = normaliseSection('addr', addr ?? '');
    out[`${ns} routes`] = normaliseSection('route', route ?? '');
    out[`${ns} iptables`] = normaliseSection('rules', rules ?? '');
  }
  return out;
}

function fileState(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      const rel = relative(root, p);
      if (VOLATILE.has(rel)) continue;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        found.push(`${rel}/`);
        walk(p);
        continue;
      }
      let digest: string;
      try {
        digest = createHash('sha1').update(readFileSync(p)).digest('hex').slice(0, 12);
      } catch {
        digest = `unreadable ino ${st.ino}`; // a namespace file
      }
      found.push(`${rel} ${st.mode.toString(8)} ${digest}`);
    }
  };
  walk(root);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(root))
    .map((m) => `mount ${relative(root, m)}`)
    .sort();
  return [...found, ...mounts];
}

export interface LabSnapshot {
  [part: string]: string[];
}

export function labSnapshot(lab: Lab): LabSnapshot {
  return { ...kernelState(lab), files: fileState(lab.root), processes: [String(lab.processesInLab().length)] };
}

/** The parts that differ, as readable lines (empty when equal). */
export function snapshotDiff(before: LabSnapshot, after: LabSnapshot): string[] {
  const diffs: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key] ?? [];
    const b = after[key] ?? [];
    const gone = a.filter((x) => !b.includes(x));
    const added = b.filter((x) => !a.includes(x));
    if (gone.length || added.length || a.join('\n') !== b.join('\n')) {
      diffs.push(`${key}: -[${gone.join(' | ')}] +[${added.join(' | ')}]`);
    }
  }
  return diffs;
}
