// Topology -> text for an 80-column terminal, in the order a packet meets
// things: the outside world and the uplink, the host's bridges with a veth
// "cable" (═══) to each container's ethN, the sandboxes and who lives in them,
// published ports, and last what is wrong. A line about something with drift
// starts with "!"; something the store expects but the kernel lacks says
// "(missing)".
import type { TopoEdge, TopoNode, Topology } from '../topology/model.js';

const WIDTH = 80;

/** Joins words into lines of at most WIDTH columns: `first` starts the first line, `cont` the others. */
function wrap(first: string, cont: string, words: string[]): string[] {
  const out: string[] = [];
  let line = first;
  let fresh = true;
  for (const w of words.filter(Boolean)) {
    const candidate = fresh ? line + w : `${line} ${w}`;
    // One column is the drift marker's.
    if (!fresh && candidate.length > WIDTH - 1) {
      out.push(line);
      line = cont + w;
    } else {
      line = candidate;
    }
    fresh = false;
  }
  out.push(line);
  return out;
}

class Picture {
  private readonly byId: Map<string, TopoNode>;
  readonly lines: string[] = [];
  constructor(readonly t: Topology) {
    this.byId = new Map(t.nodes.map((n) => [n.id, n]));
  }
  node(id: string): TopoNode | undefined {
    return this.byId.get(id);
  }
  nodes(pred: (n: TopoNode) => boolean): TopoNode[] {
    return this.t.nodes.filter(pred);
  }
  edges(pred: (e: TopoEdge) => boolean): TopoEdge[] {
    return this.t.edges.filter(pred);
  }
  /** Adds a line (wrapped); `bad` puts the drift marker in the first column. */
  add(bad: boolean, indent: string, cont: string, words: string[]): void {
    const mark = bad ? '!' : ' ';
    for (const [i, l] of wrap(indent, cont, words).entries()) this.lines.push(`${i === 0 ? mark : ' '}${l}`);
  }
  blank(): void {
    if (this.lines.length && this.lines[this.lines.length - 1] !== '') this.lines.push('');
  }
}

/** An IPv4 address as a number, for sorting; no address sorts last. */
function ipOrder(ip: string | undefined): number {
  if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return Number.MAX_SAFE_INTEGER;
  return ip.split('.').reduce((n, b) => n * 256 + Number(b), 0);
}

const bad = (...xs: Array<TopoNode | TopoEdge | undefined>) => xs.some((x) => !!x?.drift?.length);
const missing = (...xs: Array<TopoNode | TopoEdge | undefined>) => (xs.some((x) => x?.absent) ? '(missing)' : '');

/** "[web]" or "[web +side]": the sandbox an interface sits in, by its containers. */
function sandboxTag(p: Picture, iface: TopoNode): string {
  const box = iface.parent ? p.node(iface.parent) : undefined;
  return box ? `[${box.label}]` : '';
}

/** Cables hanging off a bridge-like node, as tree lines under it. */
function cables(p: Picture, bridgeId: string, indent: string): void {
  const rows = p
    .edges((e) => e.kind === 'port' && e.to === bridgeId && p.node(e.from)?.kind === 'veth')
    .map((portEdge) => {
      const veth = p.node(portEdge.from)!;
      const cable = p.edges((e) => e.kind === 'cable' && e.from === veth.id)[0];
      return { portEdge, veth, cable, iface: cable ? p.node(cable.to) : undefined };
    })
    // In address order, as `ip neigh` or a course's drawing would list them; host ends with no cable last.
    .sort((a, b) => ipOrder(a.iface?.attrs.ip) - ipOrder(b.iface?.attrs.ip) || a.veth.label.localeCompare(b.veth.label));
  rows.forEach(({ portEdge, veth, cable, iface }, i) => {
    const last = i === rows.length - 1;
    const state = [...(portEdge.absent ? ['unplugged'] : []), ...(veth.attrs.state === 'DOWN' ? ['DOWN'] : [])];
    const words = [veth.label, state.length ? `(${state.join(', ')})` : '', missing(veth)];
    if (iface) words.push('═══', iface.label, iface.attrs.ip ?? '', iface.attrs.mac ?? '', missing(iface), `── ${sandboxTag(p, iface)}`);
    else words.push('(belongs to no endpoint)');
    p.add(bad(veth, portEdge, cable, iface), `${indent}${last ? '└─ ' : '├─ '}`, `${indent}${last ? '   ' : '│  '}     `, words);
  });
}

