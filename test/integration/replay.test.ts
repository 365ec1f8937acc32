// The explain renderer promises a replayable shell script. This suite keeps
// that promise honest: it builds a small topology through the kernel layer in
// one throwaway lab host (A), renders the journal as a script with the sandbox
// namespaces renamed, runs the script inside a second fresh lab host (B), and
// compares what the kernel reports in both — links (with details), IPv4
// addresses and routes, permanent neighbours, bridge FDB, iptables and
// sysctls, in the host and in every sandbox. Anything that differs after
// normalisation fails the test.
//
// Nothing touches the namespace the test process runs in: sockets are opened
// inside lab namespaces, sysctls are written inside a namespace window, and
// commands run under `nsenter --net=`.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNetns, createNetns, openNetns, removeNsFile, type Netns } from '../../src/kernel/netns.js';
import { Journal } from '../../src/kernel/ops.js';
import { Rtnl } from '../../src/kernel/rtnl.js';
import { setSysctl } from '../../src/kernel/sysctl.js';
import { applyIptables } from '../../src/kernel/iptables.js';
import { renderScript } from '../../src/explain/render.js';
import { Lab } from '../helpers/lab.js';

const UNIQ = `plbr${randomBytes(3).toString('hex')}`;
const SANDBOXES = ['sb1', 'sb2'] as const;
/** Sandbox namespace names in lab A; the script recreates them with -b- in place of -a-. */
const sbName = (lab: 'a' | 'b', sb: string): string => `${UNIQ}-${lab}-${sb}`;
const sbPath = (lab: 'a' | 'b', sb: string): string => `/run/netns/${sbName(lab, sb)}`;
/** Host ends of the veths: the only MACs the kernel chooses at random here. */
const HOST_VETHS = SANDBOXES.map((sb) => `veth${sb}`);

const BRIDGE = 'br-replay';
const BRIDGE_MAC = '02:42:0a:4d:00:01';
const VXLAN = 'vx-replay';
const VXLAN_MAC = '02:42:0a:4d:00:fe';

const IPTABLES_BATCH = [
  '*nat',
  ':REPLAY-DNAT - [0:0]',
  '-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "replay: published ports" -j REPLAY-DNAT',
  `-A POSTROUTING -s 10.77.0.0/24 ! -o ${BRIDGE} -m comment --comment "replay: masquerade 10.77.0.0/24" -j MASQUERADE`,
  `-A REPLAY-DNAT ! -i ${BRIDGE} -p tcp -m tcp --dport 8080 -m comment --comment "replay: sb1 8080->80/tcp" -j DNAT --to-destination 10.77.0.2:80`,
  'COMMIT',
].join('\n');

const SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding'];

interface Cmd {
  code: number;
  out: string;
  err: string;
}

