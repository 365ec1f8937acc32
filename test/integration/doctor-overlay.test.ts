// plumb doctor on the two-host overlay lab: healthy across hosts, then
// overlay faults injected by hand on host 1 (the remote container's FDB and
// neighbour entries, vxlan0 down, vxlan0 and a container's overlay MTU):
// doctor must exit non-zero and name the entry or link; undone, exit 0.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useHostResolvConf } from '../helpers/dns.js';
import type { RunResult } from '../helpers/lab.js';
import { INTERNET_IP, MultiHost, type LabHost } from '../helpers/multihost.js';

let lab: MultiHost;
let h1: LabHost;
let h2: LabHost;
let restoreResolvConf: (() => void) | undefined;
let netId: string;
let c2Ip: string;
let c2Mac: string;
let vtep2: string;

const ovNs = () => h1.overlayNs(netId);
async function inOverlay(argv: string[]): Promise<string> {
  const r = await h1.exec(['nsenter', `--net=${ovNs()}`, ...argv]);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
async function inC1(argv: string[]): Promise<string> {
  const r = await h1.exec(['nsenter', `--net=${join(h1.netnsDir, 'c1')}`, ...argv]);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const doctor = (args: string[]): Promise<RunResult> => h1.plumb(['doctor', ...args], { timeoutMs: 60_000 });

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  lab = await MultiHost.create({ hosts: 2, tag: 'dov' });
  [h1, h2] = [lab.host(1), lab.host(2)];
  restoreResolvConf = useHostResolvConf(h1.root, [INTERNET_IP]);
  netId = (await h1.plumbOk(['network', 'create', '-d', 'overlay', '--subnet', '10.30.0.0/24', 'ovd'])).trim();
  await h1.plumbOk(['run', '-d', '--name', 'c1', '--network', 'ovd', 'debian']);
  await h2.plumbOk(['run', '-d', '--name', 'c2', '--network', 'ovd', 'debian']);
  c2Ip = (await h2.plumbOk(['inspect', '-f', '{{.NetworkSettings.Networks.ovd.IPAddress}}', 'c2'])).trim();
  c2Mac = (await h2.plumbOk(['inspect', '-f', '{{.NetworkSettings.Networks.ovd.MacAddress}}', 'c2'])).trim();
  vtep2 = h2.ip;
  const reached = await eventually(async () => (await h1.plumb(['exec', 'c1', 'ping', '-c1', '-W1', c2Ip])).code === 0);
  if (!reached) throw new Error('c1 never reached c2 over the overlay');
}, 120_000);

afterAll(async () => {
  restoreResolvConf?.();
  await lab?.teardown();
}, 120_000);

