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
