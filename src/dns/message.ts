// DNS wire format (RFC 1035), just enough for the embedded resolver: read a
// query's header and question, build an answer with A / PTR records or an
// error code, and rewrite message IDs when forwarding. Pure: no sockets here.

import { ipv4Bytes, ipv4OfReverseName, isIpv4, reverseNameOfIpv4 } from '../net/address.js';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const HEADER = 12;
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;

export class DnsFormatError extends Error {}

export interface Question {
  /** Lower-case, without the trailing dot ('' is the root). */
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  question: Question;
  /** The question section exactly as the client sent it (echoed back, case preserved). */
  questionBytes: Buffer;
}

export interface ResourceRecord {
  type: number;
  ttl: number;
  /** rdata: 4 bytes for A, an encoded name for PTR. */
  data: Buffer;
}

export interface Header {
  id: number;
  response: boolean;
  opcode: number;
  truncated: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
}

export function readHeader(buf: Buffer): Header {
  if (buf.length < HEADER) throw new DnsFormatError(`message of ${buf.length} bytes is shorter than a DNS header`);
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    response: (flags & QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    truncated: (flags & TC) !== 0,
    rcode: flags & 0xf,
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
  };
}

/** Reads a possibly compressed name at `offset`; `next` is the offset after it in the original position. */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  let jumps = 0;
  for (;;) {
    if (pos >= buf.length) throw new DnsFormatError('name runs past the end of the message');
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError('truncated compression pointer');
      if (++jumps > 32) throw new DnsFormatError('compression pointer loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if (len & 0xc0) throw new DnsFormatError(`unsupported label type 0x${len.toString(16)}`);
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw new DnsFormatError('label runs past the end of the message');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  const name = labels.join('.');
  if (name.length > 253) throw new DnsFormatError('name longer than 253 characters');
  return { name, next };
}

/** Encodes a name without compression ('' or '.' is the root). */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (trimmed) {
    for (const label of trimmed.split('.')) {
      const b = Buffer.from(label, 'latin1');
      if (b.length === 0 || b.length > 63) throw new DnsFormatError(`bad label "${label}" in ${name}`);
      parts.push(Buffer.from([b.length]), b);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Parses a query: header plus its first (and, in practice, only) question. */
export function parseQuery(buf: Buffer): Query {
  const h = readHeader(buf);
  if (h.response) throw new DnsFormatError('message is a response, not a query');
  if (h.qdcount < 1) throw new DnsFormatError('query without a question');
  const { name, next } = readName(buf, HEADER);
  if (next + 4 > buf.length) throw new DnsFormatError('question runs past the end of the message');
  const question = { name: name.toLowerCase(), type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) };
  return {
    id: h.id,
    opcode: h.opcode,
    recursionDesired: (buf.readUInt16BE(2) & RD) !== 0,
    question,
    questionBytes: Buffer.from(buf.subarray(HEADER, next + 4)),
  };
}

/**
 * An answer to `q`: the question echoed, then `records` for the question's
 * name (compressed as a pointer to it). Not authoritative, recursion
 * available, like Docker's resolver ("Non-authoritative answer" in nslookup).
 */
export function buildResponse(q: Query, rcode: number, records: ResourceRecord[] = []): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(QR | ((q.opcode & 0xf) << 11) | (q.recursionDesired ? RD : 0) | RA | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const parts: Buffer[] = [header, q.questionBytes];
  for (const r of records) {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc000 | HEADER, 0); // the name is the question's, at offset 12
    fixed.writeUInt16BE(r.type, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(r.ttl, 6);
    fixed.writeUInt16BE(r.data.length, 10);
    parts.push(fixed, r.data);
  }
  return Buffer.concat(parts);
}

export function aRecord(ip: string, ttl: number): ResourceRecord {
  if (!isIpv4(ip)) throw new DnsFormatError(`not an IPv4 address: ${ip}`);
  return { type: TYPE.A, ttl, data: ipv4Bytes(ip) };
}

export function ptrRecord(target: string, ttl: number): ResourceRecord {
  return { type: TYPE.PTR, ttl, data: encodeName(target) };
}

/** The IPv4 address a reverse name stands for (`3.0.18.172.in-addr.arpa` -> 172.18.0.3), if it is one. */
export function addressOfReverseName(name: string): string | undefined {
  return ipv4OfReverseName(name);
}

export function reverseName(ip: string): string {
  return reverseNameOfIpv4(ip);
}

/** A copy of a message with another ID (forwarding keeps upstream IDs apart from clients'). */
export function withId(buf: Buffer, id: number): Buffer {
  const copy = Buffer.from(buf);
  copy.writeUInt16BE(id & 0xffff, 0);
  return copy;
}

/** For TCP: a message with its two-byte length prefix. */
export function frame(buf: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(buf.length, 0);
  return Buffer.concat([len, buf]);
}

/** Splits complete length-prefixed messages off a TCP stream buffer; returns them and the unconsumed rest. */
export function unframe(stream: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let pos = 0;
  while (stream.length - pos >= 2) {
    const len = stream.readUInt16BE(pos);
    if (stream.length - pos - 2 < len) break;
    messages.push(stream.subarray(pos + 2, pos + 2 + len));
    pos += 2 + len;
  }
  return { messages, rest: stream.subarray(pos) };
}

/** A minimal query message (used by the forwarder's tests, the benchmark and the tests' fake upstream). */
export function buildQuery(id: number, name: string, type: number, recursionDesired = true): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(recursionDesired ? RD : 0, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

/** The answer records of a response, decoded as far as the resolver's users need (A addresses, PTR names). */
export function readAnswers(buf: Buffer): Array<{ name: string; type: number; ttl: number; value: string }> {
  const h = readHeader(buf);
  let pos = HEADER;
  for (let i = 0; i < h.qdcount; i++) pos = readName(buf, pos).next + 4;
  const out: Array<{ name: string; type: number; ttl: number; value: string }> = [];
  for (let i = 0; i < h.ancount; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 10 > buf.length) throw new DnsFormatError('answer runs past the end of the message');
    const type = buf.readUInt16BE(next);
    const ttl = buf.readUInt32BE(next + 4);
    const len = buf.readUInt16BE(next + 8);
    const start = next + 10;
    if (start + len > buf.length) throw new DnsFormatError('rdata runs past the end of the message');
    let value = buf.subarray(start, start + len).toString('hex');
    if (type === TYPE.A && len === 4) value = [...buf.subarray(start, start + 4)].join('.');
    else if (type === TYPE.PTR || type === TYPE.CNAME) value = readName(buf, start).name;
    out.push({ name, type, ttl, value });
    pos = start + len;
  }
  return out;
}
