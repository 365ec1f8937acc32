// The names hop of a sandbox on a user-defined network: resolv.conf names
// 127.0.0.11, the sandbox's nat rules send that to the resolver on a gateway
// of the host, route_localnet lets the redirected query leave, the host's
// INPUT chain lets it in, and the resolver runs and answers. A sandbox whose
// networks cannot reach the host (macvlan) has the resolver's own sockets on
// 127.0.0.11:53 instead: they must be there, held by the resolver.
import { readFileSync } from 'node:fs';
import { EMBEDDED_DNS_IP, OUTPUT_CHAIN } from '../firewall/sandbox-dns.js';
import { resolverStatus } from '../dns/service.js';
import { INSIDE_PORT, resolverPath } from '../dns/sandbox-path.js';
import { resolverListensInside } from '../engine/networks/resolver-sockets.js';
import { sandboxFiles } from '../engine/containers/etc-files.js';
import { saveIptables } from '../kernel/iptables.js';
import { dnsProbe } from '../kernel/path-probes.js';
import { readSysctl } from '../kernel/sysctl.js';
import type { ContainerRecord } from '../store/model.js';
import { sandboxDir } from '../store/paths.js';
import type { Facts, NsFacts } from './facts.js';
import { parseRuleset, walkChain, ruleText } from './netfilter.js';
import { broken, ok, type HopResult } from './types.js';

/** resolv.conf must name 127.0.0.11, or the sandbox's programs never ask the embedded DNS. */
function checkResolvConf(f: Facts, c: ContainerRecord, hop: string): HopResult[] {
  const resolv = sandboxFiles(sandboxDir(f.ctx.paths, c.id)).resolvConf;
  let text = '';
  try {
    text = readFileSync(resolv, 'utf8');
  } catch {
    /* reported below */
  }
  if (/^nameserver\s+127\.0\.0\.11\s*$/m.test(text)) return [];
  const first = /^nameserver\s+(\S+)/m.exec(text)?.[1];
  return [broken(hop, `file ${resolv} (${c.name}'s /etc/resolv.conf)`, first ? `names ${first}, not ${EMBEDDED_DNS_IP}` : 'names no nameserver', `${c.name}'s programs never ask the embedded DNS, so container names do not resolve`, 'plumb restart ' + c.name)];
}

/** The 'inside' way (macvlan): the resolver runs and holds its sockets on 127.0.0.11:53 in the sandbox. */
async function checkInside(f: Facts, c: ContainerRecord, sb: NsFacts, hop: string, probe: boolean, fine: boolean): Promise<HopResult[]> {
  const out: HopResult[] = [];
  if (!resolverStatus(f.ctx.paths)) {
    out.push(broken('resolver', 'process plumb dns serve', 'not running', 'nobody answers the queries of containers on user-defined networks', 'plumb system gc'));
  } else if (resolverListensInside(f.ctx, c) === false) {
    out.push(broken(hop, `sockets ${EMBEDDED_DNS_IP}:${INSIDE_PORT} in ${c.name}`, 'not held by the resolver', `${c.name}'s networks cannot reach plumb's namespace, so the resolver must listen inside the sandbox; without its sockets queries to ${EMBEDDED_DNS_IP} find nobody`, 'plumb system gc'));
  }
  if (out.length || !fine) return out;
  if (probe) {
    const r = await dnsProbe(sb.ns, EMBEDDED_DNS_IP, c.name);
    return [r.ok ? ok(hop, `query ${c.name} @${EMBEDDED_DNS_IP}`, `resolv.conf and the resolver's sockets in the sandbox fine; probe: ${r.detail}`) : broken(hop, `query ${c.name} @${EMBEDDED_DNS_IP}`, r.detail, `the embedded DNS does not answer ${c.name}`, 'plumb system gc')];
  }
  return [ok(hop, `sockets ${EMBEDDED_DNS_IP}:${INSIDE_PORT} in ${c.name}`, `resolv.conf names ${EMBEDDED_DNS_IP}, where the resolver listens inside the sandbox`)];
}

