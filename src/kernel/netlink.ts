// A netlink socket, spoken to synchronously through plumb's addon: one
// request out, every datagram of its answer back. The kernel handles an
// rtnetlink request inside the sendmsg call itself, so by the time the send
// returns the answer is already queued; a blocking read then costs a few
// microseconds, where waiting for it through the event loop (and loading a
// netlink package to do so) cost far more than the request itself.
//
// Message layout stays here, in TypeScript: the addon only moves bytes and
// knows where an answer ends.
import { closeSync } from 'node:fs';
import { endianness } from 'node:os';
import { native } from './native.js';

// Netlink headers are in host byte order.
const LE = endianness() === 'LE';
const readU16 = (b: Buffer, off: number) => (LE ? b.readUInt16LE(off) : b.readUInt16BE(off));
const readU32 = (b: Buffer, off: number) => (LE ? b.readUInt32LE(off) : b.readUInt32BE(off));
const writeU16 = (b: Buffer, v: number, off: number) => (LE ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
const writeU32 = (b: Buffer, v: number, off: number) => (LE ? b.writeUInt32LE(v, off) : b.writeUInt32BE(v, off));

/** One message of an answer: header fields and the payload after the 16-byte header. */
export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  data: Buffer;
}

const NLMSG_HDRLEN = 16;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;

/** struct nlmsghdr + body, with REQUEST and ACK set: every request is answered, at least by an acknowledgement. */
export function formatRequest(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const msg = Buffer.alloc(NLMSG_HDRLEN + body.length);
  writeU32(msg, msg.length, 0);
  writeU16(msg, type, 4);
  writeU16(msg, flags | NLM_F_REQUEST | NLM_F_ACK, 6);
  writeU32(msg, seq, 8);
  body.copy(msg, NLMSG_HDRLEN);
  return msg;
}

/** Splits datagrams into messages; a length that runs past the end stops the scan (a malformed datagram). */
export function parseDatagrams(datagrams: Buffer[]): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  for (const buf of datagrams) {
    for (let off = 0; off + NLMSG_HDRLEN <= buf.length; ) {
      const len = readU32(buf, off);
      if (len < NLMSG_HDRLEN || off + len > buf.length) break;
      out.push({ type: readU16(buf, off + 4), flags: readU16(buf, off + 6), seq: readU32(buf, off + 8), data: buf.subarray(off + NLMSG_HDRLEN, off + len) });
      off += (len + 3) & ~3;
    }
  }
  return out;
}

export class NetlinkSocket {
  private seq = 1;
  private fd: number;

  /** Opens a socket in the calling thread's current network namespace (callers enter it first). */
  constructor(protocol: number, timeoutMs: number) {
    this.fd = native().nlOpen(protocol, timeoutMs);
  }

  /** Sends one request; returns the messages of its answer that carry its sequence number. */
  request(type: number, flags: number, body: Buffer): NetlinkMessage[] {
    if (this.fd < 0) throw Object.assign(new Error('netlink socket is closed'), { code: 'EBADF', errno: 9 });
    const seq = this.seq;
    this.seq = (this.seq % 0xffffffff) + 1;
    // Messages of another sequence number are leftovers of a request that timed out.
    return parseDatagrams(native().nlRequest(this.fd, formatRequest(type, flags, seq, body))).filter((m) => m.seq === seq);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
