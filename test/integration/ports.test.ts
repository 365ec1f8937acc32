// Port publishing without a userland proxy: every origin Docker serves (the
// wan, the host through its uplink address and through 127.0.0.1/localhost,
// containers on the same and on another network, the container itself), TCP
// and UDP, with servers started by `plumb run ... COMMAND`; how host ports are
// chosen; what `port` and `ps` print; conflicts; --explain.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_IP, Lab, WAN_IP } from '../helpers/lab.js';

// Containers here run the host's programs (socat, dig, ip -j): the label debian keeps the host's
// filesystem (busybox and alpine would run busybox's).

let lab: Lab;
const hostServers: ChildProcess[] = [];

/**
 * Answers every TCP connection and every UDP datagram on port 80 with
 * "tcp|udp <peer address>", so a test sees both that the packet arrived and
 * which source address the NAT left on it.
 */
const ECHO_PEER = [
  'sh',
  '-c',
  "socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo tcp $SOCAT_PEERADDR' & " +
    "exec socat UDP-RECVFROM:80,fork SYSTEM:'echo udp $SOCAT_PEERADDR'",
];

type Origin = { ns: string } | { container: string };

/** One TCP connection from `from` to ip:port; returns what the server said ('' when nothing answered). */
async function tcp(from: Origin, ip: string, port: number): Promise<string> {
  const argv = ['socat', '-T3', '-', `TCP:${ip}:${port},connect-timeout=2`];
  const r = 'ns' in from ? await lab.exec(argv, from.ns) : await lab.plumb(['exec', from.container, ...argv]);
  return r.stdout.trim();
}

/**
 * UDP datagrams from `from` to ip:port; returns the first reply. UDP promises
 * nothing, and a loaded machine may answer late: one more datagram, with a
 * longer wait, before concluding nothing answers.
 */
async function udp(from: Origin, ip: string, port: number): Promise<string> {
  // The server forks a shell per datagram: on a busy machine the answer can take seconds.
  for (const seconds of [1, 3, 8]) {
    const got = await udpOnce(from, ip, port, seconds);
    if (got) return got;
  }
  return '';
}

