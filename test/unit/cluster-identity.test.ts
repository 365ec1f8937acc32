// A host's identity in the cluster store: the key layout, when a registration
// clashes with another host's (same VTEP address, or same node ID from a
// cloned state dir), what a first registration or a move writes, and the
// node-id file a host keeps. No etcd here: the decisions are pure.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRegistered, nodeRecordText, planRegistration, registrationGuard, type RegistrationState } from '../../src/cluster/identity.js';
import { ensureNodeId, nodeIdFile, readNodeId } from '../../src/cluster/node-id.js';
import { keys, type ClusterEndpoint, type ClusterNode } from '../../src/cluster/records.js';
import { overlayPeers } from '../../src/engine/overlay/inspect.js';
import type { Paths } from '../../src/store/paths.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
// Both hosts have the same hostname, as lab namespaces and cloned VMs do.
const hostA: ClusterNode = { id: A, name: 'vm', vtep: '192.0.2.11' };
const hostB: ClusterNode = { id: B, name: 'vm', vtep: '192.0.2.12' };
const FILE = '/var/lib/plumb/node-id';

function endpoint(name: string, node: ClusterNode | undefined, vtep = node?.vtep ?? '192.0.2.11'): ClusterEndpoint {
  return {
    id: `ep-${name}`,
    networkId: 'n1',
    containerId: name.padEnd(64, '0'),
    containerName: name,
    aliases: [],
    ip: '10.0.0.2',
    prefix: 24,
    mac: '02:42:0a:00:00:02',
    node: node?.name ?? 'vm',
    vtep,
    ...(node ? { nodeId: node.id } : {}),
  };
}

const registered = (n: ClusterNode): RegistrationState => ({ byId: { node: n, modRevision: '7' }, byVtep: { nodeId: n.id, modRevision: '7' } });

describe('the key layout of node identities', () => {
  it('keeps nodes by ID and VTEP addresses by address, below the prefix', () => {
    const k = keys('/plumb/');
    expect(k.node(A)).toBe(`/plumb/nodes/${A}`);
    expect(k.nodes).toBe('/plumb/nodes/');
    expect(k.vtep('192.0.2.11')).toBe('/plumb/vteps/192.0.2.11');
  });

  it('stores the node record in one fixed form, and a join holds only while both keys still say so', () => {
    expect(nodeRecordText({ vtep: '192.0.2.11', name: 'vm', id: A } as ClusterNode)).toBe(`{"id":"${A}","name":"vm","vtep":"192.0.2.11"}`);
    expect(registrationGuard('/plumb', hostA)).toEqual([
      { key: `/plumb/nodes/${A}`, target: 'VALUE', result: 'EQUAL', value: nodeRecordText(hostA) },
      { key: '/plumb/vteps/192.0.2.11', target: 'VALUE', result: 'EQUAL', value: A },
    ]);
  });
});