function header(p: Picture): void {
  p.add(false, '', '', [`plumb graph: the network of ${p.t.host}`]);
  p.add(false, '', '', ['═══ veth cable: host end ═══ ethN in a sandbox   ──▶ packets go   ! drift']);
  p.blank();
}

function outside(p: Picture): void {
  const uplinks = p.nodes((n) => n.kind === 'uplink');
  if (!uplinks.length) {
    p.add(false, '', '', ['no default route: the host has no way out']);
    return;
  }
  p.add(false, '', '', ['outside world']);
  for (const u of uplinks) {
    const e = p.edges((x) => x.kind === 'uplink' && x.from === u.id)[0];
    p.add(false, '   ', '   ', ['║', e?.label ?? '']);
    p.add(bad(u), '', '    ', [u.label, ...u.details.filter((d) => /^\d+\.\d+\.\d+\.\d+\//.test(d)), '(uplink)']);
    const masq = p.edges((x) => x.kind === 'masquerade' && x.to === u.id);
    if (masq.length) p.add(false, '   ▲ ', '     ', ["MASQUERADE: these subnets leave with the host's address"]);
    for (const m of masq) {
      const from = p.node(m.from)!;
      p.add(bad(m), '   ▲   ', '         ', [from.attrs.masquerade ?? '', 'from', `${from.attrs.network}`, `(${from.label})`]);
    }
  }
  p.blank();
}

function hostStack(p: Picture): void {
  const host = p.node('host');
  p.add(bad(host), '', '', ['host network namespace', ...(host?.drift?.length ? [`(${host.drift.length} finding${host.drift.length > 1 ? 's' : ''} below)`] : [])]);
  const items: Array<(last: boolean) => void> = [];
  for (const b of p.nodes((n) => n.kind === 'bridge' && n.parent === 'host')) {
    items.push((last) => {
      const gw = b.details.filter((d) => d.startsWith('gateway ')).join(' ');
      const rest = b.details.filter((d) => !d.startsWith('gateway ') && !d.startsWith('network '));
      p.add(bad(b), last ? '└─ ' : '├─ ', last ? '      ' : '│     ', ['bridge', b.label, b.attrs.network === b.label ? '' : `(network ${b.attrs.network})`, gw, ...rest, missing(b)]);
      cables(p, b.id, last ? '   ' : '│  ');
    });
  }
  for (const h of p.nodes((n) => n.kind === 'host-if' || (n.kind === 'uplink' && !!n.attrs.macvlanParentOf))) {
    const children = p.edges((e) => e.kind === 'macvlan' && e.from === h.id);
    if (!children.length && !h.attrs.macvlanParentOf) continue;
    items.push((last) => {
      const addrs = h.details.filter((d) => /^\d+\.\d+\.\d+\.\d+\//.test(d));
      p.add(bad(h), last ? '└─ ' : '├─ ', last ? '      ' : '│     ', [h.label, ...addrs, `(host interface, macvlan parent of ${h.attrs.macvlanParentOf})`, missing(h)]);
      const ind = last ? '   ' : '│  ';
      children.forEach((e, i) => {
        const c = p.node(e.to)!;
        const l = i === children.length - 1;
        p.add(bad(e, c), `${ind}${l ? '└─ ' : '├─ '}`, `${ind}${l ? '   ' : '│  '}     `, ['≈≈≈', c.label, c.attrs.ip ?? '', c.attrs.mac ?? '', missing(c), `── ${sandboxTag(p, c)}`, e.label ?? '']);
      });
    });
  }
  for (const ns of p.nodes((n) => n.kind === 'overlay-ns')) {
    items.push((last) => {
      const ind = last ? '   ' : '│  ';
      p.add(bad(ns), last ? '└─ ' : '├─ ', `${ind}   `, ['overlay', ns.attrs.network ?? '', `in namespace ${ns.label}`, missing(ns)]);
      const br = p.nodes((n) => n.parent === ns.id && n.kind === 'bridge')[0];
      const vx = p.nodes((n) => n.parent === ns.id && n.kind === 'vxlan')[0];
      if (br) {
        p.add(bad(br), `${ind}├─ `, `${ind}│     `, ['br0', ...br.details.filter((d) => !d.startsWith('network ')), missing(br)]);
        cables(p, br.id, `${ind}│  `);
      }
      if (vx) {
        p.add(bad(vx), `${ind}└─ `, `${ind}      `, ['vxlan0', ...vx.details, missing(vx)]);
        const tunnels = p.edges((e) => e.kind === 'tunnel' && e.from === vx.id);
        tunnels.forEach((tun, i) => {
          const vtep = p.node(tun.to)!;
          const peer = vtep.parent ? p.node(vtep.parent) : undefined;
          const l = i === tunnels.length - 1;
          const sub = `${ind}   ${l ? '   ' : '│  '}`;
          p.add(bad(tun), `${ind}   ${l ? '└─ ' : '├─ '}`, `${sub}   `, ['◀══▶', peer?.label ?? '', vtep.label, `(${tun.label})`]);
          for (const r of p.nodes((n) => n.kind === 'remote' && n.parent === peer?.id && n.networks.includes(ns.attrs.network ?? ''))) {
            p.add(bad(r), `${sub}   · `, `${sub}     `, [r.label, ...r.details, ...(r.drift ?? []).map((d) => `(${d})`)]);
          }
        });
      }
    });
  }
  const walls = p.edges((e) => e.kind === 'isolation');
  if (walls.length) {
    items.push((last) => {
      const pairs = walls.map((w) => `${p.node(w.from)!.label} ✕ ${p.node(w.to)!.label}`);
      p.add(false, last ? '└─ ' : '├─ ', last ? '   ' : '│  ', ['isolated (the firewall drops traffic between them):', ...pairs.map((x, i) => (i < pairs.length - 1 ? `${x},` : x))]);
    });
  }
  const resolver = p.node('resolver');
  if (resolver) items.push((last) => p.add(bad(resolver), last ? '└─ ' : '├─ ', '   ', [resolver.label, ...resolver.details, '(embedded DNS for every sandbox)']));
  const hosted = p.nodes((n) => n.kind === 'container' && n.parent === 'host');
  if (hosted.length) {
    items.push((last) =>
      p.add(bad(...hosted), last ? '└─ ' : '├─ ', last ? '   ' : '│  ', ['--network host:', ...hosted.map((c, i) => (i < hosted.length - 1 ? `${c.label},` : c.label)), "(no sandbox: they use this stack)"]),
    );
  }
  items.forEach((f, i) => f(i === items.length - 1));
  if (!items.length) p.add(false, '└─ ', '   ', ['no networks with kernel objects yet']);
  p.blank();
}

function sandboxes(p: Picture): void {
  const boxes = p.nodes((n) => n.kind === 'sandbox');
  if (!boxes.length) return;
  p.add(false, '', '', ['sandboxes: one network stack each (look inside: ip netns exec NAME ip addr)']);
  for (const box of boxes) {
    // The sandbox's own container first, then those sharing it.
    const members = p.nodes((n) => n.kind === 'container' && n.parent === box.id).sort((a, b) => Number(!!a.attrs.sharesWith) - Number(!!b.attrs.sharesWith) || a.label.localeCompare(b.label));
    const names = members.map((c) => (c.attrs.sharesWith ? `${c.label} (--network container:${c.attrs.sharesWith})` : c.label));
    p.add(bad(box), '┌ ', '│   ', [`${box.label}`, missing(box), '─ containers:', ...names.map((x, i) => (i < names.length - 1 ? `${x},` : x))]);
    if (box.attrs.mode === 'none') p.add(false, '│ ', '│   ', ['--network none: only lo, no way in or out']);
    for (const i of p.nodes((n) => n.kind === 'iface' && n.parent === box.id)) {
      const on = i.attrs.network ? `on ${i.attrs.network}` : (i.details[0] ?? '');
      p.add(bad(i), '│ ', '│     ', [i.label, i.attrs.cidr ?? '', i.attrs.mac ?? '', on, i.attrs.via && i.attrs.via !== 'veth' ? `(${i.attrs.via})` : '', missing(i), ...(i.drift && !i.attrs.network ? ['(belongs to no endpoint)'] : [])]);
    }
    const dns = p.nodes((n) => n.kind === 'dns' && n.parent === box.id)[0];
    if (dns) {
      const hop = p.edges((e) => e.kind === 'dns' && e.from === dns.id)[0];
      if (hop && p.node(hop.to)?.kind === 'resolver') {
        // The resolver's own socket in the sandbox (macvlan): no DNAT, no bridge in between.
        p.add(bad(dns, p.node('resolver')), '│ ', '│     ', ['DNS', dns.label, '──▶', 'plumb resolver', `(${hop.label ?? 'its socket in the sandbox'})`]);
      } else if (!hop && dns.attrs.target === 'resolver socket inside') {
        p.add(bad(dns, p.node('resolver')), '│ ', '│     ', ['DNS', dns.label, '──▶', 'nothing', '(the resolver holds no socket here)']);
      } else {
        const res = hop ? p.edges((e) => e.kind === 'dns' && e.from === hop.to)[0] : undefined;
        p.add(bad(dns, p.node('resolver')), '│ ', '│     ', ['DNS', dns.label, '──▶', dns.attrs.target ?? '?', ...(res ? ['──▶', 'plumb resolver'] : ['(no bridge has that gateway)'])]);
      }
    }
    for (const c of members) {
      for (const l of p.edges((e) => e.kind === 'link' && e.from === c.id)) {
        const target = p.node(l.to)!;
        p.add(bad(l), '│ ', '│     ', [l.label ?? '--link', `──▶ ${target.label}`, `(a line in ${c.label}'s /etc/hosts)`]);
      }
    }
    p.lines.push(' └');
  }
  p.blank();
}

function ports(p: Picture): void {
  const first = (ports: string | undefined) => Number((ports ?? '').split('-')[0]) || 0;
  const published = p
    .nodes((n) => n.kind === 'port')
    .sort((a, b) => first(a.attrs.hostPorts) - first(b.attrs.hostPorts) || (a.attrs.proto ?? '').localeCompare(b.attrs.proto ?? '') || ipOrder(a.attrs.hostIp) - ipOrder(b.attrs.hostIp));
  if (!published.length) return;
  p.add(false, '', '', ["published ports (DNAT: the host's port is rewritten to the container's)"]);
  for (const port of published) {
    const e = p.edges((x) => x.kind === 'dnat' && x.from === port.id)[0];
    const target = e ? p.node(e.to) : undefined;
    const box = target?.parent ? p.node(target.parent) : undefined;
    p.add(bad(port, e), '  ', '      ', [port.label, '──DNAT──▶', box ? box.label : '?', `${port.attrs.toIp}:${port.attrs.toPorts}`, target ? `(${target.label})` : '', missing(port)]);
  }
  p.blank();
}

function drift(p: Picture): void {
  if (!p.t.drift.length) {
    p.add(false, '', '', ['no drift: the kernel matches what plumb expects']);
    return;
  }
  p.add(false, '', '', ['drift: the kernel differs from what plumb expects (plumb system gc repairs)']);
  for (const line of p.t.drift) p.add(true, ' ', '   ', line.split(' '));
}

export function renderAscii(t: Topology): string {
  const p = new Picture(t);
  header(p);
  outside(p);
  hostStack(p);
  sandboxes(p);
  ports(p);
  drift(p);
  return p.lines.join('\n').replace(/[ \t]+$/gm, '') + '\n';
}
