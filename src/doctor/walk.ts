// `plumb doctor`: the whole host, or one path FROM -> TO[:PORT[/PROTO]], hop
// by hop, from the kernel's facts, then confirmed with real probes sent from
// the source (only to addresses of plumb's own networks, or the one the user
// named).
import { bridgeNetwork } from '../drivers/records.js';
import { traitsOf } from '../drivers/traits.js';
import type { ClusterEndpoint } from '../cluster/records.js';
import { PlumbError } from '../engine/core/errors.js';
import { dnsProbe, pingProbe, tcpProbe, udpProbe } from '../kernel/path-probes.js';
import type { Netns } from '../kernel/netns.js';
import type { ContainerRecord, NetworkRecord } from '../store/model.js';
import { isIpv4, lookupRoute } from './addresses.js';
import { checkNames } from './dns.js';
import type { Facts } from './facts.js';
import { checkEgress, checkFirewallShape, checkPublishedPort, checkSysctls, forwardHop, verdictObject, fixForDrop, arrivalDevice, returnRouteHop, reversePathHop } from './host.js';
import { EMBEDDED_DNS_IP } from '../firewall/sandbox-dns.js';
import { hopsFor } from './hops/index.js';
import { walkChain } from './netfilter.js';
import { checkSandbox } from './sandbox.js';
import { broken, ok, type HopResult } from './types.js';

export interface DoctorReport {
  from?: string;
  to?: string;
  healthy: boolean;
  hops: HopResult[];
}

const report = (hops: HopResult[], from?: string, to?: string): DoctorReport => ({ from, to, healthy: hops.every((h) => h.ok), hops });

