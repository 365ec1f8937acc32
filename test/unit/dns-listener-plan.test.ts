// When the resolver opens and closes its sockets inside sandboxes (macvlan):
// the store's wishes, holds a command asked for before its commit, sandboxes a
// command asked it to let go of, namespaces replaced by a restart, and opens
// that failed.
import { describe, expect, it } from 'vitest';
import { failureKey, planListeners, type HeldSandbox } from '../../src/dns/listener-plan.js';

const inodes: Record<string, number> = { '/ns/a': 11, '/ns/b': 12, '/ns/c': 13 };
const inodeOf = (p: string) => inodes[p];
const held = (entries: Array<[string, string, number, boolean?]>) =>
  new Map<string, HeldSandbox>(entries.map(([id, netns, nsInode, pending]) => [id, { netns, nsInode, pending: !!pending }]));
const wanted = (entries: Array<[string, string]>) => new Map(entries);

describe('planListeners', () => {
  it('opens what the store wants and keeps what it holds', () => {
    const plan = planListeners(held([['a', '/ns/a', 11]]), wanted([['a', '/ns/a'], ['b', '/ns/b']]), inodeOf);
    expect(plan).toEqual({ close: [], settle: [], open: [['b', '/ns/b']] });
  });

  it('closes sandboxes the store no longer wants (stopped, removed, now on a gateway path)', () => {
    const plan = planListeners(held([['a', '/ns/a', 11], ['b', '/ns/b', 12]]), wanted([['b', '/ns/b']]), inodeOf);
    expect(plan).toEqual({ close: ['a'], settle: [], open: [] });
  });

  it('reopens in the new namespace when a restart replaced it', () => {
    const plan = planListeners(held([['a', '/ns/a', 99]]), wanted([['a', '/ns/a']]), inodeOf);
    expect(plan).toEqual({ close: ['a'], settle: [], open: [['a', '/ns/a']] });
  });

  it('keeps a pending hold the store does not list yet while its namespace lives, settles it once listed', () => {
    expect(planListeners(held([['a', '/ns/a', 11, true]]), wanted([]), inodeOf)).toEqual({ close: [], settle: [], open: [] });
    expect(planListeners(held([['a', '/ns/a', 11, true]]), wanted([['a', '/ns/a']]), inodeOf)).toEqual({ close: [], settle: ['a'], open: [] });
  });

  it('closes a pending hold whose namespace is gone (the command rolled back or died)', () => {
    expect(planListeners(held([['z', '/ns/gone', 50, true]]), wanted([]), inodeOf)).toEqual({ close: ['z'], settle: [], open: [] });
  });

  it('does not reopen a sandbox a command let go of until its namespace changes', () => {
    const letGo = new Map<string, number | undefined>([['a', 11], ['b', 77]]);
    const plan = planListeners(held([]), wanted([['a', '/ns/a'], ['b', '/ns/b']]), inodeOf, letGo);
    expect(plan.open).toEqual([['b', '/ns/b']]);
    // Let go of while not held (a resolver restarted meanwhile): closed until the store agrees.
    expect(planListeners(held([]), wanted([['a', '/ns/a']]), inodeOf, new Map([['a', undefined]])).open).toEqual([]);
  });

  it('does not retry an open that failed in the same namespace', () => {
    const failed = new Set([failureKey('a', '/ns/a', 11), failureKey('b', '/ns/b', 99)]);
    const plan = planListeners(held([]), wanted([['a', '/ns/a'], ['b', '/ns/b']]), inodeOf, new Map(), failed);
    expect(plan.open).toEqual([['b', '/ns/b']]);
  });
});
