// What the host's firewall says, read back from `iptables-save`: published
// ports (DNAT in nat PLUMB: host:PORT -> container:PORT), the MASQUERADE
// boundary (nat PLUMB-POSTROUTING: a bridge's subnet leaving by any other
// interface takes the host's address), and isolation (filter
// PLUMB-ISOLATION-STAGE-2: traffic from one network to another is dropped).
import { CHAIN, parseIptablesSave } from '../firewall/index.js';
import { byDriver, type Describe } from './common.js';
import { edge, ids, node, type Fragment, type TopoNode } from './model.js';

function arg(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 && args[i - 1] !== '!' ? args[i + 1] : undefined;
}

function negated(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 1 && args[i - 1] === '!' ? args[i + 1] : undefined;
}

const bare = (cidr: string) => cidr.replace(/\/32$/, '');

export interface DnatRule {
  proto: string;
  hostIp: string;
  /** "8080" or "8080-8089". */
  hostPorts: string;
  toIp: string;
  /** "80", "80-89", or "" (same ports). */
  toPorts: string;
  /** The owner from the rule's comment (a container name). */
  owner?: string;
}

/** DNAT rules of plumb's nat chain. */
export function dnatRules(saved: string): DnatRule[] {
  const nat = parseIptablesSave(saved).get('nat');
  const out: DnatRule[] = [];
  for (const args of nat?.rules.get(CHAIN.nat) ?? []) {
    if (arg(args, '-j') !== 'DNAT') continue;
    const to = arg(args, '--to-destination') ?? '';
    const m = /^([^:/]+)(?::([\d-]+))?/.exec(to);
    if (!m) continue;
    const comment = arg(args, '--comment') ?? '';
    out.push({
      proto: arg(args, '-p') ?? 'all',
      hostIp: bare(arg(args, '-d') ?? '0.0.0.0'),
      hostPorts: (arg(args, '--dport') ?? '').replace(':', '-'),
      toIp: m[1]!,
      toPorts: m[2] ?? '',
      owner: /^plumb: (\S+) /.exec(comment)?.[1],
    });
  }
  return out;
}

function portFragment(d: Describe, nodes: TopoNode[]): Fragment {
  const f: Fragment = { nodes: [], edges: [] };
  for (const r of dnatRules(d.kernel.firewall)) {
    const target = nodes.find((n) => n.kind === 'iface' && n.attrs.ip === r.toIp);
    const hostSide = `${r.hostIp}:${r.hostPorts}`;
    const id = ids.port(r.proto, r.hostIp, r.hostPorts);
    if (f.nodes.some((n) => n.id === id)) continue;
    const toPorts = r.toPorts || r.hostPorts;
    f.nodes.push(
      node(id, 'port', `${hostSide}/${r.proto}`, {
        parent: ids.host(),
        details: ['published port'],
        networks: target?.networks ?? [],
        containers: target?.containers ?? (r.owner ? [r.owner] : []),
        attrs: { proto: r.proto, hostIp: r.hostIp, hostPorts: r.hostPorts, toIp: r.toIp, toPorts, ...(r.owner ? { owner: r.owner } : {}) },
        ...(target ? {} : { drift: [`DNAT to ${r.toIp}:${toPorts}, an address no endpoint here has`] }),
      }),
    );
    if (target) f.edges.push(edge('dnat', id, target.id, { label: `DNAT ${r.toIp}:${toPorts}` }));
  }
  f.nodes.push(...missingPorts(d, nodes, f));
  f.edges.push(...f.nodes.filter((n) => n.absent).flatMap((n) => (n.attrs.target ? [edge('dnat', n.id, n.attrs.target, { label: `DNAT ${n.attrs.toIp}:${n.attrs.toPorts}`, absent: true })] : [])));
  return f;
}

const inRange = (ports: string, port: number) => {
  const [lo, hi] = ports.split('-').map(Number);
  return port >= lo! && port <= (hi ?? lo!);
};

/**
 * Ports the store says are published but no DNAT rule of the kernel covers
 * (rules flushed by a firewall reload): drawn from the store, marked absent,
 * so the picture shows what is gone.
 */
