// The host's part of every path: the sysctls that decide forwarding, the
// firewall as the kernel has it (plumb's jumps, other software's rules,
// policies), published ports (DNAT, the ACCEPT behind it, conntrack entries
// that shadow it), and egress (FORWARD and MASQUERADE).
import { bridgeNetwork } from '../drivers/records.js';
import { traitsOf } from '../drivers/traits.js';
import { CHAIN, MANAGED_CHAINS, missingJumpLines, type Table } from '../firewall/index.js';
import { conntrackEntries } from '../kernel/conntrack.js';
import { readSysctl } from '../kernel/sysctl.js';
import type { BridgeNetwork, ContainerRecord, NetworkRecord } from '../store/model.js';
import { lookupRoute } from './addresses.js';
import type { Facts } from './facts.js';
import { ruleText, walkChain, type Packet, type Verdict } from './netfilter.js';
import { broken, ok, type HopResult } from './types.js';

/** A documentation address standing for "somewhere outside" when a rule walk needs a source; nothing is sent to it. */
export const OUTSIDE_IP = '198.51.100.254';

export async function checkSysctls(f: Facts): Promise<HopResult[]> {
  const bridges = Object.values(f.data.networks).some((n) => traitsOf(n).routesThroughHost);
  if (!bridges) return [];
  const h = await f.host();
  const out: HopResult[] = [];
  const fwd = readSysctl(h.ns, 'net.ipv4.ip_forward');
  if (fwd !== '1') out.push(broken('host', 'sysctl net.ipv4.ip_forward', `is ${fwd}`, 'the host routes nothing: no container reaches anything beyond its own bridge, and published ports are dead', 'sysctl -w net.ipv4.ip_forward=1'));
  const brnf = readSysctl(h.ns, 'net.bridge.bridge-nf-call-iptables');
  if (brnf !== undefined && brnf !== '1') out.push(broken('host', 'sysctl net.bridge.bridge-nf-call-iptables', `is ${brnf}`, 'traffic between containers on one bridge skips iptables: enable_icc=false, links and PLUMB-USER rules do not apply to it', 'sysctl -w net.bridge.bridge-nf-call-iptables=1'));
  const rp = readSysctl(h.ns, 'net.ipv4.conf.all.rp_filter');
  if (!out.length) out.push(ok('host', 'sysctls', `ip_forward=1${brnf !== undefined ? `, bridge-nf-call-iptables=${brnf}` : ''}${rp !== undefined ? `, rp_filter=${rp}` : ''}`));
  return out;
}

export async function checkFirewallShape(f: Facts): Promise<HopResult[]> {
  const h = await f.host();
  const out: HopResult[] = [];
  if (!Object.values(f.data.networks).some((n) => traitsOf(n).routesThroughHost && bridgeNetwork(n))) return out;
  for (const table of Object.keys(MANAGED_CHAINS) as Table[]) {
    for (const chain of MANAGED_CHAINS[table]) {
      if (!h.rules.get(table)?.chains.has(chain)) {
        out.push(broken('host netfilter', `chain ${chain} (${table})`, 'missing', 'plumb\'s rules for published ports, isolation and egress are gone (a firewall reload?)', 'plumb system gc'));
      }
    }
  }
  for (const table of ['filter', 'nat', 'raw'] as Table[]) {
    for (const line of missingJumpLines(h.rules, table)) {
      if (!/^-[AI] /.test(line.line)) continue;
      const chain = line.line.split(' ')[1];
      out.push(broken('host netfilter', `jump ${line.line.replace(/ -m comment --comment \S+( \S+)*? -j/, ' -j').replace(/^-I (\S+) \d+/, '-A $1')} (${table})`, `missing from ${chain}`, line.why ?? `packets never reach plumb's chains from ${chain}`, 'plumb system gc'));
    }
  }
  const user = h.rules.get('filter')?.rules.get(CHAIN.user) ?? [];
  for (const [i, args] of user.entries()) {
    const j = args.indexOf('-j');
    const target = j >= 0 ? args[j + 1] : undefined;
    if (target === 'DROP' || target === 'REJECT') {
      const rule = { table: 'filter', chain: CHAIN.user, position: i + 1, args, uncertain: false };
      out.push(broken('host netfilter', `rule ${ruleText(rule)}`, `${target === 'DROP' ? 'drops' : 'rejects'} forwarded packets that match it`, `${CHAIN.user} is consulted first for every forwarded packet, before plumb's own rules`, `iptables -D ${CHAIN.user} ${i + 1}`));
    }
  }
  if (!out.length) out.push(ok('host netfilter', 'jumps', `FORWARD -> ${CHAIN.user}, ${CHAIN.isolation1}, ${CHAIN.forward}; nat -> ${CHAIN.nat}, ${CHAIN.natPostrouting}; ${user.length} rule(s) in ${CHAIN.user}`));
  return out;
}

