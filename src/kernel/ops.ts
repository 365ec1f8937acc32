// Every change plumb makes to the kernel is first described as an Op. The
// journal records it (for --explain, --dry-run and replayable scripts) and only
// then, unless this is a dry run, the kernel layer carries it out.
import { beforeKernelChange } from './crash-hooks.js';

/** The namespace an op acts in: a registered name, or null for the namespace plumb itself runs in. */
export type NsName = string | null;

interface OpBase {
  /** One line for learners: why this step exists. */
  why?: string;
  /** The heading the step is shown under, when the kind alone does not say it (set by Journal.section). */
  section?: string;
}

export type LinkSpec =
  | { type: 'bridge'; mtu?: number; address?: string }
  | { type: 'veth'; peer: string; peerNs: NsName; mtu?: number; peerAddress?: string; master?: string; up?: boolean }
  | {
      type: 'vxlan';
      vni: number;
      port: number;
      local?: string;
      dev?: string;
      learning?: boolean;
      proxy?: boolean;
      l2miss?: boolean;
      l3miss?: boolean;
      mtu?: number;
    }
  | {
      type: 'macvlan';
      parent: string;
      mode: 'bridge' | 'vepa' | 'private' | 'passthru';
      mtu?: number;
      address?: string;
      /** Namespace the child is created in (the parent stays where it is). */
      targetNs?: NsName;
    };

export type Op = OpBase &
  (
    | { kind: 'netns.add'; ns: string; path: string }
    | { kind: 'netns.del'; ns: string; path: string }
    | { kind: 'netns.register'; ns: string; path: string; alias: string; dir: string }
    /** Removes the `ip netns` name of a namespace (a second mount of it): until then the namespace stays alive. */
    | { kind: 'netns.unregister'; ns: string; alias: string; dir: string }
    | { kind: 'uts.add'; ns: string; path: string; hostname: string }
    | { kind: 'uts.del'; ns: string; path: string }
    | ({ kind: 'link.add'; ns: NsName; name: string } & { spec: LinkSpec })
    | { kind: 'link.del'; ns: NsName; name: string }
    | {
        kind: 'link.set';
        ns: NsName;
        name: string;
        up?: boolean;
        /** Bridge to enslave to; null releases it. */
        master?: string | null;
        mtu?: number;
        address?: string;
        rename?: string;
        /** Move the link into this namespace. */
        netns?: NsName;
      }
    | { kind: 'brport.set'; ns: NsName; name: string; hairpin?: boolean; learning?: boolean; flood?: boolean; isolated?: boolean }
    | { kind: 'addr.add' | 'addr.del'; ns: NsName; dev: string; cidr: string; broadcast?: string }
    | {
        kind: 'route.add' | 'route.del' | 'route.replace';
        ns: NsName;
        /** 'default' or a CIDR. */
        dst: string;
        via?: string;
        dev?: string;
        src?: string;
        scope?: 'global' | 'link' | 'host';
        metric?: number;
        onlink?: boolean;
      }
    | { kind: 'neigh.replace' | 'neigh.del'; ns: NsName; dev: string; ip: string; lladdr?: string }
    | {
        kind: 'fdb.append' | 'fdb.replace' | 'fdb.del';
        ns: NsName;
        dev: string;
        mac: string;
        /** Remote VTEP for vxlan entries. */
        dst?: string;
        /** true: the device's own table (vxlan); false: the bridge's (master). */
        self: boolean;
      }
    | { kind: 'sysctl'; ns: NsName; key: string; value: string }
    | { kind: 'iptables'; ns: NsName; rules: string }
    /** A file a sandbox's processes see (/etc/hosts, resolv.conf, hostname), written whole. */
    | { kind: 'file.write'; path: string; content: string }
    /** A directory of plumb's own files removed with everything in it. */
    | { kind: 'file.remove'; path: string }
    /**
     * A change outside the kernel and the sandbox files that a replay does not
     * make (a daemon started, a claim in the cluster store, environment
     * variables): narrated as comment lines.
     */
    | { kind: 'note'; text: string }
  );

export type OpKind = Op['kind'];

/** How headings of setup made once per host begin (a brief explanation folds such a section into one line). */
export const ONE_TIME_SETUP = 'one-time setup';

/** A value chosen at random (an ID, a veth name, a MAC), named so a script can declare it once. */
export interface Declared {
  name: string;
  value: string;
  why: string;
}

/** Receives ops as they are made: the explain printer, a script exporter, a test. */
export interface OpSink {
  record(op: Op): void;
  /** A random value the ops that follow use (optional: sinks that only replay ignore it). */
  declare?(d: Declared): void;
}

/**
 * The journal sits between callers and the kernel. `run` records the op, then
 * executes it unless this is a dry run. Reads never go through it.
 */
export class Journal {
  readonly ops: Op[] = [];
  readonly declared: Declared[] = [];
  private readonly sinks: OpSink[] = [];
  private heading?: string;

  constructor(readonly dryRun = false) {}

  addSink(sink: OpSink): this {
    this.sinks.push(sink);
    return this;
  }

  /** Runs an asynchronous kernel change. In a dry run, returns `fallback` without running it. */
  async run<T>(op: Op, exec: () => Promise<T> | T, fallback?: T): Promise<T> {
    this.note(op);
    if (this.dryRun) return fallback as T;
    return await exec();
  }

  /** Synchronous twin of run, for changes made inside a namespace window. */
  runSync<T>(op: Op, exec: () => T, fallback?: T): T {
    this.note(op);
    if (this.dryRun) return fallback as T;
    return exec();
  }

  /**
   * Names a random value once (`base`, then `base_2`...; a value already
   * declared keeps its name), so a script can put it in a shell variable and
   * a learner sees which values are random. Returns the name.
   */
  declare(base: string, value: string, why: string): string {
    const same = this.declared.find((d) => d.value === value);
    if (same) return same.name;
    let name = base;
    for (let i = 2; this.declared.some((d) => d.name === name); i++) name = `${base}_${i}`;
    const d = { name, value, why };
    this.declared.push(d);
    for (const sink of this.sinks) sink.declare?.(d);
    return name;
  }

  /**
   * Runs `body` with every op it records shown under `heading` (for example
   * the default bridge's one-time setup). An outer section keeps its heading.
   */
  async section<T>(heading: string, body: () => Promise<T>): Promise<T> {
    const outer = this.heading;
    this.heading = outer ?? heading;
    try {
      return await body();
    } finally {
      this.heading = outer;
    }
  }

  /** Records a step that is only narrated (see the `note` op). */
  narrate(text: string, why?: string, section?: string): void {
    this.note({ kind: 'note', text, why, section });
  }

  private note(op: Op): void {
    if (this.heading && !op.section) op = { ...op, section: this.heading };
    this.ops.push(op);
    for (const sink of this.sinks) sink.record(op);
    if (!this.dryRun) beforeKernelChange();
  }
}
