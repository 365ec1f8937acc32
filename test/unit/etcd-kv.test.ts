// The JSON that plumb sends to etcd's HTTP gateway and reads back, without
// etcd: base64 keys and values, prefix ranges, compares and writes in etcd's
// field names, and proto3's habit of leaving out zero values. The same calls
// run against a real etcd in test/integration/overlay.test.ts. Also: which
// watched changes make the agent or the embedded DNS look again.
import { describe, expect, it } from 'vitest';
import { decodeRange, decodeTxn, encodeRange, encodeTxn, gatewayError, prefixEnd } from '../../src/cluster/kv.js';
import { changesNames, changesPeersOf } from '../../src/cluster/records.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const bytes = (b: string) => [...Buffer.from(b, 'base64')];

describe('prefix ranges', () => {
  it('ends a prefix range at the prefix with its last byte raised by one', () => {
    expect(Buffer.from(prefixEnd('/plumb/ipam/n1/'), 'base64').toString()).toBe('/plumb/ipam/n10');
  });

  it('works on the UTF-8 bytes of the key, and an empty prefix runs to the end of the keyspace', () => {
    // "ÿ" is C3 BF in UTF-8: the range ends at C3 C0, not at a raised "ÿ".
    expect(bytes(prefixEnd('a\xff'))).toEqual([0x61, 0xc3, 0xc0]);
    expect(bytes(prefixEnd(''))).toEqual([0]);
  });

  it('encodes a single key without range_end and a prefix with one', () => {
    expect(encodeRange('/k')).toEqual({ key: b64('/k') });
    expect(encodeRange('/p/', { prefix: true })).toEqual({ key: b64('/p/'), range_end: b64('/p0') });
  });
});

describe('transactions', () => {
  it('puts every compare target in its own field, as strings, with etcd enum names', () => {
    const body = encodeTxn({
      compare: [
        { key: '/ip', target: 'CREATE', result: 'EQUAL', revision: 0 },
        { key: '/net', target: 'VERSION', result: 'GREATER', revision: 0 },
        { key: '/joins', target: 'MOD', result: 'EQUAL', revision: '42' },
        { key: '/ip', target: 'VALUE', result: 'EQUAL', value: 'ep1' },
      ],
      success: [{ put: '/ip', value: 'ep1' }],
    });
    expect(body).toEqual({
      compare: [
        { key: b64('/ip'), target: 'CREATE', result: 'EQUAL', create_revision: '0' },
        { key: b64('/net'), target: 'VERSION', result: 'GREATER', version: '0' },
        { key: b64('/joins'), target: 'MOD', result: 'EQUAL', mod_revision: '42' },
        { key: b64('/ip'), target: 'VALUE', result: 'EQUAL', value: b64('ep1') },
      ],
      success: [{ request_put: { key: b64('/ip'), value: b64('ep1') } }],
      failure: [],
    });
  });

  it('encodes deletes of one key and of a prefix, on either branch', () => {
    const body = encodeTxn({ compare: [], success: [{ delete: '/a' }], failure: [{ deletePrefix: '/ipam/n1/' }] }) as {
      success: unknown[];
      failure: unknown[];
    };
    expect(body.success).toEqual([{ request_delete_range: { key: b64('/a') } }]);
    expect(body.failure).toEqual([{ request_delete_range: { key: b64('/ipam/n1/'), range_end: b64('/ipam/n10') } }]);
  });

  it('reads "succeeded" as false when proto3 JSON leaves it out', () => {
    expect(decodeTxn({ header: { revision: '7' }, succeeded: true }).succeeded).toBe(true);
    expect(decodeTxn({ header: { revision: '7' }, responses: [] }).succeeded).toBe(false);
  });

  it('sends reads inside a transaction and returns their answers in order, skipping the writes', () => {
    const body = encodeTxn({ compare: [], success: [{ range: '/n/1' }, { put: '/k', value: 'v' }, { range: '/ipam/1/', prefix: true }] }) as { success: unknown[] };
    expect(body.success).toEqual([
      { request_range: { key: b64('/n/1') } },
      { request_put: { key: b64('/k'), value: b64('v') } },
      { request_range: { key: b64('/ipam/1/'), range_end: b64('/ipam/10') } },
    ]);
    const r = decodeTxn({
      header: { revision: '12' },
      succeeded: true,
      responses: [
        { response_range: { header: { revision: '12' }, kvs: [{ key: b64('/n/1'), value: b64('{}') }] } },
        { response_put: { header: { revision: '12' } } },
        { response_range: { header: {} } },
      ] as never,
    });
    expect(r.ranges.map((x) => [x.revision, x.kvs.map((kv) => kv.key)])).toEqual([
      ['12', ['/n/1']],
      ['12', []],
    ]);
  });
});

