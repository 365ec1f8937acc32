// system check / gc / reset must be trustworthy: each case here is a way the
// repair tools were once wrong about health, or were disabled by one fault.
// Every case asserts on the kernel (ip -j, iptables-save, a connection that
// passes or fails), not only on what plumb says.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
