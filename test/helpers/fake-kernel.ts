// A stand-in for the kernel below the drivers: rtnetlink handles that record
// each call (namespace, method, arguments) instead of sending it, with a few
// links that "exist", and a dry-run journal for sysctls. Drivers are tested
// against the steps they ask for, without root and without namespaces.
import type { DriverEnv, Steps } from '../../src/drivers/types.js';
import type { Netns } from '../../src/kernel/netns.js';
import { Journal } from '../../src/kernel/ops.js';
import type { Rtnl } from '../../src/kernel/rtnl.js';

export interface KernelCall {
  ns: string;
  call: string;
  args: unknown[];
}

export interface FakeKernel {
  env: DriverEnv;
  calls: KernelCall[];
  /** Steps of one operation: names in order, undos run by rollback(). */
  steps: Steps & { names: string[]; rollback(): Promise<void> };
  /** Links that exist, per namespace name ('host' for plumb's own). */
  links: Map<string, Map<string, { up: boolean; master?: string }>>;
}

const HOST: Netns = { name: null, path: null, fd: -1 };

export function fakeNetns(name: string): Netns {
  return { name, path: `/run/plumb/netns/${name}`, fd: -1 };
}

export function fakeKernel(bytes = 0x2a): FakeKernel {
  const calls: KernelCall[] = [];
  const links = new Map<string, Map<string, { up: boolean; master?: string }>>([['host', new Map()]]);
  const rtnlFor = (ns: Netns): Rtnl => {
    const name = ns.name ?? 'host';
    if (!links.has(name)) links.set(name, new Map());
    const here = links.get(name)!;
    // Recorded without the narration (`why` texts have spaces, names and addresses do not) and namespace handles.
    const kept = (a: unknown) => a !== undefined && !(typeof a === 'string' && a.includes(' ')) && !(typeof a === 'object' && a !== null && 'fd' in a);
    const record = (call: string, args: unknown[]) => calls.push({ ns: name, call, args: args.filter(kept) });
    const impl: Record<string, (...args: any[]) => unknown> = {
      linkByName: async (n: string) => (here.has(n) ? { name: n, ...here.get(n) } : undefined),
      addresses: async () => [],
      rememberIndex: () => {},
      addBridge: async (n: string, ...rest: unknown[]) => (here.set(n, { up: false }), record('addBridge', [n, ...rest])),
      addVeth: async (n: string, peer: string, peerNs: Netns, opts: { master?: string; up?: boolean }, ...rest: unknown[]) => {
        here.set(n, { up: !!opts.up, master: opts.master });
        record('addVeth', [n, peer, peerNs.name, opts, ...rest]);
        return { peerIndex: 7 };
      },
      deleteLink: async (n: string) => (here.delete(n), record('deleteLink', [n])),
      setLink: async (n: string, change: { up?: boolean; master?: string }) => {
        const l = here.get(n);
        if (l) here.set(n, { up: change.up ?? l.up, master: change.master ?? l.master });
        record('setLink', [n, change]);
      },
    };
    return new Proxy({} as Rtnl, {
      get: (_t, prop: string) =>
        impl[prop] ??
        (async (...args: unknown[]) => {
          // Everything else is a change: record it with its arguments.
          record(prop, args);
        }),
    });
  };
  const handles = new Map<Netns, Rtnl>();
  const journal = new Journal(true);
  const env: DriverEnv = {
    journal,
    dryRun: false,
    random: (n) => new Uint8Array(n).fill(bytes),
    hostNs: () => HOST,
    hostRtnl: () => rtnlFor(HOST),
    rtnlIn: (ns) => {
      if (!handles.has(ns)) handles.set(ns, rtnlFor(ns));
      return handles.get(ns)!;
    },
    adopt: (ns) => ns,
  };
  const undos: Array<() => unknown> = [];
  const names: string[] = [];
  const steps = {
    names,
    async step<T>(name: string, run: () => Promise<T> | T, undo?: (r: T) => unknown) {
      names.push(name);
      const r = await run();
      if (undo) undos.push(() => undo(r));
      return r;
    },
    onRollback: (_name: string, undo: () => unknown) => void undos.push(undo),
    async rollback() {
      while (undos.length) await undos.pop()!();
    },
  } as FakeKernel['steps'];
  return { env, calls, steps, links };
}