describe('a healthy overlay', () => {
  it('doctor is healthy on both hosts and on the path across them', async () => {
    for (const [h, args] of [[h1, []], [h2, []], [h1, ['c1', 'c2']], [h2, ['c2', 'c1']]] as Array<[LabHost, string[]]>) {
      const r = await h.plumb(['doctor', ...args], { timeoutMs: 60_000 });
      expect(r.code, `${h.name}: plumb doctor ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
    }
    const path = await doctor(['c1', 'c2']);
    expect(path.stdout).toMatch(/ok +probe c1 -> 10\.30\.0\.\d+: 1450-byte packets pass unfragmented/);
    expect(path.stdout).toMatch(/neighbour and fdb entries for 1 remote container\(s\) point at 192\.0\.2\.12/);
  });
});

interface Fault {
  name: string;
  inject: () => Promise<unknown>;
  undo: () => Promise<unknown>;
  names: () => RegExp;
}

const FAULTS: Fault[] = [
  {
    name: "remote container's FDB entry deleted",
    inject: () => inOverlay(['bridge', 'fdb', 'del', c2Mac, 'dev', 'vxlan0', 'dst', vtep2, 'self']),
    undo: () => inOverlay(['bridge', 'fdb', 'append', c2Mac, 'dev', 'vxlan0', 'dst', vtep2, 'self', 'permanent']),
    names: () => new RegExp(`fdb ${c2Mac} dev vxlan0: missing`),
  },
  {
    name: "remote container's neighbour entry deleted",
    inject: () => inOverlay(['ip', 'neigh', 'del', c2Ip, 'dev', 'vxlan0']),
    undo: () => inOverlay(['ip', 'neigh', 'replace', c2Ip, 'lladdr', c2Mac, 'dev', 'vxlan0', 'nud', 'permanent']),
    names: () => new RegExp(`neighbour ${c2Ip.replace(/\./g, '\\.')} dev vxlan0: missing`),
  },
  {
    name: 'flood entry toward the other host deleted',
    inject: () => inOverlay(['bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', 'vxlan0', 'dst', vtep2, 'self']),
    undo: () => inOverlay(['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan0', 'dst', vtep2, 'self', 'permanent']),
    names: () => /fdb 00:00:00:00:00:00 dev vxlan0 dst 192\.0\.2\.12: missing/,
  },
  {
    name: "host 1's INPUT drops VXLAN from the other host",
    inject: () => h1.exec(['iptables', '-I', 'INPUT', '-p', 'udp', '--dport', '4789', '-j', 'DROP']),
    undo: () => h1.exec(['iptables', '-D', 'INPUT', '-p', 'udp', '--dport', '4789', '-j', 'DROP']),
    names: () => /rule -t filter -A INPUT -p udp -m udp --dport 4789 -j DROP \(not plumb's\): drops VXLAN \(UDP 4789\) from 192\.0\.2\.12/,
  },
  {
    name: 'vxlan0 down',
    inject: () => inOverlay(['ip', 'link', 'set', 'vxlan0', 'down']),
    undo: async () => {
      await inOverlay(['ip', 'link', 'set', 'vxlan0', 'up']);
      // A link going down takes its neighbour entries with it, permanent ones too (the agent would redo it on its next resync).
      await inOverlay(['ip', 'neigh', 'replace', c2Ip, 'lladdr', c2Mac, 'dev', 'vxlan0', 'nud', 'permanent']);
    },
    names: () => /vxlan vxlan0 in 1-[0-9a-f]{10}: is down/,
  },
  {
    name: 'vxlan0 MTU raised to 1500',
    inject: () => inOverlay(['ip', 'link', 'set', 'vxlan0', 'mtu', '1500']),
    undo: () => inOverlay(['ip', 'link', 'set', 'vxlan0', 'mtu', '1450']),
    names: () => /vxlan vxlan0 in 1-[0-9a-f]{10}: MTU 1500, the network's is 1450/,
  },
  {
    name: "the container's overlay interface MTU raised to 1500",
    inject: () => inC1(['ip', 'link', 'set', 'eth0', 'mtu', '1500']),
    undo: () => inC1(['ip', 'link', 'set', 'eth0', 'mtu', '1450']),
    names: () => /link eth0 in c1: MTU 1500, the network's is 1450/,
  },
];

/** Host 1's agent repairs entries every few seconds; paused, it cannot undo a fault while doctor looks. */
function signalAgent(sig: 'SIGSTOP' | 'SIGCONT'): void {
  const pid = Number(readFileSync(join(h1.root, 'run', 'agent.pid'), 'utf8').split(' ')[0]);
  process.kill(pid, sig);
}

describe('overlay break and fix', () => {
  beforeAll(() => signalAgent('SIGSTOP'));
  afterAll(() => signalAgent('SIGCONT'));

  for (const fault of FAULTS) {
    it(`${fault.name}: healthy before, named while broken`, async () => {
      const before = await doctor(['c1', 'c2']);
      expect(before.code, `before\n${before.stdout}${before.stderr}`).toBe(0);
      await fault.inject();
      try {
        const r = await doctor(['c1', 'c2']);
        expect(r.code, `broken\n${r.stdout}${r.stderr}`).toBe(1);
        expect(r.stdout).toMatch(fault.names());
        const whole = await doctor([]);
        expect(whole.code, `whole host\n${whole.stdout}`).toBe(1);
        expect(whole.stdout).toMatch(fault.names());
      } finally {
        await fault.undo();
      }
    }, 60_000);
  }

  it('healthy again after the last fault is undone', async () => {
    const r = await doctor([]);
    expect(r.code, r.stdout).toBe(0);
  });
});