export async function checkNames(f: Facts, c: ContainerRecord, sb: NsFacts, probe: boolean): Promise<HopResult[]> {
  // Queries go out through a bridge endpoint (the resolver listens on a bridge gateway), or reach the resolver's own sockets inside the sandbox (macvlan).
  const way = resolverPath(f.data, c);
  if (!way) return [];
  const hop = `${c.name} dns`;
  const path = c.sandbox!.netns!;
  const out: HopResult[] = [];
  out.push(...checkResolvConf(f, c, hop));
  if (way === 'inside') return [...out, ...(await checkInside(f, c, sb, hop, probe, out.length === 0))];
  const nat = parseRuleset(await saveIptables(sb.ns, 'nat'));
  const query = walkChain(nat, 'nat', 'OUTPUT', { src: '127.0.0.1', dst: EMBEDDED_DNS_IP, proto: 'udp', dport: 53, sport: 40000, outIf: 'lo', ctstate: ['NEW'] });
  let target: { ip: string; port: number } | undefined;
  if (query.verdict !== 'DNAT' || !query.to) {
    const jump = nat.get('nat')?.rules.get('OUTPUT')?.some((r) => r.includes(OUTPUT_CHAIN));
    out.push(broken(hop, jump ? `chain ${OUTPUT_CHAIN} in ${c.name}` : `jump OUTPUT -> ${OUTPUT_CHAIN} in ${c.name}`, jump ? 'has no DNAT for 127.0.0.11:53' : 'missing', `queries to ${EMBEDDED_DNS_IP}:53 stay inside ${c.name}, where nothing listens: names do not resolve`, 'plumb system gc'));
  } else {
    const [ip, port] = query.to.split(':');
    target = { ip: ip!, port: Number(port ?? 53) };
  }
  const rl = readSysctl(sb.ns, 'net.ipv4.conf.all.route_localnet');
  if (rl !== undefined && rl !== '1') {
    out.push(broken(hop, `sysctl net.ipv4.conf.all.route_localnet in ${c.name}`, `is ${rl}`, `a query redirected from 127.0.0.11 still carries a 127.x source; the kernel drops it as martian unless route_localnet is 1`, f.inNs(c.name, path, 'sysctl -w net.ipv4.conf.all.route_localnet=1')));
  }
  const status = resolverStatus(f.ctx.paths);
  if (!status) {
    out.push(broken('resolver', 'process plumb dns serve', 'not running', 'nobody answers the queries of containers on user-defined networks', 'plumb system gc'));
  } else if (target && target.port !== status.port) {
    out.push(broken(hop, `DNAT to ${query.to} in ${c.name}`, `sends queries to port ${target.port}, the resolver listens on ${status.port}`, 'queries reach a port where nothing listens', 'plumb system gc'));
  }
  if (target) {
    const h = await f.host();
    const srcIp = Object.values(c.endpoints).find((e) => e.gateway === target!.ip)?.ip ?? sb.addrs.find((a) => a.dev !== 'lo')?.address ?? '';
    const inIf = h.addrs.find((a) => a.address === target!.ip)?.dev;
    const input = walkChain(h.rules, 'filter', 'INPUT', { src: srcIp, dst: target.ip, proto: 'udp', sport: 40000, dport: target.port, inIf, ctstate: ['NEW'], dstLocal: true });
    if (input.verdict !== 'ACCEPT') {
      out.push(broken(hop, input.rule ? `rule ${ruleText(input.rule)}` : `policy of chain INPUT (${input.verdict})`, `drops queries from ${c.name} to the resolver at ${target.ip}:${target.port}`, `the resolver listens in the host's own stack: INPUT must let ${inIf ?? 'the bridge'} reach udp ${target.port}`, `iptables -I INPUT -i ${inIf ?? '<bridge>'} -p udp --dport ${target.port} -j ACCEPT`));
    }
  }
  if (probe && !out.length) {
    const r = await dnsProbe(sb.ns, EMBEDDED_DNS_IP, c.name);
    if (!r.ok) out.push(broken(hop, `query ${c.name} @${EMBEDDED_DNS_IP}`, r.detail, `the embedded DNS does not answer ${c.name}`, 'plumb system gc'));
    else out.push(ok(hop, `query ${c.name} @${EMBEDDED_DNS_IP}`, `resolv.conf, redirection and resolver fine; probe: ${r.detail}`));
  } else if (!out.length) {
    out.push(ok(hop, `${OUTPUT_CHAIN} in ${c.name}`, `resolv.conf names ${EMBEDDED_DNS_IP}, redirected to ${query.to}, resolver running`));
  }
  return out;
}