function missingPorts(d: Describe, nodes: TopoNode[], have: Fragment): TopoNode[] {
  const rules = have.nodes.map((n) => n.attrs);
  const out: TopoNode[] = [];
  for (const c of Object.values(d.data.containers).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (c.state !== 'running' || !c.ports.length) continue;
    const primary = c.networks[0] && c.endpoints[c.networks[0].networkId];
    const net = primary && byDriver({ bridge: (n) => n }, d.data.networks[primary.networkId]);
    if (!primary || !net) continue;
    const target = nodes.find((n) => n.kind === 'iface' && n.attrs.ip === primary.ip && n.networks.includes(net.name));
    for (const p of c.ports) {
      const hostIp = p.hostIp || net.hostBindingIpv4 || '0.0.0.0';
      if (hostIp.includes(':')) continue;
      const covered = rules.some((r) => r.proto === p.proto && r.hostIp === hostIp && r.toIp === primary.ip && inRange(r.hostPorts ?? '', p.hostPort));
      const id = ids.port(p.proto, hostIp, String(p.hostPort));
      if (covered || out.some((n) => n.id === id)) continue;
      out.push(
        node(id, 'port', `${hostIp}:${p.hostPort}/${p.proto}`, {
          parent: ids.host(),
          details: ['published port'],
          networks: [net.name],
          containers: target?.containers ?? [c.name],
          attrs: { proto: p.proto, hostIp, hostPorts: String(p.hostPort), toIp: primary.ip, toPorts: String(p.containerPort), owner: c.name, ...(target ? { target: target.id } : {}) },
          absent: true,
        }),
      );
    }
  }
  return out;
}

function masqueradeFragment(d: Describe, nodes: TopoNode[]): Fragment {
  const nat = parseIptablesSave(d.kernel.firewall).get('nat');
  const way = nodes.find((n) => n.kind === 'uplink') ?? nodes.find((n) => n.kind === 'internet');
  const f: Fragment = { nodes: [], edges: [] };
  for (const args of nat?.rules.get(CHAIN.natPostrouting) ?? []) {
    if (arg(args, '-j') !== 'MASQUERADE') continue;
    const src = arg(args, '-s');
    const notOut = negated(args, '-o');
    if (!src || !notOut) continue;
    const bridge = nodes.find((n) => n.id === ids.bridge(notOut));
    if (!bridge) continue;
    if (way) f.edges.push(edge('masquerade', bridge.id, way.id, { label: `MASQUERADE ${src}` }));
    bridge.attrs.masquerade = src;
  }
  return f;
}

function isolationFragment(d: Describe, nodes: TopoNode[]): Fragment {
  const filter = parseIptablesSave(d.kernel.firewall).get('filter');
  const entering = new Set((filter?.rules.get(CHAIN.isolation1) ?? []).filter((a) => arg(a, '-j') === CHAIN.isolation2).map((a) => arg(a, '-i')));
  const dropped = (filter?.rules.get(CHAIN.isolation2) ?? []).filter((a) => arg(a, '-j') === 'DROP').map((a) => arg(a, '-o'));
  const walled = nodes.filter((n) => n.kind === 'bridge' && n.parent === ids.host() && entering.has(n.label) && dropped.includes(n.label)).sort((a, b) => a.id.localeCompare(b.id));
  const f: Fragment = { nodes: [], edges: [] };
  for (let i = 0; i < walled.length; i++) {
    walled[i]!.attrs.isolated = 'true';
    for (let j = i + 1; j < walled.length; j++) {
      f.edges.push(edge('isolation', walled[i]!.id, walled[j]!.id, { label: 'isolated', undirected: true }));
    }
  }
  return f;
}

/** Ports, masquerade and isolation, laid over the nodes the drivers described. */
export function describeFirewall(d: Describe, nodes: TopoNode[]): Fragment {
  const parts = [portFragment(d, nodes), masqueradeFragment(d, nodes), isolationFragment(d, nodes)];
  return { nodes: parts.flatMap((p) => p.nodes), edges: parts.flatMap((p) => p.edges) };
}
