// The crash suite: every mutating command is SIGKILLed at each of its
// recorded kernel changes in turn (PLUMB_CRASH_AT_OP, the engine's step hook),
// and at random moments after it took the store lock
// (PLUMB_CRASH_AFTER_LOCK_US, a kill from a thread of its own, so it lands
// anywhere: between creating a file and mounting it, inside a netlink
// request). After each kill `system gc` must leave a host that `system check`
// calls clean, and the operation must be either complete (its object exists
// and checks clean; undoing it with plumb's own commands brings the host back
// exactly) or rolled back (the host is exactly as before). Each lab ends with
// `system reset --verify`: no difference from the host plumb found.
//
// Kills, findings (any of the above that did not hold), repairs and leftovers
// gc reported are printed at the end. PLUMB_CRASH_SCALE (default 1) scales the
// number of random kills; steps are always all covered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MOUNT_POINT_TEMPLATE } from '../../src/kernel/netns.js';
import { hostState, normaliseSave, type HostState } from '../helpers/host-state.js';
import { Lab, type RunResult } from '../helpers/lab.js';
import { MultiHost, type LabHost } from '../helpers/multihost.js';

const SCALE = Number(process.env.PLUMB_CRASH_SCALE ?? 1);
/** A step loop ends here at the latest (no command has this many kernel changes). */
const MAX_STEPS = 80;

interface Tally {
  kills: number;
  stepKills: number;
  randomKills: number;
  repairs: number;
  leftovers: number;
  findings: string[];
}

const tally: Tally = { kills: 0, stepKills: 0, randomKills: 0, repairs: 0, leftovers: 0, findings: [] };

/** Where a family's commands run: one lab host (single-host lab or a host of the overlay lab). */
interface Target {
  plumb(args: string[], env?: Record<string, string>): Promise<RunResult>;
  state(): HostState;
}

/** One mutating command, how to tell whether it took effect, and how to take it back with plumb's own commands. */
interface Family {
  name: string;
  target: Target;
  /** Brings the host to the family's starting point (run before each attempt when the last one was undone). */
  prepare?: () => Promise<void>;
  command: string[];
  /** Whether the command's effect is there (after gc). */
  done: () => Promise<boolean>;
  /** Takes the effect back (done) or the preparation away, so the host is at `base` again. */
  undo: () => Promise<void>;
  randomKills: number;
}

function diffStates(a: HostState, b: HostState): string {
  const out: string[] = [];
  for (const key of Object.keys(a) as Array<keyof HostState>) {
    const x = ([] as string[]).concat(a[key]);
    const y = ([] as string[]).concat(b[key]);
    for (const v of x) if (!y.includes(v)) out.push(`- ${key} ${v}`);
    for (const v of y) if (!x.includes(v)) out.push(`+ ${key} ${v}`);
  }
  return out.slice(0, 6).join('; ');
}

