// plumb system check: the store says what should exist, the kernel says what
// does. Each difference is one Finding, named after the object's owner, and
// carries (when plumb can) the repair `plumb system gc` applies. Findings come
// in repair order: leftovers first, then networks, endpoints, host settings,
// and the firewall last (its rules name interfaces that must exist).
import { existsSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { driverFor } from '../drivers/index.js';
import { MANAGED_CHAINS, parseIptablesSave, renderRuleset, missingJumps, CHAIN, type Table } from '../firewall/index.js';
import { deleteNsFile, MOUNT_POINT_TEMPLATE, registerNetns, type Netns } from '../kernel/netns.js';
import { reapExited } from './containers.js';
import { saveIptables } from '../kernel/iptables.js';
import { isAlive } from '../kernel/process.js';
import type { LinkInfo, Rtnl } from '../kernel/rtnl.js';
import { readSysctl } from '../kernel/sysctl.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../store/model.js';
import { netnsDir, utsDir } from '../store/paths.js';
import type { Context } from './context.js';
import { firewallState } from './firewall-sync.js';
import { staleIntents, type StaleIntent } from './intents.js';
import { TOUCHED_SYSCTLS } from './snapshot.js';
import { Transaction } from './transaction.js';
import { removeCgroup } from '../kernel/cgroup.js';
import { strayCgroups } from './lifecycle/processes.js';

export interface Finding {
  /** Who the object belongs to: `network NAME`, `container NAME`, `firewall`, `host`, or `leftover` (no owner). */
  owner: string;
  problem: string;
  /** The repair gc applies; absent when plumb cannot repair it. */
  fix?: () => Promise<void>;
  /** Findings sharing a key share one repair (e.g. one firewall re-render). */
  fixKey?: string;
}

export function formatFinding(f: Finding): string {
  return `${f.owner}: ${f.problem}${f.fix ? '' : ' (gc cannot repair this)'}`;
}

const HOST_VETH = /^veth[0-9a-f]{7}$/;

/** Every difference between the store and the kernel, in repair order. */
export async function findProblems(ctx: Context, data: StoreData): Promise<Finding[]> {
  const host = ctx.hostRtnl();
  const links = await host.links();
  const findings: Finding[] = [];
  findings.push(...(await findLeftovers(ctx, data, links)));
  findings.push(...(await checkNetworks(ctx, data, links)));
  findings.push(...(await checkContainers(ctx, data, links)));
  findings.push(...checkHostSysctls(ctx, data));
  findings.push(...(await checkFirewall(ctx, data)));
  return findings;
}

// ---------------------------------------------------------------- leftovers

function nsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** PIDs whose network namespace is the one bound at `path`. */
function processesIn(path: string): number[] {
  const ino = nsInode(path);
  if (ino === undefined) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === `net:[${ino}]`) pids.push(Number(entry));
    } catch {
      /* ended meanwhile */
    }
  }
  return pids;
}

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The namespace files in a directory of them, without the file they are made from (netns.ts). */
function nsFilesIn(dir: string): string[] {
  return filesIn(dir).filter((f) => basename(f) !== MOUNT_POINT_TEMPLATE);
}

function createdLinks(intents: StaleIntent[]): Set<string> {
  const names = new Set<string>();
  for (const i of intents) for (const op of i.ops) if (op.kind === 'link.add' && op.ns === null && !(op.spec.type === 'macvlan' && op.spec.targetNs)) names.add(op.name);
  return names;
}

