// Desired state -> rule objects, in the order dockerd would leave them.
// Networks are walked newest first wherever dockerd inserts (-I) and oldest
// first wherever it appends (-A), so `iptables-save` reads like Docker's.

import { normalizeCidr } from '../ipam/cidr.js';
import { BASE_OWNER, CHAIN } from './chains.js';
import {
  bindingRuns,
  containerPortSpans,
  portMatch,
  portText,
  runLabel,
  type BindingRun,
  type ContainerPortSpan,
  type EffectiveBinding,
} from './port-runs.js';
import type { FirewallLink, FirewallNetwork, FirewallPort, FirewallState, OwnerRef, Rule, Table } from './types.js';

const LOOPBACK = '127.0.0.0/8';

class RuleList {
  readonly rules: Rule[] = [];
  private readonly byKey = new Map<string, Rule>();

  add(table: Table, chain: string, spec: string[], owner: string, ref: OwnerRef | OwnerRef[], why: string): void {
    const refs = Array.isArray(ref) ? ref : [ref];
    const key = `${table}\0${chain}\0${spec.join(' ')}`;
    const existing = this.byKey.get(key);
    // dockerd checks `iptables -C` before adding, so two bindings that need the
    // same rule (8080:80 and 8081:80) share one; remember every owner.
    if (existing) {
      for (const r of refs) {
        if (!existing.refs.some((e) => e.kind === r.kind && e.name === r.name)) existing.refs.push(r);
      }
      return;
    }
    const rule: Rule = { table, chain, spec, why, owner, refs: [...refs] };
    this.byKey.set(key, rule);
    this.rules.push(rule);
  }
}

const netRef = (n: FirewallNetwork): OwnerRef => ({ kind: 'network', name: n.name });
const netOwner = (n: FirewallNetwork): string => `network ${n.name}`;
const base: OwnerRef = { kind: 'base', name: BASE_OWNER };

/** The host address a binding really uses: '' falls back to the network's host_binding_ipv4. */
function effectiveHostIp(p: FirewallPort, net: FirewallNetwork | undefined): string {
  if (p.hostIp !== '') return p.hostIp;
  return net?.hostBindingIpv4 || '0.0.0.0';
}

function forwardRules(out: RuleList, state: FirewallState, newestFirst: FirewallNetwork[]): void {
  for (const n of newestFirst) {
    const br = n.bridge;
    const o = netOwner(n);
    const r = netRef(n);
    if (!n.internal) {
      out.add('filter', CHAIN.forward, ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'], o, r,
        `replies to connections that ${n.name}'s containers opened (and to published-port connections) may come back in`);
      out.add('filter', CHAIN.forward, ['-o', br, '-j', CHAIN.filter], o, r,
        `any other new connection into ${br} is allowed only if chain PLUMB says so (published ports, legacy links)`);
      out.add('filter', CHAIN.forward, ['-i', br, '!', '-o', br, '-j', 'ACCEPT'], o, r,
        `${n.name}'s containers may open connections out of the bridge: to the host's other interfaces and beyond`);
    }
    if (n.icc) {
      out.add('filter', CHAIN.forward, ['-i', br, '-o', br, '-j', 'ACCEPT'], o, r,
        `containers on ${n.name} may talk to each other (enable_icc=true)`);
    }
  }
  // dockerd appends the icc=false DROP, so it sits after every bridge's rules, oldest network first.
  for (const n of state.networks) {
    if (n.icc) continue;
    out.add('filter', CHAIN.forward, ['-i', n.bridge, '-o', n.bridge, '-j', 'DROP'], netOwner(n), netRef(n),
      `enable_icc=false: containers on ${n.name} may not talk to each other, except through legacy links (ACCEPTs in PLUMB)`);
  }
}

