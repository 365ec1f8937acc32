// A throwaway multi-host lab: several "hosts" (network namespaces, each with
// its own PLUMB_ROOT) joined by veths to an underlay bridge that lives in a
// namespace of its own, an etcd server in its own namespace on that underlay,
// and a "wan" namespace that routes for the hosts (the internet stand-in).
// Like test/helpers/lab.ts it never touches the machine's own namespace, only
// addresses namespaces it made, and teardown fails when plumb left anything.
//
//   underlay 192.0.2.0/24 (TEST-NET-1) on bridge ul0 in <id>-ul
//     <id>-etcd  192.0.2.2     etcd, client port 2379
//     <id>-h1    192.0.2.11    eth0 (host 1), default route via the wan
//     <id>-h2    192.0.2.12    ...
//     <id>-wan   192.0.2.254   and 198.51.100.1 (TEST-NET-2) on lo: "the internet"
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PLUMB_BIN, runAsync, type RunResult } from './lab.js';
import { testRootfsDir } from './rootfs.js';

export const UNDERLAY_PREFIX = '192.0.2';
export const ETCD_IP = `${UNDERLAY_PREFIX}.2`;
export const WAN_UNDERLAY_IP = `${UNDERLAY_PREFIX}.254`;
/** An address that stands for the internet: only the wan namespace has it. */
export const INTERNET_IP = '198.51.100.1';

function sh(argv: string[]): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[]): string {
  const r = sh(argv);
  if (r.code !== 0) throw new Error(`multihost: ${argv.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const nsPath = (ns: string) => `/run/netns/${ns}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let nsfs: number | undefined;
/** Device number of nsfs, the filesystem namespace handles live on. */
function nsfsDev(): number {
  nsfs ??= statSync('/proc/self/ns/net').dev;
  return nsfs;
}

/** Inodes of namespace files below a directory (plumb's sandboxes and overlay namespaces). */
function nsFilesUnder(dir: string): number[] {
  const found: number[] = [];
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
        // Only files that are namespaces (bind mounts of nsfs), never an ordinary empty file.
        else if (st.dev === nsfsDev()) found.push(st.ino);
      } catch {
        /* vanished */
      }
    }
  };
  walk(dir);
  return found;
}

/** One host of the lab: a namespace with eth0 on the underlay and its own plumb state. */
export class LabHost {
  readonly ns: string;
  readonly root: string;
  readonly netnsDir: string;

  constructor(
    readonly lab: MultiHost,
    readonly index: number,
    readonly ip: string,
  ) {
    this.ns = `${lab.id}-h${index}`;
    this.root = join('/tmp', `${lab.id}-h${index}-root`);
    this.netnsDir = join(this.root, 'netns-names');
  }

  /** What the tests call this host (in messages only: plumb knows it by its node ID). */
  get name(): string {
    return `host${this.index}`;
  }

  /**
   * The hostname plumb sees on this host: the machine's, the same on every
   * lab host (they share the machine's UTS namespace), as on lab namespaces
   * and cloned VMs. No node name is configured, so this is each host's node
   * name too, and only node IDs tell the hosts apart.
   */
  get hostname(): string {
    return hostname();
  }

