// Forwarding names the embedded DNS does not know: to the sandbox's --dns
// servers, else to the host's own resolvers (its resolv.conf), one after the
// other, each with a short timeout. The resolver lives in plumb's own network
// namespace, so upstream sees the host's address, as with Docker (whose
// queries leave the container masqueraded).
import { createSocket } from 'node:dgram';
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { isIpv4 } from '../net/address.js';
import { frame, readHeader, unframe, withId } from './message.js';

export const UPSTREAM_TIMEOUT_MS = 2000;

/** nameserver lines of a resolv.conf text (IPv4 only: these networks are IPv4-only). */
export function nameserversOf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w[0] === 'nameserver' && isIpv4(w[1] ?? ''))
    .map((w) => w[1]!);
}

/**
 * The host's resolvers, from PLUMB_HOST_RESOLV_CONF (tests and learners point
 * it at a file they control) or /etc/resolv.conf; re-read when the file changes.
 */
export class HostResolvers {
  private cache: { key: string; servers: string[] } | undefined;

  constructor(private readonly path: string = process.env.PLUMB_HOST_RESOLV_CONF || '/etc/resolv.conf') {}

  servers(): string[] {
    let key = 'missing';
    try {
      const st = statSync(this.path);
      key = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return [];
    }
    if (this.cache?.key !== key) {
      let text = '';
      try {
        text = readFileSync(this.path, 'utf8');
      } catch {
        text = '';
      }
      this.cache = { key, servers: nameserversOf(text) };
    }
    return this.cache.servers;
  }
}

/** Sends the query to `server`:53 over UDP; resolves with the reply (original ID restored) or undefined on timeout. */
export function askUdp(server: string, query: Buffer, timeoutMs = UPSTREAM_TIMEOUT_MS, port = 53): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 0x10000);
    const original = readHeader(query).id;
    const sock = createSocket('udp4');
    let done = false;
    const finish = (reply: Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(reply ? withId(reply, original) : undefined);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.on('message', (msg, rinfo) => {
      // Only the server asked, answering this ID, counts (no spoofed replies from elsewhere).
      if (rinfo.address !== server || msg.length < 12 || msg.readUInt16BE(0) !== id) return;
      finish(msg);
    });
    sock.send(withId(query, id), port, server, (err) => {
      if (err) finish(undefined);
    });
  });
}

/** The same over TCP (for a client that asked over TCP and a truncated UDP answer). */
export function askTcp(server: string, query: Buffer, timeoutMs = UPSTREAM_TIMEOUT_MS, port = 53): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let stream = Buffer.alloc(0);
    let done = false;
    const sock = connect({ host: server, port });
    const finish = (reply: Buffer | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('connect', () => sock.write(frame(query)));
    sock.on('data', (d: Buffer) => {
      stream = Buffer.concat([stream, d]);
      const { messages } = unframe(stream);
      if (messages.length) finish(Buffer.from(messages[0]!));
    });
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(undefined));
  });
}

/** Tries each server in turn; the first reply wins. Over TCP when `tcp` (or when a UDP reply came back truncated). */
export async function forward(servers: string[], query: Buffer, tcp: boolean, port = 53): Promise<Buffer | undefined> {
  for (const server of servers) {
    let reply = tcp ? undefined : await askUdp(server, query, UPSTREAM_TIMEOUT_MS, port);
    if (tcp || (reply && readHeader(reply).truncated)) reply = (await askTcp(server, query, UPSTREAM_TIMEOUT_MS, port)) ?? reply;
    if (reply) return reply;
  }
  return undefined;
}