function isolationRules(out: RuleList, spans: ContainerPortSpan[], newestFirst: FirewallNetwork[]): void {
  // Beyond Docker: its docker-proxy lets containers on other bridges reach a
  // published port; plumb NATs instead, so exempt exactly those DNATed flows.
  for (const s of spans) {
    const br = s.bridge;
    const port = portMatch(s.first, s.last);
    const text = portText(s.first, s.last);
    const owner = spanOwner(s);
    const ref = containerRef(s.container);
    out.add('filter', CHAIN.isolation1,
      ['-d', `${s.containerIp}/32`, '!', '-i', br, '-o', br, '-p', s.proto, '-m', s.proto, '--dport', port, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'RETURN'],
      owner, ref, `a container on another bridge that connects to ${s.container}'s published port (DNATed to ${s.containerIp}:${text}) is not isolated from it`);
    out.add('filter', CHAIN.isolation1,
      ['-s', `${s.containerIp}/32`, '-i', br, '!', '-o', br, '-p', s.proto, '-m', s.proto, '--sport', port, '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'RETURN'],
      owner, ref, `${s.container}'s replies from its published port ${text}/${s.proto} to a container on another bridge (a DNATed connection) may go back there, not isolated`);
  }
  for (const n of newestFirst) {
    const o = netOwner(n);
    const r = netRef(n);
    if (n.internal) {
      const subnet = normalizeCidr(n.subnet);
      out.add('filter', CHAIN.isolation1, ['!', '-s', subnet, '-o', n.bridge, '-j', 'DROP'], o, r,
        `--internal: nothing from outside ${subnet} may enter ${n.name}`);
      out.add('filter', CHAIN.isolation1, ['!', '-d', subnet, '-i', n.bridge, '-j', 'DROP'], o, r,
        `--internal: nothing may leave ${n.name} for an address outside ${subnet} (no internet, no other network)`);
    } else {
      out.add('filter', CHAIN.isolation1, ['-i', n.bridge, '!', '-o', n.bridge, '-j', CHAIN.isolation2], o, r,
        `traffic leaving ${n.bridge} for another interface is checked by stage 2`);
    }
  }
  out.add('filter', CHAIN.isolation1, ['-j', 'RETURN'], BASE_OWNER, base, 'not between two plumb bridges: carry on in FORWARD');
  for (const n of newestFirst) {
    if (n.internal) continue;
    out.add('filter', CHAIN.isolation2, ['-o', n.bridge, '-j', 'DROP'], netOwner(n), netRef(n),
      `it came from another plumb bridge and wants into ${n.name}: networks are isolated from each other`);
  }
  out.add('filter', CHAIN.isolation2, ['-j', 'RETURN'], BASE_OWNER, base, 'the destination is not a plumb bridge: carry on');
}

const containerRef = (name: string): OwnerRef => ({ kind: 'container', name });

/** Comment of a rule serving a container port span: the container and every binding that leads there. */
function spanOwner(s: ContainerPortSpan): string {
  return `${s.container} ${s.labels.join(', ')}`;
}

/** The bindings that get rules: not on --internal networks (Docker programs none there), IPv4 only. */
function effectiveBindings(state: FirewallState, byBridge: Map<string, FirewallNetwork>): EffectiveBinding[] {
  const out: EffectiveBinding[] = [];
  for (const p of state.ports) {
    const net = byBridge.get(p.bridge);
    if (net?.internal) continue;
    const hostIp = effectiveHostIp(p, net);
    if (hostIp.includes(':')) continue;
    out.push({ p, hostIp });
  }
  return out;
}

function dnatRule(out: RuleList, r: BindingRun): void {
  const label = runLabel(r);
  const dst = r.hostIp === '0.0.0.0' ? [] : ['-d', `${r.hostIp}/32`];
  const where = r.hostIp === '0.0.0.0' ? 'any host address' : r.hostIp;
  const match = [...dst, '-p', r.proto, '-m', r.proto, '--dport', portMatch(r.hostFirst, r.hostLast), '-j', 'DNAT', '--to-destination'];
  const ref = containerRef(r.container);
  const owner = `${r.container} ${label}`;
  if (r.hostFirst === r.hostLast) {
    out.add('nat', CHAIN.nat, [...match, `${r.containerIp}:${r.containerFirst}`], owner, ref,
      `publish ${label}: packets for ${where} port ${r.hostFirst} get their destination rewritten to ${r.container}'s ${r.containerIp}:${r.containerFirst}`);
  } else if (r.hostFirst === r.containerFirst) {
    out.add('nat', CHAIN.nat, [...match, r.containerIp], owner, ref,
      `publish ${label}: packets for ${where} ports ${portText(r.hostFirst, r.hostLast)} get their destination rewritten to ${r.container}'s ` +
      `${r.containerIp}, port unchanged (a DNAT target without a port keeps it): one rule for the range, where Docker writes one per port`);
  } else {
    const to = `${r.containerIp}:${portText(r.containerFirst, r.containerLast)}/${r.hostFirst}`;
    out.add('nat', CHAIN.nat, [...match, to], owner, ref,
      `publish ${label}: packets for ${where} ports ${portText(r.hostFirst, r.hostLast)} get their destination rewritten to ${r.container}'s ` +
      `${r.containerIp}, ports ${portText(r.containerFirst, r.containerLast)}: "/${r.hostFirst}" shifts every port by the same offset ` +
      `(${r.hostFirst} to ${r.containerFirst}, ${r.hostFirst + 1} to ${r.containerFirst + 1}, ...), one rule where Docker writes one per port`);
  }
}

function portRules(out: RuleList, runs: BindingRun[], spans: ContainerPortSpan[]): void {
  for (const r of runs) dnatRule(out, r);
  for (const s of spans) {
    const port = portMatch(s.first, s.last);
    const at = `${s.containerIp}:${portText(s.first, s.last)}`;
    out.add('filter', CHAIN.filter,
      ['-d', `${s.containerIp}/32`, '!', '-i', s.bridge, '-o', s.bridge, '-p', s.proto, '-m', s.proto, '--dport', port, '-j', 'ACCEPT'],
      spanOwner(s), containerRef(s.container),
      `${s.container}'s ${at}/${s.proto} is published (${s.labels.join(', ')}): packets whose destination chain nat PLUMB rewrote to it may be forwarded into ${s.bridge}`);
  }
  for (const s of spans) {
    out.add('nat', CHAIN.natPostrouting,
      ['-s', `${s.containerIp}/32`, '-d', `${s.containerIp}/32`, '-p', s.proto, '-m', s.proto, '--dport', portMatch(s.first, s.last), '-j', 'MASQUERADE'],
      spanOwner(s), containerRef(s.container),
      `hairpin: if ${s.container} reaches its own published port, the source is rewritten so the reply travels back through the host`);
  }
}

function linkRules(out: RuleList, links: FirewallLink[], byBridge: Map<string, FirewallNetwork>): void {
  for (const l of links) {
    // With icc=true everything on the bridge is open already; dockerd adds nothing then.
    const net = byBridge.get(l.bridge);
    if (!net || net.icc) continue;
    for (const { proto, port } of l.ports) {
      const owner = `link ${l.from}->${l.to} ${port}/${proto}`;
      // Both rules of a link concern both containers.
      const refs: OwnerRef[] = [
        { kind: 'container', name: l.from },
        { kind: 'container', name: l.to },
      ];
      const p = String(port);
      out.add('filter', CHAIN.filter,
        ['-s', `${l.fromIp}/32`, '-d', `${l.toIp}/32`, '-i', l.bridge, '-o', l.bridge, '-p', proto, '-m', proto, '--dport', p, '-j', 'ACCEPT'],
        owner, refs, `--link: ${l.from} may open connections to ${l.to}'s exposed port ${p}/${proto} despite enable_icc=false`);
      out.add('filter', CHAIN.filter,
        ['-s', `${l.toIp}/32`, '-d', `${l.fromIp}/32`, '-i', l.bridge, '-o', l.bridge, '-p', proto, '-m', proto, '--sport', p, '-j', 'ACCEPT'],
        owner, refs, `--link: ${l.to}'s replies from its exposed port ${p}/${proto} may go back to ${l.from} despite enable_icc=false`);
    }
  }
}

function postroutingRules(out: RuleList, newestFirst: FirewallNetwork[]): void {
  for (const n of newestFirst) {
    if (n.internal) continue;
    out.add('nat', CHAIN.natPostrouting, ['-s', LOOPBACK, '-o', n.bridge, '-j', 'MASQUERADE'], netOwner(n), netRef(n),
      `the host reaching a published port on 127.0.0.1 is DNATed into ${n.bridge}; a 127.x source cannot be answered from there, so use the bridge address`);
    if (n.masquerade) {
      const subnet = normalizeCidr(n.subnet);
      out.add('nat', CHAIN.natPostrouting, ['-s', subnet, '!', '-o', n.bridge, '-j', 'MASQUERADE'], netOwner(n), netRef(n),
        `${n.name}'s containers reach the outside world with the host's address (enable_ip_masquerade=true)`);
    }
  }
}

function loopbackGuardRules(out: RuleList, newestFirst: FirewallNetwork[]): void {
  for (const n of newestFirst) {
    if (n.internal) continue;
    out.add('raw', CHAIN.rawPrerouting, ['-d', LOOPBACK, '-i', n.bridge, '-j', 'DROP'], netOwner(n), netRef(n),
      `route_localnet=1 on ${n.bridge} (needed for 127.0.0.1 published ports) would also let containers reach the host's loopback-only services; refuse that`);
  }
}

/** Every rule of plumb's managed chains for this state. */
export function buildRules(state: FirewallState): Rule[] {
  const out = new RuleList();
  const newestFirst = [...state.networks].reverse();
  const byBridge = new Map(state.networks.map((n) => [n.bridge, n]));
  const runs = bindingRuns(effectiveBindings(state, byBridge));
  const spans = containerPortSpans(runs);
  forwardRules(out, state, newestFirst);
  isolationRules(out, spans, newestFirst);
  // Network MASQUERADEs first: dockerd inserts them, while port rules are appended.
  postroutingRules(out, newestFirst);
  portRules(out, runs, spans);
  linkRules(out, state.links, byBridge);
  loopbackGuardRules(out, newestFirst);
  return out.rules;
}

/** Rules that serve one network (by name) or one container (by name). */
export function rulesFor(state: FirewallState, owner: OwnerRef): Rule[] {
  return buildRules(state).filter((r) => r.refs.some((ref) => ref.kind === owner.kind && ref.name === owner.name));
}
