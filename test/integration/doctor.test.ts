// plumb doctor and plumb trace, break and fix: a healthy lab (two bridge
// networks, a published TCP and UDP port, DNS, macvlan, host, none and
// container: modes) on which doctor must find nothing, then one fault at a
// time injected by hand with ip / bridge / iptables / sysctl / conntrack:
// doctor must exit non-zero and name the broken object; after the fault is
// undone, exit 0 again. Then trace: a published port from the wan (DNAT
// seen, accepted), the same after a DROP in PLUMB-USER, and an attempt
// across two networks (the isolation rule named).
// Containers here run the host's programs (socat and the like): the label debian keeps the
// host's filesystem (busybox and alpine would run busybox's).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_IP, Lab, PLUMB_BIN, WAN_IP, type RunResult } from '../helpers/lab.js';

let lab: Lab;
const ids: Record<string, string> = {};

const sandbox = (name: string) => join(lab.netnsDir, name);
async function inSandbox(name: string, argv: string[]): Promise<RunResult> {
  const r = await lab.exec(['nsenter', `--net=${sandbox(name)}`, ...argv]);
  return r;
}
async function must(p: Promise<RunResult>, what: string): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
const host = (argv: string[]) => must(lab.exec(argv), argv.join(' '));
const inside = (name: string, argv: string[]) => must(inSandbox(name, argv), `${name}: ${argv.join(' ')}`);
const bridgeOf = (net: string) => `br-${ids[net]!.slice(0, 12)}`;

/** The host end of a container's eth0, found from the kernel (the sandbox end's peer index). */
function hostVeth(name: string): string {
  const r = lab.execSync(['nsenter', `--net=${sandbox(name)}`, 'ip', '-j', 'link', 'show', 'eth0']);
  const peer = (JSON.parse(r.stdout) as Array<{ link_index: number }>)[0]!.link_index;
  return lab.ipJson<Array<{ ifindex: number; ifname: string }>>(['link', 'show']).find((l) => l.ifindex === peer)!.ifname;
}
function macOf(name: string): string {
  const r = lab.execSync(['nsenter', `--net=${sandbox(name)}`, 'ip', '-j', 'link', 'show', 'eth0']);
  return (JSON.parse(r.stdout) as Array<{ address: string }>)[0]!.address;
}
async function ipOf(name: string, net: string): Promise<string> {
  return (await lab.plumbOk(['inspect', '-f', `{{.NetworkSettings.Networks.${net}.IPAddress}}`, name])).trim();
}

async function doctor(args: string[]): Promise<RunResult> {
  return lab.plumb(['doctor', ...args], { timeoutMs: 60_000 });
}

beforeAll(async () => {
  lab = Lab.create({ tag: 'doc' });
  ids.front = (await lab.plumbOk(['network', 'create', '--subnet', '10.61.0.0/24', 'front'])).trim();
  ids.back = (await lab.plumbOk(['network', 'create', '--subnet', '10.62.0.0/24', 'back'])).trim();
  await lab.plumbOk(['run', '-d', '--name', 'web', '--network', 'front', '-p', '8080:80', '-p', '5353:53/udp', 'debian', '/bin/sh', '-c', 'socat UDP-LISTEN:53,fork /dev/null & exec socat TCP-LISTEN:80,fork,reuseaddr /dev/null']);
  await lab.plumbOk(['run', '-d', '--name', 'cli', '--network', 'front', 'debian']);
  await lab.plumbOk(['run', '-d', '--name', 'db', '--network', 'back', 'debian']);
}, 60_000);

afterAll(async () => {
  await lab?.teardown();
}, 60_000);

