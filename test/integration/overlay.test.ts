// Overlay networks across hosts on etcd: three lab hosts on one underlay
// bridge, an etcd server of their own (Debian's etcd-server, started here with
// a private data dir, listening only on the lab's underlay), and seed 004's
// commands run verbatim on them. Checks real packets (VXLAN on the underlay,
// pings, egress through plumb_gwbridge), the forwarding entries each host
// holds, and convergence after etcd and the agent are killed and restarted.
// Names: the embedded DNS of each host answers for the containers of every
// host on the overlays the asker shares, checked with real queries (dig, and
// the seed's own `ping bbbox2`), the packet path of a query, scoping, and
// removal; unknown names go to a fake upstream in the wan.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addresses, dig as digIn, FakeUpstream, useHostResolvConf, type Dig } from '../helpers/dns.js';
import { PLUMB_BIN, REPO, runAsync } from '../helpers/lab.js';
import { ETCD_IP, INTERNET_IP, MultiHost, type LabHost } from '../helpers/multihost.js';
import { testRootfsDir } from '../helpers/rootfs.js';

// Containers here run the host's programs (socat, dig, ip -j): the label debian keeps the host's
// filesystem (busybox and alpine would run busybox's).

let lab: MultiHost;
/** The fake upstream in the wan: its log of names is proof that a host's resolver did not answer them itself. */
let upstream: FakeUpstream | undefined;
let restoreResolvConf: (() => void) | undefined;
let h1: LabHost;
let h2: LabHost;
let h3: LabHost;

const words = (line: string) => line.split(/\s+/).filter(Boolean);

