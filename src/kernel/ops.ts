// Every change plumb makes to the kernel is first described as an Op. The
// journal records it (for --explain, --dry-run and replayable scripts) and only
// then, unless this is a dry run, the kernel layer carries it out.
import { beforeKernelChange } from './crash-hooks.js';

/** The namespace an op acts in: a registered name, or null for the namespace plumb itself runs in. */
export type NsName = string | null;

interface OpBase {
  /** One line for learners: why this step exists. */
  why?: string;
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
  );

export type OpKind = Op['kind'];

/** Receives ops as they are made: the explain printer, a script exporter, a test. */
export interface OpSink {
  record(op: Op): void;
}

/**
 * The journal sits between callers and the kernel. `run` records the op, then
 * executes it unless this is a dry run. Reads never go through it.
 */
export class Journal {
  readonly ops: Op[] = [];
  private readonly sinks: OpSink[] = [];

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

  private note(op: Op): void {
    this.ops.push(op);
    for (const sink of this.sinks) sink.record(op);
    if (!this.dryRun) beforeKernelChange();
  }
}
