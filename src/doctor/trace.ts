// `plumb trace FROM TO:PORT[/PROTO]`: one real packet, followed through the
// host's netfilter with the kernel's tracing, printed as the tables, chains
// and rules it meets (iptables rules shown as iptables-save writes them, with
// plumb's owner comments) and the verdict.
import { PlumbError } from '../engine/core/errors.js';
import { saveIptables } from '../kernel/iptables.js';
import { armTrace, nftRulePositions, type TraceEvent } from '../kernel/nftrace.js';
import type { Netns } from '../kernel/netns.js';
import { tcpProbe, udpProbe } from '../kernel/path-probes.js';
import type { ContainerRecord } from '../store/model.js';
import { isIpv4 } from './addresses.js';
import type { Facts } from './facts.js';
import { parseRuleset } from './netfilter.js';
import { parseTarget } from './walk.js';

export interface TraceStep {
  table: string;
  chain: string;
  /** iptables-save text of the rule (or "policy X"). */
  rule?: string;
  comment?: string;
  verdict: string;
  /** The nft description of the step, as the kernel reported it. */
  nft: string;
}

export interface TraceReport {
  from: string;
  to: string;
  packet?: string;
  steps: TraceStep[];
  /** accepted, dropped by rule X, rewritten by DNAT to Y, ... */
  verdict: string;
  accepted: boolean;
}

interface Plan {
  from: string;
  to: string;
  /** nft expression selecting the packet. */
  expr: string;
  /** Sends the packet; undefined when it comes from outside (the learner sends it). */
  send?: () => Promise<unknown>;
}

const owned = (c: ContainerRecord) => Object.values(c.endpoints).map((e) => e.ip);
const set = (ips: string[]) => (ips.length === 1 ? ips[0]! : `{ ${ips.join(', ')} }`);

async function plan(f: Facts, fromSpec: string, toSpec: string): Promise<Plan> {
  const t = parseTarget(toSpec);
  if (t.port === undefined) throw new PlumbError(`plumb trace needs a port: ${toSpec}:PORT[/udp]`);
  const containers = f.runningContainers();
  const find = (name: string) => containers.find((c) => c.name === name);
  const dstC = find(t.name);
  const dstIps = dstC ? owned(dstC) : t.name === 'host' ? [] : isIpv4(t.name) ? [t.name] : undefined;
  if (!dstIps) throw new PlumbError(`No such running container: ${t.name}`);
  const l4 = `meta l4proto ${t.proto}`;
  const port = t.port;
  const send = (ns: Pick<Netns, 'path'>, ip: string) => () => (t.proto === 'tcp' ? tcpProbe(ns, ip, port) : udpProbe(ns, ip, port));
  const srcC = find(fromSpec);
  if (srcC) {
    const sb = await f.sandbox(srcC);
    if (!sb) throw new PlumbError(`container ${srcC.name} has no network namespace`);
    const shared = dstC && Object.values(srcC.endpoints).map((e) => Object.values(dstC.endpoints).find((d) => d.networkId === e.networkId)).find(Boolean);
    const h = await f.host();
    const target = dstC ? (shared?.ip ?? dstIps[0]!) : t.name === 'host' ? (Object.values(srcC.endpoints).find((e) => e.gateway)?.gateway ?? h.addrs[0]!.address) : dstIps[0]!;
    return { from: srcC.name, to: `${t.name}:${port}/${t.proto}`, expr: `ip saddr ${set(owned(srcC))} ip daddr ${target} ${l4} th dport ${port}`, send: send(sb.ns, target) };
  }
  if (fromSpec === 'host') {
    if (!dstC) throw new PlumbError('from the host, trace toward a container: plumb trace host NAME:PORT');
    const ip = dstIps[0]!;
    return { from: 'host', to: `${t.name}:${port}/${t.proto}`, expr: `ip daddr ${ip} ${l4} th dport ${port}`, send: send(f.ctx.hostNs(), ip) };
  }
  if (isIpv4(fromSpec)) {
    // From outside: the packet is the learner's to send (from that address); watch for it.
    const binding = dstC?.ports.find((p) => p.containerPort === port && p.proto === t.proto);
    const dport = dstC ? binding?.hostPort : port;
    if (dport === undefined) throw new PlumbError(`${t.name} publishes no port ${port}/${t.proto}: from outside only published ports are reachable`);
    return { from: fromSpec, to: `${t.name}:${port}/${t.proto}`, expr: `ip saddr ${fromSpec} ${l4} th dport ${dport}` };
  }
  throw new PlumbError(`No such container: ${fromSpec} (FROM is a container name, host, or an outside IPv4 address)`);
}

