// sysctl, iptables, sandbox processes and the kernel probe against real
// namespaces this suite creates (and removes). Nothing is written to the
// namespace the suite itself runs in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PLUMB_BIN } from '../helpers/lab.js';
import { Journal } from '../../src/kernel/ops.js';
import {
  closeNetns,
  createNetns,
  createUtsNs,
  hostNetns,
  openNetns,
  releaseMountDir,
  removeNsFile,
  type Netns,
} from '../../src/kernel/netns.js';
import { readSysctl, setSysctl } from '../../src/kernel/sysctl.js';
import { applyIptables, iptablesBackend, saveIptables } from '../../src/kernel/iptables.js';
import {
  groupMembers,
  isAlive,
  processStartTime,
  readExitCode,
  runAttached,
  runCaptured,
  startDetached,
  stopProcess,
  type SandboxProcessSpec,
} from '../../src/kernel/process.js';
import { probeKernel } from '../../src/kernel/probe.js';
import { KernelError } from '../../src/kernel/errors.js';

const tag = `plbs-${randomBytes(3).toString('hex')}`;
const labA = `${tag}-a`;
const labB = `${tag}-b`;
const tmp = mkdtempSync(join(tmpdir(), `${tag}-`));
const nsDir = join(tmp, 'ns');
const filesDir = join(tmp, 'files');
const netPath = join(nsDir, 'net');
const utsPath = join(nsDir, 'uts');
const files = { hosts: join(filesDir, 'hosts'), resolvConf: join(filesDir, 'resolv.conf'), hostname: join(filesDir, 'hostname') };

const started: number[] = [];
const handles: Netns[] = [];
const labsMade: string[] = [];

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const inode = (path: string): number => statSync(path).ino;
const nsLink = (pid: number | 'self', kind: string): string => readlinkSync(`/proc/${pid}/ns/${kind}`);

let a: Netns;
let b: Netns;
let sandbox: Omit<SandboxProcessSpec, 'argv'>;

beforeAll(() => {
  for (const name of [labA, labB]) {
    sh('ip', ['netns', 'add', name]);
    labsMade.push(name);
  }
  a = openNetns(`/run/netns/${labA}`, labA);
  b = openNetns(`/run/netns/${labB}`, labB);
  handles.push(a, b);

  const journal = new Journal();
  handles.push(createNetns(journal, `${tag}-sbx`, netPath));
  createUtsNs(journal, `${tag}-sbx`, utsPath, `${tag}-host`);
  mkdirSync(filesDir);
  writeFileSync(files.hosts, `127.0.0.1\tlocalhost\n10.99.0.2\t${tag}-host\n`);
  writeFileSync(files.resolvConf, 'nameserver 127.0.0.11\noptions ndots:0\n');
  writeFileSync(files.hostname, `${tag}-host\n`);
  sandbox = { netnsPath: netPath, utsPath, files };
});

afterAll(async () => {
  const problems: string[] = [];
  for (const pid of started) {
    try {
      await stopProcess(pid, 500);
    } catch (err) {
      problems.push(`stop ${pid}: ${String(err)}`);
    }
  }
  for (const h of handles) {
    try {
      closeNetns(h);
    } catch {
      // already closed
    }
  }
  for (const p of [netPath, utsPath]) {
    try {
      removeNsFile(p);
    } catch (err) {
      problems.push(String(err));
    }
  }
  try {
    releaseMountDir(nsDir);
  } catch (err) {
    problems.push(String(err));
  }
  for (const name of labsMade) {
    try {
      sh('ip', ['netns', 'del', name]);
    } catch (err) {
      problems.push(String(err));
    }
  }
  rmSync(tmp, { recursive: true, force: true });

  // Leak check: no mounts, no lab namespaces, no processes.
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(tmp) || l.includes(tag));
  expect(mounts).toEqual([]);
  expect(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(tag)) : []).toEqual([]);
  expect(started.filter((pid) => isAlive(pid))).toEqual([]);
  expect(existsSync(tmp)).toBe(false);
  expect(problems).toEqual([]);
});