/** Runs one seed line (`plumb ...`) on a host. */
async function seed(h: LabHost, line: string): Promise<string> {
  const argv = words(line);
  expect(argv[0]).toBe('plumb');
  return h.plumbOk(argv.slice(1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `ms` pass; returns its last answer (the assertion is the caller's). */
async function eventually(check: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

async function ipOf(h: LabHost, container: string, net: string): Promise<string> {
  return (await h.plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${net}.IPAddress}}`, container])).trim();
}

async function ping(h: LabHost, container: string, target: string): Promise<boolean> {
  return (await h.plumb(['exec', container, 'ping', '-c1', '-W1', target])).code === 0;
}

/**
 * `dig` from a container on host `h`: the host's dig (busybox images have none) in the container's
 * network namespace, entered through its State.Pid, asking the nameserver of the container's resolv.conf.
 */
async function dig(h: LabHost, container: string, name: string, type = 'A'): Promise<Dig> {
  const pid = (await h.plumbOk(['inspect', '-f', '{{.State.Pid}}', container])).trim();
  const server = /^nameserver (\S+)/m.exec(await h.plumbOk(['exec', container, 'cat', '/etc/resolv.conf']))?.[1];
  return digIn((argv) => h.exec(['nsenter', '-t', pid, '-n', argv[0]!, ...(server ? [`@${server}`] : []), ...argv.slice(1)]), name, type, { timeSeconds: 2 });
}

/** Addresses `name` resolves to from `container` (empty for NXDOMAIN or no answer). */
async function resolves(h: LabHost, container: string, name: string): Promise<string[]> {
  return addresses(await dig(h, container, name));
}

async function networkId(h: LabHost, name: string): Promise<string> {
  return JSON.parse(await h.plumbOk(['network', 'inspect', name]))[0].Id as string;
}

interface Neigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}
interface Fdb {
  mac: string;
  dst?: string;
}

/** Runs a command, returning its stdout; throws with its stderr when it fails. */
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Forwarding entries on vxlan0 in a host's overlay namespace of a network. */
function forwarding(h: LabHost, netId: string): { neigh: Neigh[]; fdb: Fdb[] } {
  const ns = h.overlayNs(netId);
  return {
    neigh: h.ipJson<Neigh[]>(['neigh', 'show', 'dev', 'vxlan0'], ns),
    fdb: JSON.parse(run('nsenter', [`--net=${ns}`, 'bridge', '-j', 'fdb', 'show', 'dev', 'vxlan0']) || '[]') as Fdb[],
  };
}

/** Values of a key (or every key below a prefix) in the lab's etcd, read through its HTTP gateway from etcd's namespace. */
async function etcdValues(key: string, prefix = false): Promise<string[]> {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const end = Buffer.from(key);
  end[end.length - 1]! += 1;
  const body = JSON.stringify({ key: b64(key), ...(prefix ? { range_end: end.toString('base64') } : {}) });
  const r = await lab.exec(lab.etcdNs, ['curl', '-sf', '-X', 'POST', `http://${ETCD_IP}:2379/v3/kv/range`, '-d', body]);
  if (r.code !== 0) throw new Error(`etcd range ${key}: curl exited ${r.code}: ${r.stderr}`);
  const kvs = (JSON.parse(r.stdout) as { kvs?: Array<{ value?: string }> }).kvs ?? [];
  return kvs.map((kv) => Buffer.from(kv.value ?? '', 'base64').toString('utf8'));
}

/** A key's value in the lab's etcd ('' when absent). */
async function etcdGet(key: string): Promise<string> {
  return (await etcdValues(key))[0] ?? '';
}

/** A refused run left nothing: no container record, no overlay namespace of ov_net1, no new link, no endpoint in the cluster store. */
async function expectNothingOf(h: LabHost, name: string, linksBefore: string[]): Promise<void> {
  expect(await h.plumbOk(['ps', '-a', '--format', '{{.Names}}'])).not.toMatch(new RegExp(`^${name}$`, 'm'));
  expect(existsSync(h.overlayNs(ov1))).toBe(false);
  expect(h.ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname)).toEqual(linksBefore);
  const eps = await etcdValues(`/plumb/endpoints/${ov1}/`, true);
  expect(eps.length).toBeGreaterThan(0);
  expect(eps.map((e) => (JSON.parse(e) as { containerName: string }).containerName)).not.toContain(name);
  const check = await h.plumb(['system', 'check']);
  expect(check.code, check.stdout + check.stderr).toBe(0);
}

let ov1: string;
let bbbox2Ip: string;
let bbbox2Mac: string;

beforeAll(async () => {
  lab = await MultiHost.create({ hosts: 3, tag: 'ov' });
  [h1, h2, h3] = [lab.host(1), lab.host(2), lab.host(3)];
  // Every host's resolver forwards unknown names to the fake upstream, never to the machine's own resolvers.
  restoreResolvConf = useHostResolvConf(h1.root, [INTERNET_IP]);
  upstream = await FakeUpstream.start(`/run/netns/${lab.wan}`, [INTERNET_IP]);
}, 60_000);

afterAll(async () => {
  upstream?.stop();
  restoreResolvConf?.();
  await lab?.teardown();
}, 120_000);

describe('configuration', () => {
  it('refuses -d overlay without a cluster store, saying what to configure', async () => {
    const r = await h3.plumb(['network', 'create', '-d', 'overlay', 'nostore'], { cluster: false });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: overlay networks need a cluster store: start plumb with --cluster-store etcd:\/\/HOST:2379 --cluster-advertise/);
    expect(r.stderr).toContain('/etc/plumb/config.json');
  });
});

describe('seed 004: an overlay network across hosts', () => {
  it('plumb network create -d overlay ov_net1 on host 1: every host lists it with scope global', async () => {
    expect((await seed(h1, 'plumb network create -d overlay ov_net1')).trim()).toMatch(/^[0-9a-f]{64}$/);
    for (const h of [h1, h2, h3]) expect(await h.plumbOk(['network', 'ls'])).toMatch(/\sov_net1\s+overlay\s+global\n/);
    // The global flags work like the environment.
    const viaFlags = await h3.plumb(['--cluster-store', `etcd://${ETCD_IP}:2379`, '--cluster-advertise', h3.ip, 'network', 'ls'], { cluster: false });
    expect(viaFlags.stdout).toMatch(/\sov_net1\s+overlay\s+global\n/);
    const cfg = JSON.parse(await h2.plumbOk(['network', 'inspect', 'ov_net1']))[0];
    expect(cfg.Scope).toBe('global');
    expect(cfg.IPAM.Config[0]).toEqual({ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' });
    ov1 = cfg.Id;
  });

  it('runs bbbox1 on host 1 and bbbox2 on host 2, then plumb exec bbbox1 ping -c1 bbbox2 (seed lines verbatim, by name across hosts)', async () => {
    await seed(h1, 'plumb run -itd --name bbbox1 --network ov_net1 busybox');
    await seed(h2, 'plumb run -itd --name bbbox2 --network ov_net1 busybox');
    expect(await ipOf(h1, 'bbbox1', 'ov_net1')).toBe('10.0.0.2');
    bbbox2Ip = await ipOf(h2, 'bbbox2', 'ov_net1');
    expect(bbbox2Ip).toBe('10.0.0.3');
    bbbox2Mac = (await h2.plumbOk(['inspect', '-f', '{{.NetworkSettings.Networks.ov_net1.MacAddress}}', 'bbbox2'])).trim();
    // Host 1's resolver hears of bbbox2 through its etcd watch, and host 1's agent programs the tunnel: both a moment after the run.
    expect(await eventually(async () => (await resolves(h1, 'bbbox1', 'bbbox2')).join() === bbbox2Ip)).toBe(true);
    expect(await eventually(() => ping(h1, 'bbbox1', bbbox2Ip))).toBe(true);
    const out = await seed(h1, 'plumb exec bbbox1 ping -c1 bbbox2');
    expect(out).toContain(`PING bbbox2 (${bbbox2Ip})`);
    // busybox's ping, as the tutorial shows it.
    expect(out).toContain('1 packets transmitted, 1 packets received, 0% packet loss');
    // The other way round, through host 2's own resolver.
    expect(await h2.plumb(['exec', 'bbbox2', 'ping', '-c1', '-W2', 'bbbox1'])).toMatchObject({ code: 0, stdout: expect.stringContaining('PING bbbox1 (10.0.0.2)') });
  });

  it('the hosts share one hostname and no node name is set: each made its own node ID, and the cluster store records both', async () => {
    expect(new Set([h1.hostname, h2.hostname, h3.hostname]).size).toBe(1);
    expect((await h1.exec(['hostname'])).stdout).toBe((await h2.exec(['hostname'])).stdout);
    expect(h1.nodeId()).toMatch(/^[0-9a-f]{64}$/);
    expect(h2.nodeId()).toMatch(/^[0-9a-f]{64}$/);
    expect(h1.nodeId()).not.toBe(h2.nodeId());
    const nodes = await etcdGet(`/plumb/nodes/${h2.nodeId()}`);
    expect(JSON.parse(nodes)).toEqual({ id: h2.nodeId(), name: h2.hostname, vtep: h2.ip });
    expect(await etcdGet(`/plumb/vteps/${h1.ip}`)).toBe(h1.nodeId());
  });

  it('refuses a host that advertises the VTEP address of another, with one line naming the problem and the fix, and leaves nothing behind', async () => {
    const linksBefore = h3.ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname);
    const r = await h3.plumb(['run', '-d', '--name', 'twin', '--network', 'ov_net1', 'debian'], { env: { PLUMB_CLUSTER_ADVERTISE: h1.ip } });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`VTEP address ${h1.ip} is already used by another host (node ${h1.nodeId()!.slice(0, 12)}, with bbbox1 on overlays)`);
    expect(r.stderr).toContain('give this host its own with --cluster-advertise');
    await expectNothingOf(h3, 'twin', linksBefore);
    expect(await etcdGet(`/plumb/vteps/${h1.ip}`)).toBe(h1.nodeId());
  });

  it('refuses a host that carries the node ID of another (a cloned state dir), naming the file to delete; deleting it is the fix', async () => {
    const file = join(h3.root, 'lib', 'node-id');
    const own = readFileSync(file, 'utf8');
    writeFileSync(file, `${h1.nodeId()}\n`);
    try {
      const linksBefore = h3.ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname);
      const r = await h3.plumb(['run', '-d', '--name', 'clone', '--network', 'ov_net1', 'debian']);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`node ID ${h1.nodeId()!.slice(0, 12)} is already used by the host at ${h1.ip} (with bbbox1 on overlays), and this host advertises ${h3.ip}`);
      expect(r.stderr).toContain(`delete ${file} here`);
      await expectNothingOf(h3, 'clone', linksBefore);
      // Host 1's registration is untouched, and bbbox1 still resolves and answers from host 2.
      expect(JSON.parse(await etcdGet(`/plumb/nodes/${h1.nodeId()}`))).toMatchObject({ vtep: h1.ip });
      expect(await resolves(h2, 'bbbox2', 'bbbox1')).toEqual(['10.0.0.2']);
    } finally {
      // The fix the message names (the later tests need host 3 as itself).
      rmSync(file);
    }
    expect(own).toMatch(/^[0-9a-f]{64}\n$/);
    await h3.plumbOk(['run', '-d', '--name', 'clone', '--network', 'ov_net1', 'debian']);
    expect(h3.nodeId()).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set([h1.nodeId(), h2.nodeId(), h3.nodeId()]).size).toBe(3);
    expect(await eventually(async () => (await resolves(h1, 'bbbox1', 'clone')).length === 1)).toBe(true);
    await h3.plumbOk(['rm', '-f', 'clone']);
  });

  it('overlay containers use the embedded DNS: resolv.conf names 127.0.0.11 with ndots:0, and names.network, short ids and PTR answer across hosts', async () => {
    expect(await h1.plumbOk(['exec', 'bbbox1', 'cat', '/etc/resolv.conf'])).toMatch(/^nameserver 127\.0\.0\.11\n(search .*\n)?options ndots:0\n$/);
    const id2 = (await h2.plumbOk(['inspect', '-f', '{{.Id}}', 'bbbox2'])).trim();
    expect(await resolves(h1, 'bbbox1', 'bbbox2.ov_net1')).toEqual([bbbox2Ip]);
    expect(await resolves(h1, 'bbbox1', 'BBBOX2')).toEqual([bbbox2Ip]);
    expect(await resolves(h1, 'bbbox1', id2.slice(0, 12))).toEqual([bbbox2Ip]);
    const ptr = await dig(h1, 'bbbox1', bbbox2Ip, 'PTR');
    expect(ptr.answers).toEqual([{ name: `${bbbox2Ip.split('.').reverse().join('.')}.in-addr.arpa.`, type: 'PTR', value: 'bbbox2.ov_net1.' }]);
  });

  it('a query leaves the sandbox through plumb_gwbridge to its gateway, from the container\'s gateway-bridge address (the overlay gateway is in another namespace)', async () => {
    const sandbox = join(h1.netnsDir, 'bbbox1');
    const eth1 = h1.ipJson<Array<{ addr_info: Array<{ local: string }> }>>(['-4', 'addr', 'show', 'dev', 'eth1'], sandbox)[0]!.addr_info[0]!.local;
    const gw = JSON.parse(await h1.plumbOk(['network', 'inspect', 'plumb_gwbridge']))[0].IPAM.Config[0].Gateway as string;
    const cap = await lab.capture(h1.ns, 'plumb_gwbridge', ['udp', 'port', '5311'], 2);
    expect(await resolves(h1, 'bbbox1', 'bbbox2')).toEqual([bbbox2Ip]);
    const text = await cap.done;
    const esc = (ip: string) => ip.replace(/\./g, '\\.');
    // tcpdump does not decode DNS on port 5311: the addresses and ports are the point.
    expect(text).toMatch(new RegExp(`${esc(eth1)}\\.\\d+ > ${esc(gw)}\\.5311: UDP`));
    expect(text).toMatch(new RegExp(`${esc(gw)}\\.5311 > ${esc(eth1)}\\.\\d+: UDP`));
  });

  it('builds Docker\'s layout on host 1: 1-<id> namespace with br0 (gateway) and vxlan0 (VNI 256, UDP 4789), MTU 1450', () => {
    const ns = h1.overlayNs(ov1);
    const links = h1.ipJson<Array<{ ifname: string; mtu: number; master?: string; linkinfo?: { info_kind: string; info_data?: Record<string, unknown> } }>>(
      ['-d', 'link', 'show'],
      ns,
    );
    const vx = links.find((l) => l.ifname === 'vxlan0')!;
    expect(vx.linkinfo?.info_kind).toBe('vxlan');
    expect(vx.linkinfo?.info_data).toMatchObject({ id: 256, port: 4789, local: h1.ip, learning: false, proxy: true });
    expect(vx.master).toBe('br0');
    expect(vx.mtu).toBe(1450);
    expect(links.find((l) => l.ifname === 'br0')!.mtu).toBe(1450);
    const brAddr = h1.ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(['-4', 'addr', 'show', 'dev', 'br0'], ns);
    expect(brAddr[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.0.0.1/24']);
    // Inside the container: eth0 on the overlay (MTU 1450), eth1 on plumb_gwbridge with the default route.
    const sandbox = join(h1.netnsDir, 'bbbox1');
    const eth0 = h1.ipJson<Array<{ mtu: number; addr_info: Array<{ local: string }> }>>(['addr', 'show', 'dev', 'eth0'], sandbox)[0]!;
    expect(eth0.mtu).toBe(1450);
    expect(eth0.addr_info[0]!.local).toBe('10.0.0.2');
    const routes = h1.ipJson<Array<{ dst: string; gateway?: string; dev: string }>>(['route', 'show'], sandbox);
    const def = routes.find((r) => r.dst === 'default')!;
    expect(def.dev).toBe('eth1');
    expect(def.gateway).toMatch(/^172\.\d+\.0\.1$/);
  });

  it('host 1 holds permanent neighbour, FDB and flood entries for bbbox2, and inspect shows them as expected = actual', async () => {
    const fw = forwarding(h1, ov1);
    expect(fw.neigh).toContainEqual(expect.objectContaining({ dst: bbbox2Ip, lladdr: bbbox2Mac, state: ['PERMANENT'] }));
    expect(fw.fdb).toContainEqual(expect.objectContaining({ mac: bbbox2Mac, dst: h2.ip }));
    expect(fw.fdb).toContainEqual(expect.objectContaining({ mac: '00:00:00:00:00:00', dst: h2.ip }));
    const info = JSON.parse(await h1.plumbOk(['network', 'inspect', 'ov_net1']))[0];
    // Docker names peers by node ID: the two hosts share a hostname, and stay two peers.
    expect(info.Peers).toEqual([
      { Name: h1.nodeId()!.slice(0, 12), IP: h1.ip },
      { Name: h2.nodeId()!.slice(0, 12), IP: h2.ip },
    ]);
    expect(info.Plumb.Overlay.Nodes).toEqual([
      { ID: h1.nodeId(), Name: h1.hostname, VTEP: h1.ip },
      { ID: h2.nodeId(), Name: h2.hostname, VTEP: h2.ip },
    ]);
    expect(info.Plumb.Overlay.LocalNode).toEqual({ ID: h1.nodeId(), Name: h1.hostname });
    const remote = info.Plumb.Overlay.RemoteEndpoints;
    expect(remote).toHaveLength(1);
    expect(remote[0]).toMatchObject({ Name: 'bbbox2', Host: h2.hostname, Node: h2.nodeId()!.slice(0, 12), IPv4Address: bbbox2Ip, VTEP: h2.ip, InSync: true });
    expect(remote[0].Actual.Fdb).toBe(remote[0].Expected.Fdb);
    expect(info.Plumb.Overlay.VNI).toBe(256);
  });

  it('the underlay carries the ping as UDP 4789 with the network\'s VNI', async () => {
    const cap = await lab.capture(lab.underlay, 'ul0', ['udp', 'port', '4789'], 2);
    expect(await ping(h1, 'bbbox1', bbbox2Ip)).toBe(true);
    const text = await cap.done;
    expect(text).toMatch(new RegExp(`${h1.ip.replace(/\./g, '\\.')}\\.\\d+ > ${h2.ip.replace(/\./g, '\\.')}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 256`));
    expect(text).toContain(`10.0.0.2 > ${bbbox2Ip}: ICMP echo request`);
  });

  it('bbbox1 reaches the wan through plumb_gwbridge, masqueraded to host 1\'s address', async () => {
    const cap = await lab.capture(lab.wan, 'eth0', ['icmp', 'and', 'host', INTERNET_IP], 1);
    expect(await ping(h1, 'bbbox1', INTERNET_IP)).toBe(true);
    expect(await cap.done).toContain(`${h1.ip} > ${INTERNET_IP}: ICMP echo request`);
    expect(await h1.plumbOk(['network', 'ls'])).toMatch(/\splumb_gwbridge\s+bridge\s+local\n/);
  });

  it('two containers on two hosts joining at once get different addresses (etcd transactions)', async () => {
    await Promise.all([
      h2.plumbOk(['run', '-d', '--name', 'race2', '--network', 'ov_net1', 'debian']),
      h3.plumbOk(['run', '-d', '--name', 'race3', '--network', 'ov_net1', 'debian']),
    ]);
    const a = await ipOf(h2, 'race2', 'ov_net1');
    const b = await ipOf(h3, 'race3', 'ov_net1');
    expect(new Set([a, b, '10.0.0.2', bbbox2Ip]).size).toBe(4);
    expect(await eventually(() => ping(h3, 'race3', '10.0.0.2'))).toBe(true);
    await h2.plumbOk(['rm', '-f', 'race2']);
    await h3.plumbOk(['rm', '-f', 'race3']);
  });

  it('system gc rebuilds an overlay container\'s deleted eth0 (the driver\'s join, with the address it had), and it reaches bbbox2 again', async () => {
    const ip = await ipOf(h1, 'bbbox1', 'ov_net1');
    await h1.plumbOk(['exec', 'bbbox1', 'ip', 'link', 'del', 'eth0']);
    expect(await ping(h1, 'bbbox1', bbbox2Ip)).toBe(false);
    const check = await h1.plumb(['system', 'check']);
    expect(check.stdout).toContain('container bbbox1: eth0 (on ov_net1) is missing in the sandbox');
    await h1.plumbOk(['system', 'gc']);
    // busybox's ip has no -j: the host's ip reads the container's namespace, entered through its State.Pid.
    const pid = (await h1.plumbOk(['inspect', '-f', '{{.State.Pid}}', 'bbbox1'])).trim();
    const addrs = JSON.parse((await h1.exec(['nsenter', '-t', pid, '-n', 'ip', '-j', 'addr', 'show', 'eth0'])).stdout) as Array<{ mtu: number; addr_info: Array<{ local: string }> }>;
    expect(addrs[0]!.addr_info.map((a) => a.local)).toContain(ip);
    expect(addrs[0]!.mtu).toBe(1450);
    expect((await h1.plumb(['system', 'check'])).stdout).not.toContain('bbbox1');
    expect(await eventually(() => ping(h1, 'bbbox1', bbbox2Ip))).toBe(true);
  });
});

describe('isolation and removal', () => {
  it('a second overlay gets VNI 257 and its own subnet; the two overlays cannot reach each other', async () => {
    await h2.plumbOk(['network', 'create', '-d', 'overlay', '--subnet', '10.20.0.0/24', 'ov_net2']);
    await h1.plumbOk(['run', '-d', '--name', 'c3', '--network', 'ov_net2', '--network-alias', 'web', 'debian']);
    await h3.plumbOk(['run', '-d', '--name', 'c4', '--network', 'ov_net2', '--network-alias', 'web', 'debian']);
    const info = JSON.parse(await h1.plumbOk(['network', 'inspect', 'ov_net2']))[0];
    expect(info.Plumb.Overlay.VNI).toBe(257);
    const c4 = await ipOf(h3, 'c4', 'ov_net2');
    expect(c4).toBe('10.20.0.3');
    expect(await eventually(() => ping(h1, 'c3', c4))).toBe(true);
    expect(await ping(h1, 'bbbox1', c4)).toBe(false);
    expect(await ping(h1, 'c3', bbbox2Ip)).toBe(false);
  });

  it('names are scoped to shared overlays: c3 resolves c4 and the alias on both hosts; bbbox1 and c3 do not see each other\'s networks', async () => {
    const c3 = await ipOf(h1, 'c3', 'ov_net2');
    const c4 = await ipOf(h3, 'c4', 'ov_net2');
    expect(await eventually(async () => (await resolves(h1, 'c3', 'c4')).join() === c4)).toBe(true);
    // A shared alias answers with every container carrying it, local and remote.
    expect(await resolves(h1, 'c3', 'web')).toEqual([c3, c4].sort());
    expect(await resolves(h3, 'c4', 'c3.ov_net2')).toEqual([c3]);
    // Not on ov_net2: bbbox1 (same host as c3) knows neither c4 nor the alias; c3 does not know bbbox2 (ov_net1).
    const before = upstream!.asked.length;
    for (const [h, asker, name] of [
      [h1, 'bbbox1', 'c4'],
      [h1, 'bbbox1', 'web'],
      [h1, 'bbbox1', 'c3'],
      [h1, 'c3', 'bbbox2'],
      [h3, 'c4', 'bbbox1'],
    ] as const) {
      expect(await dig(h, asker, name), `${asker} asking ${name}`).toEqual({ status: 'NXDOMAIN', answers: [] });
    }
    // NXDOMAIN came from the upstream: no resolver answered those names itself.
    expect(upstream!.namesSince(before)).toEqual(expect.arrayContaining(['c4', 'web', 'c3', 'bbbox2', 'bbbox1']));
  });

  it('removing bbbox2 on host 2 withdraws its entries on host 1, and leaves an entry plumb did not make', async () => {
    const ns = h1.overlayNs(ov1);
    run('nsenter', [`--net=${ns}`, 'ip', 'neigh', 'add', '10.0.0.200', 'lladdr', '02:00:00:00:00:c8', 'dev', 'vxlan0', 'nud', 'permanent']);
    expect(await resolves(h1, 'bbbox1', 'bbbox2')).toEqual([bbbox2Ip]);
    await h2.plumbOk(['rm', '-f', 'bbbox2']);
    const gone = await eventually(() => {
      const fw = forwarding(h1, ov1);
      // Entries with a dst are the tunnel's own (self) entries; br0 may still remember the MAC it saw, until it ages out.
      return !fw.neigh.some((n) => n.dst === bbbox2Ip) && !fw.fdb.some((f) => f.dst === h2.ip);
    });
    expect(gone).toBe(true);
    expect(forwarding(h1, ov1).neigh).toContainEqual(expect.objectContaining({ dst: '10.0.0.200', lladdr: '02:00:00:00:00:c8' }));
    // Host 2 has no container left on ov_net1: its namespace went with the last one.
    expect(existsSync(h2.overlayNs(ov1))).toBe(false);
  });

  it('the name bbbox2 stops resolving on host 1 once bbbox2 is removed on host 2', async () => {
    expect(await eventually(async () => (await dig(h1, 'bbbox1', 'bbbox2')).status === 'NXDOMAIN')).toBe(true);
    expect(await dig(h1, 'bbbox1', 'bbbox2.ov_net1')).toEqual({ status: 'NXDOMAIN', answers: [] });
    expect((await h1.plumb(['exec', 'bbbox1', 'ping', '-c1', '-W1', 'bbbox2'])).code).not.toBe(0);
  });

  it("a network's only container on a host can be replaced at once, even while someone holds the old overlay namespace open", async () => {
    // A learner's `nsenter --net=<overlay namespace> tcpdump` keeps that namespace, and everything left
    // in it, alive after plumb lets go of it. A vxlan0 left in it would keep the VNI on the underlay,
    // and the kernel would refuse the next container's vxlan0 with EEXIST.
    await h1.plumbOk(['network', 'create', '-d', 'overlay', 'ov_churn']);
    const id = await networkId(h1, 'ov_churn');
    await h3.plumbOk(['run', '-d', '--name', 'churn1', '--network', 'ov_churn', 'debian']);
    const holder = spawn('nsenter', [`--net=${h3.overlayNs(id)}`, 'sh', '-c', 'echo in; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve, reject) => {
        holder.stdout!.once('data', resolve);
        holder.once('exit', () => reject(new Error('nsenter could not enter the overlay namespace')));
      });
      await h3.plumbOk(['rm', '-f', 'churn1']);
      expect(existsSync(h3.overlayNs(id))).toBe(false);
      await h3.plumbOk(['run', '-d', '--name', 'churn2', '--network', 'ov_churn', 'debian']);
      const vx = h3.ipJson<Array<{ ifname: string; linkinfo?: { info_data?: { id?: number } } }>>(['-d', 'link', 'show', 'vxlan0'], h3.overlayNs(id));
      expect(vx[0]!.linkinfo?.info_data?.id).toBeGreaterThanOrEqual(256);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    await h3.plumbOk(['rm', '-f', 'churn2']);
    await h1.plumbOk(['network', 'rm', 'ov_churn']);
  });
});

describe('the resolver\'s cluster settings', () => {
  it('a resolver started by a command without cluster settings is replaced by the first overlay command, and keeps answering bridge names', async () => {
    // Host 2 has no container left: start over there without the cluster settings.
    expect((await h2.plumb(['system', 'reset'], { cluster: false })).code).toBe(0);
    const status = () => JSON.parse(readFileSync(join(h2.root, 'run', 'dns.json'), 'utf8')) as { pid: number; cluster?: string };
    expect((await h2.plumb(['network', 'create', 'lan2'], { cluster: false })).code).toBe(0);
    expect((await h2.plumb(['run', '-d', '--name', 'n2', '--network', 'lan2', 'debian'], { cluster: false })).code).toBe(0);
    const before = status();
    expect(before.cluster).toBeUndefined();
    await h2.plumbOk(['run', '-d', '--name', 'probe2', '--network', 'ov_net1', 'debian']);
    const after = status();
    expect(after.cluster).toBe(`etcd://${ETCD_IP}:2379 ${h2.hostname}`);
    expect(after.pid).not.toBe(before.pid);
    expect(await eventually(async () => (await resolves(h2, 'probe2', 'bbbox1')).join() === '10.0.0.2')).toBe(true);
    expect(await resolves(h2, 'n2', 'n2')).toEqual([await ipOf(h2, 'n2', 'lan2')]);
    await h2.plumbOk(['rm', '-f', 'probe2', 'n2']);
    await h2.plumbOk(['network', 'rm', 'lan2']);
  });
});

describe('convergence after failures', () => {
  it('keeps forwarding while etcd is down, then converges after etcd and host 1\'s agent are killed and restarted', async () => {
    await h2.plumbOk(['run', '-d', '--name', 'bbbox2', '--network', 'ov_net1', 'debian']);
    const ip2 = await ipOf(h2, 'bbbox2', 'ov_net1');
    expect(await eventually(() => ping(h1, 'bbbox1', ip2))).toBe(true);

    // Crash both: etcd (SIGKILL) and host 1's agent (SIGKILL, by its pid file).
    const agentPid = Number(readFileSync(join(h1.root, 'run', 'agent.pid'), 'utf8').split(' ')[0]);
    process.kill(agentPid, 'SIGKILL');
    await lab.stopEtcd(true);
    // The data plane does not need the control plane.
    expect(await ping(h1, 'bbbox1', ip2)).toBe(true);

    await lab.startEtcd();
    // A change host 1 cannot hear about (its agent is dead): bbbox5 joins on host 3.
    await h3.plumbOk(['run', '-d', '--name', 'bbbox5', '--network', 'ov_net1', 'debian']);
    const ip5 = await ipOf(h3, 'bbbox5', 'ov_net1');
    const stale = JSON.parse(await h1.plumbOk(['network', 'inspect', 'ov_net1']))[0].Plumb.Overlay.RemoteEndpoints;
    expect(stale.find((e: { Name: string }) => e.Name === 'bbbox5')).toMatchObject({ InSync: false, Actual: { Neighbour: null } });

    // Host 1's resolver has its own watch, which reconnected by itself: it knows bbbox5 already.
    expect(await eventually(async () => (await resolves(h1, 'bbbox1', 'bbbox5')).join() === ip5, 8000)).toBe(true);

    // The agent as a service would be restarted by its manager; here the next overlay command on host 1 starts it.
    await h1.plumbOk(['run', '-d', '--name', 'probe1', '--network', 'ov_net1', 'debian']);
    expect(await eventually(() => ping(h1, 'bbbox1', ip5))).toBe(true);
    expect((await h1.plumb(['exec', 'bbbox1', 'ping', '-c1', '-W2', 'bbbox5'])).code).toBe(0);
    const now = JSON.parse(await h1.plumbOk(['network', 'inspect', 'ov_net1']))[0].Plumb.Overlay.RemoteEndpoints;
    expect(now.every((e: { InSync: boolean }) => e.InSync)).toBe(true);
  });

  it('an agent that lived through the outage resyncs when etcd returns', async () => {
    await lab.stopEtcd(true);
    await sleep(300);
    await lab.startEtcd();
    // Host 3's agent kept running; a removal on host 1 after the outage reaches it.
    const ip1 = '10.0.0.2';
    await h1.plumbOk(['rm', '-f', 'probe1']);
    await h1.plumbOk(['rm', '-f', 'bbbox1']);
    const fw3 = () => forwarding(h3, ov1);
    expect(await eventually(() => !fw3().neigh.some((n) => n.dst === ip1), 8000)).toBe(true);
    expect(await ping(h3, 'bbbox5', await ipOf(h2, 'bbbox2', 'ov_net1'))).toBe(true);
  });

  it('network rm is refused from any host while a host has containers on it, and works from host 3 once they are gone', async () => {
    const busy = await h3.plumb(['network', 'rm', 'ov_net1']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/network ov_net1 id [0-9a-f]{64} has active endpoints/);
    await h2.plumbOk(['rm', '-f', 'bbbox2']);
    await h3.plumbOk(['rm', '-f', 'bbbox5']);
    await h1.plumbOk(['rm', '-f', 'c3']);
    await h3.plumbOk(['rm', '-f', 'c4']);
    await h3.plumbOk(['network', 'rm', 'ov_net1']);
    await h1.plumbOk(['network', 'rm', 'ov_net2']);
    for (const h of [h1, h2, h3]) expect(await h.plumbOk(['network', 'ls'])).not.toMatch(/ov_net/);
  });
});

describe('scripts/vagrant-smoke, run on the lab hosts instead of the VMs', () => {
  it('reproduces seed 004 across host 1 and host 2 and cleans up', async () => {
    // SMOKE_RUN replaces `vagrant ssh docker-nodeN -c "sudo plumb ..."`; host N gets its settings from a
    // config file shaped like the one the Vagrantfile writes to /etc/plumb/config.json.
    const lines = ['#!/bin/bash', 'n=$1; shift', 'case $n in'];
    for (const h of [h1, h2]) {
      const cfg = join(h.root, 'vagrant-config.json');
      writeFileSync(cfg, JSON.stringify({ 'cluster-store': `etcd://${ETCD_IP}:2379`, 'cluster-advertise': h.ip, 'node-name': `docker-node${h.index}` }));
      const env = `PLUMB_ROOT=${h.root} PLUMB_NETNS_DIR=${h.netnsDir} PLUMB_CONFIG=${cfg} PLUMB_ROOTFS_DIR=${testRootfsDir()}`;
      lines.push(`  ${h.index}) exec nsenter --net=/run/netns/${h.ns} env -u PLUMB_CLUSTER_STORE -u PLUMB_CLUSTER_ADVERTISE -u PLUMB_NODE_NAME ${env} ${process.execPath} ${PLUMB_BIN} "$@";;`);
    }
    lines.push('esac');
    const runner = join(h1.root, 'smoke-run');
    writeFileSync(runner, lines.join('\n') + '\n', { mode: 0o755 });
    const r = await runAsync(['bash', join(REPO, 'scripts', 'vagrant-smoke')], {
      env: { ...process.env, SMOKE_RUN: runner, SMOKE_EGRESS: INTERNET_IP },
      timeoutMs: 90_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('PASS: seed 004 across docker-node1 and docker-node2');
    // Peers by node ID (the hosts' node names are only display names).
    expect(r.stdout).toMatch(new RegExp(`"Name":"${h2.nodeId()!.slice(0, 12)}","IP":"192\\.0\\.2\\.12"`));
    for (const h of [h1, h2, h3]) expect(await h.plumbOk(['network', 'ls'])).not.toMatch(/ov_net1/);
  }, 120_000);
});
