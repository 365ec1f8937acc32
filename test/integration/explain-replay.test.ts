// Every explanation replays, proven at the command line. For each scenario:
//
//   lab A (real):  the setup commands with --explain, then `--dry-run CMD`,
//                  then `--explain CMD`;
//   lab B:         the whole session's explanations, run by `sh -e` in a fresh
//                  lab host, must give exactly lab A's state;
//   lab C:         the setup's explanations (state S), then the dry-run
//                  script: it must exit 0 under `sh -e` and give lab A's state
//                  once the random values it declares (IDs, veth names, MACs)
//                  are mapped to the ones the real command declared.
//
// This is also the check that nothing changes the kernel, a sandbox's files or
// its namespaces outside the journal: a change that is not a recorded step is
// missing from the explanation, so lab B differs from lab A. The state
// compared is test/helpers/replay-state.ts's: links, addresses, routes, FDB
// and bridge ports, iptables, sysctls in the host and every sandbox, and the
// sandboxes' /etc files.
//
// Scripts print paths below lab A's PLUMB_ROOT; a replay in another lab runs
// them with lab A's root replaced by its own, and the `ip netns add NAME`
// names they make in /run/netns are deleted after each replay.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, runAsync } from '../helpers/lab.js';
import { MultiHost, type LabHost } from '../helpers/multihost.js';
import { declarations, replayState, withNames, type ReplayHost, type ReplayState } from '../helpers/replay-state.js';

const TAG = randomBytes(2).toString('hex');
const labs: Lab[] = [];
/** Labs B and C hold only what scripts made: no plumb of their own to reset there. */
const replayLabs: Lab[] = [];
/** `ip netns add` names a replay made in /run/netns: removed after each scenario. */
const replayNames = new Set<string>();

function newLab(): Lab {
  const lab = Lab.create({ tag: 'rply' });
  labs.push(lab);
  return lab;
}

function newReplayLab(): Lab {
  const lab = Lab.create({ tag: 'rply' });
  replayLabs.push(lab);
  return lab;
}

async function dropReplayLabs(): Promise<void> {
  for (const lab of replayLabs.splice(0)) lab.destroy();
  for (const name of replayNames) if (existsSync(`/run/netns/${name}`)) await runAsync(['ip', 'netns', 'del', name]);
  replayNames.clear();
}

