// Renders Op records as the shell commands a learner could type to make the
// same kernel change by hand: iproute2 (ip, bridge), iptables-restore, sysctl
// and util-linux (nsenter, unshare, mount). Pure: nothing here touches the kernel.
//
// Namespaces: `ns: null` is the namespace plumb runs in, which in a script is the
// shell's own namespace, so commands there carry no namespace option. A named
// namespace is the one `ip netns add NAME` made, i.e. the file /run/netns/NAME:
// `ip -n NAME`, `bridge -n NAME`, and `nsenter --net=/run/netns/NAME` for tools
// without a namespace option (iptables-restore, sysctl). `ip netns exec` is not
// used: it also swaps the mount namespace, which a learner does not need here.
import type { LinkSpec, NsName, Op } from '../kernel/ops.js';

/** Where `ip netns add` keeps named network namespaces. */
export const NETNS_RUN_DIR = '/run/netns';

export interface RenderOptions {
  /** Renames namespaces wherever they appear (to replay a topology under other names). */
  nsName?: (name: string) => string;
  /** Emit `# why` comment lines (default true). */
  comments?: boolean;
  /**
   * Directory for UTS namespace files in the rendered commands. Default: the
   * directory of the op's own path (plumb's runtime dir).
   */
  utsDir?: string;
  /**
   * Remembers what earlier ops did, so that a sequence renders as a script that
   * replays cleanly (for example, a namespace deleted through two of its files
   * is deleted once). renderScript and the printer make one; pass your own to
   * render a sequence one op at a time.
   */
  state?: RenderState;
}

/** What a sequence of rendered ops has done so far. Create with newRenderState(). */
export interface RenderState {
  /** Namespace files made visible by netns.register, by the path plumb used (`dir/alias`). */
  readonly registered: Map<string, { ns: string; target: string; sameAsNetns: boolean }>;
  /** Namespaces (already renamed) whose `ip netns del` has been rendered. */
  readonly deleted: Set<string>;
  /** Directories a rendered file write has already made (`mkdir -p` once each). */
  readonly dirs?: Set<string>;
}

export function newRenderState(): RenderState {
  return { registered: new Map(), deleted: new Set(), dirs: new Set() };
}

// Characters that never need quoting in POSIX sh (outside of the first word's
// `=` assignment rule, which does not apply to arguments).
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for POSIX sh; leaves it bare when that is already safe. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins arguments into a command line, quoting each as needed. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}

/** `# text` comment lines; every line of a multi-line text gets its own `#`. */
export function commentLines(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => (line.trim() === '' ? '#' : `# ${line.trimEnd()}`));
}

function rename(ns: string, opts: RenderOptions | undefined): string {
  return opts?.nsName ? opts.nsName(ns) : ns;
}

