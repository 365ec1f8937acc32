// Names on overlay networks, without a kernel or etcd: which sandboxes get the
// embedded DNS and through which network they reach it, how the local store
// and the other hosts' overlay endpoints merge into one answer, and how the
// live copy of those endpoints refuses to go back in time.
import { describe, expect, it } from 'vitest';
import { namesFromSnapshot, OverlayNameWatch, type OverlayName } from '../../src/cluster/names.js';
import type { ClusterEndpoint, ClusterSnapshot } from '../../src/cluster/records.js';
import { GATEWAY_BRIDGE, hasEmbeddedNames, NameTable, reachesResolver } from '../../src/dns/names.js';
import { dnsTarget, needsEmbeddedDns } from '../../src/engine/networks/connect.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../src/store/model.js';
import { containerRecord, endpointRecords, networkRecord } from '../helpers/records.js';

const net = (id: string, name: string, driver: 'bridge' | 'overlay', subnet: string): NetworkRecord =>
  networkRecord(id, name, subnet, { driver, scope: driver === 'overlay' ? 'global' : 'local' });

/** A running container; `networks` lists what it asked for (the gateway bridge endpoint is not one of them). */
function container(name: string, id: string, eps: Array<[string, string, string, string[]?]>, networks: string[]): ContainerRecord {
  const endpoints = endpointRecords(name, eps, 24);
  return containerRecord(name, {
    id,
    networkMode: networks[0] ?? 'default',
    networks: networks.map((networkId) => ({ networkId, aliases: endpoints[networkId]?.aliases ?? [] })),
    endpoints,
  });
}

// Host "h1": bbbox1 on ov1, c3 on ov2, both with a gateway-bridge endpoint (eth1).
const ov1 = net('ov1', 'ov_net1', 'overlay', '10.0.0.0/24');
const ov2 = net('ov2', 'ov_net2', 'overlay', '10.20.0.0/24');
const gwb = net('gw', GATEWAY_BRIDGE, 'bridge', '172.18.0.0/16');
const bbbox1 = container('bbbox1', 'b1b1b1b1b1b1', [['ov1', '10.0.0.2', 'eth0'], ['gw', '172.18.0.2', 'eth1']], ['ov1']);
const c3 = container('c3', 'c3c3c3c3c3c3', [['ov2', '10.20.0.2', 'eth0', ['web']], ['gw', '172.18.0.3', 'eth1']], ['ov2']);
const data: StoreData = {
  version: 1,
  networks: { ov1, ov2, gw: gwb },
  containers: { [bbbox1.id]: bbbox1, [c3.id]: c3 },
  sysctls: [],
};

/** A host's node ID in these tests: its letter repeated. */
const nodeIdOf = (host: string) => host.padEnd(64, host.slice(-1));

/** An endpoint of host `host`. Every host has the same hostname, "vm", as lab namespaces and cloned VMs do: only node IDs differ. */
function remote(name: string, networkId: string, ip: string, host: string, aliases: string[] = []): OverlayName {
  return { name, aliases, ip, network: networkId === 'ov1' ? 'ov_net1' : 'ov_net2', networkId, containerId: `${name}-id`.padEnd(64, 'e'), node: 'vm', nodeId: nodeIdOf(host) };
}

const others: OverlayName[] = [
  remote('bbbox2', 'ov1', '10.0.0.3', 'h2'),
  remote('c4', 'ov2', '10.20.0.3', 'h3', ['web']),
  // This host's own entries in the cluster store: the local store decides about them.
  remote('bbbox1', 'ov1', '10.0.0.2', 'h1'),
  remote('ghost', 'ov1', '10.0.0.9', 'h1'),
  // A network this host has never heard of.
  remote('far', 'ov9', '10.99.0.2', 'h2'),
];

describe('which sandboxes get the embedded DNS on overlays', () => {
  it('overlay networks have names; the gateway bridge does not', () => {
    expect(hasEmbeddedNames(ov1)).toBe(true);
    expect(hasEmbeddedNames(gwb)).toBe(false);
    expect(needsEmbeddedDns(data, bbbox1)).toBe(true);
  });

  it('an overlay container reaches the resolver through its gateway-bridge endpoint: the overlay gateway is not in plumb\'s namespace', () => {
    expect(reachesResolver(ov1)).toBe(false);
    expect(reachesResolver(gwb)).toBe(true);
    expect(dnsTarget(data, bbbox1, 5311)).toEqual({ gateway: '172.18.0.1', ownIp: '172.18.0.2', port: 5311 });
  });

  it('an overlay container on an internal overlay only (no gateway bridge) has no way to the resolver', () => {
    const lone = container('lone', '999999999999', [['ov1', '10.0.0.7', 'eth0']], ['ov1']);
    expect(dnsTarget(data, lone, 5311)).toBeUndefined();
  });
});