function networksInUse(f: Facts): NetworkRecord[] {
  const ids = new Set(f.runningContainers().flatMap((c) => Object.values(c.endpoints).map((e) => e.networkId)));
  return Object.values(f.data.networks)
    .filter((n) => ids.has(n.id) || (traitsOf(n).routesThroughHost && bridgeNetwork(n) && !n.builtin) || n.name === 'bridge')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every hop plumb built on this host, plus a ping from each container to its gateway and a DNS query. */
export async function doctorHost(f: Facts): Promise<DoctorReport> {
  const hops: HopResult[] = [];
  hops.push(...(await checkSysctls(f)));
  hops.push(...(await checkFirewallShape(f)));
  for (const net of networksInUse(f)) {
    const h = hopsFor(net.driver);
    if (!h) continue;
    const unused = !f.runningContainers().some((c) => Object.values(c.endpoints).some((e) => e.networkId === net.id));
    // The default bridge is made on first use: before that, its absence is no fault.
    const bridge = bridgeNetwork(net)?.bridge;
    if (net.builtin && bridge && unused && !(await f.host()).links.some((l) => l.name === bridge)) continue;
    hops.push(...(await h.network(f, net)));
  }
  for (const net of networksInUse(f)) if (traitsOf(net).routesThroughHost && net.ipam) hops.push(...(await checkEgressOfNetwork(f, net)));
  const probes: Array<Promise<HopResult[]>> = [];
  for (const c of f.runningContainers()) {
    const { results, sandbox } = await checkSandbox(f, c);
    hops.push(...results);
    if (sandbox) hops.push(...(await checkNames(f, c, sandbox, true)));
    for (const port of c.ports) hops.push(...(await checkPublishedPort(f, c, port)));
    if (sandbox && !c.sandbox?.joined && results.every((r) => r.ok)) probes.push(gatewayProbes(f, c, sandbox.ns));
  }
  // The probes are bounded in time; sent at once, a dead path costs one deadline, not one per container.
  for (const r of await Promise.all(probes)) hops.push(...r);
  return report(hops);
}

async function checkEgressOfNetwork(f: Facts, net: NetworkRecord): Promise<HopResult[]> {
  const users = f.runningContainers().filter((c) => Object.values(c.endpoints).some((e) => e.networkId === net.id));
  if (!users.length) return [];
  const ep = Object.values(users[0]!.endpoints).find((e) => e.networkId === net.id)!;
  return checkEgress(f, net, ep.ip);
}

async function gatewayProbes(f: Facts, c: ContainerRecord, ns: Netns): Promise<HopResult[]> {
  const out: HopResult[] = [];
  for (const ep of Object.values(c.endpoints)) {
    const net = bridgeNetwork(f.data.networks[ep.networkId]);
    if (!net || !traitsOf(net).routesThroughHost || !ep.gateway) continue;
    const h = await f.host();
    const input = walkChain(h.rules, 'filter', 'INPUT', { src: ep.ip, dst: ep.gateway, proto: 'icmp', inIf: net.bridge, ctstate: ['NEW'], dstLocal: true });
    if (input.verdict !== 'ACCEPT') {
      out.push(broken(`${c.name} -> ${ep.gateway}`, verdictObject(input, 'filter', 'INPUT'), `drops ${c.name}'s packets to its gateway ${ep.gateway}`, 'the gateway is the host itself: its INPUT chain decides what containers may send it (ping, DNS)', fixForDrop(input)));
      continue;
    }
    const r = await pingProbe(ns, ep.gateway);
    out.push(r.ok ? ok(`${c.name} -> ${ep.gateway}`, 'probe ping', r.detail) : broken(`${c.name} -> ${ep.gateway}`, `ping from ${c.name} to its gateway ${ep.gateway}`, r.detail, `the hops above look healthy, yet ${c.name} cannot reach ${net.bridge}`, undefined));
  }
  return out;
}

// ---------------------------------------------------------------- one path

type End =
  | { kind: 'container'; c: ContainerRecord; label: string }
  | { kind: 'host'; label: string }
  | { kind: 'outside'; ip: string; label: string }
  | { kind: 'remote'; e: ClusterEndpoint; label: string };

interface Target {
  end: End;
  port?: number;
  proto: 'tcp' | 'udp';
}

export function parseTarget(spec: string): { name: string; port?: number; proto: 'tcp' | 'udp' } {
  const m = /^([^:]+)(?::(\d+)(?:\/(tcp|udp))?)?$/.exec(spec);
  if (!m) throw new PlumbError(`invalid destination "${spec}": use NAME, host or IP, optionally :PORT or :PORT/udp`);
  const port = m[2] !== undefined ? Number(m[2]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new PlumbError(`invalid port ${m[2]} in "${spec}": use 1-65535`);
  return { name: m[1]!, port, proto: (m[3] as 'tcp' | 'udp') ?? 'tcp' };
}

async function resolveEnd(f: Facts, name: string): Promise<End> {
  if (name === 'host') return { kind: 'host', label: 'host' };
  const all = Object.values(f.data.containers);
  const byName = all.find((c) => c.name === name) ?? all.find((c) => name.length >= 3 && c.id.startsWith(name));
  if (byName) {
    if (byName.state !== 'running') throw new PlumbError(`container ${byName.name} is not running: start it first (plumb start ${byName.name})`);
    // container:X shares X's stack: its path is X's.
    // A host-mode container is the host's own network stack.
    if (byName.networkMode === 'host') return { kind: 'host', label: `${byName.name} (host network)` };
    const joined = byName.sandbox?.joined ? f.data.containers[byName.sandbox.joined] : undefined;
    if (joined) return { kind: 'container', c: joined, label: `${byName.name} (in ${joined.name})` };
    return { kind: 'container', c: byName, label: byName.name };
  }
  if (isIpv4(name)) {
    const owner = f.runningContainers().find((c) => Object.values(c.endpoints).some((e) => e.ip === name));
    if (owner) return { kind: 'container', c: owner, label: `${owner.name} (${name})` };
    return { kind: 'outside', ip: name, label: name };
  }
  const cluster = Object.values(f.data.networks).some((n) => n.scope === 'global') ? await f.cluster() : null;
  const remote = cluster?.snapshot.endpoints.find((e) => e.containerName === name && e.vtep !== cluster.vtep);
  if (remote) return { kind: 'remote', e: remote, label: `${name}@${remote.node}` };
  throw new PlumbError(`No such container: ${name} (FROM and TO are a container name, host, or an IPv4 address)`);
}

const endpointsOf = (c: ContainerRecord) => Object.values(c.endpoints);

/** The address of `to` the source would use, and the network they share if any. */
function sharedNetwork(f: Facts, a: ContainerRecord, b: ContainerRecord): { net: NetworkRecord; ip: string; srcIp: string } | undefined {
  for (const ea of endpointsOf(a)) {
    const eb = endpointsOf(b).find((e) => e.networkId === ea.networkId);
    const net = f.data.networks[ea.networkId];
    if (eb && net) return { net, ip: eb.ip, srcIp: ea.ip };
  }
  return undefined;
}

async function sandboxHops(f: Facts, c: ContainerRecord, withNames: boolean): Promise<HopResult[]> {
  const { results, sandbox } = await checkSandbox(f, c);
  if (withNames && sandbox) results.push(...(await checkNames(f, c, sandbox, false)));
  return results;
}

async function networkHops(f: Facts, net: NetworkRecord): Promise<HopResult[]> {
  return (await hopsFor(net.driver)?.network(f, net)) ?? [];
}

export async function doctorPath(f: Facts, fromSpec: string, toSpec: string): Promise<DoctorReport> {
  const from = await resolveEnd(f, fromSpec);
  const t = parseTarget(toSpec);
  const to: Target = { end: await resolveEnd(f, t.name), port: t.port, proto: t.proto };
  const hops: HopResult[] = [];
  let probeFrom: Pick<Netns, 'path'> | undefined;
  let probeTo: string | undefined;
  let mtu = 1500;

  hops.push(...(await checkSysctls(f)));
  if (from.kind === 'container') {
    hops.push(...(await sandboxHops(f, from.c, true)));
    const sb = await f.sandbox(from.c);
    if (sb) probeFrom = sb.ns;
  } else if (from.kind === 'host') {
    probeFrom = f.ctx.hostNs();
  }

  const dst = to.end;
  if (from.kind === 'container' && dst.kind === 'container') {
    const shared = sharedNetwork(f, from.c, dst.c);
    if (shared) {
      hops.push(...(await networkHops(f, shared.net)));
      mtu = (await hopsFor(shared.net.driver)?.mtu(f, shared.net)) ?? 1500;
      const br = bridgeNetwork(shared.net)?.bridge;
      if (traitsOf(shared.net).routesThroughHost && br) {
        const p = { src: shared.srcIp, dst: shared.ip, proto: to.proto, sport: 40000, dport: to.port ?? 80, inIf: br, outIf: br, ctstate: ['NEW'] };
        hops.push(await forwardHop(f, `${br} ${from.c.name} -> ${dst.c.name}`, p, `${from.c.name} -> ${dst.c.name}${to.port ? `:${to.port}/${to.proto}` : ''}`));
        hops.push(await forwardHop(f, `${br} ${dst.c.name} -> ${from.c.name}`, { ...p, src: shared.ip, dst: shared.srcIp, sport: p.dport, dport: 40000, ctstate: ['ESTABLISHED'] }, `the replies`));
      }
      probeTo = shared.ip;
      if (from.c.embeddedDns && traitsOf(shared.net).embeddedNames && hops.every((h) => h.ok) && probeFrom) {
        const r = await dnsProbe(probeFrom, EMBEDDED_DNS_IP, dst.c.name);
        const right = r.addresses?.includes(shared.ip);
        hops.push(right ? ok(`${from.c.name} dns`, `query ${dst.c.name}`, r.detail) : broken(`${from.c.name} dns`, `query ${dst.c.name} @${EMBEDDED_DNS_IP} from ${from.c.name}`, r.ok ? `answers ${r.addresses!.join(', ')}, not ${shared.ip}` : r.detail, `${from.c.name} cannot find ${dst.c.name} by name`, `plumb restart ${from.c.name}`));
      }
    } else {
      hops.push(...(await crossNetwork(f, from.c, dst.c, to)));
    }
    hops.push(...(await sandboxHops(f, dst.c, false)));
  } else if (from.kind === 'container' && dst.kind === 'outside') {
    const egress = await egressNetwork(f, from.c);
    if (egress) {
      hops.push(...(await networkHops(f, egress.net)));
      hops.push(...(await checkEgress(f, egress.net, egress.ip, dst.ip)));
      const rp = await reversePathHop(f, `${egress.net.name} egress`, egress.ip, bridgeNetwork(egress.net)?.bridge);
      if (rp) hops.push(rp);
    } else hops.push(broken(from.c.name, `networks of ${from.c.name}`, 'none leads outside (internal, none, or no gateway)', 'there is no way out of the sandbox', `plumb network connect bridge ${from.c.name}`));
    probeTo = dst.ip;
  } else if (from.kind === 'outside' && dst.kind === 'container') {
    if (!to.port) throw new PlumbError(`from outside only published ports are reachable: give the port, e.g. plumb doctor ${fromSpec} ${dst.c.name}:80`);
    const binding = dst.c.ports.find((p) => p.containerPort === to.port && p.proto === to.proto);
    if (!binding) {
      hops.push(broken(`${dst.c.name} ${to.port}/${to.proto}`, `published port ${to.port}/${to.proto} of ${dst.c.name}`, 'not published', 'from outside, only published ports reach a container', `plumb run -p <hostport>:${to.port}${to.proto === 'udp' ? '/udp' : ''} ...`));
    } else {
      const net = egressNetworkSync(f, dst.c);
      if (net) hops.push(...(await networkHops(f, net.net)));
      hops.push(...(await checkPublishedPort(f, dst.c, binding, from.ip)));
      const back = await returnRouteHop(f, `host <-> ${from.ip}`, from.ip);
      if (back) hops.push(back);
      const rp = await reversePathHop(f, `host <- ${from.ip}`, from.ip, await arrivalDevice(f, from.ip));
      if (rp) hops.push(rp);
      // The source is outside this host: probe the last hops from the host instead.
      probeFrom = f.ctx.hostNs();
      probeTo = net?.ip;
    }
    hops.push(...(await sandboxHops(f, dst.c, false)));
  } else if (from.kind === 'host' && dst.kind === 'container') {
    const ep = endpointsOf(dst.c)[0];
    const net = ep && f.data.networks[ep.networkId];
    if (net) hops.push(...(await networkHops(f, net)));
    if (ep) {
      const h = await f.host();
      const route = lookupRoute(h.routes, ep.ip);
      const bridge = bridgeNetwork(net)?.bridge;
      if (net && traitsOf(net).routesThroughHost && route?.dev !== bridge) {
        hops.push(broken('host', `route to ${ep.ip}`, route ? `goes out ${route.dev}, not ${bridge}` : 'missing', `the host cannot reach ${net.name}'s containers`, `ip route replace ${net.ipam?.subnet} dev ${bridge}`));
      }
      if (net && !traitsOf(net).hostReachesContainers) hops.push(broken('host', `macvlan ${net.name}`, `the host cannot reach its own macvlan children`, 'a macvlan parent does not deliver frames between itself and its children (by design)', 'reach it from another machine, or add a macvlan interface on the host'));
      const v = walkChain(h.rules, 'filter', 'OUTPUT', { src: h.addrs.find((a) => a.dev === route?.dev)?.address ?? '', dst: ep.ip, proto: to.proto, dport: to.port ?? 80, sport: 40000, outIf: route?.dev, ctstate: ['NEW'] });
      if (v.verdict !== 'ACCEPT') hops.push(broken('host', verdictObject(v, 'filter', 'OUTPUT'), `drops packets from the host to ${ep.ip}`, 'the host\'s own OUTPUT chain refuses them', fixForDrop(v)));
      probeTo = ep.ip;
      if (net) mtu = (await hopsFor(net.driver)?.mtu(f, net)) ?? 1500;
    }
    hops.push(...(await sandboxHops(f, dst.c, false)));
  } else if (from.kind === 'container' && dst.kind === 'host') {
    const ep = endpointsOf(from.c).find((e) => e.gateway);
    if (ep) {
      const net = f.data.networks[ep.networkId]!;
      hops.push(...(await networkHops(f, net)));
      const h = await f.host();
      const inIf = h.addrs.find((a) => a.address === ep.gateway)?.dev;
      const v = walkChain(h.rules, 'filter', 'INPUT', { src: ep.ip, dst: ep.gateway!, proto: to.proto, dport: to.port ?? 80, sport: 40000, inIf, ctstate: ['NEW'], dstLocal: true });
      if (v.verdict !== 'ACCEPT') hops.push(broken('host', verdictObject(v, 'filter', 'INPUT'), `drops packets from ${from.c.name} to the host (${ep.gateway})`, 'the host\'s INPUT chain refuses them', fixForDrop(v)));
      else hops.push(ok('host', 'filter INPUT', `packets from ${from.c.name} to ${ep.gateway} accepted`));
      probeTo = ep.gateway;
    }
  } else if (from.kind === 'container' && dst.kind === 'remote') {
    const ep = endpointsOf(from.c).find((e) => e.networkId === dst.e.networkId);
    const net = f.data.networks[dst.e.networkId];
    if (!ep || !net) {
      hops.push(broken(from.c.name, `networks of ${from.c.name}`, `shares no overlay with ${dst.label}`, 'overlays are isolated from each other', `plumb network connect <overlay of ${dst.e.containerName}> ${from.c.name}`));
    } else {
      hops.push(...(await networkHops(f, net)));
      mtu = (await hopsFor(net.driver)?.mtu(f, net)) ?? 1450;
      probeTo = dst.e.ip;
    }
  } else {
    throw new PlumbError(`plumb doctor ${fromSpec} ${toSpec}: a path needs a container at one end at least (container, host, or an outside IP)`);
  }

  if (probeFrom && probeTo && hops.every((h) => h.ok)) hops.push(...(await probes(probeFrom, from.label, probeTo, to, mtu, to.port)));
  return report(hops, from.label, to.end.label + (to.port ? `:${to.port}/${to.proto}` : ''));
}

function egressNetworkSync(f: Facts, c: ContainerRecord): { net: NetworkRecord; ip: string } | undefined {
  for (const ep of endpointsOf(c)) {
    const net = f.data.networks[ep.networkId];
    if (net && traitsOf(net).routesThroughHost && !net.internal) return { net, ip: ep.ip };
  }
  return undefined;
}

async function egressNetwork(f: Facts, c: ContainerRecord): Promise<{ net: NetworkRecord; ip: string } | undefined> {
  const sb = await f.sandbox(c);
  const def = sb?.routes.find((r) => r.dst === 'default');
  const viaDefault = endpointsOf(c).find((e) => def && e.gateway === def.via);
  if (viaDefault) {
    const net = f.data.networks[viaDefault.networkId];
    if (net && !net.internal) return { net, ip: viaDefault.ip };
  }
  for (const ep of endpointsOf(c)) {
    const net = f.data.networks[ep.networkId];
    if (net && !net.internal && ep.gateway && !traitsOf(net).egressViaGatewayBridge) return { net, ip: ep.ip };
  }
  return undefined;
}

/** Two containers with no network in common: what the host's FORWARD chain does between their bridges. */
async function crossNetwork(f: Facts, a: ContainerRecord, b: ContainerRecord, to: Target): Promise<HopResult[]> {
  const ea = endpointsOf(a).find((e) => bridgeNetwork(f.data.networks[e.networkId]));
  const eb = endpointsOf(b).find((e) => bridgeNetwork(f.data.networks[e.networkId]));
  const na = bridgeNetwork(ea && f.data.networks[ea.networkId]);
  const nb = bridgeNetwork(eb && f.data.networks[eb.networkId]);
  if (!ea || !eb || !na || !nb) {
    return [broken(`${a.name} -> ${b.name}`, `networks of ${a.name} and ${b.name}`, 'no network in common', 'containers talk only on a network they share', `plumb network connect <a network of ${b.name}> ${a.name}`)];
  }
  const p = { src: ea.ip, dst: eb.ip, proto: to.proto, sport: 40000, dport: to.port ?? 80, inIf: na.bridge, outIf: nb.bridge, ctstate: ['NEW'] };
  const hop = await forwardHop(f, `${na.bridge} -> ${nb.bridge}`, p, `${a.name} (${na.name}) -> ${b.name} (${nb.name})`);
  if (hop.ok) {
    return [broken(`${a.name} -> ${b.name}`, `networks of ${a.name} and ${b.name}`, `no network in common (${na.name} / ${nb.name}), and nothing isolates them`,
      'plumb isolates networks like Docker: traffic between two bridges should be dropped by PLUMB-ISOLATION-STAGE-2, so its rules are missing', 'plumb system gc')];
  }
  return [hop];
}

async function probes(ns: Pick<Netns, 'path'>, fromLabel: string, ip: string, to: Target, mtu: number, port?: number): Promise<HopResult[]> {
  const hop = `probe ${fromLabel} -> ${ip}`;
  const out: HopResult[] = [];
  const ping = await pingProbe(ns, ip);
  out.push(ping.ok ? ok(hop, 'ping', ping.detail) : broken(hop, `ping ${ip}`, ping.detail, 'every hop above looks healthy, yet no echo comes back: something this walk does not know of is in the way', undefined));
  if (ping.ok && mtu > 100) {
    const df = await pingProbe(ns, ip, { size: mtu - 28, dontFragment: true });
    out.push(df.ok ? ok(hop, 'ping -M do', `${mtu}-byte packets pass unfragmented`) : broken(hop, `ping -M do -s ${mtu - 28} ${ip}`, df.detail, `a link on the way carries less than ${mtu} bytes: big packets are dropped while small ones pass`, undefined));
  }
  if (port !== undefined) {
    if (to.proto === 'tcp') {
      const r = await tcpProbe(ns, ip, port);
      out.push(r.ok ? ok(hop, `tcp ${port}`, r.detail) : broken(hop, `tcp connect ${ip}:${port}`, r.detail, r.refused ? 'the path works but no process listens on that port' : 'the connection does not get through', undefined));
    } else {
      const r = await udpProbe(ns, ip, port);
      out.push(r.ok ? ok(hop, `udp ${port}`, r.detail) : broken(hop, `udp ${ip}:${port}`, r.detail, 'no process listens on that port', undefined));
    }
  }
  return out;
}
