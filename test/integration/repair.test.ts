// system check / gc / reset must be trustworthy: each case here is a way the
// repair tools were once wrong about health, or were disabled by one fault.
// Every case asserts on the kernel (ip -j, iptables-save, a connection that
// passes or fails), not only on what plumb says.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostState } from '../helpers/host-state.js';
import { Lab, PLUMB_BIN, runAsync, type RunResult } from '../helpers/lab.js';

let lab: Lab;

beforeAll(() => {
  lab = Lab.create({ tag: 'rep' });
});

afterAll(async () => {
  await lab.teardown();
});

const OK = 'ok: the kernel matches the store\n';

/** `plumb ARGS` in the lab host (with the lab's PLUMB_ROOT), run under `wrapper` (strace, ...). */
function plumbUnder(wrapper: string[], args: string[]): Promise<RunResult> {
  return runAsync(['nsenter', `--net=${lab.nsPath(lab.host)}`, ...wrapper, process.execPath, PLUMB_BIN, ...args], { env: lab.env() });
}

/** strace arguments that SIGKILL the traced plumb at its Nth mount(2): mount 1 re-shares the directory, mount 2 binds the namespace. */
const KILL_AT_SECOND_MOUNT = ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=mount', '-e', 'inject=mount:signal=SIGKILL:when=2'];

async function checkOk(): Promise<void> {
  const r = await lab.plumb(['system', 'check']);
  expect(r.stdout + r.stderr).toBe(OK);
  expect(r.code).toBe(0);
}

async function gcClean(): Promise<string> {
  const r = await lab.plumb(['system', 'gc']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout;
}

/** Default routes inside a container's sandbox, as the kernel reports them. */
function defaultRoutes(name: string): Array<{ gateway?: string; dev: string }> {
  const r = spawnSync('nsenter', [`--net=${join(lab.netnsDir, name)}`, 'ip', '-j', 'route', 'show', 'default'], { encoding: 'utf8' });
  return JSON.parse(r.stdout || '[]');
}

describe('item 3: network connect moves the default route by the one rule, and check agrees', () => {
  it('run --net un, connect bridge: the route moves to bridge ("bridge" < "un"); check ok, gc nothing to repair', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.77.0.0/24', 'un']);
    await lab.plumbOk(['run', '-d', '--name', 'u1', '--net', 'un', 'busybox']);
    expect(defaultRoutes('u1')).toEqual([expect.objectContaining({ gateway: '10.77.0.1', dev: 'eth0' })]);
    await lab.plumbOk(['network', 'connect', 'bridge', 'u1']);
    const bridgeGw = '172.17.0.1';
    expect(defaultRoutes('u1')).toEqual([expect.objectContaining({ gateway: bridgeGw, dev: 'eth1' })]);
    await checkOk();
    expect(await gcClean()).toBe('ok: nothing to repair\n');
    expect(defaultRoutes('u1')).toEqual([expect.objectContaining({ gateway: bridgeGw, dev: 'eth1' })]);
  });

  it('run --net aaa, connect zzz: the route stays on aaa; check ok', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.78.0.0/24', 'aaa']);
    await lab.plumbOk(['network', 'create', '--subnet', '10.79.0.0/24', 'zzz']);
    await lab.plumbOk(['run', '-d', '--name', 'a1', '--net', 'aaa', 'busybox']);
    await lab.plumbOk(['network', 'connect', 'zzz', 'a1']);
    expect(defaultRoutes('a1')).toEqual([expect.objectContaining({ gateway: '10.78.0.1', dev: 'eth0' })]);
    await checkOk();
  });

  it('a default route moved by hand is found and put back by gc (replace, not add)', async () => {
    const moved = await lab.exec(['nsenter', `--net=${join(lab.netnsDir, 'a1')}`, 'ip', 'route', 'replace', 'default', 'via', '10.79.0.1', 'dev', 'eth1']);
    expect(moved.code, moved.stderr).toBe(0);
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^container a1: default route should go via 10\.78\.0\.1 dev eth0 on aaa \(it goes via 10\.79\.0\.1 dev eth1\)$/m);
    await gcClean();
    expect(defaultRoutes('a1')).toEqual([expect.objectContaining({ gateway: '10.78.0.1', dev: 'eth0' })]);
    await checkOk();
  });

  it('disconnecting the network that holds it hands the route to the next one in the order', async () => {
    await lab.plumbOk(['network', 'disconnect', 'bridge', 'u1']);
    expect(defaultRoutes('u1')).toEqual([expect.objectContaining({ gateway: '10.77.0.1', dev: 'eth0' })]);
    await checkOk();
    for (const c of ['u1', 'a1']) await lab.plumbOk(['rm', '-f', c]);
    for (const n of ['un', 'aaa', 'zzz']) await lab.plumbOk(['network', 'rm', n]);
  });
});

