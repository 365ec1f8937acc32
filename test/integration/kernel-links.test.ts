// rtnetlink against the real kernel, in throwaway namespaces this file makes
// (plbk-<random>-*) and removes. Nothing is created in the namespace the test
// process runs in: sockets are opened inside the lab namespaces, and commands
// run there with `nsenter --net=`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNetns, openNetns, type Netns } from '../../src/kernel/netns.js';
import { Journal } from '../../src/kernel/ops.js';
import { Rtnl } from '../../src/kernel/rtnl.js';
import { KernelError } from '../../src/kernel/errors.js';

const PREFIX = `plbk-${randomBytes(3).toString('hex')}`;
const nsNames: string[] = [];
const handles: Netns[] = [];
const sockets: Rtnl[] = [];
const journal = new Journal();

function run(argv: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[]): string {
  const r = run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.err.trim()}`);
  return r.out;
}

/** Runs a command inside a lab namespace. */
function inNs(ns: string, argv: string[]): { code: number; out: string; err: string } {
  return run(['nsenter', `--net=/run/netns/${ns}`, ...argv]);
}

function json<T>(ns: string, argv: string[]): T {
  const r = inNs(ns, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${ns} failed: ${r.err.trim()}`);
  return JSON.parse(r.out || '[]') as T;
}

function ping(ns: string, ip: string): boolean {
  return inNs(ns, ['ping', '-c1', '-W1', ip]).code === 0;
}

/** Makes a namespace with `ip netns add`, opens it, and an rtnetlink socket in it. */
function lab(role: string): { name: string; ns: Netns; rtnl: Rtnl } {
  const name = `${PREFIX}-${role}`;
  must(['ip', 'netns', 'add', name]);
  nsNames.push(name);
  const ns = openNetns(`/run/netns/${name}`, name);
  handles.push(ns);
  const rtnl = Rtnl.open(ns, journal);
  sockets.push(rtnl);
  return { name, ns, rtnl };
}

function leftovers(): string[] {
  return run(['ip', 'netns', 'list'])
    .out.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(PREFIX));
}

afterAll(() => {
  for (const s of sockets) s.close();
  for (const h of handles) closeNetns(h);
  for (const n of nsNames) run(['ip', 'netns', 'del', n]);
  expect(leftovers()).toEqual([]);
});