describe('range answers', () => {
  it('decodes keys and values and keeps the revision as a string', () => {
    const r = decodeRange({
      header: { revision: '9007199254740993' },
      kvs: [{ key: b64('/plumb/networks/n1'), value: b64('{"name":"ov"}'), create_revision: '5', mod_revision: '8', version: '2' }],
    });
    expect(r).toEqual({
      revision: '9007199254740993',
      kvs: [{ key: '/plumb/networks/n1', value: '{"name":"ov"}', createRevision: '5', modRevision: '8', version: '2' }],
    });
  });

  it('reads an empty answer (no kvs field) and an empty value', () => {
    expect(decodeRange({ header: { revision: '3' } })).toEqual({ revision: '3', kvs: [] });
    expect(decodeRange({ header: {}, kvs: [{ key: b64('/k') }] }).kvs[0]).toEqual({ key: '/k', value: '', createRevision: '0', modRevision: '0', version: '0' });
  });

  it("takes the gateway's message from an error answer", () => {
    expect(gatewayError({ error: 'etcdserver: request timed out', message: 'etcdserver: request timed out', code: 14 })).toBe('etcdserver: request timed out');
    expect(gatewayError({ error: 'unexpected EOF', code: 3 })).toBe('unexpected EOF');
    expect(gatewayError('nope')).toBeUndefined();
  });
});

describe('which watched changes matter', () => {
  // Both hosts have the same hostname, as lab namespaces and cloned VMs do: only the VTEP tells them apart.
  const ep = (vtep: string) => JSON.stringify({ id: 'e1', networkId: 'n1', node: 'vm', vtep, ip: '10.0.0.2' });
  const h1 = '192.0.2.11';
  const h2 = '192.0.2.12';

  it("ignores this host's own endpoints, coming or going, and reacts to other hosts' ones, even of the same hostname", () => {
    expect(changesPeersOf({ type: 'put', key: '/plumb/endpoints/n1/e1', value: ep(h2) }, '/plumb', h2)).toBe(false);
    expect(changesPeersOf({ type: 'delete', key: '/plumb/endpoints/n1/e1', previous: ep(h2) }, '/plumb', h2)).toBe(false);
    expect(changesPeersOf({ type: 'put', key: '/plumb/endpoints/n1/e1', value: ep(h1) }, '/plumb', h2)).toBe(true);
    expect(changesPeersOf({ type: 'delete', key: '/plumb/endpoints/n1/e1', previous: ep(h1) }, '/plumb', h2)).toBe(true);
  });

  it('reacts to network changes and to endpoints it cannot place, ignores bookkeeping keys', () => {
    expect(changesPeersOf({ type: 'delete', key: '/plumb/networks/n1' }, '/plumb', h2)).toBe(true);
    expect(changesPeersOf({ type: 'delete', key: '/plumb/endpoints/n1/e1' }, '/plumb', h2)).toBe(true);
    expect(changesPeersOf({ type: 'put', key: '/plumb/endpoints/n1/e1', value: '{not json' }, '/plumb', h2)).toBe(true);
    for (const key of ['/plumb/ipam/n1/10.0.0.2', '/plumb/joins/n1', '/plumb/names/ov', '/plumb/vnis/256', '/plumb/subnets/10.0.0.0_24', '/plumb/nodes/ab', '/plumb/vteps/192.0.2.11']) {
      expect(changesPeersOf({ type: 'put', key, value: 'x' }, '/plumb', h2)).toBe(false);
    }
  });

  it('refreshes names on network and endpoint changes only, whoever made them', () => {
    expect(changesNames({ type: 'put', key: '/plumb/endpoints/n1/e1', value: ep(h2) }, '/plumb')).toBe(true);
    expect(changesNames({ type: 'delete', key: '/plumb/networks/n1' }, '/plumb')).toBe(true);
    expect(changesNames({ type: 'put', key: '/plumb/ipam/n1/10.0.0.2', value: 'e1' }, '/plumb')).toBe(false);
  });
});
