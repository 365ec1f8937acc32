// Containers that live like Docker's: a monitor per container (terminal,
// attach, logs, exit status), one cgroup per container (stop, kill, rm -f,
// top, exec -d), a real State.Pid, and the busybox userland of the images
// `busybox` and `alpine`. Docker's own networking tutorial idioms run
// verbatim with `docker` -> `plumb`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, PLUMB_BIN, labCgroup } from '../helpers/lab.js';
import { Terminal } from '../helpers/pty.js';

let lab: Lab;
const terminals: Terminal[] = [];

beforeAll(() => {
  lab = Lab.create({ tag: 'life', wan: false });
});

afterAll(async () => {
  for (const t of terminals) t.kill();
  await lab.teardown();
});

const plumbArgv = (args: string[]) => ['nsenter', `--net=${lab.nsPath(lab.host)}`, process.execPath, PLUMB_BIN, ...args];

function terminal(args: string[]): Terminal {
  const t = new Terminal(plumbArgv(args), lab.env());
  terminals.push(t);
  return t;
}

async function inspect(name: string, template: string): Promise<string> {
  return (await lab.plumbOk(['inspect', '-f', template, name])).trim();
}

/** PIDs of processes whose command line holds `token` (never this test process). */
function pidsWith(token: string): number[] {
  const found: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').some((a) => a.includes(token))) found.push(Number(e));
    } catch {
      /* ended meanwhile */
    }
  }
  return found;
}

function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!
    .slice(3);
}

const unique = (what: string) => `${what}${process.pid}${Math.floor(Math.random() * 1e6)}`;

