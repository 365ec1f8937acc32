// Address allocation inside one network, and validation of a network's IPAM
// configuration. Works from the list of addresses already handed out, so a
// /8 costs no more than a /30: nothing iterates over the subnet itself.

import { IpamError } from './errors.js';
import {
  broadcastOf,
  containsCidr,
  containsIp,
  formatCidr,
  intToIp,
  overlaps,
  parseCidr,
  tryParseCidr,
  tryParseIp,
  type Cidr,
} from './cidr.js';

export interface AllocatorConfig {
  subnet: string;
  /** Reserved like any handed-out address (the bridge owns it). */
  gateway?: string;
  /** Dynamic addresses come only from here; static ones may be anywhere in the subnet. */
  ipRange?: string;
  /** Addresses a driver reserved (`--aux-address name=ip`); never handed out. */
  auxAddresses?: Record<string, string>;
  /** Addresses already given to endpoints. */
  allocated: readonly string[];
  /** Only used to word the "network is full" error like Docker does. */
  networkName?: string;
  networkId?: string;
}

export const ADDRESS_IN_USE = 'Address already in use';

interface Bounds {
  lo: number;
  hi: number;
}

/**
 * Where dynamic addresses come from. Docker reserves the subnet's network and
 * broadcast addresses only, so an ip-range that starts inside the subnet
 * hands out its own first address too (172.28.5.0 from 172.28.5.0/24 inside
 * 172.28.0.0/16 — a known Docker surprise, kept on purpose).
 */
function dynamicBounds(subnet: Cidr, ipRange: Cidr | undefined): Bounds | undefined {
  if (subnet.prefix >= 31) return undefined;
  let lo = subnet.network + 1;
  let hi = broadcastOf(subnet) - 1;
  if (ipRange) {
    lo = Math.max(lo, ipRange.network);
    hi = Math.min(hi, broadcastOf(ipRange));
  }
  return lo <= hi ? { lo, hi } : undefined;
}

/** Lowest value in [lo, hi] absent from `taken`: sort once, then walk past the prefix of taken values. */
function lowestFree(bounds: Bounds, taken: Iterable<number>): number | undefined {
  const sorted = [...new Set(taken)].filter((v) => v >= bounds.lo && v <= bounds.hi).sort((a, b) => a - b);
  let candidate = bounds.lo;
  for (const v of sorted) {
    if (v !== candidate) break;
    candidate++;
  }
  return candidate <= bounds.hi ? candidate : undefined;
}

function parseAddress(text: string): number {
  const v = tryParseIp(text);
  if (v === undefined) throw new IpamError(`invalid IP address: ${text}`, 'INVALID_ADDRESS');
  return v;
}

/** A stateful allocator over one network; pure (no I/O), seeded from the store's list. */
export class AddressAllocator {
  private readonly subnet: Cidr;
  private readonly range: Cidr | undefined;
  private readonly reserved = new Set<number>();
  private readonly used = new Set<number>();

  constructor(private readonly config: AllocatorConfig) {
    this.subnet = parseCidr(config.subnet);
    this.range = config.ipRange ? parseCidr(config.ipRange) : undefined;
    // Network and broadcast addresses are never usable (Docker marks both taken, even in a /31).
    this.reserved.add(this.subnet.network);
    this.reserved.add(broadcastOf(this.subnet));
    if (config.gateway) this.reserved.add(parseAddress(config.gateway));
    for (const aux of Object.values(config.auxAddresses ?? {})) this.reserved.add(parseAddress(aux));
    for (const ip of config.allocated) this.used.add(parseAddress(ip));
  }

  /**
   * Hands out `requested` (a static `--ip`) or, without it, the lowest free
   * address of the ip-range (or subnet). Docker checks a static address only
   * against the subnet, not the ip-range.
   */
  allocate(requested?: string): string {
    if (requested !== undefined) {
      const ip = parseAddress(requested);
      if (!containsIp(this.subnet, ip)) {
        throw new IpamError(`Invalid address ${requested}: It does not belong to any of this network's subnets`, 'NOT_IN_SUBNET');
      }
      if (this.reserved.has(ip) || this.used.has(ip)) throw new IpamError(ADDRESS_IN_USE, 'ADDRESS_IN_USE');
      this.used.add(ip);
      return intToIp(ip);
    }
    const bounds = dynamicBounds(this.subnet, this.range);
    const ip = bounds && lowestFree(bounds, [...this.reserved, ...this.used]);
    if (ip === undefined) throw new IpamError(this.exhaustedMessage(), 'NO_ADDRESS');
    this.used.add(ip);
    return intToIp(ip);
  }

  /** Gives an address back; the next dynamic allocation may reuse it (lowest free first). */
  release(ip: string): void {
    this.used.delete(parseAddress(ip));
  }

  isFree(ip: string): boolean {
    const v = parseAddress(ip);
    return containsIp(this.subnet, v) && !this.reserved.has(v) && !this.used.has(v);
  }

  /** Addresses handed out to endpoints, in address order. */
  allocated(): string[] {
    return [...this.used].sort((a, b) => a - b).map(intToIp);
  }

  private exhaustedMessage(): string {
    const { networkName, networkId } = this.config;
    const base = "no available IPv4 addresses on this network's address pools";
    if (!networkName) return base;
    return `${base}: ${networkName} (${networkId ?? ''})`;
  }
}

