// Host ports a container publishes: which are asked for, which are free, and
// which one a random request gets. The kernel side (DNAT and friends) is
// rendered by the firewall from the bindings recorded here.
//
// Docker hands out host ports the way its port allocator does, and plumb does
// the same so `plumb port` shows what a learner expects:
//  * a fixed port (`-p 8080:80`) is taken as asked, or refused with
//    `Bind for 0.0.0.0:8080 failed: port is already allocated`;
//  * a random port (`-p 80`, `-P`) comes from the host's
//    net.ipv4.ip_local_port_range, counting up from the last port handed out
//    and wrapping around, so a port just released is not reused at once;
//  * a host range with one container port (`-p 8000-8010:80`) is a pool
//    searched the same way.
// Docker learns that a port is held by some other program on the host when
// its docker-proxy fails to listen there. plumb runs no proxy, so it reads the
// sockets bound in the host namespace from /proc/net instead: a published
// port would otherwise silently take the traffic of a host service.
import { containersWhere } from '../../store/store.js';
import { ipv4FromBytes, ipv4OfIpv6, ipv6FromBytes } from '../../net/address.js';
import type { Netns } from '../../kernel/netns.js';
import { readSocketTables } from '../../kernel/proc.js';
import { readSysctl } from '../../kernel/sysctl.js';
import { bridgeNetwork } from '../../drivers/records.js';
import type { ContainerRecord, PortBinding, StoreData } from '../../store/model.js';
import { PlumbError } from '../core/errors.js';

type Proto = PortBinding['proto'];
export type PortRequest = ContainerRecord['publish'][number];

/** A socket bound on the host: a TCP listener or any UDP socket. `ip` 0.0.0.0 means every address. */
export interface HostSocket {
  proto: Proto;
  ip: string;
  port: number;
}

/** What the host namespace says about its ports, read once per operation. */
export interface HostPortFacts {
  sockets: HostSocket[];
  /** net.ipv4.ip_local_port_range of the host namespace. */
  range: [first: number, last: number];
}

/** Docker's fallback when ip_local_port_range cannot be read. */
export const FALLBACK_RANGE: [number, number] = [49153, 65535];

const TCP_LISTEN = '0A';

/** `0100007F` (little-endian hex, as /proc/net/tcp writes IPv4) -> 127.0.0.1. */
function procIpv4(hex: string): string {
  return ipv4FromBytes(Buffer.from(hex, 'hex').reverse());
}

/**
 * The IPv4 address an IPv6 socket in /proc/net/tcp6 is bound to: the
 * wildcard `::` also takes IPv4 (unless IPV6_V6ONLY), `::ffff:a.b.c.d` is that
 * IPv4 address; any other IPv6 address cannot clash with an IPv4 binding.
 */
function procIpv6AsIpv4(hex: string): string | undefined {
  // four 32-bit words, each little-endian
  const words = Buffer.from(hex, 'hex');
  if (words.length !== 16) return undefined;
  for (let i = 0; i < 16; i += 4) words.subarray(i, i + 4).reverse();
  return ipv4OfIpv6(ipv6FromBytes(words));
}

/** Parses one /proc/net/{tcp,udp}{,6} table into bound sockets (listening ones only for TCP). */
export function parseProcNet(text: string, proto: Proto, v6: boolean): HostSocket[] {
  const found: HostSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [addr, port] = fields[1]!.split(':');
    if (!addr || !port) continue;
    if (proto === 'tcp' && fields[3] !== TCP_LISTEN) continue;
    const ip = v6 ? procIpv6AsIpv4(addr) : procIpv4(addr);
    if (ip !== undefined) found.push({ proto, ip, port: parseInt(port, 16) });
  }
  return found;
}

/** The host namespace's bound sockets and local port range. */
export function readHostPortFacts(host: Netns): HostPortFacts {
  const sockets: HostSocket[] = [];
  for (const t of readSocketTables(host)) sockets.push(...parseProcNet(t.text, t.proto, t.v6));
  const m = /^(\d+)\s+(\d+)$/.exec(readSysctl(host, 'net.ipv4.ip_local_port_range')?.trim() ?? '');
  const range: [number, number] = m && Number(m[1]) <= Number(m[2]) ? [Number(m[1]), Number(m[2])] : FALLBACK_RANGE;
  return { sockets, range };
}