describe('bridge with two sandboxes joined by veths', () => {
  let host: ReturnType<typeof lab>;
  let a: ReturnType<typeof lab>;
  let b: ReturnType<typeof lab>;

  beforeAll(async () => {
    host = lab('host');
    a = lab('sbxa');
    b = lab('sbxb');
    await host.rtnl.addBridge('br0', { mtu: 1400 }, 'the network bridge');
    await host.rtnl.setLink('br0', { address: '02:42:0a:58:00:01', up: true });
    await host.rtnl.addAddress('br0', '10.88.0.1/24');
    for (const [i, sb] of [a, b].entries()) {
      const veth = `veth${i + 1}`;
      await host.rtnl.addVeth(veth, 'eth0', sb.ns, { mtu: 1400, peerAddress: `02:42:0a:58:00:0${i + 2}` });
      await host.rtnl.setLink(veth, { master: 'br0', up: true });
      await sb.rtnl.setLink('lo', { up: true });
      await sb.rtnl.setLink('eth0', { up: true });
      await sb.rtnl.addAddress('eth0', `10.88.0.${i + 2}/24`);
      await sb.rtnl.addRoute({ dst: 'default', via: '10.88.0.1' });
    }
  });

  it('creates the veth peer directly inside the sandbox', async () => {
    expect(await host.rtnl.linkByName('eth0')).toBeUndefined();
    const eth0 = await a.rtnl.linkByName('eth0');
    expect(eth0).toMatchObject({ kind: 'veth', up: true, mtu: 1400, address: '02:42:0a:58:00:02' });
    expect(eth0!.linkNetnsid).toBeTypeOf('number');
    const shown = json<Array<{ ifname: string; address: string }>>(b.name, ['ip', '-j', 'link', 'show', 'eth0']);
    expect(shown[0]).toMatchObject({ ifname: 'eth0', address: '02:42:0a:58:00:03' });
  });

  it('is told by the kernel, with the answer, which ifindex the twin got, and can be born plugged in and up', async () => {
    const c = lab('sbxc');
    try {
      const { peerIndex } = await host.rtnl.addVeth('veth9', 'eth0', c.ns, { master: 'br0', up: true });
      expect(peerIndex).toBe((await c.rtnl.linkByName('eth0'))!.index);
      expect(await host.rtnl.linkByName('veth9')).toMatchObject({ master: 'br0', up: true });
      expect(await c.rtnl.linkByName('eth0')).toMatchObject({ up: false });
      // A link named in a set request, with no index known: still the right one.
      await c.rtnl.setLink('eth0', { up: true });
      expect(await c.rtnl.linkByName('eth0')).toMatchObject({ up: true });
      await expect(c.rtnl.setLink('nope0', { up: true })).rejects.toMatchObject({ code: 'ENODEV', message: 'set link nope0: no such device nope0' });
    } finally {
      await host.rtnl.deleteLink('veth9');
    }
  });

  it('reads back links, masters, addresses and routes', async () => {
    const br = await host.rtnl.linkByName('br0');
    expect(br).toMatchObject({ kind: 'bridge', up: true, mtu: 1400, address: '02:42:0a:58:00:01' });
    const links = await host.rtnl.links();
    const veth1 = links.find((l) => l.name === 'veth1');
    expect(veth1).toMatchObject({ kind: 'veth', master: 'br0', masterIndex: br!.index, up: true });
    expect((await host.rtnl.linkByName('veth2'))!.master).toBe('br0');

    expect(await host.rtnl.addresses('br0')).toEqual([
      expect.objectContaining({ dev: 'br0', address: '10.88.0.1', prefix: 24, cidr: '10.88.0.1/24', broadcast: '10.88.0.255', scope: 'global' }),
    ]);
    const ipShow = json<Array<{ addr_info: Array<{ local: string; broadcast?: string }> }>>(host.name, ['ip', '-j', '-4', 'addr', 'show', 'br0']);
    expect(ipShow[0]!.addr_info[0]).toMatchObject({ local: '10.88.0.1', broadcast: '10.88.0.255' });

    const routes = await a.rtnl.routes();
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', via: '10.88.0.1', dev: 'eth0', protocol: 3 }));
    expect(routes).toContainEqual(expect.objectContaining({ dst: '10.88.0.0/24', dev: 'eth0', scope: 'link', src: '10.88.0.2' }));
  });

  it('passes packets between the sandboxes both ways', () => {
    expect(ping(a.name, '10.88.0.3')).toBe(true);
    expect(ping(b.name, '10.88.0.2')).toBe(true);
    expect(ping(a.name, '10.88.0.1')).toBe(true);
  });

  it('sets bridge port flags', async () => {
    await host.rtnl.setBridgePort('veth1', { hairpin: true, learning: false });
    const d = json<Array<{ linkinfo: { info_slave_data: { hairpin: boolean; learning: boolean; flood: boolean } } }>>(host.name, ['ip', '-j', '-d', 'link', 'show', 'veth1']);
    expect(d[0]!.linkinfo.info_slave_data).toMatchObject({ hairpin: true, learning: false, flood: true });
    await host.rtnl.setBridgePort('veth1', { hairpin: false, learning: true });
  });

  it('replaces and deletes routes, renames and unplugs links', async () => {
    await a.rtnl.replaceRoute({ dst: '10.99.0.0/16', via: '10.88.0.1', metric: 50 });
    await a.rtnl.replaceRoute({ dst: '10.99.0.0/16', via: '10.88.0.3', metric: 50 });
    expect((await a.rtnl.routes()).filter((r) => r.dst === '10.99.0.0/16')).toEqual([expect.objectContaining({ via: '10.88.0.3', metric: 50 })]);
    await a.rtnl.deleteRoute({ dst: '10.99.0.0/16', metric: 50 });
    expect((await a.rtnl.routes()).some((r) => r.dst === '10.99.0.0/16')).toBe(false);

    await host.rtnl.addVeth('vtmp', 'vtmp-peer', host.ns);
    await host.rtnl.setLink('vtmp', { master: 'br0' });
    expect((await host.rtnl.linkByName('vtmp'))!.master).toBe('br0');
    await host.rtnl.setLink('vtmp', { master: null, rename: 'vtmp2' });
    expect(await host.rtnl.linkByName('vtmp')).toBeUndefined();
    expect((await host.rtnl.linkByName('vtmp2'))!.master).toBeUndefined();
    await host.rtnl.deleteLink('vtmp2');
    expect(await host.rtnl.linkByName('vtmp-peer')).toBeUndefined();
  });

  it('moves a link into another namespace', async () => {
    // (Bridges cannot move: the kernel marks them namespace-local.)
    await host.rtnl.addVeth('vmove', 'vmove-peer', host.ns);
    await host.rtnl.setLink('vmove', { netns: b.ns, up: true });
    expect(await host.rtnl.linkByName('vmove')).toBeUndefined();
    expect(await b.rtnl.linkByName('vmove')).toMatchObject({ kind: 'veth', up: true });
    await b.rtnl.deleteLink('vmove');
    expect(await host.rtnl.linkByName('vmove-peer')).toBeUndefined();
  });

  it('recovers when a cached link is re-created behind its back', async () => {
    await host.rtnl.addVeth('vstale', 'vstale-p', host.ns);
    await host.rtnl.setLink('vstale', { up: true }); // caches the ifindex
    must(['nsenter', `--net=/run/netns/${host.name}`, 'ip', 'link', 'del', 'vstale']);
    must(['nsenter', `--net=/run/netns/${host.name}`, 'ip', 'link', 'add', 'vstale', 'type', 'veth', 'peer', 'name', 'vstale-p']);
    await host.rtnl.setLink('vstale', { mtu: 1300 });
    expect(await host.rtnl.linkByName('vstale')).toMatchObject({ mtu: 1300 });
    await host.rtnl.deleteLink('vstale');
  });

  it('reports kernel errors with what was being done', async () => {
    const exists = await host.rtnl.addBridge('br0').catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(KernelError);
    expect(exists).toMatchObject({ code: 'EEXIST', message: 'add link br0: already exists' });
    await expect(host.rtnl.deleteLink('nope0')).rejects.toMatchObject({ code: 'ENODEV', message: 'delete link nope0: no such device' });
    await expect(host.rtnl.setLink('veth1', { master: 'nobridge' })).rejects.toMatchObject({ code: 'ENODEV', message: 'set link veth1: no such device nobridge' });
    await expect(host.rtnl.addAddress('br0', '10.88.0.1/24')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(host.rtnl.addBridge('a-name-that-is-too-long')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(host.rtnl.addAddress('br0', '10.88.0.300/24')).rejects.toMatchObject({ code: 'EINVAL' });
    // The socket keeps working after errors.
    expect(await host.rtnl.linkByName('br0')).toBeDefined();
  });
});

describe('vxlan with flood entries and a neighbour', () => {
  let ovl: ReturnType<typeof lab>;

  beforeAll(async () => {
    ovl = lab('ovl');
    await ovl.rtnl.addBridge('br0');
    await ovl.rtnl.addVxlan('vxlan0', { vni: 256, port: 4789, learning: false, proxy: true, l2miss: true, l3miss: true, mtu: 1450 });
    await ovl.rtnl.setLink('vxlan0', { master: 'br0' });
  });

  it('creates the device with the asked options', async () => {
    expect(await ovl.rtnl.linkByName('vxlan0')).toMatchObject({
      kind: 'vxlan',
      mtu: 1450,
      master: 'br0',
      vxlan: { vni: 256, port: 4789, learning: false, proxy: true, l2miss: true, l3miss: true },
    });
    const d = json<Array<{ linkinfo: { info_data: { id: number; port: number; learning: boolean } } }>>(ovl.name, ['ip', '-j', '-d', 'link', 'show', 'vxlan0']);
    expect(d[0]!.linkinfo.info_data).toMatchObject({ id: 256, port: 4789, learning: false });
  });

  it('appends two flood entries and replaces a learned MAC', async () => {
    await ovl.rtnl.appendFdb('vxlan0', '00:00:00:00:00:00', { dst: '192.0.2.11', self: true });
    await ovl.rtnl.appendFdb('vxlan0', '00:00:00:00:00:00', { dst: '192.0.2.12', self: true });
    await ovl.rtnl.replaceFdb('vxlan0', '02:42:0a:00:05:05', { dst: '192.0.2.11', self: true });
    await ovl.rtnl.replaceFdb('vxlan0', '02:42:0a:00:05:05', { dst: '192.0.2.12', self: true });
    await ovl.rtnl.replaceFdb('vxlan0', '02:42:0a:00:05:05', { self: false });

    type Entry = { mac: string; dst?: string; flags: string[]; state?: string; master?: string };
    const shown = json<Entry[]>(ovl.name, ['bridge', '-j', 'fdb', 'show', 'dev', 'vxlan0']);
    const flood = shown.filter((e) => e.mac === '00:00:00:00:00:00');
    expect(flood.map((e) => e.dst).sort()).toEqual(['192.0.2.11', '192.0.2.12']);
    for (const e of flood) expect(e).toMatchObject({ flags: ['self'], state: 'permanent' });
    const learned = shown.filter((e) => e.mac === '02:42:0a:00:05:05');
    expect(learned).toContainEqual(expect.objectContaining({ dst: '192.0.2.12', flags: ['self'] }));
    expect(learned.some((e) => e.dst === '192.0.2.11')).toBe(false);
    expect(learned).toContainEqual(expect.objectContaining({ master: 'br0', state: 'static' }));

    const ours = await ovl.rtnl.fdb('vxlan0');
    expect(ours.filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst).sort()).toEqual(['192.0.2.11', '192.0.2.12']);
    expect(ours).toContainEqual(expect.objectContaining({ mac: '02:42:0a:00:05:05', self: false, master: 'br0', state: ['noarp'] }));

    await ovl.rtnl.deleteFdb('vxlan0', '00:00:00:00:00:00', { dst: '192.0.2.11', self: true });
    const after = (await ovl.rtnl.fdb('vxlan0')).filter((e) => e.mac === '00:00:00:00:00:00');
    expect(after.map((e) => e.dst)).toEqual(['192.0.2.12']);
  });

  it('adds and removes a permanent neighbour entry', async () => {
    await ovl.rtnl.replaceNeighbour('vxlan0', '10.0.5.5', '02:42:0a:00:05:05');
    const shown = json<Array<{ dst: string; lladdr: string; state: string[] }>>(ovl.name, ['ip', '-j', 'neigh', 'show', 'dev', 'vxlan0']);
    expect(shown).toContainEqual(expect.objectContaining({ dst: '10.0.5.5', lladdr: '02:42:0a:00:05:05', state: ['PERMANENT'] }));
    expect(await ovl.rtnl.neighbours('vxlan0')).toEqual([{ dev: 'vxlan0', ip: '10.0.5.5', lladdr: '02:42:0a:00:05:05', state: ['permanent'] }]);
    await ovl.rtnl.deleteNeighbour('vxlan0', '10.0.5.5');
    expect(await ovl.rtnl.neighbours('vxlan0')).toEqual([]);
  });
});

describe('macvlan child created inside a sandbox', () => {
  it('reaches the wan namespace through the lab veth', async () => {
    const host = lab('mvhost');
    const wan = lab('wan');
    const sbx = lab('sbxm');
    await host.rtnl.addVeth('lab0', 'eth0', wan.ns);
    await host.rtnl.setLink('lab0', { up: true });
    await wan.rtnl.setLink('eth0', { up: true });
    await wan.rtnl.addAddress('eth0', '198.51.100.1/24');

    await host.rtnl.addMacvlan('mv0', 'lab0', 'bridge', sbx.ns, { address: '02:42:c6:33:64:0a' });
    expect(await host.rtnl.linkByName('mv0')).toBeUndefined();
    expect(await sbx.rtnl.linkByName('mv0')).toMatchObject({ kind: 'macvlan', macvlanMode: 'bridge', address: '02:42:c6:33:64:0a' });
    await sbx.rtnl.setLink('mv0', { up: true });
    await sbx.rtnl.addAddress('mv0', '198.51.100.10/24');

    expect(ping(sbx.name, '198.51.100.1')).toBe(true);
    expect(ping(wan.name, '198.51.100.10')).toBe(true);
  });
});

describe('dry run', () => {
  it('records ops and changes nothing', async () => {
    const real = lab('dry');
    const dry = new Journal(true);
    const rtnl = Rtnl.open(real.ns, dry);
    sockets.push(rtnl);
    const before = must(['nsenter', `--net=/run/netns/${real.name}`, 'ip', '-o', 'link', 'show']);

    await rtnl.addBridge('brdry', { mtu: 1500 }, 'a bridge that never exists');
    await rtnl.addVeth('vethdry', 'eth0', real.ns);
    await rtnl.setLink('vethdry', { master: 'brdry', up: true });
    await rtnl.addAddress('brdry', '10.77.0.1/16');
    await rtnl.addRoute({ dst: '10.78.0.0/16', via: '10.77.0.2' });
    await rtnl.appendFdb('vxdry', '00:00:00:00:00:00', { dst: '192.0.2.9', self: true });
    await rtnl.deleteLink('nonexistent');

    expect(dry.ops.map((o) => o.kind)).toEqual(['link.add', 'link.add', 'link.set', 'addr.add', 'route.add', 'fdb.append', 'link.del']);
    expect(dry.ops[0]).toEqual({ kind: 'link.add', ns: real.name, name: 'brdry', spec: { type: 'bridge', mtu: 1500 }, why: 'a bridge that never exists' });
    expect(dry.ops[1]).toEqual({ kind: 'link.add', ns: real.name, name: 'vethdry', spec: { type: 'veth', peer: 'eth0', peerNs: real.name } });
    expect(dry.ops[3]).toEqual({ kind: 'addr.add', ns: real.name, dev: 'brdry', cidr: '10.77.0.1/16', broadcast: '10.77.255.255' });

    expect(await rtnl.linkByName('brdry')).toBeUndefined();
    expect(must(['nsenter', `--net=/run/netns/${real.name}`, 'ip', '-o', 'link', 'show'])).toBe(before);

    // A namespace that a dry run only pretended to create has no socket; reads find nothing.
    const ghost = Rtnl.open({ name: 'ghost', path: null, fd: -1 }, dry);
    expect(await ghost.links()).toEqual([]);
    await ghost.addBridge('brghost');
    expect(dry.ops.at(-1)).toMatchObject({ kind: 'link.add', ns: 'ghost', name: 'brghost' });
    ghost.close();
    // A real run refuses such a namespace.
    expect(() => Rtnl.open({ name: 'ghost', path: null, fd: -1 }, journal)).toThrow(KernelError);
  });
});