afterEach(async () => {
  await dropReplayLabs();
  const errors: string[] = [];
  for (const lab of labs.splice(0)) {
    try {
      await lab.teardown();
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.join('\n'));
});

/** A lab host with a resolv.conf of its own for plumb (the wan stands in for the host's resolver). */
function plumbEnv(lab: Lab): Record<string, string> {
  const file = join(lab.root, 'host-resolv.conf');
  if (!existsSync(file)) writeFileSync(file, 'nameserver 203.0.113.2\nsearch lab.example\n');
  return { PLUMB_HOST_RESOLV_CONF: file };
}

async function explain(lab: Lab, args: string[]): Promise<string> {
  const r = await lab.plumb(['--explain', ...args], { env: plumbEnv(lab) });
  if (r.code !== 0) throw new Error(`plumb ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stderr;
}

/** Runs a script with `sh -e` in a lab's host namespace, lab A's root replaced by this lab's. */
async function replay(lab: Lab, script: string, rootA: string): Promise<{ code: number; stderr: string }> {
  const text = script.split(rootA).join(lab.root);
  for (const m of text.matchAll(/^ip netns add (\S+)$/gm)) replayNames.add(m[1]!);
  const r = await runAsync(['nsenter', `--net=${lab.nsPath(lab.host)}`, 'sh', '-e', '-s'], { input: text });
  return { code: r.code, stderr: r.stderr };
}


const where = (lab: Lab, labLinks?: string[]): ReplayHost => ({ nsFile: lab.nsPath(lab.host), root: lab.root, netnsDir: lab.netnsDir, labLinks });

async function settle(host: ReplayHost): Promise<ReplayState> {
  // A deleted namespace takes its links with it in the background: read until two reads agree.
  let last = await replayState(host);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await replayState(host);
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

interface Scenario {
  name: string;
  setup: string[][];
  command: string[];
}

const n = (s: string) => `r${TAG}${s}`;

/** Runs one scenario through labs A, B and C and compares them. */
async function check(s: Scenario): Promise<void> {
  const a = newLab();
  let session = '';
  for (const args of s.setup) session += await explain(a, args);
  const setupScript = session;
  const dry = await a.plumb(['--dry-run', ...s.command], { env: plumbEnv(a) });
  expect(dry.code, dry.stderr).toBe(0);
  // What a dry run prints is a script: shell or comments, never a bare ID on the last line.
  expect(dry.stdout.startsWith('#!/bin/sh\n')).toBe(true);
  const last = dry.stdout.trimEnd().split('\n').at(-1)!;
  expect(last).not.toMatch(/^[0-9a-f]{64}$/);
  expect(s.command).not.toContain(last);
  const commandExplain = await explain(a, s.command);
  session += commandExplain;
  const stateA = await settle(where(a));

  // B: the whole session's explanation, from a fresh host.
  const b = newReplayLab();
  const rb = await replay(b, session, a.root);
  expect(rb.code, `explain replay failed:\n${rb.stderr}\n--- script ---\n${session}`).toBe(0);
  const stateB = await settle(where(b));
  await dropReplayLabs();
  expect(stateB).toEqual(stateA);

  // C: state S from the setup's explanation, then the dry-run script.
  const c = newReplayLab();
  const rs = await replay(c, setupScript, a.root);
  expect(rs.code, rs.stderr).toBe(0);
  const rc = await replay(c, dry.stdout, a.root);
  expect(rc.code, `dry-run script failed under sh -e:\n${rc.stderr}\n--- script ---\n${dry.stdout}`).toBe(0);
  const stateC = await settle(where(c));
  await dropReplayLabs();
  const dryNames = new Map([...declarations(dry.stdout)].map(([k, v]) => [v, k]));
  const realNames = new Map([...declarations(commandExplain)].map(([k, v]) => [v, k]));
  // The script declares the random values it uses; the real command declares each as it chooses it.
  for (const name of dryNames.values()) expect([...realNames.values()]).toContain(name);
  expect(withNames(stateC, dryNames)).toEqual(withNames(stateA, realNames));
}

const SCENARIOS: Scenario[] = [
  { name: 'user network create (with the default bridge made first)', setup: [], command: ['network', 'create', '--subnet', '10.91.0.0/24', n('net')] },
  { name: 'user network rm', setup: [['network', 'create', '--subnet', '10.91.0.0/24', n('net')]], command: ['network', 'rm', n('net')] },
  {
    name: 'run on a user network',
    setup: [['network', 'create', '--subnet', '10.91.0.0/24', n('net')], ['run', '-d', '--name', n('a'), '--network', n('net'), 'busybox']],
    command: ['run', '-d', '--name', n('b'), '--network', n('net'), '--network-alias', 'db', 'busybox'],
  },
  {
    name: 'rm of a container on a user network',
    setup: [['network', 'create', '--subnet', '10.91.0.0/24', n('net')], ['run', '-d', '--name', n('a'), '--network', n('net'), 'busybox']],
    command: ['rm', '-f', n('a')],
  },
  {
    name: '-p in several forms, 127.0.0.1 and /udp included',
    setup: [['network', 'create', n('net')]],
    command: ['run', '-d', '--name', n('web'), '-p', '8080:80', '-p', '127.0.0.1:9000:90/udp', '-p', '7000-7001:7000-7001', '--network', n('net'), 'busybox'],
  },
  {
    name: 'container:X shares another sandbox',
    setup: [['run', '-d', '--name', n('a'), 'busybox']],
    command: ['run', '-d', '--name', n('b'), '--network', `container:${n('a')}`, 'busybox'],
  },
  {
    name: 'network connect',
    setup: [['network', 'create', '--subnet', '10.91.0.0/24', n('net')], ['run', '-d', '--name', n('a'), 'busybox']],
    command: ['network', 'connect', n('net'), n('a')],
  },
  {
    name: 'network disconnect',
    setup: [['network', 'create', '--subnet', '10.91.0.0/24', n('net')], ['run', '-d', '--name', n('a'), 'busybox'], ['network', 'connect', n('net'), n('a')]],
    command: ['network', 'disconnect', n('net'), n('a')],
  },
  {
    name: 'default bridge with --link and --expose',
    setup: [['run', '-d', '--name', n('db'), '--expose', '5432', 'busybox']],
    command: ['run', '-d', '--name', n('web'), '--link', `${n('db')}:dbalias`, '-e', 'MODE=demo', 'busybox'],
  },
  {
    name: 'stop of a container with a published port',
    setup: [['run', '-d', '--name', n('a'), '-p', '8080:80', 'busybox']],
    command: ['stop', n('a')],
  },
  {
    name: 'start',
    setup: [['run', '-d', '--name', n('a'), '-p', '8080:80', 'busybox'], ['stop', n('a')]],
    command: ['start', n('a')],
  },
  {
    name: 'restart',
    setup: [['network', 'create', n('net')], ['run', '-d', '--name', n('a'), '--network', n('net'), 'busybox']],
    command: ['restart', n('a')],
  },
  {
    name: 'rm of a container on two networks',
    setup: [
      ['network', 'create', '--subnet', '10.91.0.0/24', n('n1')],
      ['network', 'create', '--subnet', '10.92.0.0/24', n('n2')],
      ['run', '-d', '--name', n('a'), '--network', n('n1'), 'busybox'],
      ['network', 'connect', n('n2'), n('a')],
    ],
    command: ['rm', '-f', n('a')],
  },
  {
    name: 'macvlan on the lab host uplink',
    setup: [['network', 'create', '-d', 'macvlan', '--subnet', '10.93.0.0/24', '-o', 'parent=eth0', n('mv')]],
    command: ['run', '-d', '--name', n('a'), '--network', n('mv'), 'busybox'],
  },
  {
    name: 'system reset',
    setup: [
      ['network', 'create', '--subnet', '10.91.0.0/24', n('net')],
      ['run', '-d', '--name', n('a'), '--network', n('net'), '-p', '8080:80', 'busybox'],
      ['run', '-d', '--name', n('b'), 'busybox'],
    ],
    command: ['system', 'reset'],
  },
];

describe('every explanation replays (explain and dry-run, at the CLI)', () => {
  for (const s of SCENARIOS) it(s.name, () => check(s), 60_000);
});

// An overlay across two lab hosts on a real etcd. Host 2 runs a container
// first, so host 1's first container programs the tunnel to it; host 1's
// session is replayed in a lab host that has host 1's underlay address (the
// tunnel's local end) on its uplink, and the uplink itself is left out.
describe('every explanation replays: an overlay on two lab hosts', () => {
  let mh: MultiHost | undefined;
  afterEach(async () => {
    await dropReplayLabs();
    await mh?.teardown();
    mh = undefined;
  });

  /** A fresh lab host with host 1's underlay address, standing in for host 1 in a replay. */
  function underlayLike(h: LabHost): Lab {
    const lab = newReplayLab();
    const ns = lab.host;
    // The lab's uplink (a veth to its wan) gets host 1's underlay address instead of its own.
    for (const argv of [
      ['ip', '-n', ns, 'addr', 'flush', 'dev', 'eth0'],
      ['ip', '-n', ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0'],
      ['ip', '-n', ns, 'route', 'replace', 'default', 'via', '192.0.2.254'],
    ]) {
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    return lab;
  }

  it('run on an overlay (the tunnel to the other host included)', async () => {
    mh = await MultiHost.create({ hosts: 2, tag: 'rpo' });
    const [h1, h2] = [mh.host(1), mh.host(2)];
    const ov = n('ov');
    const explainOn = async (h: LabHost, args: string[]) => {
      const r = await h.plumb(['--explain', ...args]);
      if (r.code !== 0) throw new Error(`[${h.name}] plumb ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stderr;
    };
    const setup = await explainOn(h1, ['network', 'create', '-d', 'overlay', '--subnet', '10.94.0.0/24', ov]);
    await h2.plumbOk(['run', '-d', '--name', n('b'), '--network', ov, 'busybox']);
    const command = ['run', '-d', '--name', n('c'), '--network', ov, 'busybox'];
    const dry = await h1.plumb(['--dry-run', ...command]);
    expect(dry.code, dry.stderr).toBe(0);
    const commandExplain = await explainOn(h1, command);
    expect(setup + commandExplain).toMatch(/^#\s+put \S+\/ipam\/\S+\/10\.94\.0\.\d+ /m);
    const host1: ReplayHost = { nsFile: `/run/netns/${h1.ns}`, root: h1.root, netnsDir: h1.netnsDir, labLinks: ['eth0'] };
    const stateA = await settle(host1);
    // host 2's container is on the tunnel: a permanent FDB entry points at host 2's VTEP
    expect(JSON.stringify(stateA)).toContain(`"dst":"${h2.ip}"`);

    const b = underlayLike(h1);
    const rb = await replay(b, setup + commandExplain, h1.root);
    expect(rb.code, `explain replay failed:\n${rb.stderr}\n--- script ---\n${setup + commandExplain}`).toBe(0);
    expect(await settle(where(b, ['eth0']))).toEqual(stateA);
    await dropReplayLabs();

    const c = underlayLike(h1);
    expect((await replay(c, setup, h1.root)).code).toBe(0);
    const rc = await replay(c, dry.stdout, h1.root);
    expect(rc.code, `dry-run script failed under sh -e:\n${rc.stderr}\n--- script ---\n${dry.stdout}`).toBe(0);
    const stateC = await settle(where(c, ['eth0']));
    const dryNames = new Map([...declarations(dry.stdout)].map(([k, v]) => [v, k]));
    const realNames = new Map([...declarations(commandExplain)].map(([k, v]) => [v, k]));
    for (const name of dryNames.values()) expect([...realNames.values()]).toContain(name);
    expect(withNames(stateC, dryNames)).toEqual(withNames(stateA, realNames));
  }, 120_000);
});