/** The file `ip netns add` makes for a namespace. */
export function netnsPath(ns: string, opts?: RenderOptions): string {
  return `${NETNS_RUN_DIR}/${rename(ns, opts)}`;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The UTS namespace file to use in commands, renamed with the namespace when its name is the file name. */
function utsPath(ns: string, path: string, opts: RenderOptions | undefined): string {
  const name = baseOf(path) === ns || baseOf(path) === '' ? rename(ns, opts) : baseOf(path);
  return joinPath(opts?.utsDir ?? dirOf(path), name);
}

/** `ip [-n NS] ARGS...` */
function ip(ns: NsName, opts: RenderOptions | undefined, ...args: string[]): string {
  return shellJoin(ns === null ? ['ip', ...args] : ['ip', '-n', rename(ns, opts), ...args]);
}

/** `bridge [-n NS] ARGS...` */
function bridge(ns: NsName, opts: RenderOptions | undefined, ...args: string[]): string {
  return shellJoin(ns === null ? ['bridge', ...args] : ['bridge', '-n', rename(ns, opts), ...args]);
}

/** A command with no namespace option of its own: wrap it in nsenter for a named namespace. */
function inNetns(ns: NsName, opts: RenderOptions | undefined, args: string[]): string {
  return shellJoin(ns === null ? args : ['nsenter', `--net=${netnsPath(ns, opts)}`, ...args]);
}

const onOff = (v: boolean): string => (v ? 'on' : 'off');

function linkAdd(ns: NsName, name: string, spec: LinkSpec, opts: RenderOptions | undefined): string {
  // Generic link options (mtu, address) go before `type`; what follows `type`
  // belongs to the link kind.
  switch (spec.type) {
    case 'bridge': {
      const args = ['link', 'add', name];
      if (spec.address !== undefined) args.push('address', spec.address);
      if (spec.mtu !== undefined) args.push('mtu', String(spec.mtu));
      args.push('type', 'bridge');
      return ip(ns, opts, ...args);
    }
    case 'veth': {
      const args = ['link', 'add', name];
      if (spec.mtu !== undefined) args.push('mtu', String(spec.mtu));
      if (spec.master !== undefined) args.push('master', spec.master);
      if (spec.up) args.push('up');
      args.push('type', 'veth', 'peer', 'name', spec.peer);
      if (spec.peerAddress !== undefined) args.push('address', spec.peerAddress);
      if (spec.mtu !== undefined) args.push('mtu', String(spec.mtu));
      if (spec.peerNs !== null) args.push('netns', rename(spec.peerNs, opts));
      return ip(ns, opts, ...args);
    }
    case 'vxlan': {
      const args = ['link', 'add', name];
      if (spec.mtu !== undefined) args.push('mtu', String(spec.mtu));
      args.push('type', 'vxlan', 'id', String(spec.vni), 'dstport', String(spec.port));
      if (spec.local !== undefined) args.push('local', spec.local);
      if (spec.dev !== undefined) args.push('dev', spec.dev);
      if (spec.learning === false) args.push('nolearning');
      if (spec.proxy) args.push('proxy');
      if (spec.l2miss) args.push('l2miss');
      if (spec.l3miss) args.push('l3miss');
      return ip(ns, opts, ...args);
    }
    case 'macvlan': {
      const args = ['link', 'add', 'link', spec.parent, 'name', name];
      // The child can be born straight inside a sandbox while its parent stays here.
      if (spec.targetNs !== undefined && spec.targetNs !== null) args.push('netns', rename(spec.targetNs, opts));
      if (spec.address !== undefined) args.push('address', spec.address);
      if (spec.mtu !== undefined) args.push('mtu', String(spec.mtu));
      args.push('type', 'macvlan', 'mode', spec.mode);
      return ip(ns, opts, ...args);
    }
  }
}

/** The commands for one op, without its `why` comment. */
function commands(op: Op, opts: RenderOptions | undefined): string[] {
  const state = opts?.state;
  switch (op.kind) {
    case 'netns.add':
      // plumb bind-mounts the namespace onto a file in its runtime dir; ip netns
      // add does the same in /run/netns, which is what the rest of the script uses.
      state?.deleted.delete(rename(op.ns, opts));
      return [shellJoin(['ip', 'netns', 'add', rename(op.ns, opts)])];

    case 'netns.del': {
      const name = rename(op.ns, opts);
      const reg = state?.registered.get(op.path);
      if (reg && !reg.sameAsNetns) {
        state?.registered.delete(op.path);
        return [shellJoin(['umount', '-l', reg.target]), shellJoin(['rm', '-f', reg.target])];
      }
      if (reg) state?.registered.delete(op.path);
      if (state?.deleted.has(name)) {
        return opts?.comments === false ? [] : [`# (${shellSafeComment(name)} was already removed by ip netns del above)`];
      }
      state?.deleted.add(name);
      return [shellJoin(['ip', 'netns', 'del', name])];
    }

    case 'netns.register': {
      const name = rename(op.ns, opts);
      const alias = rename(op.alias, opts);
      const target = joinPath(op.dir, alias);
      const sameAsNetns = alias === name && op.dir.replace(/\/+$/, '') === NETNS_RUN_DIR;
      state?.registered.set(joinPath(op.dir, op.alias), { ns: name, target, sameAsNetns });
      if (sameAsNetns) {
        // ip netns add above already put the namespace in /run/netns under this name.
        return opts?.comments === false ? [] : [`# ip netns add already lists ${shellSafeComment(name)} in ip netns list`];
      }
      // Another name (or directory) for the same namespace: bind-mount its file there.
      return [
        shellJoin(['mkdir', '-p', op.dir]),
        shellJoin(['touch', target]),
        shellJoin(['mount', '--bind', netnsPath(op.ns, opts), target]),
      ];
    }

    case 'netns.unregister': {
      const name = rename(op.ns, opts);
      const alias = rename(op.alias, opts);
      const target = joinPath(op.dir, alias);
      if (alias === name && op.dir.replace(/\/+$/, '') === NETNS_RUN_DIR) {
        return opts?.comments === false ? [] : [`# ip netns del below removes ${shellSafeComment(name)} from ip netns list`];
      }
      // The name is a second mount of the namespace: while it stays, the namespace (and every link in it) lives on.
      return [shellJoin(['umount', '-l', target]), shellJoin(['rm', '-f', target])];
    }

    case 'file.write': {
      const dir = dirOf(op.path);
      const made = state?.dirs?.has(dir) ?? false;
      state?.dirs?.add(dir);
      return writeFile(op.path, op.content, !made);
    }

    case 'file.remove':
      state?.dirs?.delete(op.path);
      return [shellJoin(['rm', '-rf', op.path])];

    case 'note':
      return opts?.comments === false ? [] : commentLines(op.text);

    case 'uts.add': {
      // unshare makes a UTS namespace, sets its hostname, and keeps it alive by
      // bind-mounting it onto the file (no long-lived process needed).
      const path = utsPath(op.ns, op.path, opts);
      return [
        shellJoin(['mkdir', '-p', dirOf(path)]),
        shellJoin(['touch', path]),
        shellJoin(['unshare', `--uts=${path}`, 'hostname', op.hostname]),
      ];
    }

    case 'uts.del': {
      const path = utsPath(op.ns, op.path, opts);
      return [shellJoin(['umount', '-l', path]), shellJoin(['rm', '-f', path])];
    }

    case 'link.add':
      return [linkAdd(op.ns, op.name, op.spec, opts)];

    case 'link.del':
      return [ip(op.ns, opts, 'link', 'del', op.name)];

    case 'link.set': {
      const args = ['link', 'set', op.name];
      if (op.master === null) args.push('nomaster');
      else if (op.master !== undefined) args.push('master', op.master);
      if (op.mtu !== undefined) args.push('mtu', String(op.mtu));
      if (op.address !== undefined) args.push('address', op.address);
      if (op.rename !== undefined) args.push('name', op.rename);
      let line: string;
      if (op.netns === undefined) {
        if (op.up !== undefined) args.push(op.up ? 'up' : 'down');
        line = ip(op.ns, opts, ...args);
      } else if (op.netns !== null) {
        args.push('netns', rename(op.netns, opts));
        if (op.up !== undefined) args.push(op.up ? 'up' : 'down');
        line = ip(op.ns, opts, ...args);
      } else {
        // Back to plumb's own namespace, which in a script is the shell's: $$.
        line = `${ip(op.ns, opts, ...args)} netns $$`;
        if (op.up !== undefined) line += op.up ? ' up' : ' down';
      }
      return [line];
    }

    case 'brport.set': {
      const args = ['link', 'set', 'dev', op.name];
      if (op.hairpin !== undefined) args.push('hairpin', onOff(op.hairpin));
      if (op.learning !== undefined) args.push('learning', onOff(op.learning));
      if (op.flood !== undefined) args.push('flood', onOff(op.flood));
      if (op.isolated !== undefined) args.push('isolated', onOff(op.isolated));
      return [bridge(op.ns, opts, ...args)];
    }

    case 'addr.add':
    case 'addr.del': {
      const args = ['addr', op.kind === 'addr.add' ? 'add' : 'del', op.cidr];
      if (op.broadcast !== undefined) args.push('brd', op.broadcast);
      args.push('dev', op.dev);
      return [ip(op.ns, opts, ...args)];
    }

    case 'route.add':
    case 'route.del':
    case 'route.replace': {
      const args = ['route', op.kind.slice('route.'.length), op.dst];
      if (op.via !== undefined) args.push('via', op.via);
      if (op.dev !== undefined) args.push('dev', op.dev);
      if (op.src !== undefined) args.push('src', op.src);
      if (op.scope !== undefined) args.push('scope', op.scope);
      if (op.metric !== undefined) args.push('metric', String(op.metric));
      if (op.onlink) args.push('onlink');
      return [ip(op.ns, opts, ...args)];
    }

    case 'neigh.replace':
      return [
        ip(op.ns, opts, 'neigh', 'replace', op.ip, ...(op.lladdr !== undefined ? ['lladdr', op.lladdr] : []), 'dev', op.dev, 'nud', 'permanent'),
      ];

    case 'neigh.del':
      return [ip(op.ns, opts, 'neigh', 'del', op.ip, 'dev', op.dev)];

    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.del': {
      const verb = op.kind.slice('fdb.'.length);
      const args = ['fdb', verb, op.mac, 'dev', op.dev];
      if (op.dst !== undefined) args.push('dst', op.dst);
      args.push(op.self ? 'self' : 'master');
      // A bridge's own table calls an entry "permanent" only for the bridge's
      // own MACs; entries plumb adds there for others are static.
      if (verb !== 'del') args.push(op.self ? 'permanent' : 'static');
      return [bridge(op.ns, opts, ...args)];
    }

    case 'sysctl':
      return [inNetns(op.ns, opts, ['sysctl', '-w', `${op.key}=${op.value}`])];

    case 'iptables':
      return iptablesRestore(op.ns, op.rules, opts);
  }
}

