// What the embedded DNS answers, and to whom: name scoping from the store,
// the server's decisions on real DNS messages, forwarding, and the nat rules
// that bring a sandbox's 127.0.0.11 to the resolver.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aRecord, buildQuery, buildResponse, parseQuery, RCODE, readAnswers, readHeader, TYPE } from '../../src/dns/message.js';
import { NameTable } from '../../src/dns/names.js';
import { sandboxDnsRules } from '../../src/firewall/sandbox-dns.js';
import { EmbeddedDns } from '../../src/dns/server.js';
import { forward, HostResolvers, nameserversOf } from '../../src/dns/upstream.js';
import { dnsTarget, gatewayNetworkId } from '../../src/engine/networks/connect.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../src/store/model.js';
import { containerRecord, endpointRecords, networkRecord, type NetworkFields } from '../helpers/records.js';

const net = (id: string, name: string, subnet: string, extra: NetworkFields = {}): NetworkRecord =>
  networkRecord(id, name, subnet, { builtin: name === 'bridge', ...extra });

function container(name: string, id: string, eps: Array<[string, string, string, string[]?]>, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return containerRecord(name, {
    id,
    networks: eps.map(([networkId, , , aliases]) => ({ networkId, aliases: aliases ?? [] })),
    endpoints: endpointRecords(name, eps, 16),
    ...extra,
  });
}

function store(): StoreData {
  const networks = [
    net('nb', 'bridge', '172.17.0.0/16'),
    net('n1', 'my-bridge', '172.18.0.0/16'),
    net('n2', 'other', '172.19.0.0/16'),
    net('n3', 'inner', '172.20.0.0/16', { internal: true }),
  ];
  const containers = [
    container('c1', 'aaaaaaaaaaaa', [['n1', '172.18.0.2', 'eth0']], { networkMode: 'my-bridge', links: [{ target: 'c2', alias: 'backend' }] }),
    container('c2', 'bbbbbbbbbbbb', [['n1', '172.18.0.3', 'eth0', ['web', 'www']]], { networkMode: 'my-bridge' }),
    container('c3', 'cccccccccccc', [['n1', '172.18.0.4', 'eth0', ['web']]], { networkMode: 'my-bridge' }),
    container('o1', 'dddddddddddd', [['n2', '172.19.0.2', 'eth0']], { networkMode: 'other', dns: ['203.0.113.53'] }),
    // On the default bridge and, through connect, on other too.
    container('t1', 'eeeeeeeeeeee', [['nb', '172.17.0.2', 'eth0'], ['n2', '172.19.0.3', 'eth1']]),
    container('stopped', 'ffffffffffff', [], { state: 'exited', networkMode: 'my-bridge' }),
    container('i1', '111111111111', [['n3', '172.20.0.2', 'eth0']], { networkMode: 'inner' }),
  ];
  return {
    version: 1,
    networks: Object.fromEntries(networks.map((n) => [n.id, n])),
    containers: Object.fromEntries(containers.map((c) => [c.id, c])),
    sysctls: [],
  };
}