function same(a: HostState, b: HostState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function must(t: Target, args: string[]): Promise<string> {
  const r = await t.plumb(args);
  if (r.code !== 0) throw new Error(`plumb ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * One attempt: run the command with `env` (a kill hook), repair, judge.
 * Returns whether it was killed (false: it completed, so a step loop is over).
 */
async function attempt(f: Family, base: HostState, env: Record<string, string>, label: string): Promise<{ killed: boolean; drifted: boolean; ms: number }> {
  const t = f.target;
  await f.prepare?.();
  const started = Date.now();
  const r = await t.plumb(f.command, env);
  const ms = Date.now() - started;
  const killed = r.code === 128;
  if (!killed && r.code !== 0) tally.findings.push(`${f.name} ${label}: exited ${r.code} without being killed: ${r.stderr.trim().split('\n')[0]}`);
  if (killed) {
    tally.kills++;
    const gc = await t.plumb(['system', 'gc']);
    for (const line of gc.stdout.split('\n')) {
      if (line.startsWith('removed ')) tally.leftovers++;
      else if (line.startsWith('repaired ')) tally.repairs++;
    }
    if (gc.code !== 0) tally.findings.push(`${f.name} ${label}: gc exited ${gc.code}: ${(gc.stdout + gc.stderr).trim().split('\n').slice(-2).join(' | ')}`);
  }
  const done = await f.done();
  if (done || killed) {
    const check = await t.plumb(['system', 'check']);
    if (check.code !== 0) tally.findings.push(`${f.name} ${label}: check after gc: ${(check.stdout + check.stderr).trim().split('\n').slice(0, 2).join(' | ')}`);
  }
  if (!done && f.prepare === undefined) {
    // Rolled back: nothing of the command may be left.
    const now = t.state();
    if (!same(now, base)) tally.findings.push(`${f.name} ${label}: rolled back but the host differs: ${diffStates(base, now)}`);
  }
  await f.undo();
  const after = t.state();
  const drifted = !same(after, base);
  if (process.env.PLUMB_CRASH_PROGRESS) appendFileSync(process.env.PLUMB_CRASH_PROGRESS, `${f.name} ${label}: ${killed ? 'killed' : 'ran'}${done ? ', done' : ''}${drifted ? ', DRIFTED' : ''} (findings ${tally.findings.length})\n`);
  if (drifted) tally.findings.push(`${f.name} ${label}: after undoing, the host differs: ${diffStates(base, after)}`);
  return { killed, drifted, ms };
}

async function runFamily(f: Family): Promise<void> {
  let base = f.target.state();
  // After a finding, carry on from where the host is, so one finding is not repeated by every later attempt.
  const rebase = (r: { killed: boolean; drifted: boolean; ms: number }) => {
    if (r.drifted) base = f.target.state();
    return r.killed;
  };
  // Each recorded step in turn, until the command runs to its end.
  let wall = 0;
  for (let n = 1; n <= MAX_STEPS; n++) {
    const r = await attempt(f, base, { PLUMB_CRASH_AT_OP: String(n) }, `step ${n}`);
    if (!rebase(r)) {
      wall = r.ms;
      break;
    }
    tally.stepKills++;
  }
  // Random moments after the lock. How long the lock is held is not known from outside (the wall time
  // includes start-up), so the window starts at the wall time and shrinks to any delay that came too late.
  const want = Math.round(f.randomKills * SCALE);
  let windowUs = Math.max(wall, 100) * 1000;
  let got = 0;
  for (let tries = 0; got < want && tries < want * 3; tries++) {
    const us = Math.floor(Math.random() * windowUs);
    const r = await attempt(f, base, { PLUMB_CRASH_AFTER_LOCK_US: String(us) }, `random ${us}us`);
    if (rebase(r)) got++;
    else windowUs = Math.max(us, 20_000);
  }
  tally.randomKills += got;
}

function labTarget(lab: Lab): Target {
  return { plumb: (args, env) => lab.plumb(args, { env }), state: () => hostState(lab) };
}

/** Whether `container` is on `network`, as inspect lists its networks. */
async function connected(t: Target, container: string, network: string): Promise<boolean> {
  const info = JSON.parse(await must(t, ['inspect', container]))[0];
  return network in (info.NetworkSettings.Networks ?? {});
}

const exists = async (t: Target, kind: 'container' | 'network', name: string) =>
  (await t.plumb(kind === 'container' ? ['inspect', name] : ['network', 'inspect', name])).code === 0;

describe('crash suite: single host (run, run -p, rm, network create / rm, connect)', () => {
  let lab: Lab;
  let t: Target;

  beforeAll(async () => {
    lab = Lab.create({ tag: 'crash', wan: false });
    t = labTarget(lab);
    await must(t, ['network', 'create', '--subnet', '10.90.0.0/24', 'cn']);
    await must(t, ['run', '-d', '--name', 'anchor', '--net', 'cn', '-p', '9000:80', 'busybox']);
  }, 120_000);

  afterAll(async () => {
    await lab?.teardown();
  }, 120_000);

  const families = (): Family[] => {
    return [
      {
        name: 'run',
        target: t,
        command: ['run', '-d', '--name', 'kx', '--net', 'cn', 'busybox', 'sleep', '600'],
        done: () => exists(t, 'container', 'kx'),
        undo: async () => {
          if (await exists(t, 'container', 'kx')) await must(t, ['rm', '-f', 'kx']);
        },
        randomKills: 40,
      },
      {
        name: 'run -p',
        target: t,
        command: ['run', '-d', '--name', 'kx', '--net', 'cn', '-p', '8081:80', '-p', '8082:81/udp', 'busybox'],
        done: () => exists(t, 'container', 'kx'),
        undo: async () => {
          if (await exists(t, 'container', 'kx')) await must(t, ['rm', '-f', 'kx']);
        },
        randomKills: 40,
      },
      {
        name: 'rm -f',
        target: t,
        prepare: async () => {
          if (!(await exists(t, 'container', 'kx'))) await must(t, ['run', '-d', '--name', 'kx', '--net', 'cn', '-p', '8083:80', 'busybox', 'sleep', '600']);
        },
        command: ['rm', '-f', 'kx'],
        done: async () => !(await exists(t, 'container', 'kx')),
        undo: async () => {
          if (await exists(t, 'container', 'kx')) await must(t, ['rm', '-f', 'kx']);
        },
        randomKills: 30,
      },
      {
        name: 'network create',
        target: t,
        command: ['network', 'create', '--subnet', '10.91.0.0/24', 'kn'],
        done: () => exists(t, 'network', 'kn'),
        undo: async () => {
          if (await exists(t, 'network', 'kn')) await must(t, ['network', 'rm', 'kn']);
        },
        randomKills: 30,
      },
      {
        name: 'network rm',
        target: t,
        prepare: async () => {
          if (!(await exists(t, 'network', 'kn'))) await must(t, ['network', 'create', '--subnet', '10.91.0.0/24', 'kn']);
        },
        command: ['network', 'rm', 'kn'],
        done: async () => !(await exists(t, 'network', 'kn')),
        undo: async () => {
          if (await exists(t, 'network', 'kn')) await must(t, ['network', 'rm', 'kn']);
        },
        randomKills: 25,
      },
      {
        name: 'network connect',
        target: t,
        command: ['network', 'connect', 'kc', 'anchor'],
        done: () => connected(t, 'anchor', 'kc'),
        undo: async () => {
          if (await connected(t, 'anchor', 'kc')) await must(t, ['network', 'disconnect', 'kc', 'anchor']);
        },
        randomKills: 30,
      },
    ];
  };

  it('kills every command at each step and at random moments; gc always repairs to complete-or-rolled-back', async () => {
    await must(t, ['network', 'create', '--subnet', '10.92.0.0/24', 'kc']);
    for (const f of families()) {
      // connect's starting point includes kc; the others do not need it but do not mind it.
      await runFamily(f);
    }
    await must(t, ['network', 'rm', 'kc']);
    expect((await t.plumb(['system', 'check'])).stdout).toBe('ok: the kernel matches the store\n');
  }, 1_800_000);

  it('system reset --verify: no difference from the host plumb found', async () => {
    const r = await lab.plumb(['system', 'reset', '--verify']);
    if (r.code !== 0 || !r.stdout.includes('verify: the host is as plumb found it')) tally.findings.push(`single host: reset --verify: ${r.stdout.trim().split('\n').slice(-3).join(' | ')}`);
    expect(r.stdout).toContain('verify: the host is as plumb found it');
  }, 120_000);
});

describe('crash suite: overlay run on a two-host lab', () => {
  let lab: MultiHost;
  let h1: LabHost;
  let h2: LabHost;

  beforeAll(async () => {
    lab = await MultiHost.create({ hosts: 2, tag: 'crv' });
    [h1, h2] = [lab.host(1), lab.host(2)];
    await h1.plumbOk(['network', 'create', '-d', 'overlay', 'ov']);
    await h2.plumbOk(['run', '-d', '--name', 'peer', '--network', 'ov', 'busybox']);
    // Host 1's first command makes what every later one finds (the default bridge, base rules): not part of any kill.
    await h1.plumbOk(['run', '-d', '--name', 'warm', '--network', 'ov', 'busybox']);
    await h1.plumbOk(['rm', '-f', 'warm']);
  }, 120_000);

  afterAll(async () => {
    await lab?.teardown();
  }, 120_000);

  function hostTarget(h: LabHost): Target {
    return {
      plumb: (args, env) => h.plumb(args, { env }),
      state: () => overlayHostState(h),
    };
  }

  it('kills overlay run at each step and at random moments; gc repairs; the other host keeps no entry for a rolled-back container', async () => {
    const t = hostTarget(h1);
    await runFamily({
      name: 'overlay run',
      target: t,
      command: ['run', '-d', '--name', 'ok', '--network', 'ov', 'busybox'],
      done: () => exists(t, 'container', 'ok'),
      undo: async () => {
        if (await exists(t, 'container', 'ok')) await must(t, ['rm', '-f', 'ok']);
      },
      randomKills: 25,
    });
    // Host 2 learns of host 1's containers from etcd: none may be left of the killed runs.
    const remote = JSON.parse(await h2.plumbOk(['network', 'inspect', 'ov']))[0].Plumb.Overlay.RemoteEndpoints as unknown[];
    if (remote.length) tally.findings.push(`overlay: host 2 still has entries for ${remote.length} container(s) of host 1 that do not exist`);
    for (const h of [h1, h2]) {
      const check = await h.plumb(['system', 'check']);
      if (check.code !== 0) tally.findings.push(`overlay ${h.name}: check at the end: ${check.stdout.trim().split('\n')[0]}`);
    }
  }, 1_800_000);

  it('system reset --verify on both hosts', async () => {
    for (const h of [h1, h2]) {
      const r = await h.plumb(['system', 'reset', '--verify']);
      if (!r.stdout.includes('verify: the host is as plumb found it')) tally.findings.push(`overlay ${h.name}: reset --verify: ${r.stdout.trim().split('\n').slice(-3).join(' | ')}`);
    }
  }, 120_000);
});

describe('crash suite: summary', () => {
  it('at least 300 kills, and no findings', () => {
    const summary =
      `crash suite: ${tally.kills} kills (${tally.stepKills} at recorded steps, ${tally.randomKills} at random moments after the lock), ` +
      `${tally.repairs} repairs, ${tally.leftovers} leftovers removed, ${tally.findings.length} findings`;
    console.log([summary, ...tally.findings.map((f) => `  finding: ${f}`)].join('\n'));
    if (SCALE >= 1) expect(tally.kills).toBeGreaterThanOrEqual(300);
    expect(tally.findings).toEqual([]);
  });
});

/** A lab host of the overlay lab, as comparable lines (the same shape as a single-host lab's). */
function overlayHostState(h: LabHost): HostState {
  const links = h
    .ipJson<Array<{ ifname: string; master?: string; flags: string[]; mtu: number }>>(['link', 'show'])
    .map((l) => `${l.ifname} mtu ${l.mtu}${l.master ? ` master ${l.master}` : ''}${l.flags.includes('UP') ? ' up' : ''}`)
    .sort();
  const addresses = h
    .ipJson<Array<{ ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>>(['addr', 'show'])
    .flatMap((l) => l.addr_info.filter((a) => a.family === 'inet').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
    .sort();
  const routes = h
    .ipJson<Array<{ dst: string; gateway?: string; dev?: string }>>(['route', 'show'])
    .map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`)
    .sort();
  const save = spawnSync('nsenter', [`--net=/run/netns/${h.ns}`, 'iptables-save'], { encoding: 'utf8' }).stdout;
  const nsFiles = [join(h.root, 'run', 'netns'), join(h.root, 'run', 'uts'), h.netnsDir]
    .flatMap((d) => {
      try {
        return readdirSync(d).map((f) => join(d, f));
      } catch {
        return [];
      }
    })
    .filter((f) => basename(f) !== MOUNT_POINT_TEMPLATE)
    .sort();
  const ipForward = spawnSync('nsenter', [`--net=/run/netns/${h.ns}`, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).stdout.trim();
  return { links, addresses, routes, iptables: normaliseSave(save), nsFiles, ipForward };
}