/** Two bindings of one protocol and port collide when their addresses overlap (0.0.0.0 overlaps all). */
function overlaps(aIp: string, bIp: string): boolean {
  return aIp === bIp || aIp === '0.0.0.0' || bIp === '0.0.0.0';
}

/**
 * Every binding a container asks for: its `-p` values and, with `-P`, a
 * random host port for each exposed port that has no `-p` (Docker's rule).
 */
export function portRequests(c: ContainerRecord): PortRequest[] {
  const requests = [...c.publish];
  if (c.publishAll) {
    for (const e of c.expose) {
      if (c.publish.some((p) => p.containerPort === e.port && p.proto === e.proto)) continue;
      requests.push({ proto: e.proto, containerPort: e.port, hostIp: '', hostPortStart: 0, hostPortEnd: 0 });
    }
  }
  return requests;
}

/** The allocator's inputs besides the requests: who holds what, and where each pool's cursor stands. */
export interface Allocation {
  /** Ports already published by other running containers. */
  taken: readonly PortBinding[];
  host: HostPortFacts;
  /** Last port handed out per pool (`ip/proto/first-last`), updated in place. */
  cursors: Record<string, number>;
  /** Used in error messages: Docker names the endpoint (`web (<endpoint id>)`). */
  endpoint: string;
  /** Host address for requests that name none (the network's host_binding_ipv4). */
  defaultHostIp: string;
}

/**
 * Chooses a concrete host port for every request, in order. Pure: the caller
 * gathers the facts. Throws Docker's error when a port is not free.
 */
export function allocatePorts(requests: readonly PortRequest[], a: Allocation): PortBinding[] {
  const bound: PortBinding[] = [];
  // Who holds each proto/port, by address: one lookup per candidate port, however many are held.
  const holders = new Map<string, string[]>();
  const hold = (proto: Proto, ip: string, port: number): void => {
    const key = `${proto}/${port}`;
    const list = holders.get(key);
    if (list) list.push(ip);
    else holders.set(key, [ip]);
  };
  for (const b of a.taken) hold(b.proto, b.hostIp, b.hostPort);
  for (const s of a.host.sockets) hold(s.proto, s.ip, s.port);
  const free = (proto: Proto, ip: string, port: number): boolean => !(holders.get(`${proto}/${port}`) ?? []).some((h) => overlaps(h, ip));
  const fail = (why: string): never => {
    throw new PlumbError(`driver failed programming external connectivity on endpoint ${a.endpoint}: ${why}`, 125);
  };
  refuseWhatCannotFit(requests, a, fail);

  for (const r of requests) {
    const hostIp = r.hostIp || a.defaultHostIp;
    if (hostIp.includes(':')) {
      throw new PlumbError(`cannot publish on ${hostIp}: plumb publishes ports on IPv4 host addresses only`, 125);
    }
    if (r.hostPortStart !== 0 && r.hostPortStart === r.hostPortEnd) {
      if (!free(r.proto, hostIp, r.hostPortStart)) fail(`Bind for ${hostIp}:${r.hostPortStart} failed: port is already allocated`);
      bound.push({ proto: r.proto, containerPort: r.containerPort, hostIp, hostPort: r.hostPortStart });
      hold(r.proto, hostIp, r.hostPortStart);
      continue;
    }
    const [first, last] = r.hostPortStart === 0 ? a.host.range : [r.hostPortStart, r.hostPortEnd];
    const pool = `${hostIp}/${r.proto}/${first}-${last}`;
    // A new pool starts as if its last port had just been handed out, so the first pick is its first port.
    let port = a.cursors[pool] ?? last;
    let picked: number | undefined;
    for (let i = 0; i <= last - first; i++) {
      port = port >= last || port < first ? first : port + 1;
      if (free(r.proto, hostIp, port)) {
        picked = port;
        break;
      }
    }
    if (picked === undefined) fail('all ports are allocated');
    a.cursors[pool] = picked!;
    bound.push({ proto: r.proto, containerPort: r.containerPort, hostIp, hostPort: picked! });
    hold(r.proto, hostIp, picked!);
  }
  return bound;
}

