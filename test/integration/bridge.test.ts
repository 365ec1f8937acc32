// Docker's single-host bridge model, checked against what the kernel reports
// and with real packets, inside a throwaway lab (host + wan namespaces).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_IP, Lab, WAN_IP } from '../helpers/lab.js';
import { spawn, type ChildProcess } from 'node:child_process';

// Containers here run the host's programs (socat, dig, ip -j): the label debian keeps the host's
// filesystem (busybox and alpine would run busybox's).

let lab: Lab;
const servers: ChildProcess[] = [];

beforeAll(() => {
  lab = Lab.create({ tag: 'br' });
});

afterAll(async () => {
  for (const s of servers) if (s.pid) process.kill(s.pid, 'SIGKILL');
  await lab.teardown();
});

/** A TCP server in the wan namespace that answers every connection with the peer's address. */
function startPeerEcho(port: number): Promise<void> {
  const child = spawn(
    'nsenter',
    [`--net=${lab.nsPath(lab.wan!)}`, 'socat', `TCP-LISTEN:${port},reuseaddr,fork`, 'SYSTEM:echo $SOCAT_PEERADDR'],
    { stdio: 'ignore' },
  );
  servers.push(child);
  return waitForListener(lab.wan!, port);
}

async function waitForListener(ns: string, port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await lab.exec(['ss', '-Hltn', `sport = :${port}`], ns);
    if (r.stdout.trim()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`no listener on ${port} in ${ns}`);
}

