// Golden files for plumb graph: fixed topologies (store records plus the
// kernel view a host would report) rendered as ascii, DOT, Mermaid and JSON
// under golden/graph/. Run with UPDATE_GOLDEN=1 to rewrite them after a
// deliberate change, and read the diff.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join as pathJoin } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderAscii, renderDot, renderJson, renderMermaid } from '../../src/graph/index.js';
import { buildTopology } from '../../src/topology/build.js';
import type { Topology } from '../../src/topology/model.js';
import { dnatRules } from '../../src/topology/firewall.js';
import { dnsTarget } from '../../src/topology/dns.js';
import { selectTopology } from '../../src/topology/select.js';
import type { TopologyInput } from '../../src/topology/view.js';
import { bridgeNet, clusterEndpoint, container, healthyKernel, input, join, macvlanNet, overlayNet, store } from '../helpers/topology-fixtures.js';

const GOLDEN_DIR = pathJoin(dirname(fileURLToPath(import.meta.url)), 'golden', 'graph');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  const path = pathJoin(GOLDEN_DIR, file);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`missing golden file ${path}; run with UPDATE_GOLDEN=1 to create it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const ID = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

/** Default bridge, a target and a container with --link target:alias. */
function defaultLink(): TopologyInput {
  const bridge = bridgeNet('bridge', ID(1), '172.17.0.0/16', '172.17.0.1');
  const old = container('old', ID(0x10), 'bridge', { expose: [{ proto: 'tcp', port: 6379 }] });
  const linker = container('linker', ID(0x11), 'bridge', { links: [{ target: 'old', alias: 'cache' }] });
  join(old, bridge, '172.17.0.2', ID(0x20));
  join(linker, bridge, '172.17.0.3', ID(0x21));
  const data = store([bridge], [old, linker]);
  return input(data, healthyKernel(data));
}

/** Two user networks, a container on both (connected later), one on each, embedded DNS. */
function twoNetworks(): TopologyInput {
  const front = bridgeNet('front', ID(2), '10.77.0.0/24', '10.77.0.1');
  const back = bridgeNet('back', ID(3), '10.78.0.0/24', '10.78.0.1');
  const web = container('web', ID(0x12), 'front', { embeddedDns: true, image: 'nginx' });
  const db = container('db', ID(0x13), 'back', { embeddedDns: true, image: 'postgres' });
  const edge = container('edge', ID(0x14), 'front', { embeddedDns: true, image: 'haproxy' });
  join(web, front, '10.77.0.2', ID(0x22));
  join(edge, front, '10.77.0.3', ID(0x24));
  join(db, back, '10.78.0.2', ID(0x23));
  join(web, back, '10.78.0.3', ID(0x25));
  const data = store([front, back], [web, db, edge]);
  return input(data, healthyKernel(data), { resolver: true });
}

/** -p in several forms: plain, bound to 127.0.0.1, udp, a range. */
function ports(): TopologyInput {
  const bridge = bridgeNet('bridge', ID(1), '172.17.0.0/16', '172.17.0.1');
  const web = container('web', ID(0x15), 'bridge', {
    image: 'nginx',
    ports: [
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 },
      { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8081 },
      { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPort: 49153 },
    ],
  });
  const dns = container('dns', ID(0x16), 'bridge', {
    image: 'coredns',
    ports: [
      { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPort: 5353 },
      { proto: 'tcp', containerPort: 9000, hostIp: '0.0.0.0', hostPort: 9000 },
      { proto: 'tcp', containerPort: 9001, hostIp: '0.0.0.0', hostPort: 9001 },
    ],
  });
  join(web, bridge, '172.17.0.2', ID(0x26));
  join(dns, bridge, '172.17.0.3', ID(0x27));
  const data = store([bridge], [web, dns]);
  return input(data, healthyKernel(data));
}

/** --network container:web shares web's box; a host-mode and a none-mode container besides. */
function containerX(): TopologyInput {
  const bridge = bridgeNet('bridge', ID(1), '172.17.0.0/16', '172.17.0.1');
  const web = container('web', ID(0x17), 'bridge', { image: 'nginx' });
  const side = container('side', ID(0x18), 'container:web', { sandbox: { id: ID(0x18), netns: `/run/plumb/netns/${ID(0x18).slice(0, 12)}`, joined: ID(0x17) } });
  const tools = container('tools', ID(0x19), 'host', { sandbox: { id: ID(0x19), uts: '/run/plumb/uts/x' } });
  const lone = container('lone', ID(0x1a), 'none');
  join(web, bridge, '172.17.0.2', ID(0x28));
  const data = store([bridge], [web, side, tools, lone]);
  return input(data, healthyKernel(data));
}

/** A macvlan network on the host's eth1, two children. */
function macvlan(): TopologyInput {
  const mv = macvlanNet('mv', ID(4), '192.168.50.0/24', '192.168.50.1', 'eth1', { macvlanMode: 'bridge' });
  const a = container('cam1', ID(0x1b), 'mv');
  const b = container('cam2', ID(0x1c), 'mv');
  join(a, mv, '192.168.50.10', ID(0x29));
  join(b, mv, '192.168.50.11', ID(0x2a));
  const data = store([mv], [a, b]);
  return input(data, healthyKernel(data, { extraHostLinks: ['eth1'] }));
}

/** An overlay across two lab hosts, seen from lab1: a1 here, a2 and a3 on lab2, plumb_gwbridge for egress. */
function overlay(): TopologyInput {
  const ov = overlayNet('ov', ID(5), '10.0.9.0/24', '10.0.9.1', 256);
  const gw = bridgeNet('plumb_gwbridge', ID(6), '172.18.0.0/16', '172.18.0.1', { bridge: 'plumb_gwbridge', icc: false });
  const a1 = container('a1', ID(0x1d), 'ov', { embeddedDns: true });
  join(a1, ov, '10.0.9.2', ID(0x2b));
  join(a1, gw, '172.18.0.2', ID(0x2c));
  a1.networks.pop();
  const data = store([ov, gw], [a1]);
  const cluster = {
    node: 'lab1',
    vtep: '192.0.2.10',
    endpoints: [clusterEndpoint(ov, 'a1', '10.0.9.2', 'lab1', '192.0.2.10'), clusterEndpoint(ov, 'a2', '10.0.9.3', 'lab2', '192.0.2.11'), clusterEndpoint(ov, 'a3', '10.0.9.4', 'lab2', '192.0.2.11')],
  };
  return input(data, healthyKernel(data, { cluster }), { cluster, resolver: true });
}

/** Default bridge, web's veth taken off the bridge and down, a leftover veth on the bridge, db's eth0 gone. */
function brokenVeth(): TopologyInput {
  const bridge = bridgeNet('bridge', ID(1), '172.17.0.0/16', '172.17.0.1');
  const web = container('web', ID(0x1e), 'bridge');
  const db = container('db', ID(0x1f), 'bridge');
  const ep = join(web, bridge, '172.17.0.2', ID(0x2d));
  join(db, bridge, '172.17.0.3', ID(0x2e));
  const data = store([bridge], [web, db]);
  const kernel = healthyKernel(data);
  const veth = kernel.host.links.find((l) => l.name === ep.hostVeth)!;
  delete veth.master;
  veth.up = false;
  kernel.host.links.push({ index: 99, name: 'veth0badc0d', kind: 'veth', master: 'plumb0', up: true, lowerUp: false, operstate: 'LOWERLAYERDOWN', mtu: 1500 });
  kernel.sandboxes.db!.links = kernel.sandboxes.db!.links.filter((l) => l.name !== 'eth0');
  kernel.sandboxes.db!.addrs = kernel.sandboxes.db!.addrs.filter((a) => a.dev !== 'eth0');
  const drift = [
    { owner: 'leftover', problem: 'veth veth0badc0d on plumb0 belongs to no endpoint' },
    { owner: 'container web', problem: `veth ${ep.hostVeth} is on no bridge, down; it belongs on plumb0` },
    { owner: 'container db', problem: 'eth0 (on bridge) is missing in the sandbox' },
    { owner: 'host', problem: 'net.ipv4.ip_forward is 0; bridge networks need 1' },
  ];
  return input(data, kernel, { drift });
}

const FIXTURES: Record<string, () => TopologyInput> = {
  'default-link': defaultLink,
  'two-networks': twoNetworks,
  ports,
  'container-x': containerX,
  macvlan,
  overlay,
  'broken-veth': brokenVeth,
};

const FORMATS: Array<[string, (t: Topology) => string]> = [
  ['txt', renderAscii],
  ['dot', renderDot],
  ['mmd', renderMermaid],
  ['json', renderJson],
];

describe('plumb graph golden files', () => {
  for (const [name, make] of Object.entries(FIXTURES)) {
    it(`${name}: ascii, DOT, Mermaid and JSON`, () => {
      const t = buildTopology(make());
      for (const [ext, render] of FORMATS) golden(`${name}.${ext}`, render(t));
    });
  }
});

describe('the pictures', () => {
  it('are the same whatever order the store and the kernel list things in', () => {
    for (const make of Object.values(FIXTURES)) {
      const a = make();
      const b = make();
      b.data.containers = Object.fromEntries(Object.entries(b.data.containers).reverse());
      b.data.networks = Object.fromEntries(Object.entries(b.data.networks).reverse());
      b.kernel.host.links.reverse();
      b.kernel.host.addrs.reverse();
      for (const v of Object.values(b.kernel.sandboxes)) v.links.reverse();
      const ta = buildTopology(a);
      const tb = buildTopology(b);
      for (const [, render] of FORMATS) expect(render(tb)).toBe(render(ta));
    }
  });

  it('fit an 80-column terminal in ascii', () => {
    for (const [name, make] of Object.entries(FIXTURES)) {
      for (const line of renderAscii(buildTopology(make())).split('\n')) expect([...line].length, `${name}: ${line}`).toBeLessThanOrEqual(80);
    }
  });

  it('pin drift on the veth, its port and cable, the missing interface, and the host', () => {
    const t = buildTopology(brokenVeth());
    const veth = t.nodes.find((n) => n.kind === 'veth' && n.attrs.peer === 'web:eth0')!;
    expect(veth.drift).toEqual([expect.stringMatching(/is on no bridge, down/)]);
    expect(t.edges.filter((e) => e.drift?.length).map((e) => e.kind).sort()).toEqual(['cable', 'port', 'port']);
    expect(t.nodes.find((n) => n.id === 'if:db:eth0')).toMatchObject({ absent: true, drift: [expect.stringMatching(/eth0 \(on bridge\) is missing/)] });
    expect(t.nodes.find((n) => n.id === 'host')!.drift).toEqual(['host: net.ipv4.ip_forward is 0; bridge networks need 1']);
    expect(t.drift.length).toBe(4);
    const ascii = renderAscii(t).split('\n');
    expect(ascii.filter((l) => l.startsWith('!')).length).toBeGreaterThanOrEqual(8);
    expect(renderDot(t)).toMatch(/"veth:host:veth2d2d2d2" \[.*dashed.*#dc3545/);
  });

  it('mark a remote endpoint whose forwarding entries are missing in the overlay namespace', () => {
    const i = overlay();
    i.kernel.overlays.ov!.fdb = i.kernel.overlays.ov!.fdb.filter((f) => f.mac !== '02:42:0a:00:09:04');
    const t = buildTopology(i);
    expect(t.nodes.find((n) => n.id === 'remote:ov:10.0.9.4')!.drift).toEqual(['no FDB entry 02:42:0a:00:09:04 dst 192.0.2.11 on vxlan0']);
    expect(t.nodes.find((n) => n.id === 'remote:ov:10.0.9.3')!.drift).toBeUndefined();
  });

  it('keep only the named networks and containers', () => {
    const t = buildTopology(twoNetworks());
    const back = selectTopology(t, ['back']);
    expect(back.nodes.filter((n) => n.kind === 'container').map((n) => n.label)).toEqual(['db', 'web']);
    expect(back.nodes.some((n) => n.id === 'if:web:eth0')).toBe(false);
    const edge = selectTopology(t, ['edge']);
    expect(edge.nodes.filter((n) => n.kind === 'bridge').map((n) => n.attrs.network)).toEqual(['front']);
    expect(edge.nodes.filter((n) => n.kind === 'container').map((n) => n.label)).toEqual(['edge']);
    expect(() => selectTopology(t, ['nope'])).toThrow('No such network or container: nope');
  });

  it('are valid DOT for Graphviz', () => {
    for (const [name, make] of Object.entries(FIXTURES)) {
      const r = spawnSync('dot', ['-Tsvg'], { input: renderDot(buildTopology(make())), encoding: 'utf8' });
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, name).toBe('');
    }
  });

  it('read every DNAT form plumb writes: one port, a range to the same ports, a shifted range, a bound address', () => {
    const saved = [
      '*nat',
      ':PLUMB - [0:0]',
      '-A PLUMB -p tcp -m tcp --dport 8080 -m comment --comment "plumb: web 8080->80/tcp" -j DNAT --to-destination 172.18.0.2:80',
      '-A PLUMB -p tcp -m tcp --dport 20000:20199 -m comment --comment "plumb: many 20000-20199->20000-20199/tcp" -j DNAT --to-destination 172.17.0.2',
      '-A PLUMB -d 127.0.0.1/32 -p tcp -m tcp --dport 8080:8089 -m comment --comment "plumb: shift 127.0.0.1:8080-8089->80-89/tcp" -j DNAT --to-destination 172.17.0.3:80-89/8080',
      '-A PLUMB -p udp -m udp --dport 5353 -m comment --comment "plumb: shift 5353->53/udp" -j DNAT --to-destination 172.17.0.3:53',
      'COMMIT',
    ].join('\n');
    expect(dnatRules(saved)).toEqual([
      { proto: 'tcp', hostIp: '0.0.0.0', hostPorts: '8080', toIp: '172.18.0.2', toPorts: '80', owner: 'web' },
      { proto: 'tcp', hostIp: '0.0.0.0', hostPorts: '20000-20199', toIp: '172.17.0.2', toPorts: '', owner: 'many' },
      { proto: 'tcp', hostIp: '127.0.0.1', hostPorts: '8080-8089', toIp: '172.17.0.3', toPorts: '80-89', owner: 'shift' },
      { proto: 'udp', hostIp: '0.0.0.0', hostPorts: '5353', toIp: '172.17.0.3', toPorts: '53', owner: 'shift' },
    ]);
    expect(dnsTarget('*nat\n-A PLUMB_DNS_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.77.0.1:5311\nCOMMIT\n')).toBe('10.77.0.1:5311');
  });

  it('draw a published port whose DNAT rule is gone from the kernel as missing, with the finding on it', () => {
    const i = ports();
    const lines = i.kernel.firewall.split('\n');
    const gone = lines.find((l) => l.includes('-j DNAT') && l.includes('--dport 8080 '))!;
    i.kernel.firewall = lines.filter((l) => l !== gone).join('\n');
    i.drift = [{ owner: 'container web', problem: `rule missing: -t nat -A PLUMB ${gone.replace(/^-A PLUMB /, '')}` }];
    const t = buildTopology(i);
    const port = t.nodes.find((n) => n.id === 'port:tcp:0.0.0.0:8080')!;
    expect(port).toMatchObject({ absent: true, drift: [expect.stringMatching(/^container web: rule missing: -t nat -A PLUMB .*--dport 8080 /)] });
    expect(t.edges.find((e) => e.from === port.id)).toMatchObject({ kind: 'dnat', to: 'if:web:eth0', absent: true });
    // The other ports are untouched.
    expect(t.nodes.filter((n) => n.kind === 'port' && (n.absent || n.drift)).map((n) => n.id)).toEqual(['port:tcp:0.0.0.0:8080']);
    expect(renderAscii(t)).toMatch(/^! +0\.0\.0\.0:8080\/tcp ──DNAT──▶ web 172\.17\.0\.2:80 \(eth0\) \(missing\)$/m);
  });

  it('say plainly when there is nothing yet', () => {
    const data = store([], []);
    const text = renderAscii(buildTopology(input(data, healthyKernel(data))));
    expect(text).toContain('└─ no networks with kernel objects yet');
    expect(text).toContain('no drift: the kernel matches what plumb expects');
  });

  it('come from layers that import nothing above them (topology below the drivers, graph on the topology)', () => {
    const src = pathJoin(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
    const above: Record<string, string[]> = { topology: ['engine', 'cli', 'drivers', 'graph'], graph: ['engine', 'cli', 'drivers'] };
    for (const [dir, banned] of Object.entries(above)) {
      for (const f of readdirSync(pathJoin(src, dir))) {
        const text = readFileSync(pathJoin(src, dir, f), 'utf8');
        for (const m of text.matchAll(/from '\.\.\/(\w+)\//g)) expect(banned, `${dir}/${f} imports ${m[1]}/`).not.toContain(m[1]);
      }
    }
  });
});