describe('a healthy lab', () => {
  it('doctor finds nothing wrong on the whole host, and in every path kind', async () => {
    for (const args of [[], ['cli', 'web:80'], ['web', WAN_IP], [WAN_IP, 'web:80'], ['host', 'web:80'], ['web', 'host'], ['cli', 'web']]) {
      const r = await doctor(args);
      expect(r.code, `plumb doctor ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^healthy: every hop checked is ok$/m);
      expect(r.stdout).not.toMatch(/^FAIL/m);
    }
  });

  it('reports JSON with one entry per hop, and the probes it sent', async () => {
    const r = await doctor(['--format', 'json', 'cli', 'web:80']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.healthy).toBe(true);
    expect(rep.hops.length).toBeGreaterThan(5);
    expect(rep.hops.map((h: { object: string }) => h.object)).toEqual(expect.arrayContaining(['ping', 'ping -M do', 'tcp 80']));
  });

  it('names the isolation rule for two containers on different networks', async () => {
    const r = await doctor(['cli', 'db']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL .*PLUMB-ISOLATION-STAGE-2 -o ${bridgeOf('back')} .*-j DROP`));
    expect(r.stdout).toContain('plumb network connect');
  });

  it('refuses bad input with one line naming the fix', async () => {
    const r = await doctor(['nosuch', 'web']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/No such container: nosuch/);
    const p = await doctor(['cli', 'web:99999']);
    expect(p.stderr).toMatch(/invalid port 99999/);
    const f = await doctor(['--format', 'yaml']);
    expect(f.code).not.toBe(0);
    expect(f.stderr).toMatch(/unknown --format yaml: use --format json/);
  });
});

describe('inspect and network inspect show the kernel beside the store', () => {
  it('says InSync while healthy, and shows the actual state of a broken veth and MTU', async () => {
    const netBefore = JSON.parse(await lab.plumbOk(['network', 'inspect', 'front']))[0].Plumb.Kernel;
    expect(netBefore.InSync).toBe(true);
    expect(netBefore.Bridge).toEqual({
      Expected: { Name: bridgeOf('front'), Up: true, Mtu: 1500, Addresses: ['10.61.0.1/24'] },
      Actual: { Name: bridgeOf('front'), Up: true, Mtu: 1500, Addresses: ['10.61.0.1/24'] },
    });
    const veth = hostVeth('web');
    await host(['ip', 'link', 'set', veth, 'down']);
    await inside('web', ['ip', 'link', 'set', 'eth0', 'mtu', '1400']);
    try {
      const net = JSON.parse(await lab.plumbOk(['network', 'inspect', 'front']))[0].Plumb.Kernel;
      expect(net.InSync).toBe(false);
      expect(net.Endpoints.web.Expected.HostVeth).toEqual({ Name: veth, Master: bridgeOf('front'), Up: true, Mtu: 1500, Hairpin: true, Learning: true });
      expect(net.Endpoints.web.Actual.HostVeth).toMatchObject({ Name: veth, Master: bridgeOf('front'), Up: false });
      expect(net.Endpoints.cli.InSync).toBe(true);
      const c = JSON.parse(await lab.plumbOk(['inspect', 'web']))[0].Plumb.Kernel;
      expect(c.InSync).toBe(false);
      expect(c.Networks.front).toMatchObject({ Expected: { Interface: 'eth0', Mtu: 1500 }, Actual: { Interface: 'eth0', Mtu: 1400, Addresses: ['10.61.0.2/24'] } });
      expect(c.Problems).toEqual(expect.arrayContaining([`veth ${veth}: is down`, "link eth0 in web: MTU 1400, the network's is 1500"]));
    } finally {
      await host(['ip', 'link', 'set', veth, 'up']);
      await inside('web', ['ip', 'link', 'set', 'eth0', 'mtu', '1500']);
    }
    expect(JSON.parse(await lab.plumbOk(['inspect', 'web']))[0].Plumb.Kernel.InSync).toBe(true);
  });
});

