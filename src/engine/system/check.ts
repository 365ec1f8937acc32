// plumb system check: the store says what should exist, the kernel says what
// does. Each difference is one Finding, named after the object's owner, and
// carries (when plumb can) the repair `plumb system gc` applies. Findings come
// in repair order: leftovers first, then networks, endpoints, host settings,
// and the firewall last (its rules name interfaces that must exist).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { driverFor } from '../../drivers/index.js';
import { bridgeNetwork, networkMtu } from '../../drivers/records.js';
import { traitsOf } from '../../drivers/traits.js';
import type { Finding as DriverFinding, KernelView, Steps as DriverSteps } from '../../drivers/types.js';
import { driverEnv } from '../networks/driver-env.js';
import { forwardPolicyOf, MANAGED_CHAINS, parseIptablesSave, renderRuleset, missingJumps, CHAIN, type Table } from '../../firewall/index.js';
import { deleteNsFile, isNamespaceFile, MOUNT_POINT_TEMPLATE, registerNetns, removeNsFile, type Netns } from '../../kernel/netns.js';
import { reapExited } from '../containers/teardown.js';
import { finishRemoval } from '../containers/lifecycle.js';
import { isAlive } from '../../kernel/process.js';
import { nsInode, processesInNetns } from '../../kernel/proc.js';
import type { LinkInfo, Rtnl } from '../../kernel/rtnl.js';
import { readSysctl, setSysctl } from '../../kernel/sysctl.js';
import { bridgePorts, type BridgePort } from '../../kernel/bridge-ports.js';
import { EMBEDDED_DNS_IP, OUTPUT_CHAIN } from '../../firewall/sandbox-dns.js';
import { dnsRedirectCertain } from '../../firewall/sandbox-dns-nft.js';
import { configuredPort, ensureResolver, resolverStatus } from '../../dns/service.js';
import { dnsTarget, syncSandboxDns } from '../networks/connect.js';
import { resolverPath } from '../../dns/sandbox-path.js';
import { resolverListensInside, restoreListenInside } from '../networks/resolver-sockets.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../store/model.js';
import { containersDir, netnsDir, sandboxesDir, utsDir } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import { firewallState } from '../firewall/sync.js';
import { staleIntents, type StaleIntent } from '../core/intents.js';
import { TOUCHED_SYSCTLS } from './snapshot.js';
import { Transaction } from '../core/transaction.js';
import { defaultRouteEndpoint } from '../networks/default-route.js';
import { removeCgroup } from '../../kernel/cgroup.js';
import { strayCgroups } from '../containers/processes.js';

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
  return `${f.owner}: ${f.problem}${f.fix || f.fixKey ? '' : ' (gc cannot repair this)'}`;
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
  // Networks hold namespaces of their own too (an overlay's br0 + vxlan0 on this host).
  const networkNs = Object.values(data.networks).flatMap((n) => driverFor(n.driver).ownedNamespaces(n));
  const ownedNetns = new Set([...containers.map((c) => c.sandbox?.netns), ...networkNs.map((p) => p.netns)].filter(Boolean));
  const ownedUts = new Set(containers.map((c) => c.sandbox?.uts).filter(Boolean));
  const intents = staleIntents(ctx.paths);

  const strayNetns = nsFilesIn(netnsDir(ctx.paths)).filter((f) => !ownedNetns.has(f));
  const strayInodes = new Set(strayNetns.map(nsInode).filter((i): i is number => i !== undefined));
  for (const file of strayNetns) {
    if (!isNamespaceFile(file)) {
      out.push({ owner: 'leftover', problem: plainFileProblem(file), fix: async () => removeNsFile(file) });
      continue;
    }
    const pids = processesInNetns(file);
    out.push({
      owner: 'leftover',
      problem: `sandbox namespace ${file} belongs to no container${pids.length ? ` (processes ${pids.join(' ')} still run in it)` : ''}`,
      fix: () => removeStraySandbox(ctx, file, pids),
    });
  }
  for (const file of nsFilesIn(utsDir(ctx.paths)).filter((f) => !ownedUts.has(f))) {
    const problem = isNamespaceFile(file) ? `UTS namespace ${file} belongs to no container` : plainFileProblem(file);
    out.push({ owner: 'leftover', problem, fix: async () => deleteNsFile(ctx.journal, basename(file), file, 'uts.del') });
  }
  // Names under `ip netns`: in a private directory every file is plumb's; in /run/netns only those provably ours.
  const privateNames = ctx.paths.netnsNames !== '/run/netns';
  const registered = new Set([
    ...containers.filter((c) => c.sandbox?.netns && !c.sandbox.joined).map((c) => c.name),
    ...networkNs.filter((p) => p.aliasDir === ctx.paths.netnsNames).map((p) => basename(p.alias)),
  ]);
  const intentAliases = new Set(
    intents.flatMap((i) => i.ops.flatMap((op) => (op.kind === 'netns.register' && op.dir === ctx.paths.netnsNames ? [join(op.dir, op.alias)] : []))),
  );
  for (const file of filesIn(ctx.paths.netnsNames)) {
    if (registered.has(basename(file))) continue;
    const ino = nsInode(file);
    if (!privateNames && !intentAliases.has(file) && !(ino !== undefined && strayInodes.has(ino))) continue;
    out.push({ owner: 'leftover', problem: `ip netns name ${basename(file)} belongs to no container`, fix: async () => deleteNsFile(ctx.journal, basename(file), file) });
  }

  const bridges = new Set(Object.values(data.networks).map((n) => bridgeNetwork(n)?.bridge).filter(Boolean));
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
  // A container's directories (its log; its /etc files) outlive no container: a failed or killed run left them.
  for (const dir of [...filesIn(containersDir(ctx.paths)), ...filesIn(sandboxesDir(ctx.paths))]) {
    if (data.containers[basename(dir)]) continue;
    out.push({ owner: 'leftover', problem: `directory ${dir} belongs to no container`, fix: async () => rmSync(dir, { recursive: true, force: true }) });
  }
  if (Object.values(data.networks).some((n) => n.scope === 'global')) {
    const overlay = await import('../overlay/services.js');
    for (const ep of await overlay.orphanedClusterEndpoints(ctx, data)) {
      out.push({
        owner: 'leftover',
        problem: `overlay endpoint ${ep.ip} of ${ep.containerName} is registered in the cluster store for this host, but no container here has it`,
        fix: () => overlay.withdrawClusterEndpoint(ctx, ep),
      });
    }
  }
  for (const c of interruptedRemovals(ctx, data)) {
    out.push({ owner: `container ${c.name}`, problem: 'its removal (rm) was cut short', fix: () => finishRemoval(ctx, data, c) });
  }
  for (const i of intents) {
    out.push({ owner: 'leftover', problem: `journal of an unfinished operation (pid ${i.pid}, ${i.ops.length} kernel changes): ${i.file}`, fix: async () => removeFile(i.file) });
  }
  return out;
}