describe('item 2: a namespace file left unmounted by a kill does not disable gc or reset', () => {
  it('SIGKILL injected into the namespace bind mount of plumb run leaves a plain file; check names it, gc removes it', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'warm', 'busybox']);
    const runDir = join(lab.root, 'run', 'netns');
    const before = new Set(readdirSync(runDir));
    const r = await plumbUnder(KILL_AT_SECOND_MOUNT, ['run', '-d', '--name', 'cut', 'busybox']);
    expect(r.code).not.toBe(0);
    const plain = readdirSync(runDir).filter((f) => !before.has(f));
    expect(plain, 'the kill left a new file in the run directory').toHaveLength(1);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(join(runDir, plain[0]!));
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^leftover: \S+ is a plain file where a namespace should be mounted/m);
    expect(check.stderr).toBe('');
    await gcClean();
    expect(existsSync(join(runDir, plain[0]!))).toBe(false);
    await checkOk();
    await lab.plumbOk(['rm', '-f', 'warm']);
  });

  it('the same leftover does not stop system reset --verify from removing everything', async () => {
    await lab.plumbOk(['network', 'create', 'keep']);
    await lab.plumbOk(['run', '-d', '--name', 'w2', '--net', 'keep', '-p', '8088:80', 'busybox']);
    const r = await plumbUnder(KILL_AT_SECOND_MOUNT, ['run', '-d', '--name', 'cut2', 'busybox']);
    expect(r.code).not.toBe(0);
    const reset = await lab.plumb(['system', 'reset', '--verify']);
    expect(reset.stdout + reset.stderr).toContain('verify: the host is as plumb found it');
    expect(reset.code).toBe(0);
    expect(await lab.settledLeftovers()).toEqual([]);
  });

  it('sandboxes whose mounts all vanished (as after a reboot): ps says Exited, check names them, gc reaps them', async () => {
    await lab.plumbOk(['network', 'create', 'boot']);
    await lab.plumbOk(['run', '-d', '--name', 'r1', '--net', 'boot', '-p', '8089:80', 'busybox']);
    await lab.plumbOk(['run', '-d', '--name', 'r2', 'busybox']);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && m.startsWith(lab.root) && /\/(netns|uts|netns-names)\/[^/]+$/.test(m));
    expect(mounts.length).toBeGreaterThanOrEqual(6);
    for (const m of mounts) expect(spawnSync('umount', ['-l', m]).status).toBe(0);
    const ps = await lab.plumbOk(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    expect(ps).toMatch(/^r1 Exited/m);
    expect(ps).toMatch(/^r2 Exited/m);
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/^container r1: sandbox namespace \S+ is gone but the container is recorded as running$/m);
    await gcClean();
    await checkOk();
    expect(await lab.plumbOk(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^r1 Exited/m);
    // Its published port's rules went with it.
    expect(lab.iptablesSave()).not.toContain('8089');
    await lab.plumbOk(['start', 'r1']);
    await checkOk();
    await lab.plumbOk(['rm', '-f', 'r1', 'r2']);
    await lab.plumbOk(['network', 'rm', 'boot']);
  });
});

/** A TCP connection from the wan to ip:port; returns what the server said ('' when it did not get through). */
async function fromWan(ip: string, port: number): Promise<string> {
  return (await lab.exec(['nc', '-w', '2', ip, String(port)], lab.wan!)).stdout.trim();
}