describe("Docker's bridge tutorial with alpine containers", () => {
  it('plumb run -dit --name alpine1 alpine ash stays up (a terminal keeps the shell waiting)', async () => {
    for (const line of ['run -dit --name alpine1 alpine ash', 'run -dit --name alpine2 alpine ash']) {
      expect((await lab.plumbOk(line.split(' '))).trim()).toMatch(/^[0-9a-f]{64}$/);
    }
    // Still running a while later, per the kernel: the main process is alive and is busybox's ash.
    await new Promise((r) => setTimeout(r, 1000));
    const pid = Number(await inspect('alpine1', '{{.State.Pid}}'));
    expect(pid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('ash');
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('ash');
    expect(await lab.plumbOk(['ps'])).toMatch(/alpine\s+"ash"\s+.*Up .*alpine1/);
  });

  it('attach: typing hostname shows the answer; Ctrl-p Ctrl-q detaches and the container still runs', async () => {
    const id = await inspect('alpine1', '{{.Id}}');
    const t = terminal(['attach', 'alpine1']);
    // A container's shell prints nothing on attach: wait until typed input is echoed back.
    // (Both terminals, the container's and the test's, turn \n into \r\n.)
    for (let i = 0; !/hostname\r*\n/.test(t.output) && i < 100; i++) {
      if (i % 20 === 0) t.type('hostname\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    await t.waitFor(new RegExp(`hostname\\r*\\n${id.slice(0, 12)}\\r*\\n`));
    t.type('\x10\x11');
    expect(await t.exited).toBe(0);
    expect(await inspect('alpine1', '{{.State.Status}}')).toBe('running');
    expect(existsSync(`/proc/${await inspect('alpine1', '{{.State.Pid}}')}`)).toBe(true);
  });

  it('logs shows what was typed and printed, with -t timestamps and --tail', async () => {
    const id = await inspect('alpine1', '{{.Id}}');
    const logs = await lab.plumbOk(['logs', 'alpine1']);
    expect(logs).toContain('hostname');
    expect(logs).toContain(id.slice(0, 12));
    const stamped = await lab.plumbOk(['logs', '-t', '--tail', '2', 'alpine1']);
    const lines = stamped.split('\n').filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
  });

  it('plumb exec alpine1 ip addr show and ping by address print busybox output', async () => {
    const ip2 = await inspect('alpine2', '{{.NetworkSettings.IPAddress}}');
    const addr = await lab.plumbOk(['exec', 'alpine1', 'ip', 'addr', 'show']);
    expect(addr).toMatch(/inet 172\.17\.0\.\d+\/16 .*scope global eth0/);
    const ping = await lab.plumbOk(['exec', 'alpine1', 'ping', '-c', '2', ip2]);
    expect(ping).toMatch(new RegExp(`^PING ${ip2.replace(/\./g, '\\.')} \\(${ip2.replace(/\./g, '\\.')}\\): 56 data bytes$`, 'm'));
    expect(ping).toMatch(/seq=1 ttl=64/);
    expect(ping).toContain('2 packets transmitted, 2 packets received, 0% packet loss');
    // The default bridge has no names: busybox says so its own way.
    const byName = await lab.plumb(['exec', 'alpine1', 'ping', '-c', '1', 'alpine2']);
    expect(byName.code).not.toBe(0);
    expect(byName.stderr).toContain("ping: bad address 'alpine2'");
  });

  it('plumb stop and plumb rm end both containers', async () => {
    await lab.plumbOk(['stop', 'alpine1', 'alpine2']);
    expect(await inspect('alpine1', '{{.State.Status}}')).toBe('exited');
    await lab.plumbOk(['rm', 'alpine1', 'alpine2']);
  });
});

describe("Docker's user-defined bridge tutorial", () => {
  it('plumb exec alpine1 ping -c 1 alpine2 prints busybox ping output by name', async () => {
    await lab.plumbOk(['network', 'create', '--driver', 'bridge', 'alpine-net']);
    await lab.plumbOk(['run', '-dit', '--name', 'alpine1', '--network', 'alpine-net', 'alpine', 'ash']);
    await lab.plumbOk(['run', '-dit', '--name', 'alpine2', '--network', 'alpine-net', 'alpine', 'ash']);
    const ip2 = JSON.parse(await lab.plumbOk(['inspect', 'alpine2']))[0].NetworkSettings.Networks['alpine-net'].IPAddress as string;
    const out = await lab.plumbOk(['exec', 'alpine1', 'ping', '-c', '1', 'alpine2']);
    expect(out).toMatch(new RegExp(`^PING alpine2 \\(${ip2.replace(/\./g, '\\.')}\\): 56 data bytes$`, 'm'));
    expect(out).toMatch(new RegExp(`^64 bytes from ${ip2.replace(/\./g, '\\.')}: seq=0 ttl=64 time=`, 'm'));
    expect(out).toContain('--- alpine2 ping statistics ---');
    expect(out).toContain('1 packets transmitted, 1 packets received, 0% packet loss');
    await lab.plumbOk(['rm', '-f', 'alpine1', 'alpine2']);
    await lab.plumbOk(['network', 'rm', 'alpine-net']);
  });
});

describe("the issue's idiom: run -dit ... sh, attach, logs", () => {
  it('plumb run -dit --name alpine3 alpine sh stays up, takes input through attach, and logs it', async () => {
    await lab.plumbOk(['run', '-dit', '--name', 'alpine3', 'alpine', 'sh']);
    const t = terminal(['attach', 'alpine3']);
    const token = unique('t');
    for (let i = 0; !t.output.includes(`${token}-done`) && i < 100; i++) {
      if (i % 20 === 0) t.type(`echo ${token}-done\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await t.waitFor(new RegExp(`\\n${token}-done`));
    t.type('\x10\x11');
    expect(await t.exited).toBe(0);
    expect(await inspect('alpine3', '{{.State.Status}}')).toBe('running');
    expect(await lab.plumbOk(['logs', 'alpine3'])).toMatch(new RegExp(`^${token}-done\\r?$`, 'm'));
    await lab.plumbOk(['rm', '-f', 'alpine3']);
  });
});

describe('the monitor and the cgroup', () => {
  it('run -it busybox without COMMAND gives the image shell on a terminal', async () => {
    const t = terminal(['run', '-it', '--rm', '--name', 'shell1', 'busybox']);
    await t.waitFor(/# /);
    t.type('echo $((6*7)) $0\n');
    await t.waitFor(/42 (sh|ash)/);
    t.type('exit 5\n');
    expect(await t.exited).toBe(5);
    expect((await lab.plumb(['inspect', 'shell1'])).code).not.toBe(0);
  });

  it('exec -d returns while its process runs, in the container cgroup; top lists it', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'worker', 'busybox', 'sh', '-c', 'while true; do sleep 1; done']);
    const token = unique('9');
    await lab.plumbOk(['exec', '-d', 'worker', 'sleep', token]);
    // plumb exec -d has exited; its process is still there.
    const pids = pidsWith(token);
    expect(pids.length).toBe(1);
    const main = Number(await inspect('worker', '{{.State.Pid}}'));
    expect(cgroupOf(pids[0]!)).toBe(cgroupOf(main));
    expect(cgroupOf(main)).not.toBe(cgroupOf(process.pid));
    const top = await lab.plumbOk(['top', 'worker']);
    expect(top.split('\n')[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD/);
    expect(top).toContain(`sleep ${token}`);
    expect(top).toMatch(new RegExp(`^\\S+\\s+${main}\\s`, 'm'));
  });

  it('rm -f leaves no process of the container, however it was started', async () => {
    const token = unique('7');
    await lab.plumbOk(['run', '-d', '--name', 'many', 'busybox', 'sh', '-c', `sleep ${token}1 & sleep ${token}2; true`]);
    await lab.plumbOk(['exec', '-d', 'many', 'sh', '-c', `sleep ${token}3 & sleep ${token}4`]);
    // Four sleeps: two the main shell forked, two the exec'd shell did (which may have become the last one).
    const sleeps = () => [1, 2, 3, 4].every((n) => pidsWith(`${token}${n}`).length > 0);
    expect(await lab.eventually(sleeps, 20_000)).toBe(true);
    expect(pidsWith(token).length).toBeGreaterThanOrEqual(5);
    const cg = cgroupOf(Number(await inspect('many', '{{.State.Pid}}')));
    await lab.plumbOk(['rm', '-f', 'many']);
    expect(pidsWith(token)).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain('cgroup2');
    expect(existsSync(join(labCgroup(lab.root)!, '..', cg))).toBe(false);
  });

  it('stop sends SIGTERM to every process first, then records the status', async () => {
    const marks = join(lab.root, 'term-marks');
    // A label other than busybox/alpine runs from the host's filesystem, so both can write to the lab's files.
    await lab.plumbOk(['run', '-d', '--name', 'stopper', 'debian', 'sh', '-c', `trap 'echo main >> ${marks}; exit 42' TERM; while true; do sleep 0.1; done`]);
    await lab.plumbOk(['exec', '-d', 'stopper', 'sh', '-c', `trap 'echo exec >> ${marks}; exit 0' TERM; while true; do sleep 0.1; done`]);
    expect(await lab.eventually(() => pidsWith('echo exec').length === 1, 20_000)).toBe(true);
    await lab.plumbOk(['stop', '-t', '30', 'stopper']);
    expect(readFileSync(marks, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['exec', 'main']);
    expect(await inspect('stopper', '{{.State.ExitCode}}')).toBe('42');
    expect(await lab.plumbOk(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^stopper Exited \(42\)/m);
  });

  it('stop -t gives up on a process that ignores SIGTERM: SIGKILL, 137', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', "trap '' TERM; while true; do sleep 0.1; done"]);
    await lab.plumbOk(['stop', '-t', '1', 'stubborn']);
    expect(await inspect('stubborn', '{{.State.ExitCode}}')).toBe('137');
  });

  it('kill -s USR1 reaches the process; kill ends it and wait prints 137', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'sig', 'busybox', 'sh', '-c', "trap 'echo got-USR1' USR1; while true; do sleep 0.1; done"]);
    expect((await lab.plumbOk(['kill', '-s', 'USR1', 'sig'])).trim()).toBe('sig');
    expect(await lab.eventually(async () => (await lab.plumbOk(['logs', 'sig'])).includes('got-USR1'), 20_000)).toBe(true);
    expect(await inspect('sig', '{{.State.Status}}')).toBe('running');
    const waiting = lab.plumb(['wait', 'sig']);
    await lab.plumbOk(['kill', 'sig']);
    const w = await waiting;
    expect(w.code).toBe(0);
    expect(w.stdout.trim()).toBe('137');
  });

  it('wait prints the exit status of a COMMAND that ends on its own; logs -f follows until then', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 1; done; echo oops >&2; exit 7']);
    const follow = lab.plumb(['logs', '-f', 'ticker']);
    const w = await lab.plumbOk(['wait', 'ticker']);
    expect(w.trim()).toBe('7');
    const f = await follow;
    expect(f.code).toBe(0);
    expect(f.stdout).toBe('tick 1\ntick 2\ntick 3\n');
    expect(f.stderr).toBe('oops\n');
    expect(await inspect('ticker', '{{.State.Status}}')).toBe('exited');
  });

  it('the container group has them too: container top, logs, kill, wait', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'grouped', 'busybox', 'sh', '-c', 'echo hello-group; exec sleep 600']);
    expect(await lab.eventually(async () => (await lab.plumbOk(['container', 'logs', 'grouped'])) === 'hello-group\n', 20_000)).toBe(true);
    expect(await lab.plumbOk(['container', 'top', 'grouped'])).toMatch(/sleep 600/);
    const waiting = lab.plumb(['container', 'wait', 'grouped']);
    expect((await lab.plumbOk(['container', 'kill', '-s', 'TERM', 'grouped'])).trim()).toBe('grouped');
    const w = await waiting;
    expect(w.code).toBe(0);
    expect(w.stdout.trim()).toBe('143');
    expect(await inspect('grouped', '{{.State.Status}}')).toBe('exited');
  });

  it('a container without COMMAND has a real State.Pid: nsenter -t PID -n ip -4 addr shows its address', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'holder', 'busybox']);
    const pid = await inspect('holder', '{{.State.Pid}}');
    const ip = await inspect('holder', '{{.NetworkSettings.IPAddress}}');
    expect(Number(pid)).toBeGreaterThan(1);
    const r = spawnSync('nsenter', ['-t', pid, '-n', 'ip', '-4', 'addr'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`inet ${ip}/16`);
    await lab.plumbOk(['stop', 'holder']);
    expect(await inspect('holder', '{{.State.ExitCode}}')).toBe('0');
  });

  it("a container's mount namespace holds no namespace file of any sandbox, its own or another's", async () => {
    // Two sandboxes made before, so their namespace files exist when these start.
    await lab.plumbOk(['run', '-d', '--name', 'nsfs-a', 'busybox']);
    await lab.plumbOk(['run', '-d', '--name', 'nsfs-b', 'busybox', 'sleep', '600']);
    await lab.plumbOk(['run', '-d', '--name', 'nsfs-c', 'debian']);
    const host = readFileSync('/proc/self/mountinfo', 'utf8');
    // The host does hold them, so the check below can tell the difference.
    expect(host.split('\n').filter((l) => l.includes(' - nsfs ') && l.includes(lab.root)).length).toBeGreaterThanOrEqual(9);
    for (const name of ['nsfs-b', 'nsfs-c']) {
      const pid = await inspect(name, '{{.State.Pid}}');
      // Entering the mount namespace shows all of it (a chroot would hide what lies outside the root).
      const r = spawnSync('nsenter', [`--mount=/proc/${pid}/ns/mnt`, 'cat', '/proc/self/mountinfo'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      const nsfs = r.stdout.split('\n').filter((l) => l.includes(' - nsfs ') && l.includes(lab.root));
      expect(nsfs).toEqual([]);
      expect(r.stdout).not.toContain(lab.netnsDir);
    }
    // The container still has its own network and name, through the process rather than a file.
    expect((await lab.plumbOk(['exec', 'nsfs-b', 'hostname'])).trim()).toBe(await inspect('nsfs-b', '{{.Config.Hostname}}'));
    await lab.plumbOk(['rm', '-f', 'nsfs-a', 'nsfs-b', 'nsfs-c']);
  });

  it('a foreground run keeps stdout and stderr apart and returns the exit status; -i feeds stdin', async () => {
    const r = await lab.plumb(['run', '--rm', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'to-out\n', stderr: 'to-err\n' });
    const cat = await lab.plumb(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'fed on stdin\n' });
    expect(cat).toMatchObject({ code: 0, stdout: 'fed on stdin\n' });
  });

  it('a busybox container runs busybox, a debian one the host programs', async () => {
    const bb = await lab.plumb(['run', '--rm', 'busybox', 'readlink', '/bin/sh']);
    expect(bb).toMatchObject({ code: 0, stderr: '' });
    expect(bb.stdout.trim()).toBe('/bin/busybox');
    const host = await lab.plumb(['run', '--rm', 'debian', 'sh', '-c', 'test -e /usr/bin/nsenter && echo host']);
    expect(host.stdout.trim()).toBe('host');
    const missing = await lab.plumb(['run', '--rm', 'alpine', 'bash']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('exec: "bash": executable file not found in $PATH');
  });
});

describe('after system reset', () => {
  it('no process, monitor or cgroup of this lab is left', async () => {
    await lab.plumbOk(['system', 'reset']);
    expect(lab.processesInLab()).toEqual([]);
    expect(existsSync(labCgroup(lab.root)!)).toBe(false);
    // A monitor lives in the lab host's namespace: none may be left.
    const monitors = pidsWith(join(lab.root, 'lib', 'containers'));
    expect(monitors).toEqual([]);
  });
});