/** Containers an `rm` was removing when its process died: gc finishes the removal. */
export function interruptedRemovals(ctx: Context, data: StoreData): ContainerRecord[] {
  const ids = new Set(staleIntents(ctx.paths).flatMap((i) => i.declared.filter((d) => d.op === 'rm').map((d) => d.container)));
  return [...ids].flatMap((id) => (data.containers[id] ? [data.containers[id]] : []));
}

function plainFileProblem(file: string): string {
  return `${file} is a plain file where a namespace should be mounted (an operation was killed before mounting it)`;
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
  if (isNamespaceFile(file)) {
    const ns = ctx.openNs(file, name);
    const rtnl = ctx.rtnlIn(ns);
    for (const l of await rtnl.links()) if (l.name !== 'lo') await rtnl.deleteLink(l.name, `remove ${l.name} from the leftover sandbox ${name}`);
  }
  deleteNsFile(ctx.journal, name, file, 'netns.del', 'remove a sandbox no container owns');
}

// ---------------------------------------------------------------- networks

async function checkNetworks(ctx: Context, data: StoreData, links: LinkInfo[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const view = kernelView(links);
  for (const net of Object.values(data.networks)) {
    for (const f of await driverFor(net.driver).checkNetwork(driverEnv(ctx), net, view)) out.push(asFinding(f));
  }
  return out;
}

/** What the drivers compare the store with, read once per check. */
function kernelView(links: LinkInfo[], ports: BridgePort[] = []): KernelView {
  return {
    hostLinks: new Map(links.map((l) => [l.name, { up: l.up, master: l.master, mtu: l.mtu }])),
    bridgePorts: new Map(ports.map((p) => [p.ifname, { hairpin: p.hairpin }])),
  };
}

/** A driver's finding, its repair run as one transaction (undone if a later step fails). */
function asFinding(f: DriverFinding, owner = f.owner): Finding {
  const fix = f.fix;
  return { owner, problem: f.problem, fix: fix ? () => Transaction.run('gc', async (tx) => void (await fix(tx))) : undefined };
}

// ---------------------------------------------------------------- containers

async function checkContainers(ctx: Context, data: StoreData, links: LinkInfo[]): Promise<Finding[]> {
  const out: Finding[] = [];
  const going = new Set(interruptedRemovals(ctx, data));
  // Where the resolver listens, read once for the whole check rather than once per sandbox (a file and a /proc read each).
  let port: number | undefined;
  const resolverPort = () => (port ??= resolverStatus(ctx.paths)?.port ?? configuredPort());
  for (const c of Object.values(data.containers)) {
    if (c.state !== 'running' || going.has(c)) continue;
    const owner = `container ${c.name}`;
    const ended = !!c.pid && !isAlive(c.pid, c.pidStart);
    // With its namespace gone as well (a reboot), the namespace finding below says so.
    if (ended && !(c.sandbox?.netns && !isNamespaceFile(c.sandbox.netns))) {
      out.push({ owner, problem: `process ${c.pid} has ended but the container is recorded as running`, fix: () => reapExited(ctx, data, 'all') });
      continue;
    }
    if (c.sandbox?.uts && !isNamespaceFile(c.sandbox.uts)) out.push({ owner, problem: `UTS namespace ${c.sandbox.uts} is missing: restart the container` });
    if (!c.sandbox?.netns) continue;
    if (!isNamespaceFile(c.sandbox.netns)) {
      // With its process gone too, gc reaps it (reapExited); a process still running holds the namespace unnamed.
      const gone = !c.pid || ended;
      out.push({
        owner,
        problem: gone
          ? `sandbox namespace ${c.sandbox.netns} is gone but the container is recorded as running`
          : `sandbox namespace ${c.sandbox.netns} is missing while process ${c.pid} still runs: restart the container`,
        fix: gone ? () => reapExited(ctx, data, 'all') : undefined,
      });
      continue;
    }
    const ns = ctx.openNs(c.sandbox.netns, c.name);
    const rtnl = ctx.rtnlIn(ns);
    const inside = await rtnl.links();
    const lo = inside.find((l) => l.name === 'lo');
    if (lo && !lo.up) out.push({ owner, problem: 'lo is down in the sandbox', fix: () => rtnl.setLink('lo', { up: true }) });
    const alias = join(ctx.paths.netnsNames, c.name);
    if (!c.sandbox.joined && !isNamespaceFile(alias)) {
      const path = c.sandbox.netns;
      out.push({
        owner,
        problem: `not registered as ${c.name} for ip netns`,
        fix: async () => {
          if (existsSync(alias)) removeNsFile(alias);
          registerNetns(ctx.journal, c.name, path, ctx.paths.netnsNames, c.name, 'register the sandbox again for ip netns');
        },
      });
    }
    // Every endpoint, the plumb_gwbridge one of an overlay container too; one of them holds the default route.
    const routeHolder = defaultRouteEndpoint(data, c);
    for (const ep of Object.values(c.endpoints)) {
      const net = data.networks[ep.networkId];
      if (!net) continue;
      out.push(...(await checkEndpoint(ctx, c, net, ep, ns, rtnl, inside, links, ep === routeHolder)));
    }
    if (!c.sandbox.joined) out.push(...(await checkSandboxDns(ctx, data, c, ns, resolverPort)));
  }
  out.push(...checkResolver(ctx, data));
  return out;
}

/** 127.0.0.11 inside the sandbox: its nat rules send queries to the resolver, and route_localnet lets them leave. */
async function checkSandboxDns(ctx: Context, data: StoreData, c: ContainerRecord, ns: Netns, resolverPort: () => number): Promise<Finding[]> {
  if (resolverPath(data, c) === 'inside') {
    if (resolverListensInside(ctx, c) !== false) return [];
    return [{ owner: `container ${c.name}`, problem: `the embedded DNS resolver does not listen on ${EMBEDDED_DNS_IP}:53 inside the sandbox: names do not resolve`, fix: () => restoreListenInside(ctx, c) }];
  }
  const target = c.embeddedDns ? dnsTarget(data, c, resolverPort()) : undefined;
  if (!target) return [];
  const owner = `container ${c.name}`;
  const out: Finding[] = [];
  const to = `${target.gateway}:${target.port}`;
  // The rules' expressions, read without a process, settle the common case; iptables-save decides the rest.
  const rules = ctx.firewall.nftRules(ns, 'nat');
  if (!(rules && dnsRedirectCertain(rules, target.gateway, target.port))) {
    const nat = await ctx.firewall.save(ns, 'nat');
    if (!nat.includes(`-A OUTPUT -d ${EMBEDDED_DNS_IP}/32 -j ${OUTPUT_CHAIN}`) || !nat.includes(`--to-destination ${to}`)) {
      out.push({ owner, problem: `queries to ${EMBEDDED_DNS_IP}:53 are not redirected to the resolver at ${to} in the sandbox`, fix: () => syncSandboxDns(ctx, data, c, ns, false) });
    }
  }
  const key = 'net.ipv4.conf.all.route_localnet';
  const v = readSysctl(ns, key);
  if (v !== undefined && v !== '1') {
    out.push({ owner, problem: `${key} is ${v} in the sandbox: redirected DNS queries are dropped`, fix: async () => setSysctl(ctx.journal, ns, key, '1', 'let DNS queries to 127.0.0.11 leave after their redirection') });
  }
  return out;
}

function checkResolver(ctx: Context, data: StoreData): Finding[] {
  const needed = Object.values(data.containers).some((c) => c.state === 'running' && resolverPath(data, c));
  if (!needed || resolverStatus(ctx.paths)) return [];
  return [{ owner: 'host', problem: 'the embedded DNS resolver is not running', fix: async () => void (await ensureResolver(ctx.paths)) }];
}

/**
 * The host's links and bridge-port flags as drivers see them: read and built
 * once per check, not once per endpoint (a check is keyed by its fresh list
 * of host links).
 */
const viewsOfCheck = new WeakMap<LinkInfo[], Promise<KernelView>>();
function endpointView(ctx: Context, hostLinks: LinkInfo[]): Promise<KernelView> {
  let v = viewsOfCheck.get(hostLinks);
  if (!v) {
    v = bridgePorts(ctx.hostRtnl())
      .catch(() => [])
      .then((ports) => kernelView(hostLinks, ports));
    viewsOfCheck.set(hostLinks, v);
  }
  return v;
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
  const env = driverEnv(ctx);
  const rejoin = async (tx: DriverSteps) => {
    if (await rtnl.linkByName(ep.ifname)) await rtnl.deleteLink(ep.ifname, `remove the broken ${ep.ifname} before rebuilding it`);
    await driver.joinEndpoint({ env, steps: tx, net, ep, sandboxNs: ns, sandboxName: c.name, defaultRoute: primary });
  };
  const outside = await driver.checkEndpoint(env, net, ep, await endpointView(ctx, hostLinks), rejoin);
  if (outside.length) return outside.map((f) => asFinding(f, owner));
  const iface = inside.find((l) => l.name === ep.ifname);
  if (!iface) return [asFinding({ owner, problem: `${ep.ifname} (on ${net.name}) is missing in the sandbox`, fix: rejoin })];
  const out: Finding[] = [];
  if (!iface.up) out.push({ owner, problem: `${ep.ifname} is down in the sandbox`, fix: () => rtnl.setLink(ep.ifname, { up: true }) });
  const mtu = networkMtu(net);
  if (mtu !== undefined && iface.mtu !== mtu) out.push({ owner, problem: `${ep.ifname} has MTU ${iface.mtu} in the sandbox; ${net.name} uses ${mtu}`, fix: () => rtnl.setLink(ep.ifname, { mtu }) });
  const cidr = `${ep.ip}/${ep.prefix}`;
  if (!(await rtnl.addresses(ep.ifname)).some((a) => a.cidr === cidr)) {
    out.push({ owner, problem: `${ep.ifname} lacks its address ${cidr}`, fix: () => rtnl.addAddress(ep.ifname, cidr) });
  }
  if (primary && ep.gateway) {
    const defaults = (await rtnl.routes()).filter((r) => r.dst === 'default');
    if (!defaults.some((r) => r.via === ep.gateway && (!r.dev || r.dev === ep.ifname))) {
      const now = defaults.length ? ` (it goes via ${defaults.map((r) => `${r.via ?? '?'} dev ${r.dev ?? '?'}`).join(', ')})` : '';
      out.push({
        owner,
        problem: `default route should go via ${ep.gateway} dev ${ep.ifname} on ${net.name}${now}`,
        fix: () => rtnl.replaceRoute({ dst: 'default', via: ep.gateway!, dev: ep.ifname }, `the default route belongs to ${net.name}`),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- host settings and firewall

function needsForwarding(data: StoreData): boolean {
  return Object.values(data.networks).some((n) => traitsOf(n).routesThroughHost);
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
  const current = await ctx.firewall.save(ctx.hostNs());
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
  // A jump out of Docker's order comes back as a delete and a re-insert: report it once, as out of order.
  const jumpLines = missingJumps(current).split('\n');
  const moved = new Set(jumpLines.filter((l) => l.startsWith('-D ')).map((l) => l.slice(3)));
  for (const line of jumpLines) {
    if (line.startsWith('-D ')) out.push({ owner: 'firewall', problem: `jump out of order: -A ${line.slice(3)}`, fixKey: 'firewall' });
    const insert = /^-I (\S+) \d+ (.*)$/.exec(line);
    if (insert && moved.has(`${insert[1]} ${insert[2]}`)) continue;
    if (/^-[AI] /.test(line)) out.push({ owner: 'firewall', problem: `jump missing: ${line}`, fixKey: 'firewall' });
  }
  const user = have.get('filter');
  if (user?.chains.has(CHAIN.user) && !(user.rules.get(CHAIN.user)?.length)) {
    out.push({ owner: 'firewall', problem: `chain ${CHAIN.user} lost its RETURN rule`, fixKey: 'firewall' });
  }
  const policy = forwardPolicyOf(current);
  if (data.forwardPolicyBefore && data.forwardPolicyBefore !== 'pending' && policy !== 'DROP') {
    out.push({ owner: 'firewall', problem: `FORWARD policy is ${policy}; plumb set it to DROP when it turned forwarding on`, fixKey: 'firewall' });
  }
  return out;
}