export async function findLeftovers(ctx: Context, data: StoreData, links: LinkInfo[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const containers = Object.values(data.containers);
  const ownedNetns = new Set(containers.map((c) => c.sandbox?.netns).filter(Boolean));
  const ownedUts = new Set(containers.map((c) => c.sandbox?.uts).filter(Boolean));
  const intents = staleIntents(ctx.paths);

  const strayNetns = nsFilesIn(netnsDir(ctx.paths)).filter((f) => !ownedNetns.has(f));
  const strayInodes = new Set(strayNetns.map(nsInode).filter((i): i is number => i !== undefined));
  for (const file of strayNetns) {
    const pids = processesIn(file);
    out.push({
      owner: 'leftover',
      problem: `sandbox namespace ${file} belongs to no container${pids.length ? ` (processes ${pids.join(' ')} still run in it)` : ''}`,
      fix: () => removeStraySandbox(ctx, file, pids),
    });
  }
  for (const file of nsFilesIn(utsDir(ctx.paths)).filter((f) => !ownedUts.has(f))) {
    out.push({ owner: 'leftover', problem: `UTS namespace ${file} belongs to no container`, fix: async () => deleteNsFile(ctx.journal, basename(file), file, 'uts.del') });
  }
  // Names under `ip netns`: in a private directory every file is plumb's; in /run/netns only those provably ours.
  const privateNames = ctx.paths.netnsNames !== '/run/netns';
  const registered = new Set(containers.filter((c) => c.sandbox?.netns && !c.sandbox.joined).map((c) => c.name));
  const intentAliases = new Set(
    intents.flatMap((i) => i.ops.flatMap((op) => (op.kind === 'netns.register' && op.dir === ctx.paths.netnsNames ? [join(op.dir, op.alias)] : []))),
  );
  for (const file of filesIn(ctx.paths.netnsNames)) {
    if (registered.has(basename(file))) continue;
    const ino = nsInode(file);
    if (!privateNames && !intentAliases.has(file) && !(ino !== undefined && strayInodes.has(ino))) continue;
    out.push({ owner: 'leftover', problem: `ip netns name ${basename(file)} belongs to no container`, fix: async () => deleteNsFile(ctx.journal, basename(file), file) });
  }

  const bridges = new Set(Object.values(data.networks).map((n) => n.bridge).filter(Boolean));
  const vethsInUse = new Set(containers.flatMap((c) => Object.values(c.endpoints).map((e) => e.hostVeth)).filter(Boolean));
  const crashed = createdLinks(intents);
  for (const l of links) {
    if (bridges.has(l.name) || vethsInUse.has(l.name)) continue;
    const onOurBridge = l.kind === 'veth' && HOST_VETH.test(l.name) && !!l.master && bridges.has(l.master);
    if (!onOurBridge && !crashed.has(l.name)) continue;
    out.push({
      owner: 'leftover',
      problem: onOurBridge ? `veth ${l.name} on ${l.master} belongs to no endpoint` : `${l.kind ?? 'link'} ${l.name} was made by an operation that did not finish`,
      fix: async () => {
        if (await ctx.hostRtnl().linkByName(l.name)) await ctx.hostRtnl().deleteLink(l.name, `remove leftover ${l.name}`);
      },
    });
  }
  for (const cg of strayCgroups(ctx, data)) {
    out.push({ owner: 'leftover', problem: `cgroup ${cg} belongs to no running container`, fix: () => removeCgroup(cg) });
  }
  for (const i of intents) {
    out.push({ owner: 'leftover', problem: `journal of an unfinished operation (pid ${i.pid}, ${i.ops.length} kernel changes): ${i.file}`, fix: async () => removeFile(i.file) });
  }
  return out;
}

async function removeFile(path: string): Promise<void> {
  rmSync(path, { force: true });
}

/** Ends what still runs in a stray sandbox, deletes its interfaces (their host ends go with them), then its files. */
async function removeStraySandbox(ctx: Context, file: string, pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const name = basename(file);
  if (existsSync(file)) {
    const ns = ctx.openNs(file, name);
    const rtnl = ctx.rtnlIn(ns);
    for (const l of await rtnl.links()) if (l.name !== 'lo') await rtnl.deleteLink(l.name, `remove ${l.name} from the leftover sandbox ${name}`);
  }
  deleteNsFile(ctx.journal, name, file, 'netns.del', 'remove a sandbox no container owns');
}

// ---------------------------------------------------------------- networks

async function checkNetworks(ctx: Context, data: StoreData, links: LinkInfo[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const addrs = await ctx.hostRtnl().addresses();
  for (const net of Object.values(data.networks)) {
    const owner = `network ${net.name}`;
    if (net.driver === 'macvlan' && net.parent && !links.some((l) => l.name === net.parent)) {
      out.push({ owner, problem: `parent interface ${net.parent} does not exist` });
    }
    if (net.driver !== 'bridge' || !net.bridge || !net.ipam) continue;
    const link = links.find((l) => l.name === net.bridge);
    const gw = `${net.ipam.gateway}/${net.ipam.subnet.split('/')[1]}`;
    if (!link) {
      out.push({
        owner,
        problem: `bridge ${net.bridge} is missing`,
        fix: () => Transaction.run('gc', (tx) => driverFor('bridge')!.createNetwork(ctx, tx, net)),
      });
      continue;
    }
    if (!link.up) out.push({ owner, problem: `bridge ${net.bridge} is down`, fix: () => ctx.hostRtnl().setLink(net.bridge!, { up: true }) });
    if (!addrs.some((a) => a.dev === net.bridge && a.cidr === gw)) {
      out.push({ owner, problem: `bridge ${net.bridge} lacks the gateway address ${gw}`, fix: () => ctx.hostRtnl().addAddress(net.bridge!, gw) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- containers

async function checkContainers(ctx: Context, data: StoreData, links: LinkInfo[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const c of Object.values(data.containers)) {
    if (c.state !== 'running') continue;
    const owner = `container ${c.name}`;
    if (c.pid && !isAlive(c.pid, c.pidStart)) {
      out.push({ owner, problem: `process ${c.pid} has ended but the container is recorded as running`, fix: () => reapExited(ctx, data) });
    }
    if (c.sandbox?.uts && !existsSync(c.sandbox.uts)) out.push({ owner, problem: `UTS namespace ${c.sandbox.uts} is missing` });
    if (!c.sandbox?.netns) continue;
    if (!existsSync(c.sandbox.netns)) {
      out.push({ owner, problem: `sandbox namespace ${c.sandbox.netns} is missing: stop and start the container` });
      continue;
    }
    const ns = ctx.openNs(c.sandbox.netns, c.name);
    const rtnl = ctx.rtnlIn(ns);
    const inside = await rtnl.links();
    const lo = inside.find((l) => l.name === 'lo');
    if (lo && !lo.up) out.push({ owner, problem: 'lo is down in the sandbox', fix: () => rtnl.setLink('lo', { up: true }) });
    if (!c.sandbox.joined && !existsSync(join(ctx.paths.netnsNames, c.name))) {
      const path = c.sandbox.netns;
      out.push({
        owner,
        problem: `not registered as ${c.name} for ip netns`,
        fix: async () => registerNetns(ctx.journal, c.name, path, ctx.paths.netnsNames, c.name, 'register the sandbox again for ip netns'),
      });
    }
    for (const [i, spec] of c.networks.entries()) {
      const ep = c.endpoints[spec.networkId];
      const net = data.networks[spec.networkId];
      if (!ep || !net) continue;
      out.push(...(await checkEndpoint(ctx, c, net, ep, ns, rtnl, inside, links, i === 0)));
    }
  }
  return out;
}

async function checkEndpoint(
  ctx: Context,
  c: ContainerRecord,
  net: NetworkRecord,
  ep: ContainerRecord['endpoints'][string],
  ns: Netns,
  rtnl: Rtnl,
  inside: LinkInfo[],
  hostLinks: LinkInfo[],
  primary: boolean,
): Promise<Finding[]> {
  const owner = `container ${c.name}`;
  const driver = driverFor(net.driver);
  const rejoin = async () => {
    if (await rtnl.linkByName(ep.ifname)) await rtnl.deleteLink(ep.ifname, `remove the broken ${ep.ifname} before rebuilding it`);
    await Transaction.run('gc', (tx) => driver!.joinEndpoint({ env: ctx, steps: tx, net, ep, sandboxNs: ns, sandboxName: c.name, defaultRoute: primary }));
  };
  if (net.driver === 'bridge' && ep.hostVeth) {
    const veth = hostLinks.find((l) => l.name === ep.hostVeth);
    if (!veth) return [{ owner, problem: `veth ${ep.hostVeth} (its ${ep.ifname} on ${net.name}) is missing`, fix: rejoin }];
    if (veth.master !== net.bridge || !veth.up) {
      return [
        {
          owner,
          problem: `veth ${ep.hostVeth} is ${veth.master ? `on ${veth.master}` : 'on no bridge'}${veth.up ? '' : ', down'}; it belongs on ${net.bridge}`,
          fix: () => ctx.hostRtnl().setLink(ep.hostVeth!, { master: net.bridge!, up: true }),
        },
      ];
    }
  }
  const iface = inside.find((l) => l.name === ep.ifname);
  if (!iface) return [{ owner, problem: `${ep.ifname} (on ${net.name}) is missing in the sandbox`, fix: driver ? rejoin : undefined }];
  const out: Finding[] = [];
  if (!iface.up) out.push({ owner, problem: `${ep.ifname} is down in the sandbox`, fix: () => rtnl.setLink(ep.ifname, { up: true }) });
  const cidr = `${ep.ip}/${ep.prefix}`;
  if (!(await rtnl.addresses(ep.ifname)).some((a) => a.cidr === cidr)) {
    out.push({ owner, problem: `${ep.ifname} lacks its address ${cidr}`, fix: () => rtnl.addAddress(ep.ifname, cidr) });
  }
  if (primary && ep.gateway) {
    const routes = await rtnl.routes();
    if (!routes.some((r) => r.dst === 'default' && r.via === ep.gateway)) {
      out.push({
        owner,
        problem: `no default route via ${ep.gateway}`,
        fix: async () => {
          if (iface.up) await rtnl.addRoute({ dst: 'default', via: ep.gateway!, dev: ep.ifname });
        },
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- host settings and firewall

function needsForwarding(data: StoreData): boolean {
  return Object.values(data.networks).some((n) => n.driver === 'bridge');
}

function checkHostSysctls(ctx: Context, data: StoreData): Finding[] {
  if (!needsForwarding(data)) return [];
  const out: Finding[] = [];
  for (const key of TOUCHED_SYSCTLS) {
    const v = readSysctl(ctx.hostNs(), key);
    if (v !== undefined && v !== '1') out.push({ owner: 'host', problem: `${key} is ${v}; bridge networks need 1`, fixKey: 'sysctls' });
  }
  return out;
}

/** A rule as comparable text, and the owner its comment names. */
function ruleKey(table: string, chain: string, args: string[]): string {
  return `${table} ${chain} ${args.join(' ')}`;
}

function ownerOf(args: string[]): string {
  const i = args.indexOf('--comment');
  const text = i >= 0 ? (args[i + 1] ?? '') : '';
  const m = /^plumb: (network (\S+)|base|(\S+))/.exec(text);
  if (!m) return 'firewall';
  if (m[2]) return `network ${m[2]}`;
  if (m[3]) return `container ${m[3]}`;
  return 'firewall';
}

async function checkFirewall(ctx: Context, data: StoreData): Promise<Finding[]> {
  const current = await saveIptables(ctx.hostNs());
  const want = parseIptablesSave(renderRuleset(firewallState(data)));
  const have = parseIptablesSave(current);
  const out: Finding[] = [];
  for (const table of Object.keys(MANAGED_CHAINS) as Table[]) {
    for (const chain of MANAGED_CHAINS[table]) {
      const expected = want.get(table)?.rules.get(chain) ?? [];
      const actual = have.get(table)?.rules.get(chain) ?? [];
      if (!have.get(table)?.chains.has(chain)) {
        out.push({ owner: 'firewall', problem: `chain ${chain} is missing from the ${table} table`, fixKey: 'firewall' });
      }
      const left = new Map<string, number>();
      for (const a of actual) left.set(ruleKey(table, chain, a), (left.get(ruleKey(table, chain, a)) ?? 0) + 1);
      for (const e of expected) {
        const k = ruleKey(table, chain, e);
        const n = left.get(k) ?? 0;
        if (n > 0) left.set(k, n - 1);
        else out.push({ owner: ownerOf(e), problem: `rule missing: -t ${table} -A ${chain} ${e.join(' ')}`, fixKey: 'firewall' });
      }
      for (const a of actual) {
        const k = ruleKey(table, chain, a);
        if ((left.get(k) ?? 0) > 0) {
          left.set(k, left.get(k)! - 1);
          out.push({ owner: ownerOf(a), problem: `rule not in the store: -t ${table} -A ${chain} ${a.join(' ')}`, fixKey: 'firewall' });
        }
      }
    }
  }
  const jumps = missingJumps(current);
  for (const line of jumps.split('\n')) {
    if (/^-[AI] /.test(line)) out.push({ owner: 'firewall', problem: `jump missing: ${line}`, fixKey: 'firewall' });
  }
  const user = have.get('filter');
  if (user?.chains.has(CHAIN.user) && !(user.rules.get(CHAIN.user)?.length)) {
    out.push({ owner: 'firewall', problem: `chain ${CHAIN.user} lost its RETURN rule`, fixKey: 'firewall' });
  }
  const policy = /^:FORWARD (\w+)/m.exec(current)?.[1];
  if (data.forwardPolicyBefore && data.forwardPolicyBefore !== 'pending' && policy !== 'DROP') {
    out.push({ owner: 'firewall', problem: `FORWARD policy is ${policy}; plumb set it to DROP when it turned forwarding on`, fixKey: 'firewall' });
  }
  return out;
}