/** One UDP datagram; waits `seconds` for the reply ('' when none came). */
async function udpOnce(from: Origin, ip: string, port: number, seconds: number): Promise<string> {
  const argv = ['socat', `-t${seconds}`, '-T5', '-', `UDP:${ip}:${port}`];
  const r =
    'ns' in from
      ? await lab.exec(argv, from.ns, { input: 'ping\n' })
      : await lab.plumb(['exec', '-i', from.container, ...argv], { input: 'ping\n' });
  return r.stdout.trim();
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function ipOf(container: string): Promise<string> {
  const nets = JSON.parse(await lab.plumbOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', container]));
  return (Object.values(nets)[0] as { IPAddress: string }).IPAddress;
}

/** The PORTS column of `ps` for one container. */
async function portsOf(name: string): Promise<string> {
  const rows = (await lab.plumbOk(['ps', '-a', '--format', '{{.Names}}\t{{.Ports}}'])).split('\n');
  const row = rows.find((r) => r.startsWith(`${name}\t`));
  if (row === undefined) throw new Error(`${name} is not listed by ps`);
  return row.slice(name.length + 1);
}

/** A program of the host itself holding a port (what Docker's proxy would trip over). */
function hostListener(address: string): ChildProcess {
  // -u: data flows from the socket to /dev/null only, so socat never sees an EOF and keeps the port
  const child = spawn('nsenter', [`--net=${lab.nsPath(lab.host)}`, 'socat', '-u', address, '/dev/null'], { stdio: 'ignore' });
  hostServers.push(child);
  return child;
}

function stopHostProgram(child: ChildProcess): void {
  if (child.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function listening(proto: 'tcp' | 'udp', port: number): Promise<boolean> {
  const r = await lab.exec(['ss', '-Hn', proto === 'tcp' ? '-lt' : '-lu', `sport = :${port}`]);
  return r.stdout.trim() !== '';
}

/** Everything a refused `run` must leave as it was. */
async function snapshot(): Promise<string> {
  const rules = lab.iptablesSave().split('\n').filter((l) => l.startsWith('-A')).join('\n');
  const links = lab.ipJson<Array<{ ifname: string }>>(['link', 'show']).map((l) => l.ifname).join(' ');
  const ps = await lab.plumbOk(['ps', '-a', '--format', '{{.Names}} {{.Ports}}']);
  return `${rules}\n${links}\n${ps}`;
}

beforeAll(() => {
  lab = Lab.create({ tag: 'port' });
});

afterAll(async () => {
  for (const s of hostServers) stopHostProgram(s);
  await lab.teardown();
});

describe('a published port from every origin', () => {
  const wan = (): Origin => ({ ns: lab.wan! });
  const host = (): Origin => ({ ns: lab.host });

  beforeAll(async () => {
    await lab.plumbOk(['run', '-d', '--name', 'web', '-p', '8080:80', '-p', '8080:80/udp', '-p', '127.0.0.1:8082:80', '-p', '127.0.0.1:8082:80/udp', 'debian', ...ECHO_PEER]);
    await lab.plumbOk(['run', '-d', '--name', 'peer', 'debian']);
    await lab.plumbOk(['network', 'create', 'other']);
    await lab.plumbOk(['run', '-d', '--name', 'far', '--network', 'other', 'debian']);
    await waitFor(async () => (await tcp(host(), HOST_UPLINK_IP, 8080)).startsWith('tcp'), 'web to answer');
  });

  it('from the wan to the uplink address, with the real client address kept', async () => {
    expect(await tcp(wan(), HOST_UPLINK_IP, 8080)).toBe(`tcp ${WAN_IP}`);
    expect(await udp(wan(), HOST_UPLINK_IP, 8080)).toBe(`udp ${WAN_IP}`);
  });

  it('from the host to its own uplink address', async () => {
    expect(await tcp(host(), HOST_UPLINK_IP, 8080)).toBe(`tcp ${HOST_UPLINK_IP}`);
    expect(await udp(host(), HOST_UPLINK_IP, 8080)).toBe(`udp ${HOST_UPLINK_IP}`);
  });

  it('from the host to 127.0.0.1 and localhost, masqueraded to the bridge address, with no proxy process', async () => {
    expect(await tcp(host(), '127.0.0.1', 8080)).toBe('tcp 172.17.0.1');
    expect(await udp(host(), '127.0.0.1', 8080)).toBe('udp 172.17.0.1');
    expect(await tcp(host(), 'localhost', 8080)).toBe('tcp 172.17.0.1');
    expect(await udp(host(), 'localhost', 8080)).toBe('udp 172.17.0.1');
    // nothing of plumb's listens on the host: the kernel rules did it all
    expect(await listening('tcp', 8080)).toBe(false);
    expect(await listening('udp', 8080)).toBe(false);
    expect(lab.execSync(['sysctl', '-n', 'net.ipv4.conf.plumb0.route_localnet']).stdout.trim()).toBe('1');
  });

  it('from another container on the same network, through the host address; every bridge port has hairpin on', async () => {
    const peerIp = await ipOf('peer');
    expect(await tcp({ container: 'peer' }, HOST_UPLINK_IP, 8080)).toBe(`tcp ${peerIp}`);
    expect(await udp({ container: 'peer' }, HOST_UPLINK_IP, 8080)).toBe(`udp ${peerIp}`);
    const ports = lab.ipJson<Array<{ ifname: string; hairpin?: boolean }>>(['-d', 'link', 'show', 'master', 'plumb0']);
    expect(ports.length).toBeGreaterThanOrEqual(2);
    const brport = JSON.parse(lab.execSync(['bridge', '-d', '-j', 'link', 'show']).stdout) as Array<{ ifname: string; hairpin: boolean }>;
    for (const p of ports) expect(brport.find((b) => b.ifname === p.ifname)?.hairpin).toBe(true);
  });

  it('from a container on another network, through the host address', async () => {
    expect(await tcp({ container: 'far' }, HOST_UPLINK_IP, 8080)).toBe('tcp 172.17.0.1');
    expect(await udp({ container: 'far' }, HOST_UPLINK_IP, 8080)).toBe('udp 172.17.0.1');
  });

  it('from the container itself, through the host address (needs hairpin: the frame leaves by the port it came in)', async () => {
    expect(await tcp({ container: 'web' }, HOST_UPLINK_IP, 8080)).toBe('tcp 172.17.0.1');
    expect(await udp({ container: 'web' }, HOST_UPLINK_IP, 8080)).toBe('udp 172.17.0.1');
  });

  it('a port bound to 127.0.0.1 answers on the host loopback only: not from the wan, not on the uplink address', async () => {
    expect(await tcp(host(), '127.0.0.1', 8082)).toBe('tcp 172.17.0.1');
    expect(await udp(host(), '127.0.0.1', 8082)).toBe('udp 172.17.0.1');
    expect(await tcp(wan(), HOST_UPLINK_IP, 8082)).toBe('');
    expect(await udpOnce(wan(), HOST_UPLINK_IP, 8082, 2)).toBe('');
    expect(await tcp(host(), HOST_UPLINK_IP, 8082)).toBe('');
  });

  it('shows the bindings the way docker port and docker ps do', async () => {
    expect(await lab.plumbOk(['port', 'web'])).toBe(
      '80/tcp -> 0.0.0.0:8080\n80/tcp -> 127.0.0.1:8082\n80/udp -> 0.0.0.0:8080\n80/udp -> 127.0.0.1:8082\n',
    );
    expect(await lab.plumbOk(['port', 'web', '80/udp'])).toBe('0.0.0.0:8080\n127.0.0.1:8082\n');
    expect(await portsOf('web')).toBe('0.0.0.0:8080->80/tcp, 0.0.0.0:8080->80/udp, 127.0.0.1:8082->80/tcp, 127.0.0.1:8082->80/udp');
    const r = await lab.plumb(['port', 'web', '81']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe("Error: No public port '81/tcp' published for web");
  });

  it('withdraws the rules on stop and re-adds them with the new address on start', async () => {
    const before = await ipOf('web');
    await lab.plumbOk(['stop', 'web']);
    expect(lab.iptablesSave()).not.toMatch(/plumb: web /);
    expect(await tcp(wan(), HOST_UPLINK_IP, 8080)).toBe('');
    await lab.plumbOk(['run', '-d', '--name', 'filler', 'debian']); // takes web's old address
    await lab.plumbOk(['start', 'web']);
    const after = await ipOf('web');
    expect(after).not.toBe(before);
    expect(lab.iptablesSave()).toContain(`--to-destination ${after}:80`);
    expect(lab.iptablesSave()).not.toContain(`--to-destination ${before}:80`);
    await waitFor(async () => (await tcp(wan(), HOST_UPLINK_IP, 8080)) === `tcp ${WAN_IP}`, 'web to answer again');
    expect(await udp(wan(), HOST_UPLINK_IP, 8080)).toBe(`udp ${WAN_IP}`);
    await lab.plumbOk(['rm', '-f', 'filler']);
  });

  it('refuses a port another container holds, with Docker\'s error, and changes nothing', async () => {
    for (const spec of ['8080:80', '127.0.0.1:8080:81', '8082:80/udp']) {
      const before = await snapshot();
      const r = await lab.plumb(['run', '-d', '--name', 'dup', '-p', spec, 'debian']);
      expect(r.code).toBe(125);
      const [ip, port] = spec.includes('127.0.0.1') ? ['127.0.0.1', '8080'] : ['0.0.0.0', spec.split(':')[0]];
      expect(r.stderr.trim()).toMatch(
        new RegExp(`^Error: driver failed programming external connectivity on endpoint dup \\([0-9a-f]{64}\\): Bind for ${ip.replace(/\./g, '\\.')}:${port} failed: port is already allocated$`),
      );
      expect(await snapshot()).toBe(before);
    }
  });
});

describe('choosing host ports', () => {
  beforeAll(async () => {
    // A small local port range, set in the lab host only: plumb must read it there.
    await lab.exec(['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=40000 40004']);
  });

  it('hands out random ports from ip_local_port_range, counting up, not reusing a released one at once', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'r1', '-p', '80', 'debian']);
    expect(await lab.plumbOk(['port', 'r1', '80'])).toBe('0.0.0.0:40000\n');
    await lab.plumbOk(['run', '-d', '--name', 'r2', '-p', '127.0.0.1::80/udp', 'debian']);
    expect(await lab.plumbOk(['port', 'r2', '80/udp'])).toBe('127.0.0.1:40000\n');
    await lab.plumbOk(['restart', 'r1']);
    expect(await lab.plumbOk(['port', 'r1', '80'])).toBe('0.0.0.0:40001\n');
    await lab.plumbOk(['rm', '-f', 'r1', 'r2']);
  });

  it('skips ports that programs on the host hold, and refuses them when asked for by number', async () => {
    const tcpHolder = hostListener('TCP-LISTEN:40002,reuseaddr');
    const udpHolder = hostListener('UDP-RECV:5353');
    try {
      await waitFor(() => listening('tcp', 40002), 'the host listener');
      await waitFor(() => listening('udp', 5353), 'the host UDP socket');
      await lab.plumbOk(['run', '-d', '--name', 'r3', '-p', '80', 'debian']);
      expect(await lab.plumbOk(['port', 'r3', '80'])).toBe('0.0.0.0:40003\n');
      for (const [spec, bind] of [['40002:80', '0.0.0.0:40002'], ['5353:53/udp', '0.0.0.0:5353']]) {
        const before = await snapshot();
        const r = await lab.plumb(['run', '-d', '--name', 'clash', '-p', spec!, 'debian']);
        expect(r.code).toBe(125);
        expect(r.stderr.trim()).toMatch(new RegExp(`Bind for ${bind!.replace(/\./g, '\\.')} failed: port is already allocated$`));
        expect(await snapshot()).toBe(before);
      }
      // the same UDP port number is free for TCP
      await lab.plumbOk(['run', '-d', '--name', 'r4', '-p', '5353:53', 'debian']);
    } finally {
      for (const h of [tcpHolder, udpHolder]) stopHostProgram(h);
    }
    // wraps around the range: 40004 is next, then 40000 again
    await lab.plumbOk(['run', '-d', '--name', 'r5', '-p', '80', '-p', '81', 'debian']);
    expect(await lab.plumbOk(['port', 'r5'])).toBe('80/tcp -> 0.0.0.0:40004\n81/tcp -> 0.0.0.0:40000\n');
    await lab.plumbOk(['rm', '-f', 'r3', 'r4', 'r5']);
  });

  it('publishes ranges and pools', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'range', '-p', '8000-8002:80-82', 'debian']);
    expect(await portsOf('range')).toBe('0.0.0.0:8000->80/tcp, 0.0.0.0:8001->81/tcp, 0.0.0.0:8002->82/tcp');
    await lab.plumbOk(['run', '-d', '--name', 'pool1', '-p', '9000-9001:80', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'pool2', '-p', '9000-9001:80', 'debian']);
    expect(await lab.plumbOk(['port', 'pool1'])).toBe('80/tcp -> 0.0.0.0:9000\n');
    expect(await lab.plumbOk(['port', 'pool2'])).toBe('80/tcp -> 0.0.0.0:9001\n');
    const r = await lab.plumb(['run', '-d', '--name', 'pool3', '-p', '9000-9001:80', 'debian']);
    expect(r.code).toBe(125);
    expect(r.stderr.trim()).toMatch(/: all ports are allocated$/);
    await lab.plumbOk(['run', '-d', '--name', 'group', '-p', '7000-7002:7000-7002', '--expose', '9000-9001/udp', 'debian']);
    expect(await portsOf('group')).toBe('0.0.0.0:7000-7002->7000-7002/tcp, 9000-9001/udp');
    await lab.plumbOk(['rm', '-f', 'range', 'pool1', 'pool2', 'group']);
  });

  it('-P publishes every exposed port without a -p on a random port', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'all', '-P', '--expose', '80', '--expose', '7000-7001/udp', '-p', '8443:443', 'debian']);
    const lines = (await lab.plumbOk(['port', 'all'])).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('443/tcp -> 0.0.0.0:8443');
    expect(lines.slice(1).map((l) => l.replace(/\d+$/, 'N'))).toEqual([
      '7000/udp -> 0.0.0.0:N',
      '7001/udp -> 0.0.0.0:N',
      '80/tcp -> 0.0.0.0:N',
    ]);
    for (const l of lines.slice(1)) expect(Number(/(\d+)$/.exec(l)![1])).toBeGreaterThanOrEqual(40000);
    for (const l of lines.slice(1)) expect(Number(/(\d+)$/.exec(l)![1])).toBeLessThanOrEqual(40004);
    await lab.plumbOk(['rm', '-f', 'all']);
  });

  it('binds to the network\'s host_binding_ipv4 when -p names no address', async () => {
    await lab.plumbOk(['network', 'create', '-o', 'com.docker.network.bridge.host_binding_ipv4=127.0.0.1', 'lonet']);
    await lab.plumbOk(['run', '-d', '--name', 'loweb', '--network', 'lonet', '-p', '8090:80', 'debian', ...ECHO_PEER]);
    expect(await portsOf('loweb')).toBe('127.0.0.1:8090->80/tcp');
    const gateway = JSON.parse(await lab.plumbOk(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'lonet']))[0].Gateway;
    await waitFor(async () => (await tcp({ ns: lab.host }, '127.0.0.1', 8090)) === `tcp ${gateway}`, 'loweb to answer on 127.0.0.1');
    expect(await tcp({ ns: lab.wan! }, HOST_UPLINK_IP, 8090)).toBe('');
    await lab.plumbOk(['rm', '-f', 'loweb']);
  });
});

