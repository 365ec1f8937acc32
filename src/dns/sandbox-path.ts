// How a sandbox's 127.0.0.11:53 reaches the resolver. Pure. Two ways:
//   - 'gateway': the sandbox has an endpoint on a network whose gateway is in
//     plumb's namespace (a bridge; an overlay container's plumb_gwbridge
//     endpoint): nat rules in the sandbox send its queries there, to the
//     resolver's port (firewall/sandbox-dns.ts);
//   - 'inside': its only named networks keep it from the host (a macvlan child
//     never talks to its parent), so the resolver holds a UDP and a TCP socket
//     on 127.0.0.11:53 in the sandbox's own namespace, as Docker's embedded DNS
//     does on every network. The socket a query arrives on says who asks.
// A sandbox with both takes the gateway: its nat rules catch 127.0.0.11 first.
import type { ContainerRecord, StoreData } from '../store/model.js';
import { hasEmbeddedNames, reachesResolver } from './names.js';

export const RESOLVER_IP = '127.0.0.11';
/** The port the resolver's sockets inside a sandbox are bound to: the one resolv.conf implies. */
export const INSIDE_PORT = 53;

export type ResolverPath = 'gateway' | 'inside';

/** The way this sandbox's queries reach the resolver, or none (no embedded DNS, or a sandbox shared from another container). */
export function resolverPath(data: StoreData, c: ContainerRecord): ResolverPath | undefined {
  if (!c.embeddedDns || c.sandbox?.joined) return undefined;
  const nets = Object.values(c.endpoints).map((ep) => data.networks[ep.networkId]);
  if (nets.some(reachesResolver)) return 'gateway';
  return nets.some(hasEmbeddedNames) ? 'inside' : undefined;
}

/** Running sandboxes where the resolver listens inside: container id -> namespace file. */
export function sandboxesServedInside(data: StoreData): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of Object.values(data.containers)) {
    if (c.state !== 'running' || !c.sandbox?.netns) continue;
    if (resolverPath(data, c) === 'inside') out.set(c.id, c.sandbox.netns);
  }
  return out;
}

/**
 * Inodes of the sockets bound to ip:port in one /proc/net/udp or /proc/net/tcp
 * table (listening ones only for TCP): who holds them is read from /proc/PID/fd.
 */
export function boundSocketInodes(table: string, proto: 'udp' | 'tcp', ip: string, port: number): number[] {
  const want = `${ipv4ToProcHex(ip)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const out: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    if (f.length < 10 || f[1] !== want) continue;
    if (proto === 'tcp' && f[3] !== '0A') continue;
    out.push(Number(f[9]));
  }
  return out;
}

/** 127.0.0.11 -> 0B00007F (little-endian hex, as /proc/net writes IPv4). */
function ipv4ToProcHex(ip: string): string {
  return ip
    .split('.')
    .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
}