describe('sysctl', () => {
  const key = 'net.ipv4.ip_forward';

  it('writes into the namespace it is given, and only there', () => {
    const ownDirect = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const before = { a: readSysctl(a, key), b: readSysctl(b, key), own: readSysctl(hostNetns(), key) };
    expect(before.own).toBe(ownDirect);
    const wanted = before.a === '1' ? '0' : '1';

    const journal = new Journal();
    setSysctl(journal, a, key, wanted, 'test: forward in a');
    expect(journal.ops).toEqual([{ kind: 'sysctl', ns: labA, key, value: wanted, why: 'test: forward in a' }]);

    expect(readSysctl(a, key)).toBe(wanted);
    expect(sh('ip', ['netns', 'exec', labA, 'cat', '/proc/sys/net/ipv4/ip_forward']).trim()).toBe(wanted);
    expect(readSysctl(b, key)).toBe(before.b);
    expect(sh('ip', ['netns', 'exec', labB, 'cat', '/proc/sys/net/ipv4/ip_forward']).trim()).toBe(before.b);
    expect(readSysctl(hostNetns(), key)).toBe(before.own);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(ownDirect);
  });

  it('handles an interface name with a dot (slash in the dotted key)', () => {
    sh('ip', ['-n', labA, 'link', 'add', 'br.5', 'type', 'bridge']);
    const file = '/proc/sys/net/ipv4/conf/br.5/forwarding';
    const before = sh('ip', ['netns', 'exec', labA, 'cat', file]).trim();
    const wanted = before === '1' ? '0' : '1';
    setSysctl(new Journal(), a, 'net.ipv4.conf.br/5.forwarding', wanted);
    expect(sh('ip', ['netns', 'exec', labA, 'cat', file]).trim()).toBe(wanted);
    expect(readSysctl(a, 'net/ipv4/conf/br.5/forwarding')).toBe(wanted);
    expect(readSysctl(b, 'net.ipv4.conf.br/5.forwarding')).toBeUndefined();
  });

  it('does nothing in a dry run, and reports a missing key as ENOENT', () => {
    const before = readSysctl(b, key);
    const dry = new Journal(true);
    setSysctl(dry, b, key, before === '1' ? '0' : '1');
    expect(dry.ops).toHaveLength(1);
    expect(readSysctl(b, key)).toBe(before);
    expect(() => setSysctl(new Journal(), b, 'net.ipv4.conf.nosuchdev0.forwarding', '1')).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});

describe('iptables', () => {
  const chain = 'PLBS-TEST';
  const rules = `*filter\n:${chain} - [0:0]\n-A ${chain} -m comment --comment "plumb test" -j RETURN\nCOMMIT\n`;

  it('applies one batch inside the namespace it is given', async () => {
    const journal = new Journal();
    await applyIptables(journal, a, rules, 'test chain');
    expect(journal.ops).toEqual([{ kind: 'iptables', ns: labA, rules, why: 'test chain' }]);
    expect(sh('nsenter', [`--net=/run/netns/${labA}`, 'iptables-save'])).toContain(`:${chain} - [0:0]`);
    expect(sh('nsenter', [`--net=/run/netns/${labB}`, 'iptables-save'])).not.toContain(chain);
    const saved = await saveIptables(a, 'filter');
    expect(saved).toContain(`-A ${chain} -m comment --comment "plumb test" -j RETURN`);
    expect(await saveIptables(b, 'filter')).not.toContain(chain);
    // --noflush: a second batch adds to what is there.
    await applyIptables(journal, a, `*filter\n-A ${chain} -j ACCEPT\nCOMMIT\n`);
    expect(await saveIptables(a, 'filter')).toMatch(new RegExp(`-A ${chain} .*RETURN\\n-A ${chain} -j ACCEPT`));
  });

  it('explains a failure with the message and the failing line', async () => {
    const bad = `*filter\n:${chain}-OK - [0:0]\n-A PLBS-NO-SUCH-CHAIN -j ACCEPT\nCOMMIT\n`;
    const err = await applyIptables(new Journal(), b, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).code).toBe('EIPTABLES');
    expect((err as Error).message).toMatch(/line 3/);
    expect((err as Error).message).toContain('-A PLBS-NO-SUCH-CHAIN -j ACCEPT');
    // The batch is atomic: the good line before it did not land either.
    expect(await saveIptables(b, 'filter')).not.toContain(`${chain}-OK`);
  });

  it('does not run in a dry run; names the backend', async () => {
    const dry = new Journal(true);
    await applyIptables(dry, b, rules);
    expect(dry.ops).toHaveLength(1);
    expect(await saveIptables(b)).not.toContain(chain);
    const backend = await iptablesBackend();
    expect(['nf_tables', 'legacy']).toContain(backend);
    expect(sh('iptables', ['--version'])).toContain(backend === 'nf_tables' ? 'nf_tables' : 'legacy');
  });
});

describe('processes in a sandbox', () => {
  const spec = (argv: string[]): SandboxProcessSpec => ({ ...sandbox, argv });
  const detach = async (argv: string[], name: string) => {
    const io = { logFile: join(tmp, `${name}.log`), exitFile: join(tmp, `${name}.exit`) };
    const { pid } = await startDetached(spec(argv), io);
    started.push(pid);
    return { pid, ...io };
  };
  const waitFor = async (cond: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('an attached command sees the sandbox files, hostname and network namespace', async () => {
    const hosts = await runCaptured(spec(['cat', '/etc/hosts']));
    expect(hosts).toEqual({ code: 0, stdout: readFileSync(files.hosts, 'utf8'), stderr: '' });

    const r = await runCaptured(spec(['sh', '-c', 'hostname; cat /etc/hostname /etc/resolv.conf; readlink /proc/self/ns/net /proc/self/ns/uts']));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${tag}-host\n${tag}-host\nnameserver 127.0.0.11\noptions ndots:0\nnet:[${inode(netPath)}]\nuts:[${inode(utsPath)}]\n`,
    );
    // The host's own files and hostname are untouched.
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain(tag);
    expect(sh('hostname', []).trim()).not.toBe(`${tag}-host`);

    expect(await runAttached(spec(['sh', '-c', 'exit 5']))).toBe(5);
    expect((await runCaptured(spec(['cat']), { input: 'piped\n' })).stdout).toBe('piped\n');
  });

  it('host network mode: no namespaces, no binds', async () => {
    const r = await runCaptured({ argv: ['readlink', '/proc/self/ns/net', '/proc/self/ns/mnt'] });
    expect(r.stdout).toBe(`${nsLink('self', 'net')}\n${nsLink('self', 'mnt')}\n`);
    const net = await runCaptured({ netnsPath: netPath, argv: ['readlink', '/proc/self/ns/net', '/proc/self/ns/mnt'] });
    expect(net.stdout).toBe(`net:[${inode(netPath)}]\n${nsLink('self', 'mnt')}\n`);
  });

  it('refuses a command that does not exist, or a missing namespace file', async () => {
    await expect(runCaptured(spec(['plbs-no-such-command']))).rejects.toThrow(/executable file not found/);
    await expect(
      startDetached({ ...sandbox, netnsPath: join(nsDir, 'missing'), argv: ['true'] }, { logFile: join(tmp, 'x.log'), exitFile: join(tmp, 'x.exit') }),
    ).rejects.toThrow(/does not exist/);
  });

  it('a detached command runs in the sandbox as its own process group leader, and stops', async () => {
    const { pid, exitFile } = await detach(['sleep', '30'], 'sleep');
    expect(isAlive(pid)).toBe(true);
    expect(nsLink(pid, 'net')).toBe(`net:[${inode(netPath)}]`);
    expect(nsLink(pid, 'uts')).toBe(`uts:[${inode(utsPath)}]`);
    expect(nsLink(pid, 'mnt')).not.toBe(nsLink('self', 'mnt'));
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[2])).toBe(pid); // pgrp
    expect(Number(fields[3])).toBe(pid); // session
    const start = processStartTime(pid);
    expect(start).toBeGreaterThan(0);
    expect(isAlive(pid, start)).toBe(true);
    expect(isAlive(pid, start! + 1)).toBe(false);

    // The sandbox hosts file is rewritten in place: the running process sees it.
    writeFileSync(files.hosts, `127.0.0.1\tlocalhost\n10.99.0.3\t${tag}-peer\n`);
    expect(sh('nsenter', [`--target=${pid}`, '--mount', 'cat', '/etc/hosts'])).toContain(`${tag}-peer`);

    // SIGTERM ends it (143), long before the 5 s grace would escalate to SIGKILL (137).
    await stopProcess(pid, 5000);
    expect(isAlive(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
    expect(readExitCode(exitFile)).toBe(143);
  });

  it('records exit codes and output of detached commands', async () => {
    const { pid, logFile, exitFile } = await detach(['sh', '-c', 'echo out; echo err >&2; exit 3'], 'exit3');
    await waitFor(() => readExitCode(exitFile) !== undefined);
    expect(readExitCode(exitFile)).toBe(3);
    await waitFor(() => !isAlive(pid));
    expect(readFileSync(logFile, 'utf8')).toBe('out\nerr\n');
    expect(readExitCode(join(tmp, 'never.exit'))).toBeUndefined();
  });

  it('escalates to SIGKILL for a command that ignores SIGTERM', async () => {
    const { pid, exitFile } = await detach(['sh', '-c', 'trap "" TERM; sleep 30 & wait; wait'], 'stubborn');
    await waitFor(() => groupMembers(pid).length >= 3); // wrapper, sh, sleep
    await stopProcess(pid, 300);
    expect(isAlive(pid)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
    expect(readExitCode(exitFile)).toBe(137);
  });

  it('reports a launcher failure instead of a PID', async () => {
    const broken = { ...files, hosts: join(filesDir, 'missing-hosts') };
    await expect(startDetached({ ...sandbox, files: broken, argv: ['true'] }, { logFile: join(tmp, 'y.log'), exitFile: join(tmp, 'y.exit') })).rejects.toThrow(
      /does not exist/,
    );
  });

  it('starts 20 detached and 20 attached processes one after another, each running to a clean exit', async () => {
    const n = 20;
    const runs = [];
    for (let i = 0; i < n; i++) runs.push(await detach(['true'], `many${i}`));
    for (let i = 0; i < n; i++) expect((await runCaptured(spec(['true']))).code).toBe(0);
    for (const r of runs) await waitFor(() => readExitCode(r.exitFile) === 0);
    for (const r of runs) expect(readExitCode(r.exitFile)).toBe(0);
  });
});

describe('probe', () => {
  it('finds the link kinds without touching this namespace', async () => {
    const linksBefore = sh('ip', ['-o', 'link', 'show']);
    const nsBefore = sh('ip', ['netns', 'list']);
    const facts = await probeKernel();
    expect(facts.linkKinds.bridge).toBe(true);
    expect(facts.linkKinds.veth).toBe(true);
    expect(typeof facts.linkKinds.vxlan).toBe('boolean');
    expect(typeof facts.linkKinds.macvlan).toBe('boolean');
    expect(facts.root).toBe(process.getuid?.() === 0);
    expect(facts.ipForward).toBe(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim());
    expect(facts.iptables).toMatch(/^iptables v\d/);
    expect(facts.kernel).toBe(sh('uname', ['-r']).trim());
    expect(sh('ip', ['-o', 'link', 'show'])).toBe(linksBefore);
    expect(sh('ip', ['netns', 'list'])).toBe(nsBefore);
  });
});

describe('a run without root', () => {
  // The uid is faked in the plumb process itself (a preloaded module replaces
  // process.getuid), so the CLI's own check is what refuses: real privileges
  // stay, which is why nothing may be left behind to prove it refused early.
  const asUser = ['--import', 'data:text/javascript,process.getuid=()=>1000;process.geteuid=()=>1000'];
  const run = (root: string, args: string[]) => {
    try {
      return { code: 0, stderr: '', stdout: execFileSync(process.execPath, [...asUser, PLUMB_BIN, ...args], { env: { ...process.env, PLUMB_ROOT: root }, encoding: 'utf8', stdio: 'pipe' }) };
    } catch (err) {
      const e = err as { status: number; stderr: string; stdout: string };
      return { code: e.status, stderr: e.stderr, stdout: e.stdout };
    }
  };

  it('refuses every mutating command with one line saying to run as root, and creates nothing', () => {
    const root = join(mkdtempSync(join(tmpdir(), 'plb-nonroot-')), 'root');
    try {
      for (const args of [['network', 'create', 'n1'], ['run', '-d', '--name', 'c1', 'busybox'], ['rm', '-f', 'c1'], ['network', 'rm', 'n1'], ['system', 'reset'], ['system', 'gc']]) {
        const r = run(root, args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(/^Error: plumb .+ run it as root \(sudo plumb \.\.\.\)\n$/);
        expect(existsSync(root), `${args.join(' ')} created ${root}`).toBe(false);
      }
      // Reading works without root, and says who is asking.
      const info = run(root, ['system', 'info']);
      expect(info.code).toBe(0);
      expect(info.stdout).toMatch(/^Running as root: no$/m);
    } finally {
      rmSync(dirname(root), { recursive: true, force: true });
    }
  });
});