/** Turns the kernel's trace lines of one packet into steps named after iptables rules. */
async function describe(f: Facts, events: TraceEvent[]): Promise<{ steps: TraceStep[]; packet?: string }> {
  const h = await f.host();
  const positions = await nftRulePositions(h.ns);
  const rules = parseRuleset(await saveIptables(h.ns));
  const steps: TraceStep[] = [];
  let packet: string | undefined;
  for (const e of events) {
    const m = /^(\S+) (\S+) (\S+) (packet: |rule |policy |unknown rule )(.*)$/.exec(e.text);
    if (!m) continue;
    const [, family, table, chain, kind, rest] = m;
    if (table!.startsWith('plumb_trace')) {
      if (kind === 'packet: ' && !packet) packet = rest!.replace(/ ether \S+ \S+/g, '').replace(/ ip (dscp|ecn|ttl|length) \S+/g, '').trim();
      continue;
    }
    if (kind === 'packet: ') continue;
    if (kind === 'policy ') {
      steps.push({ table: table!, chain: chain!, rule: `policy ${rest!.trim().toUpperCase()}`, verdict: rest!.trim(), nft: e.text });
      continue;
    }
    const verdict = /\(verdict ([^)]+)\)/.exec(rest!)?.[1] ?? 'continue';
    const handle = /# handle (\d+)/.exec(rest!)?.[1];
    const ref = handle ? positions.get(`${family} ${table} ${handle}`) : undefined;
    const args = ref && family === 'ip' ? rules.get(table!)?.rules.get(chain!)?.[ref.position - 1] : undefined;
    const ci = args ? args.indexOf('--comment') : -1;
    steps.push({
      table: table!,
      chain: chain!,
      rule: args ? `-A ${chain} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}` : rest!.replace(/\s*\(verdict [^)]+\)/, '').replace(/\s*# handle \d+/, '').replace(/counter packets \d+ bytes \d+ /, '').trim(),
      comment: ci >= 0 ? args![ci + 1] : undefined,
      verdict,
      nft: e.text,
    });
  }
  return { steps, packet };
}

function summarise(steps: TraceStep[]): { verdict: string; accepted: boolean } {
  const drop = steps.find((s) => /^(drop|reject)/i.test(s.verdict) || s.rule === 'policy DROP');
  const dnat = steps.find((s) => s.table === 'nat' && /DNAT|dnat/.test(s.rule ?? ''));
  const dnatTo = dnat && /--to-destination (\S+)|dnat to (\S+)/.exec(dnat.rule ?? '');
  const rewrite = dnatTo ? `rewritten by DNAT to ${dnatTo[1] ?? dnatTo[2]}, ` : '';
  if (drop) return { verdict: `${rewrite}dropped by ${drop.rule?.startsWith('policy') ? `the ${drop.chain} policy` : `rule ${drop.table} ${drop.rule}`}`, accepted: false };
  return { verdict: `${rewrite}accepted`, accepted: true };
}

/**
 * The events of the first packet only. The kernel's trace id comes from the
 * packet buffer's address: it changes between hooks (after routing) and a
 * later packet may reuse it. Every hook starts with a "packet:" line that
 * shows the IP id, which stays with the packet: follow that.
 */
export function firstPacket(events: TraceEvent[]): TraceEvent[] {
  const ipIdOf = new Map<string, string>();
  let wanted: string | undefined;
  const out: TraceEvent[] = [];
  for (const e of events) {
    const m = / packet: .* ip id (\d+) /.exec(e.text + ' ');
    if (m) ipIdOf.set(e.id, m[1]!);
    const ipId = ipIdOf.get(e.id);
    if (ipId === undefined) continue;
    wanted ??= ipId;
    if (ipId === wanted) out.push(e);
  }
  return out;
}

export interface TraceOptions {
  /** How long to wait for the packet (from outside: for the learner to send it). */
  waitMs: number;
  /** Called once armed, with the tracing table's name and whether the packet must come from outside. */
  onArmed?: (table: string, external: boolean) => void;
  /** Lets the caller remove the tracing table on SIGINT/SIGTERM (given as soon as there is anything to remove). */
  onStop?: (stop: () => Promise<void>) => void;
}

export async function tracePath(f: Facts, fromSpec: string, toSpec: string, opts: TraceOptions): Promise<TraceReport> {
  const p = await plan(f, fromSpec, toSpec);
  const h = await f.host();
  const armed = await armTrace(h.ns, { expr: p.expr }, opts.onStop);
  try {
    opts.onArmed?.(armed.table, !p.send);
    const sending = p.send?.();
    const deadline = Date.now() + opts.waitMs;
    while (!armed.events.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await sending;
    // Let the first packet's last events arrive.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await armed.stop();
  }
  if (process.env.PLUMB_TRACE_DEBUG) for (const e of armed.events) process.stderr.write(`${e.id} ${e.text}\n`);
  const events = firstPacket(armed.events);
  if (!events.length) throw new PlumbError(`no packet from ${p.from} to ${p.to} was seen within ${Math.round(opts.waitMs / 1000)} s${p.send ? '' : ` (send one from ${p.from})`}`);
  const { steps, packet } = await describe(f, events);
  return { from: p.from, to: p.to, packet, steps, ...summarise(steps) };
}