describe('no false alarm in the other modes', () => {
  it('macvlan, host, none, container:, --internal and enable_icc=false leave doctor healthy', async () => {
    const net = ['--subnet', '203.0.113.0/24', '--ip-range', '203.0.113.128/25', '--gateway', WAN_IP];
    await lab.plumbOk(['network', 'create', '-d', 'macvlan', '-o', 'parent=eth0', ...net, 'pub']);
    await lab.plumbOk(['run', '-d', '--name', 'mv1', '--network', 'pub', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'mv2', '--network', 'pub', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'hostc', '--network', 'host', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'nonec', '--network', 'none', 'debian']);
    await lab.plumbOk(['run', '-d', '--name', 'joined', '--network', 'container:cli', 'debian']);
    await lab.plumbOk(['network', 'create', '--internal', '--subnet', '10.63.0.0/24', 'priv']);
    await lab.plumbOk(['run', '-d', '--name', 'inner', '--network', 'priv', 'debian']);
    await lab.plumbOk(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', '--subnet', '10.64.0.0/24', 'noicc']);
    await lab.plumbOk(['run', '-d', '--name', 'quiet', '--network', 'noicc', 'debian']);
    try {
      for (const args of [[], ['mv1', 'mv2'], ['joined', 'web:80'], ['hostc', 'web:80']]) {
        const r = await doctor(args);
        expect(r.code, `plumb doctor ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
      }
      // The macvlan rule: the host cannot reach its own children; doctor says so rather than blaming a hop.
      const mv = await doctor(['host', 'mv1']);
      expect(mv.code).toBe(1);
      expect(mv.stdout).toMatch(/cannot reach its own macvlan children/);
      const pubBefore = JSON.parse(await lab.plumbOk(['network', 'inspect', 'pub']))[0].Plumb.Kernel;
      expect(pubBefore).toMatchObject({ InSync: true, Parent: { Expected: { Name: 'eth0', Up: true }, Actual: { Name: 'eth0', Up: true } } });
      expect(pubBefore.Endpoints.mv2.Actual.Sandbox).toMatchObject({ Kind: 'macvlan', Mode: 'bridge', Up: true });
      // Breaking a macvlan child is seen too, by doctor and by network inspect.
      await inside('mv2', ['ip', 'link', 'set', 'eth0', 'down']);
      const broken = await doctor(['mv1', 'mv2']);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/FAIL  mv2 eth0: link eth0 in mv2: is down/);
      const pub = JSON.parse(await lab.plumbOk(['network', 'inspect', 'pub']))[0].Plumb.Kernel;
      expect(pub.InSync).toBe(false);
      expect(pub.Endpoints.mv2).toMatchObject({ InSync: false, Expected: { Sandbox: { Up: true } }, Actual: { Sandbox: { Up: false } } });
      expect(pub.Problems).toContain('link eth0 in mv2: is down');
    } finally {
      await lab.plumbOk(['rm', '-f', 'mv1', 'mv2', 'hostc', 'nonec', 'joined', 'inner', 'quiet']);
      await lab.plumbOk(['network', 'rm', 'pub', 'priv', 'noicc']);
    }
  }, 60_000);
});

interface Fault {
  name: string;
  /** doctor's arguments: [] for the whole host, or FROM TO. */
  args: string[];
  inject: () => Promise<unknown>;
  undo: () => Promise<unknown>;
  /** What doctor must name. */
  names: () => RegExp;
  /** The fix it must give, when the test checks that too. */
  fix?: RegExp;
}

const FAULTS: Fault[] = [
  {
    name: 'source sandbox interface down (cli eth0)',
    args: ['cli', 'web:80'],
    inject: () => inside('cli', ['ip', 'link', 'set', 'eth0', 'down']),
    undo: async () => {
      await inside('cli', ['ip', 'link', 'set', 'eth0', 'up']);
      await inside('cli', ['ip', 'route', 'replace', 'default', 'via', '10.61.0.1', 'dev', 'eth0']);
    },
    names: () => /link eth0 in cli: is down/,
  },
  {
    name: 'destination sandbox interface down (web eth0)',
    args: ['cli', 'web:80'],
    inject: () => inside('web', ['ip', 'link', 'set', 'eth0', 'down']),
    undo: async () => {
      await inside('web', ['ip', 'link', 'set', 'eth0', 'up']);
      await inside('web', ['ip', 'route', 'replace', 'default', 'via', '10.61.0.1', 'dev', 'eth0']);
    },
    names: () => /link eth0 in web: is down/,
  },
  {
    name: 'sandbox lost its address',
    args: [],
    inject: () => inside('web', ['ip', 'addr', 'del', '10.61.0.2/24', 'dev', 'eth0']),
    undo: async () => {
      await inside('web', ['ip', 'addr', 'add', '10.61.0.2/24', 'dev', 'eth0']);
      await inside('web', ['ip', 'route', 'replace', 'default', 'via', '10.61.0.1', 'dev', 'eth0']);
    },
    names: () => /address 10\.61\.0\.2\/24 on eth0 in web: missing/,
  },
  {
    name: 'sandbox default route deleted',
    args: ['web', WAN_IP],
    inject: () => inside('web', ['ip', 'route', 'del', 'default']),
    undo: () => inside('web', ['ip', 'route', 'add', 'default', 'via', '10.61.0.1', 'dev', 'eth0']),
    names: () => /default route in web: missing/,
  },
  {
    name: 'permanent neighbour entry with a wrong MAC (cli -> web)',
    args: ['cli', 'web'],
    inject: () => inside('cli', ['ip', 'neigh', 'replace', '10.61.0.2', 'lladdr', '02:00:00:00:be:ef', 'dev', 'eth0', 'nud', 'permanent']),
    undo: () => inside('cli', ['ip', 'neigh', 'del', '10.61.0.2', 'dev', 'eth0']),
    names: () => /neighbour 10\.61\.0\.2 dev eth0 lladdr 02:00:00:00:be:ef permanent in cli/,
  },
  {
    name: 'permanent neighbour entry with a wrong MAC for the gateway (reply direction)',
    args: [WAN_IP, 'web:80'],
    inject: () => inside('web', ['ip', 'neigh', 'replace', '10.61.0.1', 'lladdr', '02:00:00:00:be:ef', 'dev', 'eth0', 'nud', 'permanent']),
    undo: () => inside('web', ['ip', 'neigh', 'del', '10.61.0.1', 'dev', 'eth0']),
    names: () => /neighbour 10\.61\.0\.1 dev eth0 lladdr 02:00:00:00:be:ef permanent in web/,
  },
  {
    name: 'host end of the destination veth down',
    args: [WAN_IP, 'web:80'],
    inject: () => host(['ip', 'link', 'set', hostVeth('web'), 'down']),
    undo: () => host(['ip', 'link', 'set', hostVeth('web'), 'up']),
    names: () => new RegExp(`veth ${hostVeth('web')}: is down`),
  },
  {
    name: 'host end of the source veth unplugged from the bridge',
    args: [],
    inject: () => host(['ip', 'link', 'set', hostVeth('cli'), 'nomaster']),
    undo: async () => {
      await host(['ip', 'link', 'set', hostVeth('cli'), 'master', bridgeOf('front')]);
      await host(['bridge', 'link', 'set', 'dev', hostVeth('cli'), 'hairpin', 'on']);
    },
    names: () => new RegExp(`veth ${hostVeth('cli')}: is on no bridge`),
  },
  {
    name: 'MTU mismatch: the destination sandbox end is smaller',
    args: ['cli', 'web'],
    inject: () => inside('web', ['ip', 'link', 'set', 'eth0', 'mtu', '1400']),
    undo: () => inside('web', ['ip', 'link', 'set', 'eth0', 'mtu', '1500']),
    names: () => /link eth0 in web: MTU 1400, the network's is 1500/,
  },
  {
    name: 'bridge down',
    args: [],
    inject: () => host(['ip', 'link', 'set', bridgeOf('front'), 'down']),
    undo: () => host(['ip', 'link', 'set', bridgeOf('front'), 'up']),
    names: () => new RegExp(`bridge ${bridgeOf('front')}: is down`),
  },
  {
    name: 'bridge lost the gateway address',
    args: ['web', WAN_IP],
    inject: () => host(['ip', 'addr', 'del', '10.61.0.1/24', 'dev', bridgeOf('front')]),
    undo: async () => {
      await host(['ip', 'addr', 'add', '10.61.0.1/24', 'dev', bridgeOf('front')]);
      for (const c of ['web', 'cli']) await inside(c, ['ip', 'route', 'replace', 'default', 'via', '10.61.0.1', 'dev', 'eth0']);
    },
    names: () => new RegExp(`address 10\\.61\\.0\\.1/24 on ${bridgeOf('front')}: missing`),
  },
  {
    name: 'bridge port hairpin off',
    args: [],
    inject: () => host(['bridge', 'link', 'set', 'dev', hostVeth('web'), 'hairpin', 'off']),
    undo: () => host(['bridge', 'link', 'set', 'dev', hostVeth('web'), 'hairpin', 'on']),
    names: () => new RegExp(`bridge port ${hostVeth('web')}: hairpin is off`),
  },
  {
    name: 'bridge port learning off',
    args: [],
    inject: () => host(['bridge', 'link', 'set', 'dev', hostVeth('cli'), 'learning', 'off']),
    undo: () => host(['bridge', 'link', 'set', 'dev', hostVeth('cli'), 'learning', 'on']),
    names: () => new RegExp(`bridge port ${hostVeth('cli')}: learning is off`),
  },
  {
    name: "bridge FDB sends the destination's MAC to the wrong port",
    args: ['cli', 'web:80'],
    inject: () => host(['bridge', 'fdb', 'replace', macOf('web'), 'dev', hostVeth('cli'), 'master', 'static']),
    undo: () => host(['bridge', 'fdb', 'del', macOf('web'), 'dev', hostVeth('cli'), 'master']),
    names: () => new RegExp(`fdb entry ${macOf('web')} dev ${hostVeth('cli')} master ${bridgeOf('front')}`),
  },
  {
    name: 'ip_forward off',
    args: ['web', WAN_IP],
    inject: () => host(['sysctl', '-qw', 'net.ipv4.ip_forward=0']),
    undo: () => host(['sysctl', '-qw', 'net.ipv4.ip_forward=1']),
    names: () => /sysctl net\.ipv4\.ip_forward: is 0/,
  },
  {
    name: 'bridge-nf-call-iptables off',
    args: [],
    inject: () => host(['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0']),
    undo: () => host(['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']),
    names: () => /sysctl net\.bridge\.bridge-nf-call-iptables: is 0/,
  },
  {
    name: 'a DROP someone added in PLUMB-USER',
    args: [WAN_IP, 'web:80'],
    inject: () => host(['iptables', '-I', 'PLUMB-USER', '-p', 'tcp', '--dport', '80', '-j', 'DROP']),
    undo: () => host(['iptables', '-D', 'PLUMB-USER', '-p', 'tcp', '--dport', '80', '-j', 'DROP']),
    names: () => /rule -t filter -A PLUMB-USER -p tcp -m tcp --dport 80 -j DROP/,
  },
  {
    name: 'jump from FORWARD into PLUMB-FORWARD missing (the DROP policy then decides)',
    args: ['web', WAN_IP],
    inject: () => host(['iptables', '-D', 'FORWARD', '-m', 'comment', '--comment', 'plumb: base', '-j', 'PLUMB-FORWARD']),
    undo: () => host(['iptables', '-A', 'FORWARD', '-m', 'comment', '--comment', 'plumb: base', '-j', 'PLUMB-FORWARD']),
    names: () => /policy of chain FORWARD \(filter\): drops packets from/,
  },
  {
    name: 'DNAT of the published port deleted',
    args: [WAN_IP, 'web:80'],
    inject: () => host(['iptables', '-t', 'nat', '-D', 'PLUMB', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-m', 'comment', '--comment', 'plumb: web 8080->80/tcp', '-j', 'DNAT', '--to-destination', '10.61.0.2:80']),
    undo: () => host(['iptables', '-t', 'nat', '-A', 'PLUMB', '-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-m', 'comment', '--comment', 'plumb: web 8080->80/tcp', '-j', 'DNAT', '--to-destination', '10.61.0.2:80']),
    names: () => /DNAT for port 8080\/tcp: missing/,
  },
  {
    name: 'MASQUERADE of the network deleted',
    args: ['web', WAN_IP],
    inject: () => host(['iptables', '-t', 'nat', '-D', 'PLUMB-POSTROUTING', '-s', '10.61.0.0/24', '!', '-o', bridgeOf('front'), '-m', 'comment', '--comment', 'plumb: network front', '-j', 'MASQUERADE']),
    undo: () => host(['iptables', '-t', 'nat', '-I', 'PLUMB-POSTROUTING', '-s', '10.61.0.0/24', '!', '-o', bridgeOf('front'), '-m', 'comment', '--comment', 'plumb: network front', '-j', 'MASQUERADE']),
    names: () => /MASQUERADE for 10\.61\.0\.0\/24 in nat PLUMB-POSTROUTING: missing/,
  },
  {
    name: 'INPUT policy DROP keeps DNS queries from the resolver',
    args: [],
    inject: () => host(['iptables', '-P', 'INPUT', 'DROP']),
    undo: () => host(['iptables', '-P', 'INPUT', 'ACCEPT']),
    names: () => /policy of chain INPUT \(DROP\): drops (queries from|cli's packets to its gateway)/,
  },
  {
    name: 'in-sandbox DNS redirection flushed',
    args: [],
    inject: () => inside('web', ['iptables', '-t', 'nat', '-F', 'PLUMB_DNS_OUTPUT']),
    undo: async () => {
      for (const proto of ['udp', 'tcp']) await inside('web', ['iptables', '-t', 'nat', '-A', 'PLUMB_DNS_OUTPUT', '-d', '127.0.0.11/32', '-p', proto, '-m', proto, '--dport', '53', '-j', 'DNAT', '--to-destination', '10.61.0.1:5311']);
    },
    names: () => /chain PLUMB_DNS_OUTPUT in web: has no DNAT for 127\.0\.0\.11:53/,
    fix: /fix: plumb system gc$/m,
  },
  {
    name: 'route_localnet off in the sandbox',
    args: [],
    inject: () => inside('cli', ['sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=0']),
    undo: () => inside('cli', ['sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=1']),
    names: () => /sysctl net\.ipv4\.conf\.all\.route_localnet in cli: is 0/,
  },
  {
    name: 'resolv.conf no longer names the embedded DNS',
    args: [],
    inject: () => host(['sed', '-i', 's/^nameserver 127.0.0.11$/nameserver 192.0.2.53/', join(lab.root, 'run', 'containers', ids.db!, 'resolv.conf')]),
    undo: () => host(['sed', '-i', 's/^nameserver 192.0.2.53$/nameserver 127.0.0.11/', join(lab.root, 'run', 'containers', ids.db!, 'resolv.conf')]),
    names: () => /resolv\.conf \(db's \/etc\/resolv\.conf\): names 192\.0\.2\.53, not 127\.0\.0\.11/,
  },
  {
    name: 'lo down in a sandbox',
    args: [],
    inject: () => inside('db', ['ip', 'link', 'set', 'lo', 'down']),
    undo: () => inside('db', ['ip', 'link', 'set', 'lo', 'up']),
    names: () => /link lo in db: is down/,
  },
  {
    name: 'a conntrack entry from before the mapping shadows the published UDP port',
    args: [WAN_IP, 'web:53/udp'],
    inject: () =>
      host(['conntrack', '-I', '-p', 'udp', '-s', WAN_IP, '-d', HOST_UPLINK_IP, '--sport', '5000', '--dport', '5353', '-r', HOST_UPLINK_IP, '-q', WAN_IP, '--reply-port-src', '5353', '--reply-port-dst', '5000', '-t', '120']),
    undo: () => host(['conntrack', '-D', '-p', 'udp', '--orig-port-dst', '5353']),
    names: () => /conntrack entry udp .*src=203\.0\.113\.2 dst=203\.0\.113\.1 sport=5000 dport=5353/,
  },
  {
    name: 'a DROP in the raw table (before connection tracking)',
    args: ['cli', 'web:80'],
    inject: () => host(['iptables', '-t', 'raw', '-I', 'PREROUTING', '-s', '10.61.0.3', '-j', 'DROP']),
    undo: () => host(['iptables', '-t', 'raw', '-D', 'PREROUTING', '-s', '10.61.0.3', '-j', 'DROP']),
    names: () => /rule -t raw -A PREROUTING -s 10\.61\.0\.3\/32 -j DROP \(not plumb's\): drops cli -> web:80\/tcp/,
  },
  {
    name: 'strict rp_filter with a stray host route for the client',
    args: [WAN_IP, 'web:80'],
    inject: async () => {
      await host(['ip', 'route', 'add', `${WAN_IP}/32`, 'dev', bridgeOf('back')]);
      await host(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1']);
    },
    undo: async () => {
      await host(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0']);
      await host(['ip', 'route', 'del', `${WAN_IP}/32`, 'dev', bridgeOf('back')]);
    },
    names: () => new RegExp(`sysctl net\\.ipv4\\.conf\\.all\\.rp_filter: is 1 \\(strict\\), and the host routes 203\\.0\\.113\\.2 out of ${bridgeOf('back')}, not eth0`),
  },
  {
    name: 'the resolver is not running',
    args: [],
    inject: async () => {
      const status = JSON.parse(readFileSync(join(lab.root, 'run', 'dns.json'), 'utf8')) as { pid: number };
      process.kill(status.pid, 'SIGKILL');
      await lab.eventually(() => !existsSync(`/proc/${status.pid}`), 5000);
    },
    // The fix doctor names, which starts the resolver again.
    undo: () => lab.plumbOk(['system', 'gc']),
    names: () => /process plumb dns serve: not running/,
    fix: /fix: plumb system gc$/m,
  },
];

describe('break and fix', () => {
  beforeAll(async () => {
    ids.db = (await lab.plumbOk(['inspect', '-f', '{{.Id}}', 'db'])).trim();
    expect(await ipOf('web', 'front')).toBe('10.61.0.2');
  });

  it(`has at least 20 different faults`, () => {
    expect(new Set(FAULTS.map((f) => f.name)).size).toBeGreaterThanOrEqual(20);
  });

  for (const fault of FAULTS) {
    it(`${fault.name}: healthy before, named while broken`, async () => {
      const before = await doctor(fault.args);
      expect(before.code, `before: plumb doctor ${fault.args.join(' ')}\n${before.stdout}${before.stderr}`).toBe(0);
      await fault.inject();
      try {
        const r = await doctor(fault.args);
        expect(r.code, `broken: plumb doctor ${fault.args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stdout).toMatch(fault.names());
        const line = r.stdout.split('\n').findIndex((l) => fault.names().test(l));
        expect(r.stdout.split('\n')[line]).toMatch(/^FAIL  /);
        expect(r.stdout.split('\n').slice(line + 1, line + 3).join('\n')).toMatch(/^ {6}why: .+\n {6}fix: .+/);
        if (fault.fix) expect(r.stdout).toMatch(fault.fix);
      } finally {
        await fault.undo();
      }
    }, 60_000);
  }

  it('healthy again after the last fault is undone', async () => {
    const r = await doctor([]);
    expect(r.code, r.stdout).toBe(0);
  });

  it('system check sees the same MTU, hairpin, DNS redirection and resolver faults, and gc repairs exactly them', async () => {
    const status = JSON.parse(readFileSync(join(lab.root, 'run', 'dns.json'), 'utf8')) as { pid: number };
    await host(['ip', 'link', 'set', hostVeth('web'), 'mtu', '1400']);
    await host(['bridge', 'link', 'set', 'dev', hostVeth('cli'), 'hairpin', 'off']);
    await inside('db', ['ip', 'link', 'set', 'eth0', 'mtu', '1300']);
    await inside('web', ['iptables', '-t', 'nat', '-F', 'PLUMB_DNS_OUTPUT']);
    await inside('cli', ['sysctl', '-qw', 'net.ipv4.conf.all.route_localnet=0']);
    process.kill(status.pid, 'SIGKILL');
    await lab.eventually(() => !existsSync(`/proc/${status.pid}`), 5000);
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    const lines = check.stdout.trim().split('\n').sort();
    expect(lines).toEqual(
      [
        `container web: veth ${hostVeth('web')} has MTU 1400; front uses 1500`,
        `container cli: hairpin is off on bridge port ${hostVeth('cli')}`,
        'container db: eth0 has MTU 1300 in the sandbox; back uses 1500',
        'container web: queries to 127.0.0.11:53 are not redirected to the resolver at 10.61.0.1:5311 in the sandbox',
        'container cli: net.ipv4.conf.all.route_localnet is 0 in the sandbox: redirected DNS queries are dropped',
        'host: the embedded DNS resolver is not running',
      ].sort(),
    );
    const gc = await lab.plumb(['system', 'gc']);
    expect(gc.code, gc.stdout + gc.stderr).toBe(0);
    expect(gc.stdout.trim().split('\n').sort()).toEqual(lines.map((l) => `repaired ${l}`));
    expect((await lab.plumb(['system', 'check'])).stdout).toBe('ok: the kernel matches the store\n');
    const after = await doctor([]);
    expect(after.code, after.stdout).toBe(0);
  }, 60_000);
});

async function nftTables(): Promise<string> {
  return (await lab.exec(['nft', 'list', 'tables'])).stdout;
}

/** Starts `plumb trace FROM TO` in the background; resolves when it has armed its tracing table. */
async function traceFromWan(to: string): Promise<{ result: Promise<RunResult> }> {
  const result = lab.plumb(['trace', '--wait', '20', WAN_IP, to], { timeoutMs: 60_000 });
  const armed = await lab.eventually(async () => /plumb_trace_/.test(await nftTables()), 15_000);
  expect(armed).toBe(true);
  return { result };
}

describe('plumb trace', () => {
  it('follows a packet from the wan to a published port: DNAT seen, accepted; the tracing table is gone afterwards', async () => {
    const { result } = await traceFromWan('web:80');
    await lab.exec(['socat', '-T1', '/dev/null', `TCP:${HOST_UPLINK_IP}:8080,connect-timeout=2`], lab.wan);
    const r = await result;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nat +PLUMB +-A PLUMB -p tcp -m tcp --dport 8080 -m comment --comment "plumb: web 8080->80\/tcp" -j DNAT --to-destination 10\.61\.0\.2:80/);
    expect(r.stdout).toMatch(/filter +PLUMB +-A PLUMB -d 10\.61\.0\.2\/32 .*--dport 80 .*-j ACCEPT +=> accept/);
    expect(r.stdout).toMatch(/^verdict: rewritten by DNAT to 10\.61\.0\.2:80, accepted$/m);
    expect(await nftTables()).not.toMatch(/plumb_trace/);
  }, 60_000);

  it('names the DROP in PLUMB-USER that stops the same packet', async () => {
    await host(['iptables', '-I', 'PLUMB-USER', '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
    try {
      const { result } = await traceFromWan('web:80');
      await lab.exec(['socat', '-T1', '/dev/null', `TCP:${HOST_UPLINK_IP}:8080,connect-timeout=2`], lab.wan);
      const r = await result;
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^verdict: rewritten by DNAT to 10\.61\.0\.2:80, dropped by rule filter -A PLUMB-USER -p tcp -m tcp --dport 80 -j DROP$/m);
    } finally {
      await host(['iptables', '-D', 'PLUMB-USER', '-p', 'tcp', '--dport', '80', '-j', 'DROP']);
    }
  }, 60_000);

  it('sends its own packet between two networks and names the isolation rule', async () => {
    const r = await lab.plumb(['trace', 'cli', 'db:80'], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^verdict: dropped by rule filter -A PLUMB-ISOLATION-STAGE-2 -o ${bridgeOf('back')} -m comment --comment "plumb: network back" -j DROP$`, 'm'));
    expect(await nftTables()).not.toMatch(/plumb_trace/);
  }, 60_000);

  it('reports JSON: each step with its table, chain, rule, owner comment and verdict', async () => {
    const r = await lab.plumb(['trace', '--format', 'json', 'cli', 'web:80'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ from: 'cli', to: 'web:80/tcp', accepted: true, verdict: 'accepted' });
    expect(rep.packet).toMatch(/ip saddr 10\.61\.0\.3 ip daddr 10\.61\.0\.2 .*tcp dport 80/);
    expect(rep.steps).toContainEqual(
      expect.objectContaining({ table: 'filter', chain: 'PLUMB-FORWARD', comment: 'plumb: network front', verdict: 'accept', rule: `-A PLUMB-FORWARD -i ${bridgeOf('front')} -o ${bridgeOf('front')} -m comment --comment "plumb: network front" -j ACCEPT` }),
    );
    expect(await nftTables()).not.toMatch(/plumb_trace/);
  }, 60_000);

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`removes its tracing table when interrupted (${signal})`, async () => {
      // nsenter execs plumb, so the signal reaches plumb itself.
      const child = spawn('nsenter', [`--net=${lab.nsPath(lab.host)}`, process.execPath, PLUMB_BIN, 'trace', '--wait', '30', WAN_IP, 'web:80'], { env: lab.env(), stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(await lab.eventually(async () => /plumb_trace_/.test(await nftTables()), 15_000)).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(await nftTables()).not.toMatch(/plumb_trace/);
      expect(existsSync(lab.root)).toBe(true);
    }, 60_000);
  }
});