export function createAllocator(config: AllocatorConfig): AddressAllocator {
  return new AddressAllocator(config);
}

/** One-shot form: the address the next endpoint would get. */
export function allocateAddress(config: AllocatorConfig, requested?: string): string {
  return new AddressAllocator(config).allocate(requested);
}

export interface NetworkIpamInput {
  subnet: string;
  gateway?: string;
  ipRange?: string;
  aux?: Record<string, string>;
}

export interface NetworkIpamConfig {
  /** Normalised (host bits cleared). */
  subnet: string;
  gateway: string;
  ipRange?: string;
  aux: Record<string, string>;
}

/**
 * Default gateway the way Docker's IPAM picks it: the first address it would
 * hand out, i.e. the subnet's first host (.1), or the ip-range's first
 * address when an ip-range is given.
 */
export function defaultGateway(subnet: string, ipRange?: string): string {
  const bounds = dynamicBounds(parseCidr(subnet), ipRange ? parseCidr(ipRange) : undefined);
  if (!bounds) throw new IpamError(`failed to allocate gateway (): No available addresses on this pool`, 'NO_ADDRESS');
  return intToIp(bounds.lo);
}

/**
 * Checks `--subnet/--gateway/--ip-range/--aux-address` together and fills in
 * the gateway. Messages are the ones `docker network create` prints (the CLI
 * checks first, the daemon's texts cover what the CLI lets through).
 */
export function validateNetworkConfig(input: NetworkIpamInput): NetworkIpamConfig {
  const subnet = parseCidr(input.subnet);
  checkSubnetUsable(subnet);
  const subnetText = formatCidr(subnet);

  let ipRange: string | undefined;
  if (input.ipRange !== undefined && input.ipRange !== '') {
    const range = parseCidr(input.ipRange);
    if (!containsCidr(subnet, range)) {
      throw new IpamError(`no matching subnet for range ${input.ipRange}`, 'INVALID_CONFIG');
    }
    ipRange = formatCidr(range);
  }

  let gateway: string;
  if (input.gateway !== undefined && input.gateway !== '') {
    const gw = tryParseIp(input.gateway);
    if (gw === undefined) {
      throw new IpamError(`invalid gateway address ${input.gateway} in Ipam configuration`, 'INVALID_ADDRESS');
    }
    if (!containsIp(subnet, gw)) throw new IpamError(`no matching subnet for gateway ${input.gateway}`, 'INVALID_CONFIG');
    if (gw === subnet.network || gw === broadcastOf(subnet)) {
      throw new IpamError(`failed to allocate gateway (${input.gateway}): ${ADDRESS_IN_USE}`, 'ADDRESS_IN_USE');
    }
    gateway = intToIp(gw);
  } else {
    gateway = defaultGateway(subnetText, ipRange);
  }

  const aux: Record<string, string> = {};
  const seen = new Set<number>([tryParseIp(gateway)!]);
  for (const [name, value] of Object.entries(input.aux ?? {})) {
    const ip = tryParseIp(value);
    // The CLI treats an unparsable address as "not in any subnet".
    if (ip === undefined || !containsIp(subnet, ip)) {
      throw new IpamError(`no matching subnet for aux-address ${value}`, 'INVALID_CONFIG');
    }
    if (seen.has(ip) || ip === subnet.network || ip === broadcastOf(subnet)) {
      throw new IpamError(`failed to allocate secondary ip address (${name}:${value}): ${ADDRESS_IN_USE}`, 'ADDRESS_IN_USE');
    }
    seen.add(ip);
    aux[name] = intToIp(ip);
  }

  return { subnet: subnetText, gateway, ...(ipRange ? { ipRange } : {}), aux };
}

/**
 * Blocks no bridge can route: loopback (the kernel keeps 127/8 on lo),
 * multicast and the reserved 240/4 (no unicast host address there), and
 * 0/8 ("this network"). Docker's wording for its IPv6 multicast check.
 */
const UNUSABLE_BLOCKS: ReadonlyArray<[block: string, kind: string]> = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['127.0.0.0/8', 'loopback'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved (240.0.0.0/4)'],
];

export function checkSubnetUsable(subnet: Cidr | string): void {
  const c = typeof subnet === 'string' ? parseCidr(subnet) : subnet;
  for (const [block, kind] of UNUSABLE_BLOCKS) {
    if (overlaps(c, block)) {
      throw new IpamError(`${kind} subnet '${formatCidr(c)}' is not allowed: it overlaps ${block}, which containers cannot use; pick a private range such as 172.30.0.0/16`, 'INVALID_CONFIG');
    }
  }
}

export const POOL_OVERLAP_MESSAGE = 'Pool overlaps with other one on this address space';

/** Refuses a user subnet that overlaps an existing network's (the host's routes are not checked for user subnets, as in Docker). */
export function checkSubnetOverlap(subnet: string, existing: readonly string[]): void {
  const wanted = parseCidr(subnet);
  for (const other of existing) {
    const c = tryParseCidr(other);
    if (c && overlaps(wanted, c)) throw new IpamError(POOL_OVERLAP_MESSAGE, 'POOL_OVERLAP');
  }
}