function run(argv: string[], input?: string): Cmd {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function inNs(path: string, argv: string[]): string {
  const r = run(['nsenter', `--net=${path}`, ...argv]);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${path} failed (${r.code}): ${r.err.trim()}`);
  return r.out;
}

const journal = new Journal();
let labA: Lab | undefined;
let labB: Lab | undefined;
const handles: Netns[] = [];
const sockets: Rtnl[] = [];
let script = '';
let scriptDir: string | undefined;

function track(rtnl: Rtnl): Rtnl {
  sockets.push(rtnl);
  return rtnl;
}

/** Builds the topology in lab A through the kernel layer; every change lands in `journal`. */
async function buildInLabA(lab: Lab): Promise<void> {
  const host = openNetns(lab.nsPath(lab.host), null);
  handles.push(host);
  const hostRtnl = track(Rtnl.open(host, journal));

  setSysctl(journal, host, 'net.ipv4.ip_forward', '1', 'routing between the bridge and the outside');

  await hostRtnl.addBridge(BRIDGE, { address: BRIDGE_MAC }, 'the network bridge, with a fixed MAC');
  await hostRtnl.addAddress(BRIDGE, '10.77.0.1/24', 'the gateway address');
  await hostRtnl.setLink(BRIDGE, { up: true });

  for (const [i, sb] of SANDBOXES.entries()) {
    const ns = createNetns(journal, sbName('a', sb), sbPath('a', sb), `sandbox ${sb}`);
    handles.push(ns);
    const sbRtnl = track(Rtnl.open(ns, journal));
    const veth = HOST_VETHS[i]!;
    const mac = `02:42:0a:4d:00:0${i + 2}`;
    // The first is born plugged in and up, as plumb's bridge driver makes them; the second is plugged in afterwards.
    if (i === 0) {
      await hostRtnl.addVeth(veth, 'eth0', ns, { peerAddress: mac, master: BRIDGE, up: true }, `a veth pair into ${sb}, plugged into the bridge`);
    } else {
      await hostRtnl.addVeth(veth, 'eth0', ns, { peerAddress: mac }, `a veth pair into ${sb}`);
      await hostRtnl.setLink(veth, { master: BRIDGE, up: true });
    }
    await sbRtnl.setLink('lo', { up: true });
    await sbRtnl.setLink('eth0', { up: true });
    await sbRtnl.addAddress('eth0', `10.77.0.${i + 2}/24`);
    await sbRtnl.addRoute({ dst: 'default', via: '10.77.0.1' });
  }
  await hostRtnl.setBridgePort(HOST_VETHS[0]!, { hairpin: true }, 'hairpin: sb1 may reach itself through the bridge');

  await hostRtnl.addVxlan(VXLAN, { vni: 4242, port: 4789, learning: false }, 'an overlay tunnel');
  await hostRtnl.setLink(VXLAN, { address: VXLAN_MAC, master: BRIDGE, up: true });
  await hostRtnl.appendFdb(VXLAN, '00:00:00:00:00:00', { dst: '192.0.2.10', self: true }, 'flood to the first remote VTEP');
  await hostRtnl.appendFdb(VXLAN, '00:00:00:00:00:00', { dst: '192.0.2.11', self: true }, 'and to the second');
  await hostRtnl.replaceNeighbour(VXLAN, '10.77.0.9', '02:42:0a:4d:00:09', 'a remote endpoint');

  await applyIptables(journal, host, IPTABLES_BATCH, 'masquerade and one published port');
}

// ---- snapshots ---------------------------------------------------------------

type Json = unknown;

/** Drops keys whose values are kernel bookkeeping rather than configured state. */
function scrub(value: Json): Json {
  if (Array.isArray(value)) return value.map(scrub);
  if (value && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      // ifindexes depend on what else the kernel numbered before; *_timer
      // fields are running bridge/STP timers; stats are counters.
      if (k === 'ifindex' || k === 'link_index' || k === 'stats' || k === 'stats64') continue;
      if (k.endsWith('_timer')) continue;
      out[k] = scrub(v);
    }
    return out;
  }
  return value;
}

function byKey<T>(rows: T[]): T[] {
  return rows.map((r) => [JSON.stringify(r), r] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
}

function ipJson(path: string, args: string[]): Json[] {
  return JSON.parse(inNs(path, ['ip', '-j', ...args]) || '[]') as Json[];
}

function normIptables(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('# Generated') && !l.startsWith('# Completed') && l.trim() !== '')
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

interface Snapshot {
  links: Json;
  addrs: Json;
  routes: Json;
  neigh: Json;
  fdb: Json;
  iptables: string;
  sysctl: Record<string, string>;
}

/**
 * What the kernel says about one namespace, normalised: the random MACs of the
 * host veth ends become <mac:NAME>, lab namespace names become <lab>.
 */
function snapshot(path: string, macAliases: Map<string, string>, labName: 'a' | 'b'): Snapshot {
  const fdb = (JSON.parse(inNs(path, ['bridge', '-j', 'fdb', 'show']) || '[]') as Array<{ state?: string; flags?: string[] }>)
    // Entries learned from traffic (IPv6 DAD, router solicitations) come and go
    // with timing; only configured entries (permanent / static) are state.
    .filter((e) => e.state === 'permanent' || e.state === 'static');
  const raw: Snapshot = {
    links: ipJson(path, ['-d', 'link', 'show']).map(scrub),
    addrs: ipJson(path, ['-4', 'addr', 'show']).map(scrub),
    routes: ipJson(path, ['-4', 'route', 'show', 'table', 'all']).map(scrub),
    neigh: ipJson(path, ['neigh', 'show', 'nud', 'permanent']).map(scrub),
    fdb: fdb.map(scrub),
    iptables: normIptables(inNs(path, ['iptables-save'])),
    sysctl: Object.fromEntries(SYSCTLS.map((k) => [k, inNs(path, ['sysctl', '-n', k]).trim()])),
  };
  let text = JSON.stringify(raw);
  for (const [mac, alias] of macAliases) text = text.split(mac).join(alias);
  text = text.split(`${UNIQ}-${labName}-`).join(`${UNIQ}-<lab>-`);
  const snap = JSON.parse(text) as Snapshot;
  // Sorted only now: the aliases above change how rows compare.
  for (const key of ['links', 'addrs', 'routes', 'neigh', 'fdb'] as const) snap[key] = byKey(snap[key] as Json[]);
  return snap;
}

/** MACs of the host veth ends in a lab host, by address. */
function randomMacs(hostPath: string): Map<string, string> {
  const links = ipJson(hostPath, ['link', 'show']) as Array<{ ifname: string; address: string }>;
  const out = new Map<string, string>();
  for (const l of links) {
    if (!HOST_VETHS.includes(l.ifname)) continue;
    out.set(l.address, `<mac:${l.ifname}>`);
    // The IPv6 solicited-node group of the link-local address made from that
    // MAC (33:33:ff + its last three bytes) shows up in the FDB too.
    out.set(`33:33:ff:${l.address.slice(9)}`, `<solicited-node-mac:${l.ifname}>`);
  }
  return out;
}

interface LabState {
  host: Snapshot;
  sandboxes: Record<string, Snapshot>;
}

function labState(lab: Lab, name: 'a' | 'b'): LabState {
  const hostPath = lab.nsPath(lab.host);
  const macs = randomMacs(hostPath);
  return {
    host: snapshot(hostPath, macs, name),
    sandboxes: Object.fromEntries(SANDBOXES.map((sb) => [sb, snapshot(sbPath(name, sb), macs, name)])),
  };
}

/**
 * Reads a lab until two reads in a row agree: carrier and bridge port states
 * settle a moment after the links come up (link watch runs asynchronously).
 */
async function settledState(lab: Lab, name: 'a' | 'b'): Promise<LabState> {
  let last = labState(lab, name);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const next = labState(lab, name);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}

// ---- lifecycle ---------------------------------------------------------------

function strayNamespaces(): string[] {
  return run(['ip', 'netns', 'list'])
    .out.split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(UNIQ));
}

beforeAll(async () => {
  labA = Lab.create({ wan: false, tag: 'rpa' });
  labB = Lab.create({ wan: false, tag: 'rpb' });
  await buildInLabA(labA);
  script = renderScript(journal.ops, { nsName: (n) => n.replace(`${UNIQ}-a-`, `${UNIQ}-b-`) });
  scriptDir = mkdtempSync(join(tmpdir(), `${UNIQ}-`));
  const file = join(scriptDir, 'replay.sh');
  writeFileSync(file, script);
  const r = run(['nsenter', `--net=${labB.nsPath(labB.host)}`, 'sh', file]);
  if (r.code !== 0) throw new Error(`replaying the script failed (${r.code}): ${r.err.trim()}\n--- script ---\n${script}`);
});

afterAll(() => {
  for (const s of sockets) s.close();
  for (const h of handles) closeNetns(h);
  for (const sb of SANDBOXES) {
    // Lab A's sandboxes were bind-mounted by the kernel layer, lab B's by `ip netns add`.
    if (existsSync(sbPath('a', sb))) removeNsFile(sbPath('a', sb));
    if (existsSync(sbPath('b', sb))) run(['ip', 'netns', 'del', sbName('b', sb)]);
  }
  labA?.destroy();
  labB?.destroy();
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  expect(strayNamespaces()).toEqual([]);
});

describe('an explained topology replays as a shell script', () => {
  it('renders every kind of change the topology needs', () => {
    for (const needle of [
      `ip netns add ${sbName('b', 'sb1')}`,
      `netns ${sbName('b', 'sb2')}`,
      `ip -n ${sbName('b', 'sb1')} route add default via 10.77.0.1`,
      `bridge link set dev vethsb1 hairpin on`,
      `ip link add vethsb1 master ${BRIDGE} up type veth peer name eth0 address 02:42:0a:4d:00:02 netns ${sbName('b', 'sb1')}`,
      'bridge fdb append 00:00:00:00:00:00 dev vx-replay dst 192.0.2.11 self permanent',
      'ip neigh replace 10.77.0.9 lladdr 02:42:0a:4d:00:09 dev vx-replay nud permanent',
      'sysctl -w net.ipv4.ip_forward=1',
      "iptables-restore --noflush --wait <<'RULES'",
    ]) {
      expect(script).toContain(needle);
    }
    expect(script).not.toContain(`${UNIQ}-a-`);
  });

  it('lab A holds what was built (so the comparison is not between two empty labs)', async () => {
    const a = await settledState(labA!, 'a');
    const links = a.host.links as Array<{ ifname: string; address: string; linkinfo?: { info_slave_data?: { hairpin?: boolean } } }>;
    expect(links.find((l) => l.ifname === BRIDGE)?.address).toBe(BRIDGE_MAC);
    expect(links.find((l) => l.ifname === 'vethsb1')?.linkinfo?.info_slave_data?.hairpin).toBe(true);
    expect(links.find((l) => l.ifname === 'vethsb2')?.linkinfo?.info_slave_data?.hairpin).toBe(false);
    const floods = (a.host.fdb as Array<{ mac: string; dst?: string; ifname: string }>).filter((e) => e.ifname === VXLAN && e.mac === '00:00:00:00:00:00');
    expect(floods.map((e) => e.dst).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
    expect(a.host.neigh).toEqual([expect.objectContaining({ dst: '10.77.0.9', lladdr: '02:42:0a:4d:00:09', dev: VXLAN })]);
    expect(a.host.iptables).toContain('--comment "replay: sb1 8080->80/tcp" -j DNAT --to-destination 10.77.0.2:80');
    expect(a.host.iptables).toContain(':REPLAY-DNAT - [0:0]');
    expect(a.host.sysctl['net.ipv4.ip_forward']).toBe('1');
    expect(a.sandboxes.sb2!.routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.77.0.1', dev: 'eth0' }));
  });

  it('lab B, built only by the script, is identical to lab A', async () => {
    const a = await settledState(labA!, 'a');
    const b = await settledState(labB!, 'b');
    // Section by section, so a failure names what differs.
    for (const key of Object.keys(a.host) as Array<keyof Snapshot>) {
      expect({ ns: 'host', [key]: b.host[key] }).toEqual({ ns: 'host', [key]: a.host[key] });
    }
    for (const sb of SANDBOXES) {
      for (const key of Object.keys(a.sandboxes[sb]!) as Array<keyof Snapshot>) {
        expect({ ns: sb, [key]: b.sandboxes[sb]![key] }).toEqual({ ns: sb, [key]: a.sandboxes[sb]![key] });
      }
    }
  });

  it('the comparison notices a one-flag difference (hairpin turned off in B)', async () => {
    const before = await settledState(labB!, 'b');
    inNs(labB!.nsPath(labB!.host), ['bridge', 'link', 'set', 'dev', 'vethsb1', 'hairpin', 'off']);
    const after = await settledState(labB!, 'b');
    const a = await settledState(labA!, 'a');
    expect(after.host.links).not.toEqual(a.host.links);
    expect(before.host.links).toEqual(a.host.links);
  });
});