  /** This host's node ID, once its first overlay join made one. */
  nodeId(): string | undefined {
    try {
      return readFileSync(join(this.root, 'lib', 'node-id'), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Environment of plumb on this host: its own root, and the cluster settings (unless `cluster` is false). */
  env(extra: Record<string, string> = {}, cluster = true): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, PLUMB_ROOT: this.root, PLUMB_NETNS_DIR: this.netnsDir, PLUMB_ROOTFS_DIR: testRootfsDir(), ...extra };
    delete env.PLUMB_CLUSTER_STORE;
    delete env.PLUMB_CLUSTER_ADVERTISE;
    // Every host goes by the same hostname (see hostname): plumb must tell them apart without it.
    delete env.PLUMB_NODE_NAME;
    if (cluster) {
      env.PLUMB_CLUSTER_STORE = `etcd://${ETCD_IP}:2379`;
      env.PLUMB_CLUSTER_ADVERTISE = 'eth0';
    }
    // A config file of the machine running the tests must not leak in.
    env.PLUMB_CONFIG = join(this.root, 'config.json');
    return { ...env, ...extra };
  }

  plumb(args: string[], opts: { env?: Record<string, string>; cluster?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
    return runAsync(['nsenter', `--net=${nsPath(this.ns)}`, process.execPath, PLUMB_BIN, ...args], {
      env: this.env(opts.env, opts.cluster !== false),
      timeoutMs: opts.timeoutMs,
    });
  }

  async plumbOk(args: string[], opts: { env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.plumb(args, opts);
    if (r.code !== 0) throw new Error(`[${this.name}] plumb ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  exec(argv: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return runAsync(['nsenter', `--net=${nsPath(this.ns)}`, ...argv], { timeoutMs: opts.timeoutMs });
  }

  /** `ip -j ARGS` inside a namespace file of this host (its own namespace by default). */
  ipJson<T = unknown>(args: string[], netnsFile = nsPath(this.ns)): T {
    const out = must(['nsenter', `--net=${netnsFile}`, 'ip', '-j', ...args]);
    return JSON.parse(out || '[]') as T;
  }

  /** Path of an overlay network's namespace on this host. */
  overlayNs(networkId: string): string {
    return join(this.root, 'run', 'netns', `1-${networkId.slice(0, 10)}`);
  }

  inodes(): Set<number> {
    const set = new Set<number>(nsFilesUnder(this.root));
    if (existsSync(nsPath(this.ns))) set.add(statSync(nsPath(this.ns)).ino);
    return set;
  }

  leftovers(): string[] {
    const found: string[] = [];
    if (!existsSync(nsPath(this.ns))) return found;
    const links = this.ipJson<Array<{ ifname: string }>>(['link', 'show'])
      .map((l) => l.ifname)
      .filter((n) => n !== 'lo' && n !== 'eth0');
    if (links.length) found.push(`${this.name}: links ${links.join(' ')}`);
    const rules = must(['nsenter', `--net=${nsPath(this.ns)}`, 'iptables-save'])
      .split('\n')
      .filter((l) => /plumb/i.test(l));
    if (rules.length) found.push(`${this.name}: ${rules.length} iptables lines mentioning plumb`);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(this.root));
    if (mounts.length) found.push(`${this.name}: ${mounts.length} mounts under ${this.root}`);
    const procs = this.lab.processesIn(this.inodes());
    if (procs.length) found.push(`${this.name}: processes ${procs.join(' ')}`);
    return found;
  }
}

export interface MultiHostOptions {
  hosts?: number;
  tag?: string;
}

export class MultiHost {
  readonly id: string;
  readonly underlay: string;
  readonly etcdNs: string;
  readonly wan: string;
  readonly hosts: LabHost[] = [];
  /** etcd's data dir: private to this lab, kept across restarts of etcd. */
  readonly etcdDir: string;
  private etcd?: ChildProcess;
  private torn = false;

  private constructor(opts: MultiHostOptions) {
    this.id = `plb${(opts.tag ?? 'mh').slice(0, 3)}${randomBytes(3).toString('hex')}`;
    this.underlay = `${this.id}-ul`;
    this.etcdNs = `${this.id}-etcd`;
    this.wan = `${this.id}-wan`;
    this.etcdDir = join('/tmp', `${this.id}-etcd`);
    for (let i = 1; i <= (opts.hosts ?? 3); i++) this.hosts.push(new LabHost(this, i, `${UNDERLAY_PREFIX}.${10 + i}`));
  }

  static async create(opts: MultiHostOptions = {}): Promise<MultiHost> {
    const lab = new MultiHost(opts);
    try {
      lab.build();
      await lab.startEtcd();
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  host(n: number): LabHost {
    return this.hosts[n - 1]!;
  }

  /** Plugs namespace `ns` into the underlay bridge as `ifname` with `cidr`. */
  private plug(ns: string, port: string, cidr: string): void {
    must(['ip', '-n', this.underlay, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    must(['ip', '-n', this.underlay, 'link', 'set', port, 'master', 'ul0', 'up']);
    must(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
    must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private build(): void {
    mkdirSync(this.etcdDir, { recursive: true });
    for (const ns of [this.underlay, this.etcdNs, this.wan, ...this.hosts.map((h) => h.ns)]) must(['ip', 'netns', 'add', ns]);
    must(['ip', '-n', this.underlay, 'link', 'add', 'ul0', 'type', 'bridge']);
    must(['ip', '-n', this.underlay, 'link', 'set', 'ul0', 'up']);
    this.plug(this.etcdNs, 'etcd', `${ETCD_IP}/24`);
    this.plug(this.wan, 'wan', `${WAN_UNDERLAY_IP}/24`);
    must(['ip', '-n', this.wan, 'addr', 'add', `${INTERNET_IP}/32`, 'dev', 'lo']);
    for (const h of this.hosts) {
      mkdirSync(h.root, { recursive: true });
      writeFileSync(join(h.root, 'config.json'), '{}\n');
      this.plug(h.ns, `h${h.index}`, `${h.ip}/24`);
      must(['ip', '-n', h.ns, 'route', 'add', 'default', 'via', WAN_UNDERLAY_IP]);
    }
  }

  /** Runs a command in one of the lab's own namespaces (underlay, etcd, wan). */
  exec(ns: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return runAsync(['nsenter', `--net=${nsPath(ns)}`, ...argv], { timeoutMs: opts.timeoutMs });
  }

  /**
   * Starts `tcpdump -i IFACE -nn -v -c COUNT FILTER` in namespace `ns` and
   * resolves once it listens; `done` gives its output (it stops after COUNT
   * packets, or is killed after timeoutMs).
   */
  async capture(ns: string, iface: string, filter: string[], count = 1, timeoutMs = 10_000): Promise<{ done: Promise<string> }> {
    const child = spawn('nsenter', [`--net=${nsPath(ns)}`, 'tcpdump', '-i', iface, '-nn', '-v', '-l', '-c', String(count), ...filter], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        err += d;
        if (err.includes('listening on')) resolve();
      });
      child.once('exit', () => reject(new Error(`tcpdump ended early: ${err}`)));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = new Promise<string>((resolve) =>
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(out);
      }),
    );
    await listening;
    return { done };
  }

  /** Starts etcd in its namespace, listening only on its underlay address; waits until it answers. */
  async startEtcd(): Promise<number> {
    if (this.etcd && this.etcd.exitCode === null && this.etcd.signalCode === null) throw new Error('etcd already runs');
    const url = (port: number) => `http://${ETCD_IP}:${port}`;
    // nsenter execs etcd (no fork for a network namespace alone), so the PID is etcd's.
    const child = spawn(
      'nsenter',
      [
        `--net=${nsPath(this.etcdNs)}`,
        '/usr/bin/etcd',
        '--name',
        'lab',
        '--data-dir',
        join(this.etcdDir, 'data'),
        '--listen-client-urls',
        url(2379),
        '--advertise-client-urls',
        url(2379),
        '--listen-peer-urls',
        url(2380),
        '--initial-advertise-peer-urls',
        url(2380),
        '--initial-cluster',
        `lab=${url(2380)}`,
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let errText = '';
    child.stderr!.on('data', (d) => (errText += d));
    this.etcd = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`etcd exited ${child.exitCode}: ${errText.slice(-500)}`);
      const r = await this.exec(this.etcdNs, ['bash', '-c', `exec 3<>/dev/tcp/${ETCD_IP}/2379`], { timeoutMs: 2000 });
      if (r.code === 0) return child.pid!;
      await sleep(100);
    }
    throw new Error(`etcd did not come up within 20 s: ${errText.slice(-500)}`);
  }

  /** Stops etcd by its PID (SIGKILL when `hard`, as in a crash). */
  async stopEtcd(hard = false): Promise<void> {
    const child = this.etcd;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await Promise.race([gone, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await gone;
    }
  }

  get etcdPid(): number | undefined {
    return this.etcd && this.etcd.exitCode === null && this.etcd.signalCode === null ? this.etcd.pid : undefined;
  }

  /** PIDs (other than this test process) whose network namespace has one of these inodes. */
  processesIn(inodes: Set<number>): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${entry}/ns/net`))?.[1]);
        if (inodes.has(ino)) pids.push(Number(entry));
      } catch {
        /* ended meanwhile */
      }
    }
    return pids;
  }

  private allInodes(): Set<number> {
    const set = new Set<number>();
    for (const ns of [this.underlay, this.etcdNs, this.wan]) if (existsSync(nsPath(ns))) set.add(statSync(nsPath(ns)).ino);
    for (const h of this.hosts) for (const i of h.inodes()) set.add(i);
    return set;
  }

  /** `plumb system reset` on every host, leak checks, then removes the lab whatever happened. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    let problems: string[] = [];
    try {
      for (const h of this.hosts) {
        if (!existsSync(h.root)) continue;
        const r = await h.plumb(['system', 'reset'], { timeoutMs: 60_000 });
        if (r.code !== 0) problems.push(`${h.name}: plumb system reset exited ${r.code}: ${r.stderr.trim()}`);
      }
      for (const h of this.hosts) problems = problems.concat(h.leftovers());
    } finally {
      await this.stopEtcd();
      this.destroy();
    }
    if (problems.length) throw new Error(`multi-host lab ${this.id} leaked:\n  ${problems.join('\n  ')}`);
  }

  /** Forcible cleanup: processes in the lab's namespaces, mounts, namespaces, files. */
  destroy(): void {
    this.torn = true;
    if (this.etcd && this.etcd.exitCode === null) this.etcd.kill('SIGKILL');
    for (const pid of this.processesIn(this.allInodes())) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    const roots = this.hosts.map((h) => h.root);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && roots.some((r) => m.startsWith(r)))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) sh(['umount', '-l', m]);
    for (const ns of [...this.hosts.map((h) => h.ns), this.wan, this.etcdNs, this.underlay]) if (existsSync(nsPath(ns))) sh(['ip', 'netns', 'del', ns]);
    for (const r of [...roots, this.etcdDir]) rmSync(r, { recursive: true, force: true });
  }
}
