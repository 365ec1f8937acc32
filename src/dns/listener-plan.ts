// What the resolver does with its sockets inside sandboxes on each look at the
// store (sandbox-listeners.ts carries it out). Pure: the namespace inodes come
// from a function, so the rules can be tested without a kernel.
//   - a held sandbox the store still wants, in the same namespace: kept (and
//     no longer pending);
//   - a pending hold (asked by a command that has not committed yet) the store
//     does not list: kept while its namespace file names the same namespace,
//     closed once it is gone (the command rolled back or died);
//   - anything else held: closed (stopped, removed, now on a gateway path, or
//     its namespace replaced by a restart);
//   - a wanted sandbox not held: opened, unless a command asked to let go of
//     it in that very namespace (its commit is still to come), or opening it
//     already failed in that namespace.

export interface HeldSandbox {
  netns: string;
  nsInode: number;
  pending: boolean;
}

export interface ListenerPlan {
  close: string[];
  /** Pending holds the store now lists: no longer pending. */
  settle: string[];
  open: Array<[id: string, netns: string]>;
}

/** The key a failed open is remembered by: a new namespace (another inode) is tried again. */
export const failureKey = (id: string, netns: string, inode: number | undefined) => `${id} ${netns} ${inode ?? 'gone'}`;

export function planListeners(
  held: ReadonlyMap<string, HeldSandbox>,
  wanted: ReadonlyMap<string, string>,
  inodeOf: (path: string) => number | undefined,
  letGo: ReadonlyMap<string, number | undefined> = new Map(),
  failed: ReadonlySet<string> = new Set(),
): ListenerPlan {
  const plan: ListenerPlan = { close: [], settle: [], open: [] };
  for (const [id, h] of held) {
    const sameNs = inodeOf(h.netns) === h.nsInode;
    const want = wanted.get(id);
    if (want === h.netns && sameNs) {
      if (h.pending) plan.settle.push(id);
    } else if (!(h.pending && want === undefined && sameNs)) plan.close.push(id);
  }
  for (const [id, netns] of wanted) {
    if (held.has(id) && !plan.close.includes(id)) continue;
    const inode = inodeOf(netns);
    if (letGo.has(id) && (letGo.get(id) === undefined || letGo.get(id) === inode)) continue;
    if (failed.has(failureKey(id, netns, inode))) continue;
    plan.open.push([id, netns]);
  }
  return plan;
}
