// Docker's predefined address pools and the choice of a subnet for a network
// created without --subnet: the first pool that overlaps nothing in use.

import { IpamError } from './errors.js';
import { formatCidr, maskOf, parseCidr, tryParseCidr, tryParseIp, type Cidr } from './cidr.js';

/** Same shape as Docker's `default-address-pools` daemon option: a block cut into /size pieces. */
export interface PoolSpec {
  readonly base: string;
  readonly size: number;
}

/**
 * Docker 20.10's local (bridge) defaults, written the way libnetwork writes them:
 * 172.17-19 as /16s, three /14s that yield 172.20 ... 172.31 as /16s, then
 * 192.168.0.0/16 cut into sixteen /20s. 31 subnets in all.
 */
export const LOCAL_DEFAULT_POOLS: readonly PoolSpec[] = [
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

/** Docker's global (overlay / swarm) default: 10.0.0.0/8 as 65536 /24s. */
export const GLOBAL_DEFAULT_POOLS: readonly PoolSpec[] = [{ base: '10.0.0.0/8', size: 24 }];

export const NO_POOL_MESSAGE =
  'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network';

/** Yields every candidate subnet in order, lazily: the global pool has 65536 of them. */
export function* expandPools(pools: readonly PoolSpec[]): Generator<Cidr> {
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    if (pool.size < base.prefix || pool.size > 32) {
      throw new IpamError(`invalid pool size ${pool.size} for ${pool.base}`, 'INVALID_CONFIG');
    }
    const step = 2 ** (32 - pool.size);
    const count = 2 ** (pool.size - base.prefix);
    for (let i = 0; i < count; i++) yield { network: base.network + i * step, prefix: pool.size };
  }
}

/** Number of subnets the pools provide (for messages and tests). */
export function poolCount(pools: readonly PoolSpec[]): number {
  return pools.reduce((n, p) => n + 2 ** (p.size - parseCidr(p.base).prefix), 0);
}

interface Span {
  start: number;
  end: number;
}

/**
 * Turns "in use" entries into address spans. Plain addresses count as /32.
 * A default route (prefix 0) is skipped, as Docker does: it would overlap
 * every candidate and make every network creation fail.
 */
function toSpans(inUse: readonly string[]): Span[] {
  const spans: Span[] = [];
  for (const entry of inUse) {
    const c = tryParseCidr(entry) ?? (tryParseIp(entry) !== undefined ? { network: tryParseIp(entry)!, prefix: 32 } : undefined);
    if (!c) throw new IpamError(`invalid CIDR address: ${entry}`, 'INVALID_ADDRESS');
    if (c.prefix === 0) continue;
    spans.push({ start: c.network, end: (c.network | ~maskOf(c.prefix)) >>> 0 });
  }
  return spans;
}

export interface ChooseOptions {
  /**
   * Index of the candidate to start from. Docker keeps a moving start index so
   * that a subnet just released is not handed out again at once; the engine
   * may persist `index + 1` of the last choice to get the same rotation.
   */
  startIndex?: number;
}

export interface ChosenSubnet {
  subnet: string;
  /** Position of the subnet in the expanded pool list. */
  index: number;
}

/**
 * The first pool subnet that overlaps nothing in `inUse` (the host's
 * addresses and routes, and every existing network's subnet).
 */
export function chooseSubnetDetailed(
  pools: readonly PoolSpec[],
  inUse: readonly string[],
  options: ChooseOptions = {},
): ChosenSubnet {
  const spans = toSpans(inUse);
  const candidates = [...expandPools(pools)];
  const start = options.startIndex && options.startIndex < candidates.length ? options.startIndex : 0;
  for (let k = 0; k < candidates.length; k++) {
    const index = (start + k) % candidates.length;
    const c = candidates[index]!;
    const end = (c.network | ~maskOf(c.prefix)) >>> 0;
    if (!spans.some((s) => s.start <= end && c.network <= s.end)) return { subnet: formatCidr(c), index };
  }
  throw new IpamError(NO_POOL_MESSAGE, 'NO_POOL');
}

export function chooseSubnet(pools: readonly PoolSpec[], inUse: readonly string[], options: ChooseOptions = {}): string {
  return chooseSubnetDetailed(pools, inUse, options).subnet;
}