/** The device a packet from `ip`, an address outside this host, arrives on: routes into plumb's own bridges do not count (nothing outside lives there). */
export async function arrivalDevice(f: Facts, ip: string): Promise<string | undefined> {
  const h = await f.host();
  const bridges = new Set(Object.values(f.data.networks).map((n) => bridgeNetwork(n)?.bridge).filter(Boolean));
  return lookupRoute(h.routes.filter((r) => !r.dev || !bridges.has(r.dev)), ip)?.dev;
}

/** Replies to an outside address must leave the way its packets came in. */
export async function returnRouteHop(f: Facts, hop: string, ip: string): Promise<HopResult | undefined> {
  const h = await f.host();
  const arrive = await arrivalDevice(f, ip);
  const route = lookupRoute(h.routes, ip);
  if (!arrive || !route || route.dev === arrive) return undefined;
  const dst = route.dst === 'default' ? 'default' : route.dst;
  return broken(hop, `route ${dst}${route.via ? ` via ${route.via}` : ''} dev ${route.dev}`, `sends replies to ${ip} out of ${route.dev}, while its packets arrive on ${arrive}`, `the answers never reach ${ip}`, `ip route del ${dst} dev ${route.dev}`);
}

/** The device the host sends `ip` out of (its main routing table). */
export async function outDevice(f: Facts, ip: string): Promise<string | undefined> {
  const h = await f.host();
  return lookupRoute(h.routes, ip)?.dev;
}

export function verdictObject(v: Verdict, table: string, chain: string): string {
  return v.rule ? `rule ${ruleText(v.rule)}${v.rule.comment ? '' : ' (not plumb\'s)'}` : `policy of chain ${v.policyOf ?? chain} (${table})`;
}

export function fixForDrop(v: Verdict): string {
  if (v.rule) return `iptables -t ${v.rule.table} -D ${v.rule.chain} ${v.rule.position}`;
  return 'plumb system gc  (restores plumb\'s rules in front of the policy)';
}

/** Walks a forwarded packet through raw and mangle (someone else's DROP there) and filter FORWARD; a result naming what decided. */
export async function forwardHop(f: Facts, hop: string, p: Packet, what: string): Promise<HopResult> {
  const h = await f.host();
  for (const [table, chain] of [['raw', 'PREROUTING'], ['mangle', 'PREROUTING'], ['mangle', 'FORWARD']] as const) {
    const early = walkChain(h.rules, table, chain, p);
    if (early.verdict === 'DROP' || early.verdict === 'REJECT') {
      return broken(hop, verdictObject(early, table, chain), `${early.verdict.toLowerCase()}s ${what}`, `the ${table} table sees the packet before any filter rule`, fixForDrop(early));
    }
  }
  const v = walkChain(h.rules, 'filter', 'FORWARD', p);
  if (v.verdict === 'ACCEPT') return ok(hop, `filter FORWARD`, `${what}: accepted${v.rule ? ` by ${ruleText(v.rule)}` : ' by the policy'}`);
  const isolation = v.rule && (v.rule.chain === CHAIN.isolation2 || v.rule.chain === CHAIN.isolation1);
  return broken(hop, verdictObject(v, 'filter', 'FORWARD'), `${v.verdict === 'DROP' || v.verdict === 'REJECT' ? v.verdict.toLowerCase() + 's' : v.verdict} ${what}`,
    isolation ? 'plumb isolates networks from each other, like Docker: containers talk only on a network they share' : v.rule?.chain === CHAIN.user ? `${CHAIN.user} is consulted before plumb's rules` : 'the packet never reaches the other side',
    isolation ? 'plumb network connect <network of the destination> <source container>' : fixForDrop(v));
}

function primaryBridge(f: Facts, c: ContainerRecord): { net: BridgeNetwork; ip: string } | undefined {
  const first = c.networks[0];
  const ep = first && c.endpoints[first.networkId];
  const net = bridgeNetwork(ep && f.data.networks[ep.networkId]);
  return net && ep ? { net, ip: ep.ip } : undefined;
}

