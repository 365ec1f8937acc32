// The DNS wire format the embedded resolver reads and writes.
import { describe, expect, it } from 'vitest';
import {
  addressOfReverseName,
  aRecord,
  buildQuery,
  buildResponse,
  DnsFormatError,
  encodeName,
  frame,
  parseQuery,
  ptrRecord,
  RCODE,
  readAnswers,
  readHeader,
  readName,
  reverseName,
  TYPE,
  unframe,
  withId,
} from '../../src/dns/message.js';

// A query as dig sends it ("dig Web.My-Bridge"), id 0x1234, RD, plus an EDNS OPT record.
const DIG_QUERY = Buffer.from(
  '123401200001000000000001' + '03576562094d792d427269646765' + '00' + '00010001' + '0000291000000000000000',
  'hex',
);

describe('parseQuery', () => {
  it('reads id, flags and the question (lower-cased), keeping the question bytes as sent', () => {
    const q = parseQuery(DIG_QUERY);
    expect(q.id).toBe(0x1234);
    expect(q.recursionDesired).toBe(true);
    expect(q.opcode).toBe(0);
    expect(q.question).toEqual({ name: 'web.my-bridge', type: TYPE.A, class: 1 });
    expect(q.questionBytes.toString('latin1')).toContain('Web');
  });

  it('rejects responses, empty questions and names that run off the end', () => {
    const response = Buffer.from(DIG_QUERY);
    response.writeUInt16BE(0x8180, 2);
    expect(() => parseQuery(response)).toThrow(DnsFormatError);
    const noQuestion = Buffer.from(DIG_QUERY.subarray(0, 12));
    noQuestion.writeUInt16BE(0, 4);
    expect(() => parseQuery(noQuestion)).toThrow(/without a question/);
    expect(() => parseQuery(DIG_QUERY.subarray(0, 20))).toThrow(DnsFormatError);
    expect(() => parseQuery(Buffer.alloc(5))).toThrow(/shorter than a DNS header/);
  });
});

describe('names', () => {
  it('encodes and decodes, following compression pointers and refusing loops', () => {
    const enc = encodeName('c2.my-bridge.');
    expect(enc.toString('hex')).toBe('0263320' + '96d792d627269646765' + '00');
    const msg = Buffer.concat([Buffer.alloc(12), enc, Buffer.from([0x03, 0x77, 0x77, 0x77, 0xc0, 12])]);
    expect(readName(msg, 12 + enc.length)).toEqual({ name: 'www.c2.my-bridge', next: 12 + enc.length + 6 });
    const loop = Buffer.concat([Buffer.alloc(12), Buffer.from([0xc0, 12])]);
    expect(() => readName(loop, 12)).toThrow(/loop/);
    expect(() => encodeName('a..b')).toThrow(DnsFormatError);
    expect(encodeName('')).toEqual(Buffer.from([0]));
  });

  it('maps reverse names to addresses and back', () => {
    expect(addressOfReverseName('3.0.18.172.in-addr.arpa')).toBe('172.18.0.3');
    expect(addressOfReverseName('3.0.18.172.in-addr.arpa.')).toBe('172.18.0.3');
    expect(addressOfReverseName('300.0.18.172.in-addr.arpa')).toBeUndefined();
    expect(addressOfReverseName('c2.my-bridge')).toBeUndefined();
    expect(reverseName('172.18.0.3')).toBe('3.0.18.172.in-addr.arpa');
  });
});

describe('buildResponse', () => {
  it('answers with A records pointing at the question name, not authoritative, recursion available', () => {
    const q = parseQuery(DIG_QUERY);
    const r = buildResponse(q, RCODE.NOERROR, [aRecord('172.18.0.3', 600), aRecord('172.18.0.4', 600)]);
    const h = readHeader(r);
    expect(h).toMatchObject({ id: 0x1234, response: true, rcode: 0, qdcount: 1, ancount: 2 });
    expect(r.readUInt16BE(2) & 0x0400).toBe(0); // AA clear: "Non-authoritative answer", as Docker
    expect(r.readUInt16BE(2) & 0x0180).toBe(0x0180); // RD echoed, RA set
    expect(readAnswers(r)).toEqual([
      { name: 'Web.My-Bridge', type: TYPE.A, ttl: 600, value: '172.18.0.3' },
      { name: 'Web.My-Bridge', type: TYPE.A, ttl: 600, value: '172.18.0.4' },
    ]);
  });

  it('answers PTR queries with a name, and errors with no records', () => {
    const q = parseQuery(buildQuery(7, '3.0.18.172.in-addr.arpa', TYPE.PTR));
    expect(readAnswers(buildResponse(q, RCODE.NOERROR, [ptrRecord('c2.my-bridge', 600)]))[0]).toMatchObject({ type: TYPE.PTR, value: 'c2.my-bridge' });
    const nx = buildResponse(q, RCODE.NXDOMAIN);
    expect(readHeader(nx)).toMatchObject({ rcode: RCODE.NXDOMAIN, ancount: 0, id: 7 });
  });

  it('rejects an address that is not IPv4', () => {
    expect(() => aRecord('172.18.0.300', 1)).toThrow(DnsFormatError);
  });
});

describe('ids and TCP framing', () => {
  it('rewrites the id of a copy only', () => {
    const q = buildQuery(1, 'x', TYPE.A);
    const copy = withId(q, 0xbeef);
    expect(readHeader(copy).id).toBe(0xbeef);
    expect(readHeader(q).id).toBe(1);
  });

  it('splits length-prefixed messages and keeps a partial one for later', () => {
    const a = buildQuery(1, 'a', TYPE.A);
    const b = buildQuery(2, 'b', TYPE.A);
    const stream = Buffer.concat([frame(a), frame(b)]);
    const partial = unframe(stream.subarray(0, stream.length - 3));
    expect(partial.messages).toHaveLength(1);
    expect(partial.messages[0]).toEqual(a);
    const rest = unframe(Buffer.concat([partial.rest, stream.subarray(stream.length - 3)]));
    expect(rest.messages[0]).toEqual(b);
    expect(rest.rest.length).toBe(0);
  });
});
