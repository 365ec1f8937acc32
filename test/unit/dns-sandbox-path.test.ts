// How each sandbox reaches the resolver (a gateway on the host, or the
// resolver's own sockets inside it, for macvlan), which running sandboxes the
// resolver must listen inside, the socket tables that say whether it does,
// who asks on such a socket, and how the picture draws that path.
import { describe, expect, it } from 'vitest';
import { NameTable } from '../../src/dns/names.js';
import { boundSocketInodes, resolverPath, sandboxesServedInside } from '../../src/dns/sandbox-path.js';
import { describeDns } from '../../src/topology/dns.js';
import { ids, node } from '../../src/topology/model.js';
import type { Describe } from '../../src/topology/common.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../src/store/model.js';
import { containerRecord, endpointRecords, networkRecord } from '../helpers/records.js';

const mv = networkRecord('nm', 'mv', '192.168.50.0/24', { driver: 'macvlan' });
const br = networkRecord('nb', 'bridge', '172.17.0.0/16', { builtin: true });
const user = networkRecord('nu', 'front', '172.18.0.0/16');

function container(name: string, eps: Array<[string, string, string, string[]?]>, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return containerRecord(name, {
    id: name,
    networks: eps.map(([networkId, , , aliases]) => ({ networkId, aliases: aliases ?? [] })),
    endpoints: endpointRecords(name, eps, 24),
    embeddedDns: true,
    sandbox: { netns: `/run/plumb/netns/${name}` } as ContainerRecord['sandbox'],
    ...extra,
  });
}

/** The full id containerRecord gives a container made by `container(name)`. */
const idOf = (name: string) => name.padEnd(64, '0');

function store(containers: ContainerRecord[], networks: NetworkRecord[] = [mv, br, user]): StoreData {
  return {
    version: 1,
    networks: Object.fromEntries(networks.map((n) => [n.id, n])),
    containers: Object.fromEntries(containers.map((c) => [c.id, c])),
    sysctls: [],
  };
}

describe('resolverPath', () => {
  it('macvlan only: the resolver listens inside the sandbox', () => {
    const c = container('m1', [['nm', '192.168.50.2', 'eth0']]);
    expect(resolverPath(store([c]), c)).toBe('inside');
  });

  it('macvlan and a bridge: the gateway on the host takes the queries', () => {
    const c = container('m1', [['nm', '192.168.50.2', 'eth0'], ['nu', '172.18.0.2', 'eth1']]);
    expect(resolverPath(store([c]), c)).toBe('gateway');
    const d = container('m2', [['nm', '192.168.50.3', 'eth0'], ['nb', '172.17.0.2', 'eth1']]);
    expect(resolverPath(store([d]), d)).toBe('gateway');
  });

  it('no embedded DNS, a shared sandbox, or no named network left: no path', () => {
    const plain = container('p', [['nm', '192.168.50.2', 'eth0']], { embeddedDns: false });
    const joined = container('j', [], { sandbox: { joined: 'm1' } as ContainerRecord['sandbox'] });
    const left = container('l', []);
    for (const c of [plain, joined, left]) expect(resolverPath(store([c]), c), c.name).toBeUndefined();
  });
});

describe('sandboxesServedInside', () => {
  it('lists running sandboxes on the inside path with their namespace files', () => {
    const data = store([
      container('m1', [['nm', '192.168.50.2', 'eth0']]),
      container('m2', [['nm', '192.168.50.3', 'eth0']], { state: 'exited' }),
      container('b1', [['nu', '172.18.0.2', 'eth0']]),
      container('m3', [['nm', '192.168.50.4', 'eth0'], ['nu', '172.18.0.3', 'eth1']]),
    ]);
    expect([...sandboxesServedInside(data)]).toEqual([[idOf('m1'), '/run/plumb/netns/m1']]);
  });
});

describe('boundSocketInodes', () => {
  const udp = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  120: 0B00007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45678 2 0000000000000000 0',
    '  121: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45679 2 0000000000000000 0',
    '  122: 0B00007F:14BF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 45680 2 0000000000000000 0',
  ].join('\n');
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0B00007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55555 1 0000000000000000 100 0 0 10 0',
    '   1: 0B00007F:0035 0B00007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 55556 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');

  it('finds the sockets bound to 127.0.0.11:53 (listening ones for TCP)', () => {
    expect(boundSocketInodes(udp, 'udp', '127.0.0.11', 53)).toEqual([45678]);
    expect(boundSocketInodes(tcp, 'tcp', '127.0.0.11', 53)).toEqual([55555]);
    expect(boundSocketInodes(udp, 'udp', '127.0.0.11', 5311)).toEqual([45680]);
    expect(boundSocketInodes(udp, 'udp', '127.0.0.12', 53)).toEqual([]);
  });
});

describe('NameTable.askerById', () => {
  const data = store([
    container('m1', [['nm', '192.168.50.2', 'eth0']]),
    container('m2', [['nm', '192.168.50.3', 'eth0']], { networks: [{ networkId: 'nm', aliases: ['web'] }], endpoints: endpointRecords('m2', [['nm', '192.168.50.3', 'eth0', ['web']]], 24) }),
    container('m3', [['nm', '192.168.50.4', 'eth0']], { state: 'exited' }),
    container('b1', [['nu', '172.18.0.2', 'eth0']]),
  ]);
  const t = new NameTable(data);

  it('asks as the container whose sandbox the socket is in, while it runs', () => {
    const m1 = t.askerById(idOf('m1'))!;
    expect(m1.container.name).toBe('m1');
    expect(m1.networks.map((n) => n.name)).toEqual(['mv']);
    expect(t.askerById(idOf('m3'))).toBeUndefined();
    expect(t.askerById('nosuch')).toBeUndefined();
  });

  it('answers names on the macvlan network only to containers on it', () => {
    expect(t.lookup(t.askerById(idOf('m1'))!, 'web')).toEqual(['192.168.50.3']);
    expect(t.lookup(t.askerById(idOf('m1'))!, 'm2.mv')).toEqual(['192.168.50.3']);
    expect(t.reverse(t.askerById(idOf('m1'))!, '192.168.50.3')).toBe('m2.mv');
    expect(t.lookup(t.askerById(idOf('b1'))!, 'm2')).toBeUndefined();
    expect(t.lookup(t.askerById(idOf('m1'))!, 'b1')).toBeUndefined();
  });
});

describe('describeDns for a sandbox the resolver listens inside', () => {
  const box = node(ids.sandbox('m1'), 'sandbox', 'm1', { parent: ids.host() });
  const describe_ = (resolverInside: boolean): Describe =>
    ({
      kernel: { host: { links: [], addrs: [], routes: [] }, sandboxes: { m1: { links: [], addrs: [], routes: [], resolverInside } }, overlays: {}, firewall: '' },
      resolver: { pid: 42, port: 5311 },
    }) as unknown as Describe;

  it('draws 127.0.0.11:53 straight to the resolver, no bridge in between', () => {
    const f = describeDns(describe_(true), [box]);
    expect(f.nodes.map((n) => n.id)).toEqual([ids.dns('m1'), ids.resolver()]);
    expect(f.edges.map((e) => [e.from, e.to])).toEqual([[ids.dns('m1'), ids.resolver()]]);
    expect(f.nodes[0]!.drift ?? []).toEqual([]);
  });

  it('shows drift and no edge when the resolver holds no socket there', () => {
    const f = describeDns(describe_(false), [box]);
    expect(f.edges).toEqual([]);
    expect(f.nodes[0]!.drift).toEqual(['the resolver holds no socket on 127.0.0.11:53 in m1: its names do not resolve']);
  });
});