async function ip(container: string, network: string): Promise<string> {
  return (await lab.plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${network}.IPAddress}}`, container])).trim();
}

async function canPing(from: string, to: string): Promise<boolean> {
  const r = await lab.plumb(['exec', from, 'ping', '-c1', '-W1', to]);
  return r.code === 0;
}

describe('default bridge', () => {
  it('creates plumb0 with 172.17.0.1/16 on first use and lists bridge, host, none', async () => {
    const ls = await lab.plumbOk(['network', 'ls']);
    expect(ls.split('\n')[0]).toMatch(/^NETWORK ID\s{5}NAME\s+DRIVER\s+SCOPE$/);
    expect(ls).toMatch(/\sbridge\s+bridge\s+local/);
    expect(ls).toMatch(/\shost\s+host\s+local/);
    expect(ls).toMatch(/\snone\s+null\s+local/);
    const addrs = lab.ipJson<Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>>(['addr', 'show', 'plumb0']);
    expect(addrs[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toContain('172.17.0.1/16');
  });

  it('masquerades a sandbox reaching the wan: the wan sees the host uplink address', async () => {
    await startPeerEcho(7001);
    await lab.plumbOk(['run', '-d', '--name', 'egress', 'debian']);
    expect(await ip('egress', 'bridge')).toBe('172.17.0.2');
    const r = await lab.plumb(['exec', 'egress', 'nc', '-w', '2', WAN_IP, '7001']);
    expect(r.stdout.trim()).toBe(HOST_UPLINK_IP);
    const nat = lab.iptablesSave();
    expect(nat).toMatch(/-s 172\.17\.0\.0\/16 ! -o plumb0 .*-j MASQUERADE/);
  });

  it('gives the sandbox Docker-like addressing: MAC from IP, default route via .1', async () => {
    const r = await lab.plumbOk(['exec', 'egress', 'ip', '-j', 'addr', 'show', 'eth0']);
    const eth0 = JSON.parse(r)[0];
    expect(eth0.address).toBe('02:42:ac:11:00:02');
    const routes = JSON.parse(await lab.plumbOk(['exec', 'egress', 'ip', '-j', 'route']));
    expect(routes.find((x: { dst: string }) => x.dst === 'default')?.gateway).toBe('172.17.0.1');
  });
});

describe('user-defined networks', () => {
  it('hands out .2 and .3 on mynet (192.168.0.0/16, gateway .1) and they reach each other', async () => {
    const id = (await lab.plumbOk(['network', 'create', '--driver', 'bridge', '--subnet', '192.168.0.0/16', '--gateway', '192.168.0.1', 'mynet'])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const bridge = `br-${id.slice(0, 12)}`;
    expect(lab.ipJson<unknown[]>(['link', 'show', bridge]).length).toBe(1);
    await lab.plumbOk(['run', '-d', '--name', 'm1', '--net', 'mynet', 'tomcat']);
    await lab.plumbOk(['run', '-d', '--name', 'm2', '--net', 'mynet', 'tomcat']);
    expect(await ip('m1', 'mynet')).toBe('192.168.0.2');
    expect(await ip('m2', 'mynet')).toBe('192.168.0.3');
    expect(await canPing('m1', '192.168.0.3')).toBe(true);
    expect(await canPing('m2', '192.168.0.2')).toBe(true);
  });

  it('isolates two user networks from each other', async () => {
    await lab.plumbOk(['network', 'create', 'other']);
    await lab.plumbOk(['run', '-d', '--name', 'o1', '--network', 'other', 'debian']);
    const o1 = await ip('o1', 'other');
    expect(o1).toMatch(/^172\.18\./);
    expect(await canPing('m1', o1)).toBe(false);
    expect(await canPing('o1', '192.168.0.2')).toBe(false);
  });

  it('cuts an internal network off from the outside but not from itself', async () => {
    await startPeerEcho(7002);
    await lab.plumbOk(['network', 'create', '--internal', 'inner']);
    await lab.plumbOk(['run', '-d', '--name', 'i1', '--network', 'inner', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'i2', '--network', 'inner', 'debian']);
    const r = await lab.plumb(['exec', 'i1', 'nc', '-w', '2', WAN_IP, '7002']);
    expect(r.stdout.trim()).toBe('');
    expect(await canPing('i1', await ip('i2', 'inner'))).toBe(true);
    const routes = JSON.parse(await lab.plumbOk(['exec', 'i1', 'ip', '-j', 'route']));
    expect(routes.some((x: { dst: string }) => x.dst === 'default')).toBe(false);
  });

  it('blocks traffic inside a bridge with enable_icc=false, while egress still works', async () => {
    await lab.plumbOk(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc']);
    await lab.plumbOk(['run', '-d', '--name', 'n1', '--network', 'noicc', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'n2', '--network', 'noicc', 'debian']);
    expect(await canPing('n1', await ip('n2', 'noicc'))).toBe(false);
    const r = await lab.plumb(['exec', 'n1', 'nc', '-w', '2', WAN_IP, '7001']);
    expect(r.stdout.trim()).toBe(HOST_UPLINK_IP);
  });

  it('lists, inspects and refuses to remove a network with endpoints, in Docker words', async () => {
    const inspect = JSON.parse(await lab.plumbOk(['network', 'inspect', 'mynet']));
    expect(inspect[0].IPAM.Config[0]).toEqual({ Subnet: '192.168.0.0/16', Gateway: '192.168.0.1' });
    const members = Object.values(inspect[0].Containers) as Array<{ Name: string; IPv4Address: string; MacAddress: string }>;
    expect(members.map((m) => m.Name).sort()).toEqual(['m1', 'm2']);
    expect(members.find((m) => m.Name === 'm1')!.MacAddress).toBe('02:42:c0:a8:00:02');
    const m1Id = Object.keys(inspect[0].Containers).find((id) => inspect[0].Containers[id].Name === 'm1')!;
    const veth = inspect[0].Plumb.Endpoints[m1Id].HostVeth as string;
    const link = lab.ipJson<Array<{ ifname: string; master: string }>>(['link', 'show', veth]);
    expect(link[0]!.master).toMatch(/^br-/);
    const rm = await lab.plumb(['network', 'rm', 'mynet']);
    expect(rm.code).not.toBe(0);
    expect(rm.stderr).toMatch(/network mynet id [0-9a-f]{64} has active endpoints/);
  });

  it('stops, starts (new lowest address) and removes containers, leaving no veth behind', async () => {
    await lab.plumbOk(['stop', 'm1']);
    const ps = await lab.plumbOk(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    expect(ps).toMatch(/^m1 Exited \(\d+\)/m);
    await lab.plumbOk(['run', '-d', '--name', 'm3', '--net', 'mynet', 'tomcat']);
    expect(await ip('m3', 'mynet')).toBe('192.168.0.2');
    await lab.plumbOk(['start', 'm1']);
    expect(await ip('m1', 'mynet')).toBe('192.168.0.4');
    const before = lab.ipJson<unknown[]>(['link', 'show', 'type', 'veth']).length;
    await lab.plumbOk(['rm', '-f', 'm1', 'm3']);
    // Removing a sandbox deletes its namespace; the kernel then removes the veth pairs in the background.
    expect(await lab.eventually(() => lab.ipJson<unknown[]>(['link', 'show', 'type', 'veth']).length === before - 2)).toBe(true);
  });
});

describe('concurrency', () => {
  it('never hands out one address twice when plumb runs in parallel', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.77.0.0/24', 'conc']);
    const names = Array.from({ length: 8 }, (_, i) => `par${i}`);
    const results = await Promise.all(names.map((n) => lab.plumb(['run', '-d', '--name', n, '--network', 'conc', 'debian'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const ips = await Promise.all(names.map((n) => ip(n, 'conc')));
    expect(new Set(ips).size).toBe(names.length);
    expect([...ips].sort()).toEqual(names.map((_, i) => `10.77.0.${i + 2}`).sort());
    // The kernel agrees: every address answers from the bridge's side.
    for (const a of ips) expect((await lab.exec(['ping', '-c1', '-W1', a])).code).toBe(0);
    const bridge = JSON.parse(await lab.plumbOk(['network', 'inspect', 'conc']))[0].Plumb.Bridge as string;
    await lab.plumbOk(['rm', '-f', ...names]);
    // The kernel removes the veths of deleted sandboxes in the background.
    expect(await lab.eventually(() => lab.ipJson<unknown[]>(['link', 'show', 'master', bridge]).length === 0)).toBe(true);
  });
});

describe('bad input', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['malformed CIDR', ['network', 'create', '--subnet', '10.0.0.0/33', 'bad1'], /invalid CIDR address: 10\.0\.0\.0\/33/],
    ['gateway outside subnet', ['network', 'create', '--subnet', '10.9.0.0/16', '--gateway', '10.10.0.1', 'bad2'], /no matching subnet for gateway 10\.10\.0\.1/],
    ['overlapping subnet', ['network', 'create', '--subnet', '192.168.1.0/24', 'bad3'], /Pool overlaps with other one on this address space/],
    ['duplicate name', ['network', 'create', 'other'], /network with name other already exists/],
    ['bridge name too long', ['network', 'create', '-o', 'com.docker.network.bridge.name=averyveryverylongname', 'bad4'], /1-15 characters/],
    ['unknown network', ['run', '-d', '--network', 'nosuch', 'debian'], /network nosuch not found/],
    ['unknown container', ['stop', 'nosuch'], /No such container: nosuch/],
    ['bad container name', ['run', '-d', '--name', '-x', 'debian'], /Invalid container name/],
  ];
  for (const [what, args, message] of cases) {
    it(`rejects ${what} with one line and changes nothing`, async () => {
      const links = lab.ipJson<unknown[]>(['link', 'show']).length;
      const rules = lab.iptablesSave().split('\n').filter((l) => l.startsWith('-A')).length;
      const r = await lab.plumb(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(lab.ipJson<unknown[]>(['link', 'show']).length).toBe(links);
      expect(lab.iptablesSave().split('\n').filter((l) => l.startsWith('-A')).length).toBe(rules);
    });
  }
});
