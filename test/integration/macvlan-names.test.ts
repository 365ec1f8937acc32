// Names on a user-defined macvlan network, checked with real queries in a
// throwaway lab: a macvlan child cannot talk to its parent host, so the
// resolver listens on 127.0.0.11:53 inside each such sandbox (a socket it
// opens in the sandbox's namespace) instead of on a bridge gateway. Names,
// aliases, name.network and reverse lookups over UDP and TCP, scoping to
// containers that share the network, forwarding to the upstream, stop/start,
// and a resolver killed and brought back by `system gc`.
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addresses, dig as digIn, FakeUpstream, type Dig } from '../helpers/dns.js';
import { HOST_UPLINK_IP, Lab, WAN_IP } from '../helpers/lab.js';

// Containers run the host's dig: the label debian keeps the host's filesystem.

const UPSTREAM_ANSWER = '198.51.100.7';

let lab: Lab;
let upstream: FakeUpstream;
let resolvConf: string;

const plumb = (args: string[]) => lab.plumb(args, { env: { PLUMB_HOST_RESOLV_CONF: resolvConf } });

async function plumbOk(args: string[]): Promise<string> {
  const r = await plumb(args);
  if (r.code !== 0) throw new Error(`plumb ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

const dig = (container: string, name: string, type = 'A', extra: string[] = []): Promise<Dig> =>
  digIn((argv) => plumb(['exec', container, ...argv]), name, type, { extra });

async function ipOn(container: string, network: string): Promise<string> {
  return (await plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${network}.IPAddress}}`, container])).trim();
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

/** Sockets the resolver holds open: two for each sandbox it listens inside (UDP and TCP), plus its own. */
function resolverSockets(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  lab = Lab.create({ tag: 'mvdn' });
  resolvConf = join(lab.root, 'host-resolv.conf');
  writeFileSync(resolvConf, `nameserver ${WAN_IP}\n`);
  upstream = await FakeUpstream.start(lab.nsPath(lab.wan!), [WAN_IP], [{ server: WAN_IP, zone: 'upstream.test', ip: UPSTREAM_ANSWER }]);
  await plumbOk(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', '--subnet', '203.0.113.0/24', '--ip-range', '203.0.113.128/25', '--gateway', WAN_IP, 'mv']);
  await plumbOk(['run', '-d', '--name', 'm1', '--network', 'mv', 'debian']);
  await plumbOk(['run', '-d', '--name', 'm2', '--network', 'mv', '--network-alias', 'web', 'debian']);
  await plumbOk(['network', 'create', '--subnet', '10.71.0.0/24', 'other']);
  await plumbOk(['run', '-d', '--name', 'o1', '--network', 'other', 'debian']);
}, 120_000);

afterAll(async () => {
  upstream?.stop();
  await lab?.teardown();
});