async function waitFromWan(ip: string, port: number, want: string): Promise<string> {
  let got = '';
  const deadline = Date.now() + 20_000;
  do {
    got = await fromWan(ip, port);
    if (got === want) return got;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  return got;
}

const forwardPolicy = () => /^:FORWARD (\w+)/m.exec(lab.iptablesSave())?.[1];

describe('items 4 and 5: the firewall check is not blind to the policy and the order of jumps', () => {
  let ip = '';
  it('an unpublished port is unreachable from a routed wan host', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.81.0.0/24', 'fw']);
    await lab.plumbOk(['run', '-d', '--name', 'svc', '--net', 'fw', '-p', '8090:80', 'busybox', 'socat', 'TCP-LISTEN:80,reuseaddr,fork', 'SYSTEM:echo svc']);
    await lab.plumbOk(['run', '-d', '--name', 'hidden', '--net', 'fw', 'busybox', 'socat', 'TCP-LISTEN:81,reuseaddr,fork', 'SYSTEM:echo hidden']);
    ip = (await lab.plumbOk(['inspect', '-f', '{{.NetworkSettings.Networks.fw.IPAddress}}', 'hidden'])).trim();
    // The wan routes the network's subnet to the host, as a router in front of it would.
    expect((await lab.exec(['ip', 'route', 'add', '10.81.0.0/24', 'via', '203.0.113.1'], lab.wan!)).code).toBe(0);
    expect(await waitFromWan('203.0.113.1', 8090, 'svc')).toBe('svc');
    expect(forwardPolicy()).toBe('DROP');
    expect(await fromWan(ip, 81)).toBe('');
  });

  it('item 4: iptables -P FORWARD ACCEPT opens it; check names it, gc puts DROP back for good', async () => {
    expect((await lab.exec(['iptables', '-P', 'FORWARD', 'ACCEPT'])).code).toBe(0);
    expect(await waitFromWan(ip, 81, 'hidden')).toBe('hidden');
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('firewall: FORWARD policy is ACCEPT; plumb set it to DROP when it turned forwarding on\n');
    const gc = await gcClean();
    expect(gc).toBe('repaired firewall: FORWARD policy is ACCEPT; plumb set it to DROP when it turned forwarding on\n');
    expect(forwardPolicy()).toBe('DROP');
    expect(await fromWan(ip, 81)).toBe('');
    await checkOk();
  });

  it('item 5: PLUMB-USER moved below PLUMB-FORWARD bypasses a DROP there; check names it, gc restores the order', async () => {
    expect((await lab.exec(['iptables', '-I', 'PLUMB-USER', '-p', 'tcp', '--dport', '80', '-j', 'DROP'])).code).toBe(0);
    expect(await fromWan('203.0.113.1', 8090)).toBe('');
    const userJump = ['-m', 'comment', '--comment', 'plumb: base', '-j', 'PLUMB-USER'];
    expect((await lab.exec(['iptables', '-D', 'FORWARD', ...userJump])).code).toBe(0);
    expect((await lab.exec(['iptables', '-A', 'FORWARD', ...userJump])).code).toBe(0);
    expect(await waitFromWan('203.0.113.1', 8090, 'svc')).toBe('svc');
    const check = await lab.plumb(['system', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^firewall: jump out of order: -A FORWARD .*-j PLUMB-/m);
    expect(check.stdout).not.toMatch(/cannot repair/);
    await gcClean();
    const forward = lab.iptablesSave().split('\n').filter((l) => l.startsWith('-A FORWARD ')).map((l) => /-j (\S+)$/.exec(l)?.[1]);
    expect(forward.slice(0, 3)).toEqual(['PLUMB-USER', 'PLUMB-ISOLATION-STAGE-1', 'PLUMB-FORWARD']);
    expect(await fromWan('203.0.113.1', 8090)).toBe('');
    await checkOk();
    expect((await lab.exec(['iptables', '-D', 'PLUMB-USER', '-p', 'tcp', '--dport', '80', '-j', 'DROP'])).code).toBe(0);
    expect(await waitFromWan('203.0.113.1', 8090, 'svc')).toBe('svc');
  });

  it('item 8: firewall findings do not claim gc cannot repair them; check | head -1 ends quietly', async () => {
    for (const table of ['filter', 'nat']) expect((await lab.exec(['iptables', '-t', table, '-F', table === 'nat' ? 'PLUMB' : 'PLUMB-FORWARD'])).code).toBe(0);
    const check = await lab.plumb(['system', 'check']);
    expect(check.stdout.split('\n').length).toBeGreaterThan(2);
    expect(check.stdout).not.toContain('(gc cannot repair this)');
    // `head -1` leaves after one line; `true` before plumb has written anything: either way plumb meets a closed pipe.
    for (const reader of ['head -1', 'true']) {
      const piped = await runAsync(['nsenter', `--net=${lab.nsPath(lab.host)}`, 'sh', '-c', `"${process.execPath}" "${PLUMB_BIN}" system check | ${reader}`], {
        env: lab.env(),
      });
      if (reader === 'head -1') expect(piped.stdout).toMatch(/^(network|container|firewall) [^\n]*\n$/);
      expect(piped.stderr, reader).toBe('');
    }
    await gcClean();
    await checkOk();
    await lab.plumbOk(['rm', '-f', 'svc', 'hidden']);
    await lab.plumbOk(['network', 'rm', 'fw']);
    await lab.exec(['ip', 'route', 'del', '10.81.0.0/24'], lab.wan!);
  });
});

describe('item 6: a crashed operation whose process is an unreaped zombie is no live writer', () => {
  it('check sees the half-made bridge while the killed plumb is a zombie', async () => {
    // sh starts plumb in the background, then becomes `sleep`, which never reaps it: a zombie once it is killed.
    const parent = spawn(
      'nsenter',
      [`--net=${lab.nsPath(lab.host)}`, 'sh', '-c', `"${process.execPath}" "${PLUMB_BIN}" network create --subnet 10.82.0.0/24 zomb & exec sleep 120`],
      { env: { ...lab.env(), PLUMB_CRASH_AT_STEP: '3' }, stdio: 'ignore' },
    );
    try {
      const zombie = await waitFor(() => childZombie(parent.pid!), 30_000);
      expect(zombie, 'the killed plumb is a zombie of sleep').toBeDefined();
      const check = await lab.plumb(['system', 'check']);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(/^leftover: bridge br-[0-9a-f]{12} was made by an operation that did not finish$/m);
      await gcClean();
      expect(lab.ipJson<Array<{ ifname: string }>>(['link', 'show']).some((l) => l.ifname.startsWith('br-'))).toBe(false);
      await checkOk();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

/** The PID of a zombie child of `ppid`, if there is one. */
function childZombie(ppid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' && Number(parent) === ppid) return Number(entry);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('item 12: a failed run leaves no container directory, and check finds one a kill left', () => {
  it('a run that fails (a taken --ip) removes the directory it made', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.83.0.0/24', 'dirs']);
    await lab.plumbOk(['run', '-d', '--name', 'd1', '--net', 'dirs', '--ip', '10.83.0.9', 'busybox']);
    const dir = join(lab.root, 'lib', 'containers');
    const before = readdirSync(dir).sort();
    const r = await lab.plumb(['run', '-d', '--name', 'd2', '--net', 'dirs', '--ip', '10.83.0.9', 'busybox']);
    expect(r.code).not.toBe(0);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a run killed after making it: check names the directory, gc removes it', async () => {
    const dir = join(lab.root, 'lib', 'containers');
    const before = new Set(readdirSync(dir));
    const r = await lab.plumb(['run', '-d', '--name', 'd3', '--net', 'dirs', 'busybox', 'sleep', '60'], { env: { PLUMB_CRASH_AT_STEP: '2' } });
    expect(r.code).toBe(128);
    const left = readdirSync(dir).filter((f) => !before.has(f));
    expect(left).toHaveLength(1);
    const check = await lab.plumb(['system', 'check']);
    expect(check.stdout).toContain(`leftover: directory ${join(dir, left[0]!)} belongs to no container`);
    await gcClean();
    expect(readdirSync(dir).sort()).toEqual([...before].sort());
    await checkOk();
    await lab.plumbOk(['rm', '-f', 'd1']);
    await lab.plumbOk(['network', 'rm', 'dirs']);
  });
});

describe('item 14: state is root-only', () => {
  it('directories are 0700, the store 0600, and a non-root user reads nothing and is told to run as root', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'secret', '-e', 'DB_PASSWORD=hunter2', 'busybox']);
    for (const d of [join(lab.root, 'lib'), join(lab.root, 'run')]) expect(statSync(d).mode & 0o777, d).toBe(0o700);
    expect(statSync(join(lab.root, 'lib', 'store.json')).mode & 0o777).toBe(0o600);
    const asNobody = (argv: string[]) =>
      runAsync(['nsenter', `--net=${lab.nsPath(lab.host)}`, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv], { env: lab.env() });
    const cat = await asNobody(['cat', join(lab.root, 'lib', 'store.json')]);
    expect(cat.code).not.toBe(0);
    expect(cat.stdout).not.toContain('hunter2');
    for (const args of [['ps'], ['network', 'ls'], ['inspect', 'secret']]) {
      const r = await asNobody([process.execPath, PLUMB_BIN, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout).not.toContain('secret');
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/run plumb as root/);
    }
    await lab.plumbOk(['rm', '-f', 'secret']);
  });
});

describe('item 7: gc finishes an rm -f that was killed half-way', () => {
  it('at every recorded step of rm -f: gc exits 0, the container is gone, check is clean, nothing of it is left', async () => {
    await lab.plumbOk(['network', 'create', '--subnet', '10.84.0.0/24', 'rmnet']);
    const base = hostState(lab);
    let step = 1;
    for (; step < 40; step++) {
      await lab.plumbOk(['run', '-d', '--name', 'gone', '--net', 'rmnet', '-p', '8095:80', 'busybox', 'sleep', '600']);
      const r = await lab.plumb(['rm', '-f', 'gone'], { env: { PLUMB_CRASH_AT_OP: String(step) } });
      if (r.code === 0) break;
      expect(r.code, `step ${step}: killed`).toBe(128);
      const gc = await lab.plumb(['system', 'gc']);
      expect(gc.code, `step ${step}: ${gc.stdout}${gc.stderr}`).toBe(0);
      expect((await lab.plumb(['inspect', 'gone'])).code, `step ${step}: the removal was finished`).not.toBe(0);
      await checkOk();
      expect(hostState(lab), `step ${step}`).toEqual(base);
    }
    expect(step, 'rm -f has recorded kernel changes to kill it at').toBeGreaterThan(2);
    await lab.plumbOk(['network', 'rm', 'rmnet']);
  });
});