describe('NameTable with the other hosts\' overlay endpoints', () => {
  const t = new NameTable(data, others, nodeIdOf('h1'));
  const asker1 = t.asker('172.18.0.2')!;
  const asker3 = t.asker('172.18.0.3')!;

  it('knows the asker by its gateway-bridge address, on its overlays only', () => {
    expect(asker1.container.name).toBe('bbbox1');
    expect(asker1.networks.map((n) => n.name)).toEqual(['ov_net1']);
    expect(asker1.forward).toBe(true);
  });

  it('answers remote containers on a shared overlay by name, name.network and short id, and their PTR', () => {
    expect(t.lookup(asker1, 'bbbox2')).toEqual(['10.0.0.3']);
    expect(t.lookup(asker1, 'BBBOX2.ov_net1.')).toEqual(['10.0.0.3']);
    expect(t.lookup(asker1, 'bbbox2-id'.padEnd(12, 'e'))).toEqual(['10.0.0.3']);
    expect(t.reverse(asker1, '10.0.0.3')).toBe('bbbox2.ov_net1');
  });

  it('merges local and remote holders of an alias', () => {
    expect(t.lookup(asker3, 'web')?.sort()).toEqual(['10.20.0.2', '10.20.0.3']);
  });

  it('does not answer across overlays, nor through the shared gateway bridge', () => {
    expect(t.lookup(asker1, 'c4')).toBeUndefined();
    expect(t.lookup(asker1, 'web')).toBeUndefined();
    expect(t.lookup(asker1, 'c3')).toBeUndefined();
    expect(t.lookup(asker3, 'bbbox2')).toBeUndefined();
    expect(t.lookup(asker3, 'far')).toBeUndefined();
  });

  it('takes this host\'s containers from the local store only: a stale cluster entry of this host does not answer', () => {
    expect(t.lookup(asker1, 'ghost')).toBeUndefined();
    expect(t.lookup(asker1, 'bbbox1')).toEqual(['10.0.0.2']);
  });

  it('does not take remote addresses as askers', () => {
    expect(t.asker('10.0.0.3')).toBeUndefined();
  });

  it('answers for endpoints of a store written before node IDs (no nodeId), unless this host answers for the address', () => {
    const { nodeId: _drop, ...old } = remote('legacy', 'ov1', '10.0.0.8', 'h2');
    const { nodeId: _mine, ...oldMine } = remote('bbbox1', 'ov1', '10.0.0.2', 'h1');
    const t2 = new NameTable(data, [old, oldMine], nodeIdOf('h1'));
    const asker = t2.asker('172.18.0.2')!;
    expect(t2.lookup(asker, 'legacy')).toEqual(['10.0.0.8']);
    expect(t2.lookup(asker, 'bbbox1')).toEqual(['10.0.0.2']);
  });

  it('without a node ID of its own yet, takes every cluster entry as remote but still never answers twice for an address', () => {
    const t3 = new NameTable(data, others);
    expect(t3.lookup(t3.asker('172.18.0.2')!, 'bbbox1')).toEqual(['10.0.0.2']);
  });
});

function endpoint(name: string, ip: string, node: string): ClusterEndpoint {
  return { id: `ep-${name}`, networkId: 'ov1', containerId: `${name}`.padEnd(64, '0'), containerName: name, aliases: [], ip, prefix: 24, mac: '', node, vtep: '192.0.2.1' };
}

function snapshot(revision: number, endpoints: ClusterEndpoint[]): ClusterSnapshot {
  const network = { id: 'ov1', name: 'ov_net1', driver: 'overlay' as const, created: '', internal: false, attachable: false, labels: {}, options: {}, ipam: ov1.ipam!, vni: 256, mtu: 1450 };
  return { revision: String(revision), networks: [network], endpoints };
}

describe('OverlayNameWatch', () => {
  it('reads names from a snapshot, with the network name', () => {
    expect(namesFromSnapshot(snapshot(5, [endpoint('bbbox2', '10.0.0.3', 'h2')]))).toEqual([
      expect.objectContaining({ name: 'bbbox2', network: 'ov_net1', ip: '10.0.0.3', node: 'h2' }),
    ]);
  });

  it('keeps the newest snapshot when replies arrive out of order, and bumps its version only on a change', () => {
    const w = new OverlayNameWatch();
    const v0 = w.version();
    w.accept(snapshot(10, [endpoint('bbbox2', '10.0.0.3', 'h2')]));
    expect(w.version()).toBe(v0 + 1);
    // bbbox2 removed at revision 12; the reply for revision 11 (still listing it) comes late.
    w.accept(snapshot(12, []));
    w.accept(snapshot(11, [endpoint('bbbox2', '10.0.0.3', 'h2')]));
    expect(w.current()).toEqual([]);
    expect(w.version()).toBe(v0 + 2);
    w.accept(snapshot(13, []));
    expect(w.version()).toBe(v0 + 2);
    expect(w.lookup('bbbox2', ['ov1'])).toEqual([]);
  });
});
