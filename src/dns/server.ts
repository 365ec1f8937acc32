// The embedded DNS server: one process per plumb root serving every sandbox.
// It listens on UDP and TCP port PORT of plumb's own network namespace; each
// sandbox on a user-defined network DNATs its 127.0.0.11:53 to its gateway
// address on that port and SNATs the query to its own address (see
// firewall/sandbox-dns.ts), so the source address of a query says which sandbox asks.
// Queries from any other address get no answer.
//
// It reads the store without its lock (StoreReader: every file is replaced
// by rename, so each read is whole; snapshot() gives every container as of
// one generation) and reloads it whenever the store's generation changed,
// checked on every query (a few bytes of store.json): a container started or
// stopped a moment ago is already known or already gone.
//
// With a cluster store, it also answers for containers of other hosts on the
// overlay networks the asker is on: `overlay` is a live copy of the overlay
// endpoints (cluster/names.ts OverlayNameWatch), and the name table is rebuilt
// when either the store or that copy changed.
import { createSocket, type Socket } from 'node:dgram';
import { dirname } from 'node:path';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { OverlayName } from '../cluster/names.js';
import type { StoreData } from '../store/model.js';
import { emptyStore } from '../store/model.js';
import { StoreReader } from '../store/store.js';
import { addressOfReverseName, aRecord, buildResponse, frame, parseQuery, ptrRecord, RCODE, readHeader, TYPE, unframe, type Query } from './message.js';
import { NameTable } from './names.js';
import { forward, HostResolvers } from './upstream.js';

/** Docker's embedded DNS answers with a TTL of 600 s. */
export const ANSWER_TTL = 600;
const MAX_FORWARDS_IN_FLIGHT = 256;

export interface ServerOptions {
  storeFile: string;
  port: number;
  /** Address to listen on (default: every address of this namespace). */
  host?: string;
  resolvers?: HostResolvers;
  /** Overlay endpoints of every host, kept current; `nodeId` is this host's node ID among them. */
  overlay?: OverlaySource;
  log?: (line: string) => void;
}

export interface OverlaySource {
  current(): readonly OverlayName[];
  /** Changes whenever current() does. */
  version(): number;
  readonly nodeId?: string;
}

/** Who sent a query: a source address (the gateway path) or the container whose sandbox socket received it. */
export type QuerySource = { ip: string } | { container: string };

export interface ServerStats {
  queries: number;
  answeredLocally: number;
  forwarded: number;
  unanswered: number;
  ignored: number;
}

export class EmbeddedDns {
  private udp?: Socket;
  private tcp?: Server;
  private data: StoreData = emptyStore();
  private table = new NameTable(this.data);
  private storeKey = '';
  private storeFileKey = '';
  private readonly store: StoreReader;
  private inFlight = 0;
  private readonly resolvers: HostResolvers;
  readonly stats: ServerStats = { queries: 0, answeredLocally: 0, forwarded: 0, unanswered: 0, ignored: 0 };

