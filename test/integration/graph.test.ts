// plumb graph against a real lab: the picture must say what the kernel says.
// Each check reads the kernel itself (ip -j, iptables-save) and compares it
// with the JSON topology; the ascii picture must name the same objects; a veth
// unplugged behind plumb's back must show up as drift, and disappear after gc.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHostResolvConf } from '../helpers/dns.js';
import { Lab, WAN_IP } from '../helpers/lab.js';

let lab: Lab;
let restoreResolv: () => void;
let scratch: string;

interface Node {
  id: string;
  kind: string;
  label: string;
  parent?: string;
  details: string[];
  attrs: Record<string, string>;
  drift?: string[];
  absent?: boolean;
}
interface Edge {
  id: string;
  kind: string;
  from: string;
  to: string;
  label?: string;
  drift?: string[];
}
interface Topo {
  version: number;
  host: string;
  nodes: Node[];
  edges: Edge[];
  drift: string[];
}

async function topology(...names: string[]): Promise<Topo> {
  return JSON.parse(await lab.plumbOk(['graph', '--format', 'json', ...names])) as Topo;
}

interface IpLink {
  ifname: string;
  master?: string;
  address?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}
interface IpAddr {
  ifname: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number }>;
}

function inSandbox<T>(name: string, args: string[]): T {
  const r = lab.execSync(['nsenter', `--net=${join(lab.netnsDir, name)}`, 'ip', '-j', ...args]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  lab = Lab.create({ tag: 'grph' });
  scratch = mkdtempSync(join(tmpdir(), 'plumb-graph-'));
  restoreResolv = useHostResolvConf(scratch, [WAN_IP]);
  await lab.plumbOk(['network', 'create', '--subnet', '10.77.0.0/24', 'front']);
  await lab.plumbOk(['network', 'create', '--subnet', '10.78.0.0/24', 'back']);
  await lab.plumbOk(['run', '-d', '--name', 'web', '--network', 'front', '-p', '8080:80', '-p', '127.0.0.1:5353:53/udp', 'nginx']);
  await lab.plumbOk(['network', 'connect', 'back', 'web']);
  await lab.plumbOk(['run', '-d', '--name', 'db', '--network', 'back', 'postgres']);
  await lab.plumbOk(['run', '-d', '--name', 'side', '--network', 'container:web', 'busybox']);
  await lab.plumbOk(['run', '-d', '--name', 'old', 'busybox']);
  await lab.plumbOk(['run', '-d', '--name', 'linker', '--link', 'old:legacy', 'busybox']);
  await lab.plumbOk(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '203.0.113.0/24', '--ip-range', '203.0.113.128/25', '--gateway', WAN_IP, 'pub']);
  await lab.plumbOk(['run', '-d', '--name', 'cam', '--network', 'pub', 'busybox']);
  await lab.plumbOk(['run', '-d', '--name', 'tools', '--network', 'host', 'busybox']);
  await lab.plumbOk(['run', '-d', '--name', 'lone', '--network', 'none', 'busybox']);
}, 120_000);

