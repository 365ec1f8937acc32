// Network modes other than a bridge network — host, none, container:NAME — and
// the macvlan driver, checked with real packets inside a throwaway lab, plus the
// options Docker refuses for each mode.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_IP, Lab, WAN_IP } from '../helpers/lab.js';

// The containers here run the host's programs (socat, ip -j): an image label
// other than busybox/alpine keeps the host's filesystem.
const IMAGE = 'debian';

let lab: Lab;
const servers: ChildProcess[] = [];

beforeAll(() => {
  lab = Lab.create({ tag: 'mode' });
});

afterAll(async () => {
  for (const s of servers) if (s.pid) process.kill(s.pid, 'SIGKILL');
  await lab.teardown();
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function listening(ns: string, port: number): Promise<boolean> {
  return (await lab.exec(['ss', '-Hltn', `sport = :${port}`], ns)).stdout.trim() !== '';
}

async function inspect(name: string): Promise<any> {
  return JSON.parse(await lab.plumbOk(['inspect', name]))[0];
}

async function linksOf(container: string): Promise<Array<{ ifname: string; address?: string; linkinfo?: { info_kind?: string } }>> {
  return JSON.parse(await lab.plumbOk(['exec', container, 'ip', '-d', '-j', 'link', 'show']));
}

async function addrsOf(container: string): Promise<string[]> {
  const j = JSON.parse(await lab.plumbOk(['exec', container, 'ip', '-j', 'addr', 'show']));
  return j.flatMap((l: { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }) =>
    l.addr_info.filter((a) => a.family === 'inet').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`),
  );
}

const HEADER_ONLY = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
  '',
].join('\n');

describe('--network host', () => {
  it('runs in the host network stack: a server on 8090 is reachable from the wan at the host address; -p is discarded', async () => {
    const r = await lab.plumb([
      'run', '-d', '--name', 'hostc', '--network', 'host', '-p', '8090:8090', IMAGE,
      'socat', 'TCP-LISTEN:8090,reuseaddr,fork', 'SYSTEM:echo hostmode',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('WARNING: Published ports are discarded when using host network mode');
    await waitFor(() => listening(lab.host, 8090), 'socat in host mode');
    const got = await lab.exec(['nc', '-w', '2', HOST_UPLINK_IP, '8090'], lab.wan!);
    expect(got.stdout.trim()).toBe('hostmode');
    expect(lab.iptablesSave()).not.toMatch(/--dport 8090/);
    const ps = await lab.plumbOk(['ps', '--format', '{{.Names}}|{{.Ports}}']);
    expect(ps).toMatch(/^hostc\|$/m);
  });

  it('sees every interface of the host namespace, the host hostname and the host /etc files', async () => {
    const inside = (await linksOf('hostc')).map((l) => l.ifname).sort();
    const outside = lab.ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname).sort();
    expect(inside).toEqual(outside);
    expect(inside).toContain('eth0');
    expect((await lab.plumbOk(['exec', 'hostc', 'hostname'])).trim()).toBe(hostname());
    expect(await lab.plumbOk(['exec', 'hostc', 'cat', '/etc/hosts'])).toBe(readFileSync('/etc/hosts', 'utf8'));
    expect(await lab.plumbOk(['exec', 'hostc', 'cat', '/etc/resolv.conf'])).toBe(readFileSync('/etc/resolv.conf', 'utf8'));
    const j = await inspect('hostc');
    expect(j.HostConfig.NetworkMode).toBe('host');
    expect(Object.keys(j.NetworkSettings.Networks)).toEqual(['host']);
    expect(j.NetworkSettings.Networks.host.IPAddress).toBe('');
    expect(j.NetworkSettings.SandboxKey).toMatch(/\/netns\/default$/);
  });

  it('still gets its own hostname when asked (own UTS namespace)', async () => {
    const out = await lab.plumbOk(['run', '--rm', '--network', 'host', '--hostname', 'myhost', IMAGE, 'hostname']);
    expect(out.trim()).toBe('myhost');
  });

  it('refuses --link and --mac-address with Docker\'s errors', async () => {
    const link = await lab.plumb(['run', '-d', '--network', 'host', '--link', 'hostc:x', IMAGE]);
    expect(link.code).toBe(125);
    expect(link.stderr.trim()).toBe("Error: conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    const mac = await lab.plumb(['run', '-d', '--network', 'host', '--mac-address', '02:42:00:00:00:09', IMAGE]);
    expect(mac.stderr.trim()).toBe('Error: conflicting options: mac-address and the network mode');
  });
});

describe('--network none', () => {
  it('has only lo, up, no routes; the wan is unreachable, 127.0.0.1 answers', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'nonec', '--network', 'none', IMAGE, 'sleep', '3600']);
    const links = await linksOf('nonec');
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(await addrsOf('nonec')).toEqual(['lo 127.0.0.1/8']);
    expect((await lab.plumbOk(['exec', 'nonec', 'ip', 'route'])).trim()).toBe('');
    expect((await lab.plumb(['exec', 'nonec', 'ping', '-c1', '-W1', '127.0.0.1'])).code).toBe(0);
    expect((await lab.plumb(['exec', 'nonec', 'ping', '-c1', '-W1', WAN_IP])).code).not.toBe(0);
    expect(await lab.plumbOk(['exec', 'nonec', 'cat', '/etc/hosts'])).toBe(HEADER_ONLY);
    const j = await inspect('nonec');
    expect(Object.keys(j.NetworkSettings.Networks)).toEqual(['none']);
    expect(j.NetworkSettings.IPAddress).toBe('');
  });
});

describe('--network container:NAME', () => {
  let test1Ip = '';

  it('joins test1\'s sandbox: same addresses and MAC, same namespace, test1\'s hostname, shared lo', async () => {
    await lab.plumbOk([
      'run', '-d', '--name', 'test1', IMAGE, 'socat', 'TCP-LISTEN:9000,bind=127.0.0.1,reuseaddr,fork', 'SYSTEM:echo shared-lo',
    ]);
    await lab.plumbOk(['run', '-d', '--name', 'joinc', '--network', 'container:test1', IMAGE, 'sleep', '3600']);
    expect(await addrsOf('joinc')).toEqual(await addrsOf('test1'));
    const t1 = await inspect('test1');
    const jc = await inspect('joinc');
    test1Ip = t1.NetworkSettings.IPAddress;
    expect(await addrsOf('joinc')).toContain(`eth0 ${test1Ip}/16`);
    const mac = (c: string) => linksOf(c).then((ls) => ls.find((l) => l.ifname === 'eth0')?.address);
    expect(await mac('joinc')).toBe(await mac('test1'));
    const nsOf = (pid: number) => readlinkSync(`/proc/${pid}/ns/net`);
    expect(nsOf(jc.State.Pid)).toBe(nsOf(t1.State.Pid));
    expect((await lab.plumbOk(['exec', 'joinc', 'hostname'])).trim()).toBe(t1.Id.slice(0, 12));
    expect(await lab.plumbOk(['exec', 'joinc', 'cat', '/etc/hosts'])).toBe(HEADER_ONLY);
    expect(await lab.plumbOk(['exec', 'joinc', 'cat', '/etc/resolv.conf'])).toBe(await lab.plumbOk(['exec', 'test1', 'cat', '/etc/resolv.conf']));
    const got = await lab.plumb(['exec', 'joinc', 'nc', '-w', '2', '127.0.0.1', '9000']);
    expect(got.stdout.trim()).toBe('shared-lo');
    expect(jc.HostConfig.NetworkMode).toBe(`container:${t1.Id}`);
    expect(jc.NetworkSettings.Networks).toEqual({});
    expect(jc.NetworkSettings.SandboxKey).toBe('');
  });

  it('refuses -p, --hostname, --link, --dns, --add-host, --mac-address, --expose with Docker\'s errors and creates nothing', async () => {
    const cases: Array<[string[], string]> = [
      [['-p', '80:80'], 'conflicting options: port publishing and the container type network mode'],
      [['--hostname', 'h'], 'conflicting options: hostname and the network mode'],
      [['--link', 'test1:t'], "conflicting options: container type network can't be used with links. This would result in undefined behavior"],
      [['--dns', '192.0.2.53'], 'conflicting options: dns and the network mode'],
      [['--add-host', 'a:192.0.2.1'], 'conflicting options: custom host-to-IP mapping and the network mode'],
      [['--mac-address', '02:42:00:00:00:09'], 'conflicting options: mac-address and the network mode'],
      [['--expose', '80'], 'conflicting options: port exposing and the container type network mode'],
    ];
    const before = await lab.plumbOk(['ps', '-a', '-q']);
    for (const [opts, message] of cases) {
      const r = await lab.plumb(['run', '-d', '--name', 'refused', '--network', 'container:test1', ...opts, IMAGE]);
      expect(r.code, opts.join(' ')).toBe(125);
      expect(r.stderr.trim()).toBe(`Error: ${message}`);
    }
    const connect = await lab.plumb(['network', 'connect', 'bridge', 'joinc']);
    expect(connect.stderr.trim()).toBe('Error: container sharing network namespace with another container or host cannot be connected to any other network');
    const missing = await lab.plumb(['run', '-d', '--network', 'container:nope', IMAGE]);
    expect(missing.stderr.trim()).toBe('Error: No such container: nope');
    expect(await lab.plumbOk(['ps', '-a', '-q'])).toBe(before);
  });

  it('keeps only lo when test1 stops, is not reconnected when test1 starts, rejoins on its own restart', async () => {
    await lab.plumbOk(['stop', '-t', '1', 'test1']);
    expect(await addrsOf('joinc')).toEqual(['lo 127.0.0.1/8']);
    expect(await lab.plumbOk(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^joinc Up /m);
    await lab.plumbOk(['start', 'test1']);
    expect(await addrsOf('joinc')).toEqual(['lo 127.0.0.1/8']);
    await lab.plumbOk(['restart', '-t', '1', 'joinc']);
    const ip = (await inspect('test1')).NetworkSettings.IPAddress;
    expect(await addrsOf('joinc')).toEqual(['lo 127.0.0.1/8', `eth0 ${ip}/16`]);
  });

  it('refuses to start when the container to join is not running', async () => {
    await lab.plumbOk(['create', '--name', 'later', '--network', 'container:test1', IMAGE, 'sleep', '3600']);
    await lab.plumbOk(['stop', '-t', '1', 'test1']);
    const t1 = await inspect('test1');
    const r = await lab.plumb(['start', 'later']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`cannot join network of a non running container: ${t1.Id}`);
    await lab.plumbOk(['rm', '-f', 'later', 'joinc', 'test1']);
  });
});

describe('macvlan on a lab veth whose other end is the wan', () => {
  const net = ['--subnet', '203.0.113.0/24', '--ip-range', '203.0.113.128/25', '--gateway', WAN_IP];

  it('refuses bad parents and modes with Docker\'s errors', async () => {
    const bad = async (opts: string[]) => (await lab.plumb(['network', 'create', '-d', 'macvlan', ...opts, ...net, 'bad'])).stderr.trim();
    expect(await bad(['-o', 'parent=nope0'])).toBe('Error: invalid subinterface vlan name nope0, example formatting is eth0.10');
    expect(await bad(['-o', 'parent=lo'])).toBe('Error: loopback interface is not a valid macvlan parent link');
    expect(await bad(['-o', 'parent=eth0', '-o', 'macvlan_mode=weird'])).toBe(
      "Error: requested macvlan mode 'weird' is not valid, 'bridge' mode is the macvlan driver default",
    );
  });

  it('gives two sandboxes macvlan children of eth0 that reach each other and the wan directly, without NAT', async () => {
    const eth0Before = lab.ipJson<Array<{ ifindex: number; address: string; operstate: string }>>(['link', 'show', 'eth0'])[0]!;
    await lab.plumbOk(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '-o', 'macvlan_mode=bridge', ...net, 'pub']);
    const again = await lab.plumb(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '198.51.100.0/24', 'pub2']);
    expect(again.stderr.trim()).toMatch(/^Error: network dm-[0-9a-f]{12} is already using parent interface eth0$/);
    await lab.plumbOk(['run', '-d', '--name', 'mv1', '--network', 'pub', IMAGE]);
    await lab.plumbOk(['run', '-d', '--name', 'mv2', '--network', 'pub', IMAGE]);
    const ip1 = (await inspect('mv1')).NetworkSettings.Networks.pub.IPAddress as string;
    const ip2 = (await inspect('mv2')).NetworkSettings.Networks.pub.IPAddress as string;
    expect(ip1).toMatch(/^203\.0\.113\.(1[2-9]\d|2\d\d)$/);
    const eth0 = (await linksOf('mv1')).find((l) => l.ifname === 'eth0')!;
    expect(eth0.linkinfo?.info_kind).toBe('macvlan');
    expect(eth0.address).toBe(`02:42:${ip1.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`);
    const routes = JSON.parse(await lab.plumbOk(['exec', 'mv1', 'ip', '-j', 'route']));
    expect(routes.find((r: { dst: string }) => r.dst === 'default')?.gateway).toBe(WAN_IP);
    expect((await lab.plumb(['exec', 'mv1', 'ping', '-c1', '-W1', ip2])).code).toBe(0);
    // The wan sees the container's own address: nothing rewrote it.
    const echo = spawn('nsenter', [`--net=${lab.nsPath(lab.wan!)}`, 'socat', 'TCP-LISTEN:7300,reuseaddr,fork', 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
    servers.push(echo);
    await waitFor(() => listening(lab.wan!, 7300), 'echo server in wan');
    const seen = await lab.plumb(['exec', 'mv1', 'nc', '-w', '2', WAN_IP, '7300']);
    expect(seen.stdout.trim()).toBe(ip1);
    expect(lab.iptablesSave()).not.toMatch(new RegExp(ip1.replace(/\./g, '\\.')));
    expect(lab.ipJson<Array<{ ifindex: number; address: string }>>(['link', 'show', 'eth0'])[0]).toMatchObject({
      ifindex: eth0Before.ifindex,
      address: eth0Before.address,
    });
  });

  it('shows the macvlan property: the host cannot reach its own macvlan children, nor they the host', async () => {
    const ip1 = (await inspect('mv1')).NetworkSettings.Networks.pub.IPAddress as string;
    expect((await lab.exec(['ping', '-c1', '-W1', ip1])).code).not.toBe(0);
    expect((await lab.plumb(['exec', 'mv1', 'ping', '-c1', '-W1', HOST_UPLINK_IP])).code).not.toBe(0);
    // ... while the wan host next to them on the same wire can.
    expect((await lab.exec(['ping', '-c1', '-W1', ip1], lab.wan!)).code).toBe(0);
  });

  it('removing the network leaves the parent exactly as it was', async () => {
    const before = lab.ipJson<Array<Record<string, unknown>>>(['addr', 'show', 'eth0'])[0]!;
    await lab.plumbOk(['rm', '-f', 'mv1', 'mv2']);
    await lab.plumbOk(['network', 'rm', 'pub']);
    const after = lab.ipJson<Array<Record<string, unknown>>>(['addr', 'show', 'eth0'])[0]!;
    expect(after.ifindex).toBe(before.ifindex);
    expect(after.operstate).toBe('UP');
    expect(after.address).toBe(before.address);
    expect(after.addr_info).toEqual(before.addr_info);
    expect((await lab.exec(['ping', '-c1', '-W1', WAN_IP])).code).toBe(0);
  });
});

describe('host and none networks', () => {
  it('are listed like Docker lists them and cannot be removed or created again', async () => {
    const ls = await lab.plumbOk(['network', 'ls']);
    expect(ls).toMatch(/^[0-9a-f]{12}\s+host\s+host\s+local$/m);
    expect(ls).toMatch(/^[0-9a-f]{12}\s+none\s+null\s+local$/m);
    for (const name of ['host', 'none']) {
      const r = await lab.plumb(['network', 'rm', name]);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim()).toBe(`Error: ${name} is a pre-defined network and cannot be removed`);
    }
    const again = await lab.plumb(['network', 'create', '-d', 'host', 'host2']);
    expect(again.stderr.trim()).toBe('Error: only one instance of "host" network is allowed');
  });

  it('leaves the store and the kernel in agreement', async () => {
    const r = await lab.plumb(['system', 'check']);
    expect(r.stdout + r.stderr).toBe('ok: the kernel matches the store\n');
    expect(r.code).toBe(0);
  });
});
