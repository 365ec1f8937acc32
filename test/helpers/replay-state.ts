// Everything a replay of plumb's explanations must reproduce, read from the
// kernel and the files, as one comparable object: in the lab host and in every
// namespace registered under the lab's netns-names directory, `ip -d -j`
// link/addr/route, `bridge -j fdb` (permanent and static entries) and
// `bridge -j link`, iptables-save (normalised), the sysctls plumb sets; and
// each sandbox's /etc files (hosts, resolv.conf, hostname).
//
// What the kernel chooses by itself differs between two hosts built the same
// way and is masked: interface indexes, netns ids, counters and timers, the
// random MAC of a veth's host end (and everything derived from it), IPv6
// link-local addresses.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runAsync } from './lab.js';

/** Where a host's state lives: its namespace file, plumb's root and the directory of its `ip netns` names. */
export interface ReplayHost {
  /** The host's network namespace file. */
  nsFile: string;
  root: string;
  netnsDir: string;
  /** Links of the host that the lab made (its uplink), left out of the comparison. */
  labLinks?: string[];
}
import { normaliseSave } from './host-state.js';

export interface NsState {
  link: unknown[];
  addr: unknown[];
  route: unknown[];
  fdb: unknown[];
  brlink: unknown[];
  iptables: string[];
  sysctl: string[];
}

export interface ReplayState {
  ns: Record<string, NsState>;
  files: Record<string, string>;
}

const READ_ALL = [
  'echo @@link; ip -d -j link show',
  'echo @@addr; ip -d -j addr show',
  'echo @@route; ip -d -j route show',
  'echo @@fdb; bridge -j fdb show',
  'echo @@brlink; bridge -j link show',
  'echo @@iptables; iptables-save',
  'echo @@sysctl',
  'for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/route_localnet /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do echo "${f#/proc/sys/} $(cat "$f")"; done',
].join('\n');

/** Keys whose values the kernel picks per host, not the configuration. */
const VOLATILE = new Set([
  'ifindex',
  'link_index',
  'link_netnsid',
  'stats',
  'stats64',
  'bridge_id',
  'root_id',
  'designated_root',
  'designated_bridge',
  'valid_life_time',
  'preferred_life_time',
]);

/**
 * A bridge port's number (and the ids made of it) is the lowest free one when
 * the port joins; a port whose namespace was just deleted frees its number a
 * moment later, in the background. The kernel's choice, not plumb's.
 */
const PORT_NUMBERS = new Set(['no', 'id', 'designated_port']);

function scrub(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => scrub(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (VOLATILE.has(k) || k.endsWith('_timer')) continue;
      if (key === 'info_slave_data' && PORT_NUMBERS.has(k)) continue;
      out[k] = scrub(v, k);
    }
    return out;
  }
  return value;
}

function sorted(rows: unknown[]): unknown[] {
  return rows
    .map((r) => [JSON.stringify(r), r] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, r]) => r);
}

function parseSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let key = '';
  for (const line of text.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) {
      key = m[1]!;
      out[key] = '';
    } else if (key) out[key] += `${line}\n`;
  }
  return out;
}

const json = (text: string | undefined): unknown[] => (text && text.trim() ? (JSON.parse(text) as unknown[]) : []);

async function readNs(path: string): Promise<{ raw: Record<string, string> }> {
  const r = await runAsync(['nsenter', `--net=${path}`, 'sh', '-c', READ_ALL]);
  if (r.code !== 0) throw new Error(`reading ${path} failed (${r.code}): ${r.stderr}`);
  return { raw: parseSections(r.stdout) };
}

/** Namespaces to read: the lab host, and every name registered in `<root>/netns-names`. */
function namespacesOf(lab: ReplayHost): Record<string, string> {
  const out: Record<string, string> = { host: lab.nsFile };
  if (existsSync(lab.netnsDir)) for (const name of readdirSync(lab.netnsDir)) out[name] = join(lab.netnsDir, name);
  return out;
}

/** The sandboxes' /etc files below the lab's root (in its run directory), by path relative to it. */
function etcFiles(root: string): Record<string, string> {
  const dir = join(root, 'run', 'containers');
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const id of readdirSync(dir)) {
    for (const f of ['hosts', 'resolv.conf', 'hostname']) {
      const p = join(dir, id, f);
      if (existsSync(p) && statSync(p).isFile()) out[`run/containers/${id}/${f}`] = readFileSync(p, 'utf8');
    }
  }
  return out;
}