/** Keeps interpolated names from ending a comment line early. */
function shellSafeComment(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** `cat > FILE` fed by a quoted heredoc (the file's whole content), after making its directory. */
function writeFile(path: string, content: string, mkdir = true): string[] {
  const lines = mkdir ? [shellJoin(['mkdir', '-p', dirOf(path)])] : [];
  if (content === '' || !content.endsWith('\n')) {
    // A heredoc always ends with a newline; a file without one is written by printf.
    return [...lines, `printf %s ${shellQuote(content)} > ${shellQuote(path)}`];
  }
  const body = content.slice(0, -1).split('\n');
  let delim = 'EOF';
  for (let i = 2; body.includes(delim); i++) delim = `EOF${i}`;
  return [...lines, `cat > ${shellQuote(path)} <<'${delim}'`, ...body, delim];
}

/** `iptables-restore --noflush --wait` fed by a quoted heredoc, so nothing in the rules is expanded. */
function iptablesRestore(ns: NsName, rules: string, opts: RenderOptions | undefined): string[] {
  let body = rules.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  // Without comments (brief), the rules' own `# why` lines go too: iptables-restore skips them anyway.
  if (opts?.comments === false) body = body.filter((l) => !l.startsWith('#'));
  let delim = 'RULES';
  for (let i = 2; body.includes(delim); i++) delim = `RULES${i}`;
  return [`${inNetns(ns, opts, ['iptables-restore', '--noflush', '--wait'])} <<'${delim}'`, ...body, delim];
}

/** The command line(s) equivalent to `op`, preceded by its `why` as comment lines unless comments are off. */
export function renderOp(op: Op, opts?: RenderOptions): string[] {
  const lines = commands(op, opts);
  if (op.why && opts?.comments !== false) return [...commentLines(op.why), ...lines];
  return lines;
}

/** Whether renderOp would open this op with a comment (the printer groups on it). */
export function hasWhy(op: Op, opts?: RenderOptions): boolean {
  return Boolean(op.why) && opts?.comments !== false;
}

/** The lines that open a replayable script. */
export function scriptHeader(): string[] {
  return ['#!/bin/sh', '# Replays, step by step, the kernel changes plumb made.', '# Run it as root.', 'set -e'];
}

/**
 * A complete POSIX sh script that replays `ops` in order. Ops with a `why`
 * start a new paragraph.
 */
export function renderScript(ops: readonly Op[], opts?: RenderOptions): string {
  const o: RenderOptions = { ...opts, state: opts?.state ?? newRenderState() };
  const out = scriptHeader();
  out.push('');
  let first = true;
  for (const op of ops) {
    const lines = renderOp(op, o);
    if (lines.length === 0) continue;
    if (!first && hasWhy(op, o)) out.push('');
    out.push(...lines);
    first = false;
  }
  return out.join('\n') + '\n';
}
