// ClusterStore's registration of hosts on an in-memory etcd (revisions,
// compares and transactions as etcd's v3 API has them): two hosts of one
// hostname join side by side, a clash is refused before any address is
// claimed, and a join whose registration is taken meanwhile does not go through.
import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/cluster/config.js';
import { ClusterConflict, ClusterStore } from '../../src/cluster/etcd.js';
import type { Compare, KeyValue, Kv, RangeResult, Txn, TxnOp, TxnResult } from '../../src/cluster/kv.js';
import type { ClusterEndpoint, ClusterNetwork, ClusterNode } from '../../src/cluster/records.js';

/** Just enough of etcd: keys with create/mod revisions and versions, one revision per write transaction. */
class MemoryEtcd implements Kv {
  revision = 1;
  readonly data = new Map<string, KeyValue>();
  /** Runs before the next transaction with writes: another host acting in between a read and a write. */
  beforeNextWrite?: () => void;

  async range(key: string, opts: { prefix?: boolean } = {}): Promise<RangeResult> {
    const kvs = [...this.data.values()].filter((kv) => (opts.prefix ? kv.key.startsWith(key) : kv.key === key)).sort((a, b) => a.key.localeCompare(b.key));
    return { kvs: kvs.map((kv) => ({ ...kv })), revision: String(this.revision) };
  }

  private holds(c: Compare): boolean {
    const kv = this.data.get(c.key);
    const actual = c.target === 'VALUE' ? kv?.value : Number(c.target === 'CREATE' ? (kv?.createRevision ?? 0) : c.target === 'MOD' ? (kv?.modRevision ?? 0) : (kv?.version ?? 0));
    if (c.target === 'VALUE' && kv === undefined) return false;
    const want = c.target === 'VALUE' ? c.value : Number(c.revision);
    switch (c.result) {
      case 'EQUAL':
        return actual === want;
      case 'NOT_EQUAL':
        return actual !== want;
      case 'GREATER':
        return (actual as number) > (want as number);
      case 'LESS':
        return (actual as number) < (want as number);
    }
  }

  async txn(t: Txn): Promise<TxnResult> {
    const writes = (ops: TxnOp[]) => ops.some((op) => !('range' in op));
    if (writes(t.success) && this.beforeNextWrite) {
      const act = this.beforeNextWrite;
      this.beforeNextWrite = undefined;
      act();
    }
    const succeeded = t.compare.every((c) => this.holds(c));
    const ops = succeeded ? t.success : (t.failure ?? []);
    if (writes(ops)) this.revision++;
    const ranges: RangeResult[] = [];
    for (const op of ops) {
      if ('range' in op) ranges.push(await this.range(op.range, { prefix: op.prefix }));
      else if ('put' in op) this.put(op.put, op.value);
      else if ('delete' in op) this.data.delete(op.delete);
      else for (const k of [...this.data.keys()]) if (k.startsWith(op.deletePrefix)) this.data.delete(k);
    }
    return { succeeded, ranges };
  }

  /** A write of its own revision (what another host's command does). */
  put(key: string, value: string): void {
    const old = this.data.get(key);
    const rev = String(this.revision);
    this.data.set(key, { key, value, createRevision: old?.createRevision ?? rev, modRevision: rev, version: String(Number(old?.version ?? 0) + 1) });
  }

  close(): void {}
}

const config: ClusterConfig = { store: 'etcd://mem:2379', endpoints: ['mem:2379'], prefix: '/plumb', nodeName: 'vm' };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const hostA: ClusterNode = { id: A, name: 'vm', vtep: '192.0.2.11' };
const hostB: ClusterNode = { id: B, name: 'vm', vtep: '192.0.2.12' };

const network: ClusterNetwork = {
  id: 'n1',
  name: 'ov',
  driver: 'overlay',
  created: '2026-01-01T00:00:00Z',
  internal: false,
  attachable: false,
  labels: {},
  options: {},
  ipam: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', aux: {}, userSubnet: false, userGateway: false },
  vni: 256,
  mtu: 1450,
};

function world() {
  const etcd = new MemoryEtcd();
  const store = new ClusterStore(config, etcd);
  return { etcd, store };
}

/** Joins container `name` from host `me`, taking the lowest free address from .2 up. */
async function join(store: ClusterStore, me: ClusterNode, name: string): Promise<ClusterEndpoint> {
  const plan = (taken: string[]): ClusterEndpoint => {
    let n = 2;
    while (taken.includes(`10.0.0.${n}`)) n++;
    const ip = `10.0.0.${n}`;
    return { id: `ep-${name}`, networkId: 'n1', containerId: name.padEnd(64, '0'), containerName: name, aliases: [], ip, prefix: 24, mac: '', node: me.name, vtep: me.vtep, nodeId: me.id };
  };
  return (await store.addEndpoint('n1', plan, { node: me, nodeIdFile: '/var/lib/plumb/node-id' })).endpoint;
}