describe('NameTable', () => {
  const t = new NameTable(store());
  const c1 = t.asker('172.18.0.2')!;

  it('knows askers by address only while they run', () => {
    expect(c1.container.name).toBe('c1');
    expect(c1.networks.map((n) => n.name)).toEqual(['my-bridge']);
    expect(t.asker('172.18.0.99')).toBeUndefined();
  });

  it('resolves names, name.network, aliases and the short id on a shared network', () => {
    expect(t.lookup(c1, 'c2')).toEqual(['172.18.0.3']);
    expect(t.lookup(c1, 'C2.My-Bridge.')).toEqual(['172.18.0.3']);
    expect(t.lookup(c1, 'www')).toEqual(['172.18.0.3']);
    expect(t.lookup(c1, 'bbbbbbbbbbbb')).toEqual(['172.18.0.3']);
    expect(t.lookup(c1, 'c1')).toEqual(['172.18.0.2']);
  });

  it('gives every container that shares an alias', () => {
    expect(t.lookup(c1, 'web')?.sort()).toEqual(['172.18.0.3', '172.18.0.4']);
  });

  it('scopes names to the networks the asker is on', () => {
    expect(t.lookup(c1, 'o1')).toBeUndefined();
    expect(t.lookup(c1, 'o1.other')).toBeUndefined();
    expect(t.lookup(t.asker('172.19.0.2')!, 'c1')).toBeUndefined();
    // t1 reaches other through its second interface: o1 sees it, and it sees o1.
    expect(t.lookup(t.asker('172.19.0.2')!, 't1')).toEqual(['172.19.0.3']);
    expect(t.lookup(t.asker('172.17.0.2')!, 'o1')).toEqual(['172.19.0.2']);
  });

  it('has no names on the default bridge', () => {
    const t1 = t.asker('172.17.0.2')!;
    expect(t1.networks.map((n) => n.name)).toEqual(['other']);
    expect(t.lookup(t1, 'c1')).toBeUndefined();
  });

  it('forgets stopped containers', () => {
    expect(t.lookup(c1, 'stopped')).toBeUndefined();
  });

  it('treats a --link on a user network as the linking container\'s own alias', () => {
    expect(t.lookup(c1, 'backend')).toEqual(['172.18.0.3']);
    expect(t.lookup(t.asker('172.18.0.3')!, 'backend')).toBeUndefined();
  });

  it('answers reverse lookups with name.network, in scope only', () => {
    expect(t.reverse(c1, '172.18.0.3')).toBe('c2.my-bridge');
    expect(t.reverse(c1, '172.19.0.2')).toBeUndefined();
  });

  it('forwards for sandboxes with a way out, with their own --dns servers first', () => {
    expect(t.asker('172.19.0.2')).toMatchObject({ forward: true, servers: ['203.0.113.53'] });
    expect(t.asker('172.20.0.2')!.forward).toBe(false);
  });
});