describe('registering a host', () => {
  it('a first registration claims both keys, only if neither exists yet', () => {
    const plan = planRegistration('/plumb', hostA, {}, [], FILE);
    expect(plan).toEqual({
      kind: 'write',
      compare: [
        { key: `/plumb/nodes/${A}`, target: 'MOD', result: 'EQUAL', revision: '0' },
        { key: '/plumb/vteps/192.0.2.11', target: 'MOD', result: 'EQUAL', revision: '0' },
      ],
      success: [
        { put: `/plumb/nodes/${A}`, value: nodeRecordText(hostA) },
        { put: '/plumb/vteps/192.0.2.11', value: A },
      ],
    });
  });

  it('a host registered as it is writes nothing; a changed name is rewritten', () => {
    expect(isRegistered(hostA, registered(hostA))).toBe(true);
    expect(planRegistration('/plumb', hostA, registered(hostA), [], FILE)).toEqual({ kind: 'registered' });
    const renamed = { ...hostA, name: 'lab1' };
    expect(isRegistered(renamed, registered(hostA))).toBe(false);
    expect(planRegistration('/plumb', renamed, registered(hostA), [], FILE).kind).toBe('write');
  });

  it('two hosts of the same hostname are two nodes: the second registers beside the first', () => {
    // hostA holds its own keys; hostB's keys are free.
    expect(planRegistration('/plumb', hostB, {}, [endpoint('bbbox1', hostA)], FILE).kind).toBe('write');
  });

  it('refuses a second host on a VTEP address a host with containers holds, naming the address and the fix', () => {
    const sameVtep: ClusterNode = { ...hostB, vtep: hostA.vtep };
    const plan = planRegistration('/plumb', sameVtep, { byVtep: { nodeId: A, modRevision: '7' } }, [endpoint('bbbox1', hostA)], FILE);
    expect(plan.kind).toBe('clash');
    const message = (plan as { message: string }).message;
    expect(message).toBe(
      `VTEP address 192.0.2.11 is already used by another host (node aaaaaaaaaaaa, with bbbox1 on overlays): two hosts cannot advertise the same underlay address; give this host its own with --cluster-advertise IP|IFACE`,
    );
    expect(message).not.toContain('\n');
  });

  it('refuses a node ID in use at another address by a host with containers (a cloned state dir), naming the file to delete', () => {
    const clone: ClusterNode = { ...hostA, vtep: hostB.vtep };
    const eps = [endpoint('bbbox1', hostA), endpoint('web', hostA)];
    const plan = planRegistration('/plumb', clone, { byId: { node: hostA, modRevision: '7' } }, eps, FILE);
    expect(plan.kind).toBe('clash');
    const message = (plan as { message: string }).message;
    expect(message).toMatch(/^node ID aaaaaaaaaaaa is already used by the host at 192\.0\.2\.11 \(with bbbox1, web on overlays\), and this host advertises 192\.0\.2\.12: /);
    expect(message).toContain(`delete ${FILE} here so it makes its own ID`);
    expect(message).not.toContain('\n');
  });

  it('takes over a registration whose holder has no container left (a host that left or moved), comparing what it read', () => {
    const sameVtep: ClusterNode = { ...hostB, vtep: hostA.vtep };
    const plan = planRegistration('/plumb', sameVtep, { byVtep: { nodeId: A, modRevision: '7' } }, [endpoint('old', undefined)], FILE);
    expect(plan).toMatchObject({ kind: 'write', compare: [{ revision: '0' }, { key: '/plumb/vteps/192.0.2.11', revision: '7' }] });
  });

  it('a host whose address changed (no container left at the old one) moves, and frees its old address if still its own', () => {
    const moved: ClusterNode = { ...hostA, vtep: '192.0.2.99' };
    const plan = planRegistration('/plumb', moved, { byId: { node: hostA, modRevision: '7' }, previousVtep: { nodeId: A, modRevision: '5' } }, [], FILE);
    expect(plan.kind).toBe('write');
    const w = plan as Extract<typeof plan, { kind: 'write' }>;
    expect(w.compare).toContainEqual({ key: '/plumb/vteps/192.0.2.11', target: 'MOD', result: 'EQUAL', revision: '5' });
    expect(w.success).toContainEqual({ delete: '/plumb/vteps/192.0.2.11' });
    // The old address taken by someone else meanwhile: left alone.
    const taken = planRegistration('/plumb', moved, { byId: { node: hostA, modRevision: '7' }, previousVtep: { nodeId: B, modRevision: '5' } }, [], FILE);
    expect((taken as Extract<typeof plan, { kind: 'write' }>).success).not.toContainEqual({ delete: '/plumb/vteps/192.0.2.11' });
  });

  it('endpoints written before node IDs (no nodeId) count for nobody in clash checks', () => {
    const sameVtep: ClusterNode = { ...hostB, vtep: hostA.vtep };
    expect(planRegistration('/plumb', sameVtep, { byVtep: { nodeId: A, modRevision: '7' } }, [endpoint('legacy', undefined, hostA.vtep)], FILE).kind).toBe('write');
  });
});

describe("network inspect's Peers", () => {
  it('names each host by its short node ID, as Docker does, so two hosts of one hostname stay two peers', () => {
    expect(overlayPeers([endpoint('b2', hostB), endpoint('b1', hostA), endpoint('x', hostA)])).toEqual([
      { name: 'aaaaaaaaaaaa', ip: '192.0.2.11' },
      { name: 'bbbbbbbbbbbb', ip: '192.0.2.12' },
    ]);
  });

  it('names a host of an old store (no node ID) by its node name', () => {
    expect(overlayPeers([{ ...endpoint('old', undefined), node: 'host1' }])).toEqual([{ name: 'host1', ip: '192.0.2.11' }]);
  });
});

describe("a host's node-id file", () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-node-id-'));
  const paths: Paths = { state: join(dir, 'lib'), run: join(dir, 'run'), netnsNames: join(dir, 'names') };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const random = (len: number) => new Uint8Array(len).fill(0xa0 + n++);

  it('is made once, from the given randomness, and read back the same afterwards', () => {
    expect(readNodeId(paths)).toBeUndefined();
    const id = ensureNodeId(paths, random);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(nodeIdFile(paths), 'utf8')).toBe(`${id}\n`);
    expect(ensureNodeId(paths, random)).toBe(id);
    expect(readNodeId(paths)).toBe(id);
  });

  it('a file that holds no ID is replaced by a new one', () => {
    writeFileSync(nodeIdFile(paths), 'garbage\n');
    expect(readNodeId(paths)).toBeUndefined();
    expect(ensureNodeId(paths, random)).toMatch(/^[0-9a-f]{64}$/);
  });
});