const keysOf = (etcd: MemoryEtcd, prefix: string) => [...etcd.data.keys()].filter((k) => k.startsWith(prefix)).sort();

describe('hosts joining an overlay through ClusterStore', () => {
  it('registers two hosts of one hostname as two nodes on their first join, each once', async () => {
    const { etcd, store } = world();
    await store.createNetwork(() => network);
    await join(store, hostA, 'bbbox1');
    await join(store, hostB, 'bbbox2');
    expect(JSON.parse(etcd.data.get(`/plumb/nodes/${A}`)!.value)).toEqual(hostA);
    expect(etcd.data.get('/plumb/vteps/192.0.2.12')!.value).toBe(B);
    const rev = etcd.data.get(`/plumb/nodes/${A}`)!.modRevision;
    await join(store, hostA, 'web');
    expect(etcd.data.get(`/plumb/nodes/${A}`)!.modRevision).toBe(rev);
    expect((await store.endpoints()).map((e) => `${e.containerName}@${e.vtep}`).sort()).toEqual(['bbbox1@192.0.2.11', 'bbbox2@192.0.2.12', 'web@192.0.2.11']);
  });

  it('refuses a second host on the same VTEP address before claiming any address', async () => {
    const { etcd, store } = world();
    await store.createNetwork(() => network);
    await join(store, hostA, 'bbbox1');
    const before = keysOf(etcd, '/plumb/');
    await expect(join(store, { ...hostB, vtep: hostA.vtep }, 'twin')).rejects.toThrow(ClusterConflict);
    await expect(join(store, { ...hostB, vtep: hostA.vtep }, 'twin')).rejects.toThrow(/^VTEP address 192\.0\.2\.11 is already used by another host/);
    expect(keysOf(etcd, '/plumb/')).toEqual(before);
  });

  it('refuses a clone carrying the node ID of a host with containers, and leaves the original as it was', async () => {
    const { etcd, store } = world();
    await store.createNetwork(() => network);
    await join(store, hostA, 'bbbox1');
    const before = [...etcd.data.values()].map((kv) => `${kv.key}=${kv.value}`);
    await expect(join(store, { ...hostA, vtep: hostB.vtep }, 'clone')).rejects.toThrow(/^node ID aaaaaaaaaaaa is already used by the host at 192\.0\.2\.11/);
    expect([...etcd.data.values()].map((kv) => `${kv.key}=${kv.value}`)).toEqual(before);
  });

  it('a join does not go through when another host takes its VTEP address between the read and the write; the retry sees the clash', async () => {
    const { etcd, store } = world();
    await store.createNetwork(() => network);
    await join(store, hostA, 'bbbox1');
    // Host A's next join reads its registration as valid; before its write, host B claims A's address
    // (as a store that had no endpoint of A would let it) and joins a container there.
    etcd.beforeNextWrite = () => {
      etcd.put('/plumb/vteps/192.0.2.11', B);
      etcd.put('/plumb/endpoints/n1/ep-intruder', JSON.stringify({ id: 'ep-intruder', networkId: 'n1', containerName: 'intruder', ip: '10.0.0.9', vtep: hostA.vtep, nodeId: B }));
    };
    await expect(join(store, hostA, 'late')).rejects.toThrow(/^VTEP address 192\.0\.2\.11 is already used by another host \(node bbbbbbbbbbbb, with intruder on overlays\)/);
    expect(keysOf(etcd, '/plumb/endpoints/').some((k) => k.endsWith('ep-late'))).toBe(false);
  });

  it('reads a store written before node IDs: endpoints without one, no nodes/ keys, and joins beside them', async () => {
    const { etcd, store } = world();
    await store.createNetwork(() => network);
    etcd.put('/plumb/ipam/n1/10.0.0.2', 'ep-old');
    etcd.put('/plumb/endpoints/n1/ep-old', JSON.stringify({ id: 'ep-old', networkId: 'n1', containerId: 'o'.repeat(64), containerName: 'old', aliases: [], ip: '10.0.0.2', prefix: 24, mac: '', node: 'vm', vtep: hostA.vtep }));
    const ep = await join(store, hostB, 'new');
    expect(ep.ip).toBe('10.0.0.3');
    // The old endpoint stands on host A's address, but carries no node ID: it is nobody's in a clash check.
    await join(store, hostA, 'again');
    const snap = await store.snapshot();
    expect(snap.endpoints.map((e) => e.containerName).sort()).toEqual(['again', 'new', 'old']);
  });
});
