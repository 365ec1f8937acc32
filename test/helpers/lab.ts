// A throwaway lab for integration tests: a "host" network namespace standing in
// for the machine plumb runs on, optionally a "wan" namespace standing in for
// the internet (joined to the host by a veth, documentation-range addresses),
// and a private PLUMB_ROOT. Nothing here touches the machine's own namespace:
// links are created inside lab namespaces directly, and every command runs with
// `nsenter --net=` (not `ip netns exec`, whose private mount namespace would
// hide the bind mounts that keep plumb's namespaces alive).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { testRootfsDir } from './rootfs.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const PLUMB_BIN = join(REPO, 'bin', 'plumb');

/** Uplink addresses (RFC 5737 TEST-NET-3): host 203.0.113.1, wan 203.0.113.2. */
export const HOST_UPLINK_IP = '203.0.113.1';
export const WAN_IP = '203.0.113.2';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LabOptions {
  /** Add a "wan" namespace joined to the host's eth0 (default true). */
  wan?: boolean;
  /** Extra label in the namespace names, to tell suites apart in `ip netns list`. */
  tag?: string;
}

function sh(argv: string[], input?: string): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[], input?: string): string {
  const r = sh(argv, input);
  if (r.code !== 0) throw new Error(`lab: ${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs a command, asynchronously, capturing output. */
export function runAsync(argv: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    // A command that exits without reading its stdin closes the pipe; that is not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export class Lab {
  readonly id: string;
  readonly host: string;
  readonly wan?: string;
  /** PLUMB_ROOT for plumb processes run in this lab: state and runtime dirs live below it. */
  readonly root: string;
  /** Where sandboxes are registered for `ip netns` (private to the lab, not /run/netns). */
  readonly netnsDir: string;
  private torn = false;

  private constructor(opts: LabOptions) {
    this.id = `plb${opts.tag ? opts.tag.slice(0, 4) : ''}${randomBytes(3).toString('hex')}`;
    this.host = `${this.id}-host`;
    if (opts.wan !== false) this.wan = `${this.id}-wan`;
    this.root = join('/tmp', `${this.id}-root`);
    this.netnsDir = join(this.root, 'netns-names');
  }

  static create(opts: LabOptions = {}): Lab {
    const lab = new Lab(opts);
    try {
      lab.build();
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  nsPath(ns: string): string {
    return `/run/netns/${ns}`;
  }

  private build(): void {
    mkdirSync(this.root, { recursive: true });
    must(['ip', 'netns', 'add', this.host]);
    must(['ip', '-n', this.host, 'link', 'set', 'lo', 'up']);
    if (this.wan) {
      must(['ip', 'netns', 'add', this.wan]);
      // Created inside the host namespace with its peer placed straight into wan:
      // the machine's own namespace never sees either end.
      must(['ip', '-n', this.host, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.wan]);
      must(['ip', '-n', this.host, 'addr', 'add', `${HOST_UPLINK_IP}/24`, 'dev', 'eth0']);
      must(['ip', '-n', this.host, 'link', 'set', 'eth0', 'up']);
      must(['ip', '-n', this.wan, 'link', 'set', 'lo', 'up']);
      must(['ip', '-n', this.wan, 'addr', 'add', `${WAN_IP}/24`, 'dev', 'eth0']);
      must(['ip', '-n', this.wan, 'link', 'set', 'eth0', 'up']);
      must(['ip', '-n', this.host, 'route', 'add', 'default', 'via', WAN_IP]);
    }
  }

  /** Environment for plumb processes of this lab. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...process.env, PLUMB_ROOT: this.root, PLUMB_NETNS_DIR: this.netnsDir, PLUMB_ROOTFS_DIR: testRootfsDir(), ...extra };
  }

  /** Runs `plumb ARGS` inside the lab host. */
  plumb(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return runAsync(['nsenter', `--net=${this.nsPath(this.host)}`, process.execPath, PLUMB_BIN, ...args], {
      env: this.env(opts.env),
      input: opts.input,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** Like plumb(), but throws with the output when the exit code is not 0. */
  async plumbOk(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
    const r = await this.plumb(args, opts);
    if (r.code !== 0) throw new Error(`plumb ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs a command inside one of the lab's namespaces (host by default). */
  exec(argv: string[], ns: string = this.host, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return runAsync(['nsenter', `--net=${this.nsPath(ns)}`, ...argv], { input: opts.input, timeoutMs: opts.timeoutMs });
  }

  execSync(argv: string[], ns: string = this.host): RunResult {
    return sh(['nsenter', `--net=${this.nsPath(ns)}`, ...argv]);
  }

  /** `ip -j ...` inside a lab namespace, parsed. */
  ipJson<T = unknown>(args: string[], ns: string = this.host): T {
    const out = must(['ip', '-n', ns, '-j', ...args]);
    return JSON.parse(out || '[]') as T;
  }

  iptablesSave(ns: string = this.host): string {
    return must(['nsenter', `--net=${this.nsPath(ns)}`, 'iptables-save']);
  }

  /**
   * What plumb left in the lab host after `plumb system reset`: anything here is a leak.
   * Returns one line per leftover (empty when clean).
   */
  leftovers(): string[] {
    const found: string[] = [];
    const links = this.ipJson<Array<{ ifname: string }>>(['link', 'show'])
      .map((l) => l.ifname)
      .filter((n) => n !== 'lo' && !(this.wan && n === 'eth0'));
    if (links.length) found.push(`links in lab host: ${links.join(' ')}`);
    const rules = this.iptablesSave()
      .split('\n')
      .filter((l) => /plumb/i.test(l));
    if (rules.length) found.push(`iptables lines mentioning plumb: ${rules.length}`);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(this.root));
    if (mounts.length) found.push(`mounts under ${this.root}: ${mounts.length}`);
    const procs = this.processesInLab();
    if (procs.length) found.push(`processes in lab namespaces: ${procs.join(' ')}`);
    const cgroup = labCgroup(this.root);
    if (cgroup && existsSync(cgroup)) found.push(`cgroup ${cgroup}`);
    return found;
  }

  /**
   * leftovers(), asked again for up to 3 s while anything is left: a deleted
   * namespace takes its links with it, but the kernel does that in the background.
   */
  async settledLeftovers(): Promise<string[]> {
    let found = this.leftovers();
    for (let i = 0; i < 30 && found.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      found = this.leftovers();
    }
    return found;
  }

  /** Waits (up to 3 s) until `check` holds; for state the kernel settles in the background. */
  async eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return true;
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** PIDs of processes whose network namespace is one of this lab's (host, wan, or a sandbox of it). */
  processesInLab(): number[] {
    const inodes = new Set<number>();
    for (const ns of [this.host, this.wan]) if (ns && existsSync(this.nsPath(ns))) inodes.add(statSync(this.nsPath(ns)).ino);
    for (const file of nsFilesUnder(this.root)) inodes.add(file);
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const link = readlinkSync(`/proc/${entry}/ns/net`);
        const ino = Number(/\[(\d+)\]/.exec(link)?.[1]);
        if (inodes.has(ino)) pids.push(Number(entry));
      } catch {
        /* the process ended meanwhile */
      }
    }
    return pids;
  }

  /**
   * Resets plumb in the lab, checks for leaks, then removes the lab whatever
   * happened. Throws when plumb left anything behind.
   */
  async teardown(): Promise<void> {
    if (this.torn) return;
    let problems: string[] = [];
    try {
      if (existsSync(PLUMB_BIN) && existsSync(this.root)) {
        const r = await this.plumb(['system', 'reset'], { timeoutMs: 60_000 });
        if (r.code !== 0) problems.push(`plumb system reset exited ${r.code}: ${r.stderr.trim()}`);
      }
      problems = problems.concat(await this.settledLeftovers());
    } finally {
      this.destroy();
    }
    if (problems.length) throw new Error(`lab ${this.id} leaked:\n  ${problems.join('\n  ')}`);
  }

  /** Forcible cleanup: ends processes in the lab's namespaces, unmounts, deletes namespaces and files. */
  destroy(): void {
    this.torn = true;
    for (const pid of this.processesInLab()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && m.startsWith(this.root))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) sh(['umount', '-l', m]);
    for (const ns of [this.wan, this.host]) if (ns && existsSync(this.nsPath(ns))) sh(['ip', 'netns', 'del', ns]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

function nsFilesUnder(dir: string): number[] {
  const inodes: number[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.dev !== 0 && st.size === 0 && st.ino) {
          // nsfs files report the namespace inode; plain empty files are harmless extras.
          inodes.push(st.ino);
        }
      } catch {
        /* vanished */
      }
    }
  };
  walk(dir);
  return inodes;
}

/** Every lab namespace still registered by any lab (used by a global leak check). */
export function strayLabNamespaces(prefix = 'plb'): string[] {
  const out = sh(['ip', 'netns', 'list']).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

/**
 * The cgroup a plumb with this PLUMB_ROOT keeps its containers' cgroups in
 * (src/engine/containers/processes.ts names it after the run directory), under
 * the cgroup2 mount; undefined when cgroup2 is not mounted.
 */
export function labCgroup(root: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || line.slice(sep + 3).split(' ')[0] !== 'cgroup2') continue;
    return join(line.split(' ')[4]!, `plumb${join(root, 'run').replace(/[^A-Za-z0-9_.]+/g, '-')}`);
  }
  return undefined;
}
