// Names between sandboxes, checked with real DNS queries and packets inside a
// throwaway lab: the embedded DNS of user-defined networks (names, aliases,
// scoping, removal on stop, forwarding to a fake upstream in the wan), legacy
// links on the default bridge (hosts lines, environment, restart, removal),
// and `network connect` / `disconnect` (second interface, default route,
// resolv.conf and hosts as Docker leaves them).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addresses, dig as digIn, FakeUpstream, type Dig } from '../helpers/dns.js';
import { HOST_UPLINK_IP, Lab, WAN_IP } from '../helpers/lab.js';

// Containers here run the host's programs (socat, dig, ip -j): the label debian keeps the host's
// filesystem (busybox and alpine would run busybox's).

/** A second address of the wan namespace, for the --dns upstream. */
const WAN_DNS2 = '203.0.113.53';
/** What each fake upstream answers for `*.upstream.test` (TEST-NET-2 addresses, never contacted). */
const ANSWER_BY_SERVER: Record<string, string> = { [WAN_IP]: '198.51.100.2', [WAN_DNS2]: '198.51.100.53' };

let lab: Lab;
let upstream: FakeUpstream;
let resolvConf: string;

function plumb(args: string[]) {
  return lab.plumb(args, { env: { PLUMB_HOST_RESOLV_CONF: resolvConf } });
}

async function plumbOk(args: string[]): Promise<string> {
  const r = await plumb(args);
  if (r.code !== 0) throw new Error(`plumb ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** `dig` run inside a sandbox: it reads the sandbox's own /etc/resolv.conf (127.0.0.11 on user networks). */
function dig(container: string, name: string, type = 'A', extra: string[] = []): Promise<Dig> {
  return digIn((argv) => plumb(['exec', container, ...argv]), name, type, { extra });
}

async function ipOn(container: string, network: string): Promise<string> {
  return (await plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${network}.IPAddress}}`, container])).trim();
}

async function gatewayOf(network: string): Promise<string> {
  return JSON.parse(await plumbOk(['network', 'inspect', network]))[0].IPAM.Config[0].Gateway as string;
}

async function canPing(from: string, to: string): Promise<boolean> {
  return (await plumb(['exec', from, 'ping', '-c1', '-W1', to])).code === 0;
}

async function defaultGateway(container: string): Promise<string | undefined> {
  const routes = JSON.parse(await plumbOk(['exec', container, 'ip', '-j', 'route'])) as Array<{ dst: string; gateway?: string; dev: string }>;
  const d = routes.find((r) => r.dst === 'default');
  return d && `${d.gateway} ${d.dev}`;
}

async function interfaces(container: string): Promise<string[]> {
  const links = JSON.parse(await plumbOk(['exec', container, 'ip', '-j', 'link'])) as Array<{ ifname: string }>;
  return links.map((l) => l.ifname).sort();
}

async function file(container: string, path: string): Promise<string> {
  return plumbOk(['exec', container, 'cat', path]);
}

function resolverPids(): number[] {
  return lab.processesInLab().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(' dns serve ');
    } catch {
      return false;
    }
  });
}

beforeAll(async () => {
  lab = Lab.create({ tag: 'name' });
  resolvConf = join(lab.root, 'host-resolv.conf');
  writeFileSync(resolvConf, `nameserver ${WAN_IP}\n`);
  const add = await lab.exec(['ip', 'addr', 'add', `${WAN_DNS2}/24`, 'dev', 'eth0'], lab.wan!);
  if (add.code !== 0) throw new Error(add.stderr);
  // What each fake upstream answers for `*.upstream.test` (TEST-NET-2 addresses, never contacted); anything else NXDOMAIN.
  upstream = await FakeUpstream.start(lab.nsPath(lab.wan!), [WAN_IP, WAN_DNS2], [
    { server: WAN_IP, zone: 'upstream.test', ip: ANSWER_BY_SERVER[WAN_IP]! },
    { server: WAN_DNS2, zone: 'upstream.test', ip: ANSWER_BY_SERVER[WAN_DNS2]! },
  ]);
});

afterAll(async () => {
  upstream?.stop();
  await lab.teardown();
});