describe('default route and resolver target of a sandbox on several networks', () => {
  const data = store();
  it('gives the default route to the first network by name among those with a gateway (Docker\'s endpoint order)', () => {
    expect(gatewayNetworkId(data, ['nb', 'n2'])).toBe('nb');
    expect(gatewayNetworkId(data, ['n2', 'n1'])).toBe('n1');
    expect(gatewayNetworkId(data, ['n3'])).toBeUndefined();
    expect(gatewayNetworkId(data, ['n3', 'n2'])).toBe('n2');
  });

  it('sends DNS through the first user-defined network of the sandbox', () => {
    const t1 = Object.values(data.containers).find((c) => c.name === 't1')!;
    expect(dnsTarget(data, t1, 5311)).toEqual({ gateway: '172.19.0.1', ownIp: '172.19.0.3', port: 5311 });
  });

  it('renders the sandbox nat rules: DNAT 127.0.0.11:53 to the gateway, SNAT to the sandbox address', () => {
    const text = sandboxDnsRules({ gateway: '172.18.0.1', ownIp: '172.18.0.2', port: 5311 }, true);
    expect(text).toBe(
      [
        '*nat',
        ':PLUMB_DNS_OUTPUT - [0:0]',
        ':PLUMB_DNS_POSTROUTING - [0:0]',
        '-A OUTPUT -d 127.0.0.11/32 -j PLUMB_DNS_OUTPUT',
        '-A POSTROUTING -s 127.0.0.0/8 -j PLUMB_DNS_POSTROUTING',
        '-A PLUMB_DNS_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 172.18.0.1:5311',
        '-A PLUMB_DNS_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 172.18.0.1:5311',
        '-A PLUMB_DNS_POSTROUTING -s 127.0.0.0/8 -d 172.18.0.1/32 -p udp -m udp --dport 5311 -j SNAT --to-source 172.18.0.2',
        '-A PLUMB_DNS_POSTROUTING -s 127.0.0.0/8 -d 172.18.0.1/32 -p tcp -m tcp --dport 5311 -j SNAT --to-source 172.18.0.2',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(sandboxDnsRules(undefined, false)).toBe('*nat\n:PLUMB_DNS_OUTPUT - [0:0]\n:PLUMB_DNS_POSTROUTING - [0:0]\nCOMMIT\n');
  });
});

describe('EmbeddedDns.answer (no sockets: a store file and messages)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumb-dns-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const storeFile = join(dir, 'store.json');
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(storeFile, JSON.stringify(store()));
  writeFileSync(resolvConf, '');
  const dns = new EmbeddedDns({ storeFile, port: 0, resolvers: new HostResolvers(resolvConf) });

  it('answers A, empty AAAA and PTR for known names', async () => {
    const a = (await dns.answer(buildQuery(1, 'web', TYPE.A), '172.18.0.2', false))!;
    expect(readAnswers(a).map((r) => r.value).sort()).toEqual(['172.18.0.3', '172.18.0.4']);
    const aaaa = (await dns.answer(buildQuery(2, 'c2', TYPE.AAAA), '172.18.0.2', false))!;
    expect(readHeader(aaaa)).toMatchObject({ rcode: RCODE.NOERROR, ancount: 0 });
    const ptr = (await dns.answer(buildQuery(3, '3.0.18.172.in-addr.arpa', TYPE.PTR), '172.18.0.2', false))!;
    expect(readAnswers(ptr)[0]!.value).toBe('c2.my-bridge');
  });

  it('ignores queries from addresses that are not sandboxes', async () => {
    expect(await dns.answer(buildQuery(4, 'c2', TYPE.A), '203.0.113.9', false)).toBeUndefined();
  });

  it('fails fast without upstream servers, and for internal-only sandboxes', async () => {
    const r = (await dns.answer(buildQuery(5, 'example.org', TYPE.A), '172.18.0.2', false))!;
    expect(readHeader(r).rcode).toBe(RCODE.SERVFAIL);
    const i = (await dns.answer(buildQuery(6, 'example.org', TYPE.A), '172.20.0.2', false))!;
    expect(readHeader(i).rcode).toBe(RCODE.SERVFAIL);
  });

  it('sees a container stop as soon as the store says so', async () => {
    const data = store();
    Object.values(data.containers).find((c) => c.name === 'c3')!.state = 'exited';
    writeFileSync(storeFile, JSON.stringify(data));
    const a = (await dns.answer(buildQuery(7, 'web', TYPE.A), '172.18.0.2', false))!;
    expect(readAnswers(a).map((r) => r.value)).toEqual(['172.18.0.3']);
  });
});

describe('forwarding', () => {
  it('reads nameservers from resolv.conf text', () => {
    expect(nameserversOf('search x\nnameserver 203.0.113.2\nnameserver ::1\n# nameserver 1.2.3.4\nnameserver 10.0.0.1')).toEqual([
      '203.0.113.2',
      '10.0.0.1',
    ]);
  });

  it('relays a query to an upstream on loopback and restores the client id', async () => {
    const upstream = createSocket('udp4');
    const seen: number[] = [];
    upstream.on('message', (msg, r) => {
      const q = parseQuery(msg);
      seen.push(q.id);
      upstream.send(buildResponse(q, RCODE.NOERROR, [aRecord('198.51.100.7', 60)]), r.port, r.address);
    });
    await new Promise<void>((res) => upstream.bind(0, '127.0.0.1', () => res()));
    try {
      const port = upstream.address().port;
      const reply = (await forward(['127.0.0.1'], buildQuery(0x4242, 'example.test', TYPE.A), false, port))!;
      expect(readHeader(reply).id).toBe(0x4242);
      expect(readAnswers(reply)[0]!.value).toBe('198.51.100.7');
      expect(seen).toHaveLength(1);
      expect(seen[0]).not.toBe(0x4242);
    } finally {
      upstream.close();
    }
  });
});