/** One published port from outside: DNAT to the container, FORWARD accepts it, no conntrack entry shadows it. */
export async function checkPublishedPort(f: Facts, c: ContainerRecord, port: ContainerRecord['ports'][number], from = OUTSIDE_IP): Promise<HopResult[]> {
  const pb = primaryBridge(f, c);
  if (!pb) return [];
  const h = await f.host();
  const hop = `${c.name} ${port.hostIp && port.hostIp !== '0.0.0.0' ? port.hostIp : '*'}:${port.hostPort}->${port.containerPort}/${port.proto}`;
  const inIf = await arrivalDevice(f, from);
  const hostAddr = port.hostIp && port.hostIp !== '0.0.0.0' ? port.hostIp : h.addrs.find((a) => a.dev === inIf)?.address ?? h.addrs.find((a) => a.dev !== 'lo')?.address ?? '127.0.0.1';
  const p: Packet = { src: from, dst: hostAddr, proto: port.proto, sport: 40000, dport: port.hostPort, inIf, ctstate: ['NEW'], dstLocal: true };
  const nat = walkChain(h.rules, 'nat', 'PREROUTING', p);
  const want = `${pb.ip}:${port.containerPort}`;
  const out: HopResult[] = [];
  const natTo = nat.to && !nat.to.includes(':') ? `${nat.to}:${port.hostPort}` : nat.to;
  if (nat.verdict !== 'DNAT' || natTo !== want) {
    out.push(broken(hop, nat.verdict === 'DNAT' ? `rule ${ruleText(nat.rule!)}` : `DNAT for port ${port.hostPort}/${port.proto}`, nat.verdict === 'DNAT' ? `rewrites to ${nat.to}, not ${want}` : 'missing from nat PREROUTING / PLUMB', `packets for the host's port ${port.hostPort} are not sent on to ${c.name}`, 'plumb system gc'));
    return out;
  }
  const fwd = await forwardHop(f, hop, { ...p, dst: pb.ip, dport: port.containerPort, outIf: pb.net.bridge, ctstate: ['NEW', 'DNAT'], dstLocal: false }, `the connection to ${want}`);
  out.push(fwd);
  const shadows = (await conntrackEntries(h.ns, port.proto, port.hostPort)).filter(
    (e) => h.addrs.some((a) => a.address === e.original.dst) && e.reply.src !== pb.ip && e.original.dst !== pb.ip,
  );
  for (const e of shadows.slice(0, 3)) {
    out.push(broken(hop, `conntrack entry ${e.text}`, `sends ${e.original.src}:${e.original.sport} -> ${e.original.dst}:${e.original.dport} to ${e.reply.src}, not ${pb.ip}`, 'conntrack decides NAT once per flow: this flow began before the DNAT rule existed and keeps bypassing it until the entry expires', `conntrack -D -p ${e.proto} --orig-port-dst ${port.hostPort}`));
  }
  if (out.every((r) => r.ok)) out[0] = ok(hop, 'nat PREROUTING', `DNAT to ${want}, forwarded and accepted`);
  return out;
}

/** Egress from a bridge network: FORWARD accepts, POSTROUTING masquerades. */
export async function checkEgress(f: Facts, record: NetworkRecord, src: string, dst = OUTSIDE_IP): Promise<HopResult[]> {
  const net = bridgeNetwork(record);
  if (!net || net.internal) return [];
  const outIf = await outDevice(f, dst);
  if (!outIf) return [broken(`${net.name} egress`, `route to ${dst}`, 'the host has none', 'packets for the outside have nowhere to go', 'ip route add default via <router>')];
  if (outIf === net.bridge) return [];
  const hop = `${net.name} egress`;
  const p: Packet = { src, dst, proto: 'tcp', sport: 40000, dport: 443, inIf: net.bridge, outIf, ctstate: ['NEW'] };
  const out = [await forwardHop(f, hop, p, `packets from ${net.bridge} to ${outIf}`)];
  if (net.masquerade !== false) {
    const h = await f.host();
    const v = walkChain(h.rules, 'nat', 'POSTROUTING', p);
    if (v.verdict !== 'MASQUERADE' && v.verdict !== 'SNAT') {
      out.push(broken(hop, `MASQUERADE for ${net.ipam?.subnet} in nat ${CHAIN.natPostrouting}`, v.verdict === 'none' ? 'missing' : `${v.verdict} by ${v.rule ? ruleText(v.rule) : 'policy'}`, `replies to ${src} cannot come back: the outside has no route to a private address`, 'plumb system gc'));
    }
  }
  if (out.every((r) => r.ok)) return [ok(hop, 'FORWARD + POSTROUTING', `out through ${outIf}: accepted and masqueraded`)];
  return out.filter((r) => !r.ok);
}

/**
 * Strict reverse-path filtering (rp_filter 1, the larger of `all` and the
 * interface wins) drops a packet whose source the host would not route back
 * out of the interface it came in on.
 */
export async function reversePathHop(f: Facts, hop: string, src: string, inIf: string | undefined): Promise<HopResult | undefined> {
  if (!inIf) return undefined;
  const h = await f.host();
  const all = Number(readSysctl(h.ns, 'net.ipv4.conf.all.rp_filter') ?? 0);
  const dev = Number(readSysctl(h.ns, `net.ipv4.conf.${inIf}.rp_filter`) ?? 0);
  // The kernel uses the larger of the two.
  if (Math.max(all, dev) !== 1) return undefined;
  const back = lookupRoute(h.routes, src)?.dev;
  if (back === inIf) return undefined;
  return broken(hop, `sysctl net.ipv4.conf.${dev === 1 ? inIf : 'all'}.rp_filter`, `is 1 (strict), and the host routes ${src} out of ${back ?? 'nowhere'}, not ${inIf}`,
    `strict reverse-path filtering drops packets from ${src} arriving on ${inIf} as spoofed`, `sysctl -w net.ipv4.conf.${dev === 1 ? inIf : 'all'}.rp_filter=2  (or fix the route to ${src})`);
}