describe('embedded DNS on a user-defined macvlan network', () => {
  it('gives the sandbox Docker\'s resolv.conf: 127.0.0.11 with ndots:0', async () => {
    expect(await plumbOk(['exec', 'm1', 'cat', '/etc/resolv.conf'])).toBe('nameserver 127.0.0.11\noptions ndots:0\n');
  });

  it('--dry-run narrates the resolver listening inside the sandbox (no DNAT there), and letting go on rm', async () => {
    const run = await plumbOk(['--dry-run', 'run', '-d', '--name', 'm9', '--network', 'mv', 'debian']);
    expect(run).toContain("# plumb's resolver listens on 127.0.0.11:53 (udp+tcp) inside m9\n");
    expect(run).not.toContain('PLUMB_DNS_OUTPUT');
    expect(run).not.toContain('route_localnet');
    expect(await plumbOk(['--dry-run', 'rm', '-f', 'm1'])).toContain("# plumb's resolver closes its sockets on 127.0.0.11:53 inside m1\n");
  });

  it('resolves names, name.network, aliases and addresses over UDP and TCP', async () => {
    const m1 = await ipOn('m1', 'mv');
    const m2 = await ipOn('m2', 'mv');
    for (const tcp of [[], ['+tcp']]) {
      for (const name of ['m2', 'm2.mv', 'web']) {
        const d = await dig('m1', name, 'A', tcp);
        expect(d.status, `${name} ${tcp}`).toBe('NOERROR');
        expect(addresses(d), `${name} ${tcp}`).toEqual([m2]);
      }
      expect(addresses(await dig('m2', 'm1', 'A', tcp))).toEqual([m1]);
      expect((await dig('m1', m2, 'PTR', tcp)).answers.map((a) => a.value)).toEqual(['m2.mv.']);
    }
  });

  it('forwards other names to the upstream from the resolver', async () => {
    const since = upstream.asked.length;
    expect(addresses(await dig('m1', 'www.upstream.test'))).toEqual([UPSTREAM_ANSWER]);
    // Asked by the resolver in the host's namespace (the host's uplink address), not by the container.
    expect(upstream.asked.slice(since).filter((q) => q.name === 'www.upstream.test').map((q) => q.from)).toEqual([HOST_UPLINK_IP]);
  });

  it('keeps the names to containers sharing the network', async () => {
    expect((await dig('o1', 'm2')).status).toBe('NXDOMAIN');
    expect((await dig('o1', 'web')).status).toBe('NXDOMAIN');
    expect((await dig('m1', 'o1')).status).toBe('NXDOMAIN');
  });

  it('forgets a stopped container and knows it again once started', async () => {
    await plumbOk(['stop', '-t', '0', 'm2']);
    expect((await dig('m1', 'm2')).status).toBe('NXDOMAIN');
    await plumbOk(['start', 'm2']);
    expect(addresses(await dig('m1', 'm2'))).toEqual([await ipOn('m2', 'mv')]);
    expect(addresses(await dig('m2', 'm1', 'A', ['+tcp']))).toEqual([await ipOn('m1', 'mv')]);
  });

  it('after the resolver dies, system check says so and system gc brings the names back', async () => {
    const [pid] = resolverPids();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    expect(await lab.eventually(() => !resolverPids().includes(pid!), 10_000)).toBe(true);
    expect((await dig('m1', 'm2')).status).toMatch(/^no reply/);
    const check = await plumb(['system', 'check']);
    for (const c of ['m1', 'm2']) expect(check.stdout).toContain(`container ${c}: the embedded DNS resolver does not listen on 127.0.0.11:53 inside the sandbox`);
    const doctor = await plumb(['doctor', 'm1', 'm2']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL\s+resolver: process plumb dns serve: not running/);
    await plumbOk(['system', 'gc']);
    expect(resolverPids()).toHaveLength(1);
    expect(addresses(await dig('m1', 'm2'))).toEqual([await ipOn('m2', 'mv')]);
    expect(addresses(await dig('m2', 'web', 'A', ['+tcp']))).toEqual([await ipOn('m2', 'mv')]);
    expect((await plumb(['system', 'check'])).stdout).toBe('ok: the kernel matches the store\n');
    const healthy = await plumb(['doctor', 'm1', 'm2']);
    expect(healthy.stdout).toContain('ok    m1 dns: resolv.conf names 127.0.0.11, where the resolver listens inside the sandbox');
    expect(healthy.code).toBe(0);
  });

  it('follows network connect and disconnect: a bridge takes over the path, the macvlan one comes back after', async () => {
    const m2 = await ipOn('m2', 'mv');
    // o1 (bridge) joins mv: it asks through its bridge gateway and sees mv's names; m1 sees o1 there.
    await plumbOk(['network', 'connect', '--alias', 'side', 'mv', 'o1']);
    expect(addresses(await dig('o1', 'm2'))).toEqual([m2]);
    expect(addresses(await dig('m1', 'side'))).toEqual([await ipOn('o1', 'mv')]);
    // m1 (macvlan only) joins the bridge: its queries now take the gateway, the resolver lets go of its sockets.
    const [pid] = resolverPids();
    const before = resolverSockets(pid!);
    await plumbOk(['network', 'connect', 'other', 'm1']);
    expect(resolverSockets(pid!)).toBe(before - 2);
    expect(addresses(await dig('m1', 'm2'))).toEqual([m2]);
    // o1 is on both of m1's networks: the first in m1's interface order (mv, eth0) answers, as in Docker.
    expect(addresses(await dig('m1', 'o1', 'A', ['+tcp']))).toEqual([await ipOn('o1', 'mv')]);
    expect(addresses(await dig('m1', 'o1.other'))).toEqual([await ipOn('o1', 'other')]);
    // And leaves it again: back to the resolver's sockets inside, names still answer.
    await plumbOk(['network', 'disconnect', 'other', 'm1']);
    expect(resolverSockets(pid!)).toBe(before);
    expect(addresses(await dig('m1', 'm2'))).toEqual([m2]);
    expect((await dig('m1', 'o1')).status).toBe('NOERROR');
    await plumbOk(['network', 'disconnect', 'mv', 'o1']);
    expect((await dig('o1', 'm2')).status).toBe('NXDOMAIN');
    expect((await dig('m1', 'side')).status).toBe('NXDOMAIN');
  });

  it('removes the containers and their network; the resolver lets go of their sandboxes', async () => {
    const [pid] = resolverPids();
    const before = resolverSockets(pid!);
    await plumbOk(['rm', '-f', 'm1', 'm2', 'o1']);
    // Two sockets in each of the two macvlan sandboxes, closed before their namespaces went (they would keep them alive).
    expect(resolverSockets(pid!)).toBe(before - 4);
    await plumbOk(['network', 'rm', 'mv', 'other']);
    expect(await plumbOk(['ps', '-a', '-q'])).toBe('');
  });
});