  constructor(private readonly opts: ServerOptions) {
    this.resolvers = opts.resolvers ?? new HostResolvers();
    this.store = new StoreReader(dirname(opts.storeFile));
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? '0.0.0.0';
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.opts.port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => this.log(`udp: ${e.message}`));
    serveUdp(udp, (msg, address) => this.answer(msg, { ip: address }, false));
    this.udp = udp;
    const tcp = createServer((conn) => serveTcp(conn, (m) => this.answer(m, { ip: conn.remoteAddress?.replace(/^::ffff:/, '') ?? '' }, true)));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.opts.port, host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
  }

  /** The current view of the store (and of the overlays), reloaded when store.json or the overlay copy changed. */
  names(): NameTable {
    let fileKey = 'missing';
    try {
      fileKey = this.store.changeKey();
    } catch {
      fileKey = 'missing';
    }
    const overlay = this.opts.overlay;
    const key = `${fileKey}|${overlay?.version() ?? 0}`;
    if (key !== this.storeKey) {
      if (fileKey !== this.storeFileKey) {
        let data: StoreData = emptyStore();
        if (fileKey !== 'missing') {
          try {
            data = this.store.snapshot();
          } catch (err) {
            // Replaced between stat and read: keep the last good view, retry on the next query.
            this.log(`store unreadable, keeping the previous view: ${(err as Error).message}`);
            return this.table;
          }
        }
        this.data = data;
        this.storeFileKey = fileKey;
      }
      this.table = new NameTable(this.data, overlay?.current(), overlay?.nodeId);
      this.storeKey = key;
    }
    return this.table;
  }

  /** The store as last read (reloaded first if store.json changed). */
  storeView(): StoreData {
    this.names();
    return this.data;
  }

  /**
   * The reply to one query, or undefined for no reply at all. `from`: the
   * source address of a query that came through a gateway, or the container
   * whose sandbox holds the socket it came in on.
   */
  async answer(msg: Buffer, from: QuerySource | string, tcp: boolean): Promise<Buffer | undefined> {
    this.stats.queries++;
    const names = this.names();
    const src: QuerySource = typeof from === 'string' ? { ip: from } : from;
    const asker = 'ip' in src ? names.asker(src.ip) : names.askerById(src.container);
    if (!asker) {
      this.stats.ignored++;
      return undefined;
    }
    let q: Query;
    try {
      q = parseQuery(msg);
    } catch {
      this.stats.ignored++;
      return formatError(msg);
    }
    if (q.opcode !== 0) return buildResponse(q, RCODE.NOTIMP);
    const { name, type } = q.question;
    if (type === TYPE.A || type === TYPE.AAAA) {
      const ips = names.lookup(asker, name);
      if (ips) {
        this.stats.answeredLocally++;
        // A container name with no IPv6 address: an empty answer, as Docker gives.
        return buildResponse(q, RCODE.NOERROR, type === TYPE.A ? ips.map((ip) => aRecord(ip, ANSWER_TTL)) : []);
      }
    } else if (type === TYPE.PTR) {
      const ip = addressOfReverseName(name);
      const target = ip && names.reverse(asker, ip);
      if (target) {
        this.stats.answeredLocally++;
        return buildResponse(q, RCODE.NOERROR, [ptrRecord(target, ANSWER_TTL)]);
      }
    }
    if (!asker.forward) return buildResponse(q, RCODE.SERVFAIL);
    const servers = asker.servers.length ? asker.servers : this.resolvers.servers();
    if (!servers.length || this.inFlight >= MAX_FORWARDS_IN_FLIGHT) return buildResponse(q, RCODE.SERVFAIL);
    this.inFlight++;
    try {
      const reply = await forward(servers, msg, tcp);
      if (reply) this.stats.forwarded++;
      else this.stats.unanswered++;
      // No upstream answered: no reply either, as Docker 20.10 (the client times out).
      return reply;
    } finally {
      this.inFlight--;
    }
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

/** Answers every datagram of `udp` with what `answer` gives (nothing: no reply). */
export function serveUdp(udp: Socket, answer: (msg: Buffer, address: string) => Promise<Buffer | undefined>): void {
  udp.on('message', (msg, rinfo) => {
    void answer(msg, rinfo.address).then((reply) => {
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
  });
}

/** Answers the length-prefixed messages of one TCP connection (RFC 1035 4.2.2); idle connections close after 10 s. */
export function serveTcp(conn: TcpSocket, answer: (msg: Buffer) => Promise<Buffer | undefined>): void {
  let stream = Buffer.alloc(0);
  conn.setTimeout(10_000, () => conn.destroy());
  conn.on('error', () => conn.destroy());
  conn.on('data', (d: Buffer) => {
    stream = Buffer.concat([stream, d]);
    const { messages, rest } = unframe(stream);
    stream = Buffer.from(rest);
    for (const m of messages) {
      void answer(Buffer.from(m)).then((reply) => {
        if (reply && !conn.destroyed) conn.write(frame(reply));
      });
    }
  });
}

function formatError(msg: Buffer): Buffer | undefined {
  try {
    const h = readHeader(msg);
    const out = Buffer.alloc(12);
    out.writeUInt16BE(h.id, 0);
    out.writeUInt16BE(0x8000 | 0x0080 | RCODE.FORMERR, 2);
    return out;
  } catch {
    return undefined;
  }
}