describe('--explain run -p', () => {
  it('narrates each rule with why it exists, all in one iptables-restore', async () => {
    const r = await lab.plumb(['--explain', 'run', '-d', '--name', 'lesson', '-p', '8095:80', 'debian']);
    expect(r.code).toBe(0);
    const text = r.stderr;
    expect(text.match(/^iptables-restore /gm)).toHaveLength(1);
    expect(text).toMatch(/# hairpin on veth[0-9a-f]{7}.*\nbridge link set dev veth[0-9a-f]{7} hairpin on\n/);
    expect(text).toMatch(/# publish lesson's ports 8095->80\/tcp with kernel rules alone/);
    const lines = text.split('\n');
    const rules = lines.map((l, i) => ({ l, i })).filter(({ l }) => /^-[AI] /.test(l));
    // the restore holds what changes: at least the port's DNAT, ACCEPT, two isolation RETURNs and hairpin MASQUERADE
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const { l, i } of rules) expect(lines[i - 1], `no why above: ${l}`).toMatch(/^# \S/);
    const dnat = lines.findIndex((l) => l.includes('--dport 8095') && l.includes('DNAT'));
    expect(lines[dnat - 1]).toMatch(/^# publish 8095->80\/tcp: packets for any host address port 8095/);
    await lab.plumbOk(['rm', '-f', 'lesson']);
  });
});