/**
 * Refuses at once a set of requests that cannot fit: more ports from one pool
 * (random ones from the local port range, or a `-p 8000-8010:80` range) than
 * the pool has. `-P --expose 1-65535` asks for 65535 random ports; searching
 * for them one by one only to fail would take a long time.
 */
export function refuseWhatCannotFit(requests: readonly PortRequest[], a: Pick<Allocation, 'host' | 'defaultHostIp'>, fail: (why: string) => never): void {
  const wanted = new Map<string, { count: number; first: number; last: number; proto: Proto; ip: string }>();
  for (const r of requests) {
    if (r.hostPortStart !== 0 && r.hostPortStart === r.hostPortEnd) continue;
    const ip = r.hostIp || a.defaultHostIp;
    const [first, last] = r.hostPortStart === 0 ? a.host.range : [r.hostPortStart, r.hostPortEnd];
    const key = `${ip}/${r.proto}/${first}-${last}`;
    const w = wanted.get(key) ?? { count: 0, first, last, proto: r.proto, ip };
    w.count++;
    wanted.set(key, w);
  }
  for (const w of wanted.values()) {
    const size = w.last - w.first + 1;
    if (w.count > size) {
      fail(
        `all ports are allocated: ${w.count} ${w.proto} ports are asked for on ${w.ip} from ${w.first}-${w.last}, which holds ${size}` +
          ' (publish fewer ports, e.g. a smaller --expose range with -P)',
      );
    }
  }
}

/**
 * Binds every port `c` asks for to a concrete host port, refusing ones other
 * running containers or host programs hold. A container without a bridge
 * endpoint (none, host) publishes nothing, as in Docker.
 */
export function bindPorts(data: StoreData, c: ContainerRecord, host: Netns): PortBinding[] {
  const requests = portRequests(c);
  const primary = c.networks[0] && c.endpoints[c.networks[0].networkId];
  const net = bridgeNetwork(primary && data.networks[primary.networkId]);
  if (!requests.length || !primary || !net) return [];
  const taken = containersWhere(data, 'ports')
    .filter((o) => o.id !== c.id && o.state === 'running')
    .flatMap((o) => o.ports);
  data.portCursors ??= {};
  return allocatePorts(requests, {
    taken,
    host: readHostPortFacts(host),
    cursors: data.portCursors,
    endpoint: `${c.name} (${primary.id})`,
    defaultHostIp: net.hostBindingIpv4 || '0.0.0.0',
  });
}

/**
 * Before a sandbox is built: refuses a container whose ports cannot fit the
 * host's pools, so such a run fails at once and builds nothing.
 */
export function refuseUnfitPorts(data: StoreData, c: ContainerRecord, host: Netns): void {
  const requests = portRequests(c);
  if (!requests.some((r) => r.hostPortStart !== r.hostPortEnd || r.hostPortStart === 0)) return;
  const net = bridgeNetwork(c.networks[0] && data.networks[c.networks[0].networkId]);
  if (!net) return;
  refuseWhatCannotFit(requests, { host: readHostPortFacts(host), defaultHostIp: net.hostBindingIpv4 || '0.0.0.0' }, (why) => {
    throw new PlumbError(`driver failed programming external connectivity on endpoint ${c.name}: ${why}`, 125);
  });
}

/** `8080->80/tcp`, `127.0.0.1:8082->80/tcp`: how a binding is named in rule comments and lessons. */
export function bindingLabel(b: PortBinding): string {
  return `${b.hostIp === '0.0.0.0' ? '' : `${b.hostIp}:`}${b.hostPort}->${b.containerPort}/${b.proto}`;
}

/** The lesson above the firewall step that publishes a container's ports. */
export function whyPublish(c: ContainerRecord): string {
  const ports = c.ports.map(bindingLabel).join(', ');
  return [
    `publish ${c.name}'s ports ${ports} with kernel rules alone (no proxy process). Per port, or per range of consecutive ports:`,
    `nat PLUMB DNAT rewrites the destination of packets for the host's port to the container's address,`,
    `filter PLUMB ACCEPT lets the rewritten packets be forwarded into the bridge,`,
    `nat PLUMB-POSTROUTING MASQUERADE lets the container reach itself through its published port.`,
    `this one iptables-restore holds only what changes in plumb's chains; each rule is explained above it.`,
  ].join('\n');
}