describe('embedded DNS on a user-defined network', () => {
  it('gives sandboxes Docker\'s resolv.conf and a hosts file with only their own line', async () => {
    await plumbOk(['network', 'create', 'dnsnet']);
    await plumbOk(['run', '-d', '--name', 'c1', '--network', 'dnsnet', 'debian']);
    await plumbOk(['run', '-d', '--name', 'c2', '--network', 'dnsnet', '--network-alias', 'web', '--network-alias', 'www', 'debian']);
    await plumbOk(['run', '-d', '--name', 'c3', '--network', 'dnsnet', '--network-alias', 'web', 'debian']);
    expect(await file('c1', '/etc/resolv.conf')).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    const hosts = (await file('c1', '/etc/hosts')).trim().split('\n');
    const id12 = (await plumbOk(['inspect', '-f', '{{.Id}}', 'c1'])).trim().slice(0, 12);
    expect(hosts.at(-1)).toBe(`${await ipOn('c1', 'dnsnet')}\t${id12}`);
    expect(hosts.at(-2)).toBe('ff02::2\tip6-allrouters');
  });

  it('resolves names, name.network, aliases and the short id (dig from inside)', async () => {
    const c2 = await ipOn('c2', 'dnsnet');
    const c3 = await ipOn('c3', 'dnsnet');
    const id12 = (await plumbOk(['inspect', '-f', '{{.Id}}', 'c2'])).trim().slice(0, 12);
    for (const name of ['c2', 'c2.dnsnet', 'www', id12]) {
      const d = await dig('c1', name);
      expect(d.status, name).toBe('NOERROR');
      expect(addresses(d), name).toEqual([c2]);
    }
    // Two containers carry the alias web: two A records.
    expect(addresses(await dig('c1', 'web'))).toEqual([c2, c3].sort());
    expect(await dig('c1', 'c2', 'AAAA')).toEqual({ status: 'NOERROR', answers: [] });
    const ptr = await dig('c1', c2, 'PTR');
    expect(ptr.answers.map((a) => a.value)).toEqual(['c2.dnsnet.']);
  });

  it('answers nslookup and ping by name, over UDP and TCP', async () => {
    const c2 = await ipOn('c2', 'dnsnet');
    const ns = await plumbOk(['exec', 'c1', 'nslookup', 'c2']);
    expect(ns).toMatch(/Server:\s+127\.0\.0\.11/);
    expect(ns).toContain(`Name:\tc2\nAddress: ${c2}`);
    expect(addresses(await dig('c1', 'c2', 'A', ['+tcp']))).toEqual([c2]);
    expect(await canPing('c2', 'c1')).toBe(true);
  });

  it('reaches the resolver through DNAT to the gateway inside the sandbox (route_localnet on)', async () => {
    const sandbox = join(lab.netnsDir, 'c1');
    const nat = (await lab.exec(['nsenter', `--net=${sandbox}`, 'iptables-save', '-t', 'nat'], lab.host)).stdout;
    const gw = await gatewayOf('dnsnet');
    expect(nat).toContain(`-A PLUMB_DNS_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination ${gw}:5311`);
    expect(nat).toContain(`--dport 5311 -j SNAT --to-source ${await ipOn('c1', 'dnsnet')}`);
    const sysctl = await lab.exec(['nsenter', `--net=${sandbox}`, 'sysctl', '-n', 'net.ipv4.conf.all.route_localnet'], lab.host);
    expect(sysctl.stdout.trim()).toBe('1');
  });

  it('scopes names to shared networks: a name on another network is forwarded upstream, and fails there', async () => {
    await plumbOk(['network', 'create', 'othernet']);
    await plumbOk(['run', '-d', '--name', 'o1', '--network', 'othernet', 'debian']);
    const before = upstream.asked.length;
    expect((await dig('c1', 'o1')).status).toBe('NXDOMAIN');
    expect((await dig('o1', 'c1')).status).toBe('NXDOMAIN');
    // Both went out to the upstream: the embedded DNS did not answer them itself.
    expect(upstream.asked.slice(before).map((l) => l.name)).toEqual(expect.arrayContaining(['o1', 'c1']));
    expect(addresses(await dig('o1', 'o1'))).toEqual([await ipOn('o1', 'othernet')]);
  });

  it('forwards unknown names to the host\'s resolvers, from the host\'s address', async () => {
    const before = upstream.asked.length;
    const d = await dig('c1', 'www.upstream.test');
    expect(d).toEqual({ status: 'NOERROR', answers: [{ name: 'www.upstream.test.', type: 'A', value: ANSWER_BY_SERVER[WAN_IP] }] });
    expect(upstream.asked.slice(before)).toEqual([{ server: WAN_IP, from: HOST_UPLINK_IP, name: 'www.upstream.test' }]);
  });

  it('forwards to a sandbox\'s own --dns servers instead', async () => {
    await plumbOk(['run', '-d', '--name', 'c4', '--network', 'dnsnet', '--dns', WAN_DNS2, 'debian']);
    expect(await file('c4', '/etc/resolv.conf')).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    expect(addresses(await dig('c4', 'a.upstream.test'))).toEqual([ANSWER_BY_SERVER[WAN_DNS2]]);
    expect(addresses(await dig('c4', 'c1'))).toEqual([await ipOn('c1', 'dnsnet')]);
  });

  it('forgets a stopped container at once and knows it again after start', async () => {
    const c3 = await ipOn('c3', 'dnsnet');
    await plumbOk(['stop', 'c2']);
    expect((await dig('c1', 'c2')).status).toBe('NXDOMAIN');
    expect(addresses(await dig('c1', 'web'))).toEqual([c3]);
    await plumbOk(['start', 'c2']);
    expect(addresses(await dig('c1', 'c2'))).toEqual([await ipOn('c2', 'dnsnet')]);
  });

  it('makes --link on a user network a name only the linking container resolves', async () => {
    await plumbOk(['run', '-d', '--name', 'l1', '--network', 'dnsnet', '--link', 'c2:backend', 'debian']);
    expect(addresses(await dig('l1', 'backend'))).toEqual([await ipOn('c2', 'dnsnet')]);
    expect((await dig('c1', 'backend')).status).toBe('NXDOMAIN');
    expect(await file('l1', '/etc/hosts')).not.toMatch(/backend/);
    expect(await plumbOk(['exec', 'l1', 'env'])).not.toMatch(/^BACKEND_/m);
  });

  it('runs one resolver process for every sandbox, in plumb\'s namespace, shown by system info', async () => {
    const pids = resolverPids();
    expect(pids).toHaveLength(1);
    const info = await plumbOk(['system', 'info']);
    expect(info).toMatch(new RegExp(`^Embedded DNS: running \\(pid ${pids[0]}, udp\\+tcp port 5311, `, 'm'));
    expect((await lab.exec(['readlink', `/proc/${pids[0]}/ns/net`])).stdout).toBe(
      (await lab.exec(['readlink', '/proc/self/ns/net'])).stdout,
    );
  });

  it('comes back after the resolver dies: the next start brings it up on the same port, old sandboxes resolve again', async () => {
    const [pid] = resolverPids();
    process.kill(pid!, 'SIGKILL');
    for (let i = 0; i < 50 && resolverPids().includes(pid!); i++) await new Promise((r) => setTimeout(r, 20));
    expect((await dig('c1', 'c2')).status).toMatch(/^no reply/);
    expect(await plumbOk(['system', 'info'])).toMatch(/^Embedded DNS: not running/m);
    await plumbOk(['run', '-d', '--name', 'c5', '--network', 'dnsnet', 'debian']);
    expect(resolverPids()).toHaveLength(1);
    expect(resolverPids()[0]).not.toBe(pid);
    expect(addresses(await dig('c1', 'c5'))).toEqual([await ipOn('c5', 'dnsnet')]);
  });

  it('has no embedded DNS on the default bridge: the host\'s resolvers and no nat rules', async () => {
    await plumbOk(['run', '-d', '--name', 'b1', 'debian']);
    expect(await file('b1', '/etc/resolv.conf')).toBe(`nameserver ${WAN_IP}\n`);
    const nat = (await lab.exec(['nsenter', `--net=${join(lab.netnsDir, 'b1')}`, 'iptables-save', '-t', 'nat'], lab.host)).stdout;
    expect(nat).not.toContain('127.0.0.11');
    expect((await dig('b1', 'c1')).status).toBe('NXDOMAIN');
  });
});