const HOST_END = /^veth[0-9a-f]{7}$/;

/** Reads the whole state of a lab (see the file comment). */
export async function replayState(lab: ReplayHost): Promise<ReplayState> {
  const spaces = namespacesOf(lab);
  const raws: Record<string, Record<string, string>> = {};
  for (const [name, path] of Object.entries(spaces)) raws[name] = (await readNs(path)).raw;
  // The kernel's random MACs: host ends of veths (their twins in sandboxes get plumb's 02:42 MACs).
  const randomMacs = new Map<string, string>();
  for (const [name, raw] of Object.entries(raws)) {
    for (const l of json(raw.link) as Array<{ ifname: string; address?: string }>) {
      // The lab's own uplink too: the lab made it, not plumb. In an overlay's namespace, br0 and vxlan0 get random MACs.
      const random = HOST_END.test(l.ifname) || (name === 'host' && l.ifname === 'eth0') || (/^1-/.test(name) && ['br0', 'vxlan0'].includes(l.ifname));
      if (!l.address || !random) continue;
      // One label for all: a bridge without a MAC of its own takes one of its ports' (whichever is lowest).
      randomMacs.set(l.address, '<random mac>');
      // IPv6 listens on a solicited-node multicast group derived from the MAC (its last three bytes).
      randomMacs.set(`33:33:ff:${l.address.slice(9)}`, '<random multicast>');
    }
  }
  const maskMacs = (text: string): string => {
    let out = text;
    for (const [mac, label] of randomMacs) out = out.split(mac).join(label);
    return out;
  };
  const ns: Record<string, NsState> = {};
  const skip = new Set(lab.labLinks ?? []);
  const plumbs = (name: string, l: { ifname?: string; dev?: string }) => name !== 'host' || !skip.has(l.ifname ?? l.dev ?? '');
  for (const [name, raw] of Object.entries(raws)) {
    const addr = (json(maskMacs(raw.addr ?? '')) as Array<{ ifname: string; addr_info?: Array<{ family: string; scope: string }> }>)
      .filter((l) => plumbs(name, l))
      .map((l) => ({
        ...l,
        addr_info: (l.addr_info ?? []).filter((a) => a.family === 'inet' || a.scope !== 'link'),
      }));
    const fdb = (json(maskMacs(raw.fdb ?? '')) as Array<{ state?: string; ifname?: string }>).filter(
      (e) => (e.state === 'permanent' || e.state === 'static') && plumbs(name, { ifname: e.ifname }),
    );
    ns[name] = {
      link: sorted(scrub((json(maskMacs(raw.link ?? '')) as Array<{ ifname: string }>).filter((l) => plumbs(name, l))) as unknown[]),
      addr: sorted(scrub(addr) as unknown[]),
      route: sorted(scrub(json(raw.route)) as unknown[]),
      fdb: sorted(scrub(fdb) as unknown[]),
      brlink: sorted(scrub(json(maskMacs(raw.brlink ?? ''))) as unknown[]),
      iptables: normaliseSave(raw.iptables ?? ''),
      sysctl: (raw.sysctl ?? '').split('\n').filter(Boolean).sort(),
    };
  }
  return { ns, files: etcFiles(lab.root) };
}

/** The state with each value in `names` replaced by `<NAME>` (random identifiers, mapped). */
export function withNames(state: ReplayState, names: ReadonlyMap<string, string>): ReplayState {
  let text = JSON.stringify(state);
  const all = new Map(names);
  // A declared MAC also shows as the IPv6 solicited-node group derived from it.
  for (const [value, name] of names) if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(value)) all.set(`33:33:ff:${value.slice(9)}`, `${name} multicast`);
  for (const [value, name] of [...all].sort((a, b) => b[0].length - a[0].length)) text = text.split(value).join(`<${name}>`);
  const out = JSON.parse(text) as ReplayState;
  // New names sort differently: sort again.
  for (const st of Object.values(out.ns)) {
    for (const key of ['link', 'addr', 'route', 'fdb', 'brlink'] as const) st[key] = sorted(st[key]);
    st.iptables = [...st.iptables];
    st.sysctl = [...st.sysctl].sort();
  }
  return out;
}

/** `NAME=value` declarations of random values in an explanation or a dry-run script. */
export function declarations(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^([A-Z][A-Z0-9_]*)=(\S+)/gm)) out.set(m[1]!, m[2]!);
  return out;
}