afterAll(async () => {
  restoreResolv?.();
  await lab?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('plumb graph on a real lab', () => {
  it('draws every bridge the kernel has, with its gateway address, and every veth on it', async () => {
    const t = await topology();
    const links = lab.ipJson<IpLink[]>(['-d', 'link', 'show']);
    const addrs = lab.ipJson<IpAddr[]>(['addr', 'show']);
    const bridges = links.filter((l) => l.linkinfo?.info_kind === 'bridge');
    expect(bridges.length).toBe(3);
    for (const b of bridges) {
      const n = t.nodes.find((x) => x.kind === 'bridge' && x.label === b.ifname);
      expect(n, b.ifname).toBeDefined();
      const gw = addrs.find((a) => a.ifname === b.ifname)!.addr_info.find((a) => a.family === 'inet')!;
      expect(n!.attrs.gateway).toBe(`${gw.local}/${gw.prefixlen}`);
      const vethsOnIt = links.filter((l) => l.master === b.ifname).map((l) => l.ifname).sort();
      const drawn = t.edges.filter((e) => e.kind === 'port' && e.to === n!.id).map((e) => t.nodes.find((x) => x.id === e.from)!.label).sort();
      expect(drawn).toEqual(vethsOnIt);
    }
    expect(t.drift).toEqual([]);
  });

  it('draws each veth as a cable to the ethN the sandbox has, with the IP and MAC the sandbox reports', async () => {
    const t = await topology();
    const hostLinks = lab.ipJson<IpLink[]>(['link', 'show']);
    for (const sandbox of ['web', 'db', 'old', 'linker', 'cam']) {
      const links = inSandbox<IpLink[]>(sandbox, ['link', 'show']).filter((l) => l.ifname !== 'lo');
      const addrs = inSandbox<IpAddr[]>(sandbox, ['addr', 'show']);
      expect(links.length).toBeGreaterThan(0);
      for (const l of links) {
        const n = t.nodes.find((x) => x.id === `if:${sandbox}:${l.ifname}`);
        expect(n, `${sandbox} ${l.ifname}`).toBeDefined();
        expect(n!.parent).toBe(`sandbox:${sandbox}`);
        expect(n!.attrs.mac).toBe(l.address);
        const a = addrs.find((x) => x.ifname === l.ifname)!.addr_info.find((x) => x.family === 'inet')!;
        expect(n!.attrs.cidr).toBe(`${a.local}/${a.prefixlen}`);
        if (sandbox === 'cam') {
          // A macvlan child: no veth, hung off its parent, which is the interface the kernel names as its link.
          const parent = t.edges.find((e) => e.kind === 'macvlan' && e.to === n!.id);
          expect(parent?.from).toBe('hostif:eth0');
          const d = inSandbox<Array<IpLink & { link_index?: number }>>(sandbox, ['-d', 'link', 'show', l.ifname])[0]!;
          expect(d.linkinfo?.info_kind).toBe('macvlan');
          expect(d.link_index).toBe(lab.ipJson<Array<{ ifindex: number }>>(['link', 'show', 'eth0'])[0]!.ifindex);
          continue;
        }
        const cable = t.edges.find((e) => e.kind === 'cable' && e.to === n!.id);
        expect(cable, `cable to ${sandbox} ${l.ifname}`).toBeDefined();
        // The host end drawn is the veth whose peer is this interface in the kernel.
        const hostEnd = t.nodes.find((x) => x.id === cable!.from)!;
        const peer = lab.execSync(['ethtool', '-S', hostEnd.label]).stdout.match(/peer_ifindex: (\d+)/)?.[1];
        const ifindex = lab.execSync(['nsenter', `--net=${join(lab.netnsDir, sandbox)}`, 'cat', `/sys/class/net/${l.ifname}/ifindex`]).stdout.trim();
        if (peer) expect(peer).toBe(ifindex);
        expect(hostLinks.some((h) => h.ifname === hostEnd.label)).toBe(true);
      }
    }
  });

  it('draws every DNAT rule of the kernel as a published port to the container that has its address', async () => {
    const t = await topology();
    const dnat = lab.iptablesSave().split('\n').filter((l) => /^-A PLUMB .*-j DNAT/.test(l));
    expect(dnat.length).toBe(2);
    for (const rule of dnat) {
      const port = rule.match(/--dport (\S+)/)![1]!;
      const to = rule.match(/--to-destination ([\d.]+):(\d+)/)!;
      const n = t.nodes.find((x) => x.kind === 'port' && x.attrs.hostPorts === port);
      expect(n, rule).toBeDefined();
      const e = t.edges.find((x) => x.kind === 'dnat' && x.from === n!.id)!;
      expect(e.to).toBe('if:web:eth0');
      expect(t.nodes.find((x) => x.id === e.to)!.attrs.ip).toBe(to[1]);
      expect(n!.attrs.toPorts).toBe(to[2]);
    }
    const masq = lab.iptablesSave().split('\n').filter((l) => /-j MASQUERADE/.test(l) && / ! -o /.test(l));
    expect(t.edges.filter((e) => e.kind === 'masquerade').length).toBe(masq.length);
  });

  it('puts container:X in X\'s box, and draws the legacy link', async () => {
    const t = await topology();
    expect(t.nodes.find((n) => n.id === 'container:side')!.parent).toBe('sandbox:web');
    expect(t.nodes.find((n) => n.id === 'container:web')!.parent).toBe('sandbox:web');
    expect(t.nodes.some((n) => n.id === 'sandbox:side')).toBe(false);
    // Host mode has no sandbox: the container sits in the host's stack. None mode has a box with only lo.
    expect(t.nodes.find((n) => n.id === 'container:tools')!.parent).toBe('host');
    expect(t.nodes.some((n) => n.id === 'sandbox:tools')).toBe(false);
    expect(inSandbox<IpLink[]>('lone', ['link', 'show']).map((l) => l.ifname)).toEqual(['lo']);
    expect(t.nodes.filter((n) => n.parent === 'sandbox:lone').map((n) => n.id)).toEqual(['container:lone']);
    expect(t.edges.find((e) => e.kind === 'link')).toMatchObject({ from: 'container:linker', to: 'container:old' });
    // The DNS path goes to the gateway the sandbox's nat table names.
    const nat = lab.execSync(['nsenter', `--net=${join(lab.netnsDir, 'db')}`, 'iptables-save', '-t', 'nat']).stdout;
    const target = nat.match(/--to-destination (\S+)/)![1];
    expect(t.nodes.find((n) => n.id === 'dns:db')!.attrs.target).toBe(target);
    // A macvlan sandbox has no DNAT: the resolver's own socket on 127.0.0.11:53 inside it, drawn straight to the resolver.
    expect(t.nodes.find((n) => n.id === 'dns:cam')).toMatchObject({ parent: 'sandbox:cam', label: '127.0.0.11:53' });
    expect(t.edges.filter((e) => e.kind === 'dns' && e.from === 'dns:cam').map((e) => e.to)).toEqual(['resolver']);
  });

  it('prints an ascii picture that fits 80 columns and names every bridge and veth of the kernel', async () => {
    const text = await lab.plumbOk(['graph']);
    for (const line of text.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    for (const l of lab.ipJson<IpLink[]>(['-d', 'link', 'show']).filter((x) => ['bridge', 'veth'].includes(x.linkinfo?.info_kind ?? ''))) {
      if (l.ifname === 'eth0') continue;
      expect(text).toContain(l.ifname);
    }
    expect(text).toContain('no drift');
  });

  it('draws only what is named: a network with its containers, a container with its networks', async () => {
    const back = await topology('back');
    expect(back.nodes.some((n) => n.id === 'container:db')).toBe(true);
    expect(back.nodes.some((n) => n.id === 'container:old')).toBe(false);
    expect(back.nodes.some((n) => n.id === 'if:web:eth1')).toBe(true);
    expect(back.nodes.some((n) => n.id === 'if:web:eth0')).toBe(false);
    const old = await topology('old');
    expect(old.nodes.some((n) => n.id === 'bridge:plumb0')).toBe(true);
    expect(old.nodes.some((n) => n.id === 'container:linker')).toBe(false);
    const r = await lab.plumb(['graph', 'nosuchthing']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['Error: No such network or container: nosuchthing (plumb network ls, plumb ps)']);
  });

  it('writes SVG and PNG through Graphviz', async () => {
    const svg = join(lab.root, 'g.svg');
    const png = join(lab.root, 'g.png');
    await lab.plumbOk(['graph', '--format', 'svg', '-o', svg]);
    await lab.plumbOk(['graph', '--format', 'png', '-o', png]);
    expect(readFileSync(svg, 'utf8')).toMatch(/<svg[\s\S]*veth/);
    expect(readFileSync(png).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const bad = await lab.plumb(['graph', '--format', 'gif']);
    expect([bad.code, bad.stderr.trim()]).toEqual([1, 'Error: unknown --format gif: use one of ascii, dot, mermaid, json, svg, png']);
    const r = await lab.plumb(['graph', '--format', 'svg', '-o', svg], { env: { PLUMB_DOT: 'plumb-no-such-dot' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: --format svg needs Graphviz's dot, which is not installed: apt-get install graphviz/);
  });

  it('marks a veth unplugged behind plumb\'s back as drift, in every format, until gc repairs it', async () => {
    const t0 = await topology();
    const veth = t0.nodes.find((n) => n.kind === 'veth' && n.attrs.peer === 'db:eth0')!.label;
    lab.execSync(['ip', 'link', 'set', veth, 'nomaster']);
    const t = await topology();
    const node = t.nodes.find((n) => n.kind === 'veth' && n.label === veth)!;
    expect(node.drift?.[0]).toMatch(new RegExp(`veth ${veth} is on no bridge`));
    const port = t.edges.find((e) => e.kind === 'port' && e.from === node.id)!;
    expect(port.drift?.length).toBe(1);
    const ascii = await lab.plumbOk(['graph']);
    expect(ascii.split('\n').some((l) => l.startsWith('!') && l.includes(veth) && l.includes('(unplugged)'))).toBe(true);
    const dot = await lab.plumbOk(['graph', '--format', 'dot']);
    expect(dot.split('\n').find((l) => l.includes(`"veth:host:${veth}" [`))).toMatch(/dashed.*#dc3545/);
    const mermaid = await lab.plumbOk(['graph', '--format', 'mermaid']);
    expect(mermaid).toMatch(/class .* drift/);
    await lab.plumbOk(['system', 'gc']);
    expect((await topology()).drift).toEqual([]);
  });
});