describe('network connect / disconnect', () => {
  it('adds eth1 with the next address; the default route stays on bridge; names resolve both ways', async () => {
    await plumbOk(['run', '-d', '--name', 'd1', 'debian']);
    expect(await file('d1', '/etc/resolv.conf')).toBe(`nameserver ${WAN_IP}\n`);
    expect(await plumbOk(['network', 'connect', 'dnsnet', 'd1'])).toBe('');
    expect(await interfaces('d1')).toEqual(['eth0', 'eth1', 'lo']);
    const d1 = await ipOn('d1', 'dnsnet');
    const addr = JSON.parse(await plumbOk(['exec', 'd1', 'ip', '-j', 'addr', 'show', 'eth1']))[0].addr_info[0].local;
    expect(addr).toBe(d1);
    expect(await defaultGateway('d1')).toBe('172.17.0.1 eth0');
    expect(await file('d1', '/etc/resolv.conf')).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    const id12 = (await plumbOk(['inspect', '-f', '{{.Id}}', 'd1'])).trim().slice(0, 12);
    const own = (await file('d1', '/etc/hosts')).split('\n').filter((l) => l.endsWith(`\t${id12}`));
    expect(own).toEqual([`${await ipOn('d1', 'bridge')}\t${id12}`, `${d1}\t${id12}`]);
    expect(addresses(await dig('d1', 'c1'))).toEqual([await ipOn('c1', 'dnsnet')]);
    expect(addresses(await dig('c1', 'd1'))).toEqual([d1]);
    expect(await canPing('d1', 'c1')).toBe(true);
  });

  it('connects with --alias (shared by name lookups) and --ip on a network with a user subnet', async () => {
    await plumbOk(['network', 'create', '--subnet', '172.30.0.0/24', 'ipnet']);
    await plumbOk(['run', '-d', '--name', 'p1', '--network', 'ipnet', 'debian']);
    await plumbOk(['network', 'connect', '--ip', '172.30.0.200', '--alias', 'dee', 'ipnet', 'd1']);
    expect(await ipOn('d1', 'ipnet')).toBe('172.30.0.200');
    expect(await interfaces('d1')).toEqual(['eth0', 'eth1', 'eth2', 'lo']);
    expect(addresses(await dig('p1', 'dee'))).toEqual(['172.30.0.200']);
    const bad = await plumb(['network', 'connect', '--ip', '172.18.0.200', 'othernet', 'c1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/user specified IP address is supported only when connecting to networks with user configured subnets/);
    await plumbOk(['network', 'disconnect', 'ipnet', 'd1']);
  });

  it('refuses bad requests in Docker words, changing nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['network', 'connect', 'dnsnet', 'd1'], /endpoint with name d1 already exists in network dnsnet/],
      [['network', 'connect', 'nosuchnet', 'd1'], /network nosuchnet not found/],
      [['network', 'connect', 'dnsnet', 'nosuch'], /No such container: nosuch/],
      [['network', 'connect', '--alias', 'x', 'bridge', 'c1'], /network-scoped alias is supported only for containers in user defined networks/],
      [['network', 'connect', 'host', 'c1'], /container cannot be disconnected from host network or connected to host network/],
      [['network', 'disconnect', 'othernet', 'c1'], /container [0-9a-f]{64} is not connected to network othernet/],
    ];
    const before = await interfaces('d1');
    for (const [args, message] of cases) {
      const r = await plumb(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(await interfaces('d1')).toEqual(before);
  });

  it('disconnect removes the interface and every hosts line of the hostname; resolv.conf stays on 127.0.0.11', async () => {
    await plumbOk(['network', 'disconnect', 'dnsnet', 'd1']);
    expect(await interfaces('d1')).toEqual(['eth0', 'lo']);
    const hosts = await file('d1', '/etc/hosts');
    expect(hosts.trim().split('\n').at(-1)).toBe('ff02::2\tip6-allrouters');
    expect(await file('d1', '/etc/resolv.conf')).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
    expect((await dig('c1', 'd1')).status).toBe('NXDOMAIN');
    expect(await defaultGateway('d1')).toBe('172.17.0.1 eth0');
  });

  it('never reuses interface names: disconnecting the last network leaves lo, reconnecting gives eth3', async () => {
    await plumbOk(['network', 'disconnect', 'bridge', 'd1']);
    expect(await interfaces('d1')).toEqual(['lo']);
    await plumbOk(['network', 'connect', 'bridge', 'd1']);
    expect(await interfaces('d1')).toEqual(['eth3', 'lo']);
    expect(await defaultGateway('d1')).toBe('172.17.0.1 eth3');
    expect(await canPing('d1', '172.17.0.1')).toBe(true);
  });

  it('moves the default route in Docker\'s order (by network name) and back on disconnect', async () => {
    // o1 is on othernet; dnsnet sorts first, so it takes the default route, as dockerd does.
    await plumbOk(['network', 'connect', 'dnsnet', 'o1']);
    const dnsGw = await gatewayOf('dnsnet');
    const otherGw = await gatewayOf('othernet');
    expect(await defaultGateway('o1')).toBe(`${dnsGw} eth1`);
    expect(addresses(await dig('o1', 'c1'))).toEqual([await ipOn('c1', 'dnsnet')]);
    await plumbOk(['network', 'disconnect', 'dnsnet', 'o1']);
    expect(await defaultGateway('o1')).toBe(`${otherGw} eth0`);
    expect((await dig('o1', 'c1')).status).toBe('NXDOMAIN');
    expect(addresses(await dig('o1', 'o1'))).toEqual([await ipOn('o1', 'othernet')]);
  });

  it('keeps a connected network across restart, with the default route on the first by name', async () => {
    await plumbOk(['network', 'connect', 'dnsnet', 'b1']);
    await plumbOk(['restart', '-t', '0', 'b1']);
    expect((await interfaces('b1')).filter((n) => n.startsWith('eth'))).toHaveLength(2);
    expect(await defaultGateway('b1')).toMatch(/^172\.17\.0\.1 /);
    expect(addresses(await dig('b1', 'c1'))).toEqual([await ipOn('c1', 'dnsnet')]);
  });
});

describe('legacy links on the default bridge', () => {
  it('--link db1:database: a hosts line, Docker\'s variables in exec env, and the name resolves', async () => {
    await plumbOk(['run', '-d', '--name', 'db1', '--expose', '80', '--expose', '5432', '--expose', '53/udp', '-e', 'FOO=bar', '-e', 'PASSWORD=secret', 'debian']);
    await plumbOk(['run', '-d', '--name', 'web1', '--link', 'db1:database', 'debian']);
    const ip = await ipOn('db1', 'bridge');
    const id12 = (await plumbOk(['inspect', '-f', '{{.Id}}', 'db1'])).trim().slice(0, 12);
    expect(await file('web1', '/etc/hosts')).toContain(`\n${ip}\tdatabase ${id12} db1\n`);
    // The launcher's shell re-orders the environment, so compare as sets (the order is checked in test/unit/dns-links).
    const env = (await plumbOk(['exec', 'web1', 'env'])).split('\n').filter((l) => l.startsWith('DATABASE_'));
    expect(env.sort()).toEqual([
      `DATABASE_PORT=udp://${ip}:53`,
      `DATABASE_PORT_53_UDP=udp://${ip}:53`,
      `DATABASE_PORT_53_UDP_ADDR=${ip}`,
      'DATABASE_PORT_53_UDP_PORT=53',
      'DATABASE_PORT_53_UDP_PROTO=udp',
      `DATABASE_PORT_80_TCP=tcp://${ip}:80`,
      `DATABASE_PORT_80_TCP_ADDR=${ip}`,
      'DATABASE_PORT_80_TCP_PORT=80',
      'DATABASE_PORT_80_TCP_PROTO=tcp',
      `DATABASE_PORT_5432_TCP=tcp://${ip}:5432`,
      `DATABASE_PORT_5432_TCP_ADDR=${ip}`,
      'DATABASE_PORT_5432_TCP_PORT=5432',
      'DATABASE_PORT_5432_TCP_PROTO=tcp',
      'DATABASE_NAME=/web1/database',
      'DATABASE_ENV_FOO=bar',
      'DATABASE_ENV_PASSWORD=secret',
    ].sort());
    expect((await plumbOk(['exec', 'web1', 'getent', 'hosts', 'database'])).trim()).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+database ${id12} db1$`));
    expect(await canPing('web1', 'database')).toBe(true);
    expect(await canPing('web1', 'db1')).toBe(true);
    expect(await canPing('db1', 'web1')).toBe(false);
  });

  it('follows the target to a new address when it restarts, in hosts and exec env', async () => {
    const old = await ipOn('db1', 'bridge');
    await plumbOk(['stop', '-t', '0', 'db1']);
    await plumbOk(['run', '-d', '--name', 'filler', 'debian']);
    await plumbOk(['start', 'db1']);
    const now = await ipOn('db1', 'bridge');
    expect(now).not.toBe(old);
    expect(await file('web1', '/etc/hosts')).toMatch(new RegExp(`\\n${now.replace(/\./g, '\\.')}\\tdatabase `));
    expect(await plumbOk(['exec', 'web1', 'env'])).toContain(`DATABASE_PORT=udp://${now}:53`);
    expect(await canPing('web1', 'database')).toBe(true);
  });

  it('refuses exec into the linking container once the target is removed', async () => {
    await plumbOk(['rm', '-f', 'db1']);
    const r = await plumb(['exec', 'web1', 'cat', '/etc/hosts']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('Error: Cannot link to a non running container: /db1 AS /web1/database');
  });
});
