import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AddressAllocator,
  GLOBAL_DEFAULT_POOLS,
  IpamError,
  LOCAL_DEFAULT_POOLS,
  NO_POOL_MESSAGE,
  allocateAddress,
  broadcast,
  checkSubnetOverlap,
  chooseSubnet,
  chooseSubnetDetailed,
  containsCidr,
  containsIp,
  createAllocator,
  defaultGateway,
  expandPools,
  firstHost,
  intToIp,
  ipToInt,
  isCidr,
  isFullId,
  isValidMac,
  lastHost,
  macFromIp,
  normalizeCidr,
  normalizeMac,
  overlaps,
  parseCidr,
  poolCount,
  prefixLength,
  randomId,
  shortId,
  sizeOf,
  validateNetworkConfig,
} from '../../src/ipam/index.js';

function errorOf(fn: () => unknown): IpamError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IpamError) return e;
    throw e;
  }
  throw new Error('expected an IpamError');
}

describe('cidr', () => {
  it('converts addresses both ways, unsigned', () => {
    expect(ipToInt('172.17.0.2')).toBe(0xac110002);
    expect(ipToInt('255.255.255.255')).toBe(0xffffffff);
    expect(intToIp(0xffffffff)).toBe('255.255.255.255');
    expect(intToIp(0)).toBe('0.0.0.0');
  });

  it('rejects malformed addresses', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', 'a.b.c.d', '', '1.2.3.4 ']) {
      expect(() => ipToInt(bad)).toThrow(IpamError);
    }
  });

  it("parses CIDRs and words errors like Go's net.ParseCIDR", () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ ip: ipToInt('10.1.2.3'), network: ipToInt('10.0.0.0'), prefix: 8 });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', 'foo', '10.0.0.0/-1', '10.0.0.0/']) {
      const e = errorOf(() => parseCidr(bad));
      expect(e.message).toBe(`invalid CIDR address: ${bad}`);
      expect(e.code).toBe('INVALID_ADDRESS');
      expect(isCidr(bad)).toBe(false);
    }
  });

  it('normalises, measures and bounds blocks', () => {
    expect(normalizeCidr('172.18.5.4/16')).toBe('172.18.0.0/16');
    expect(normalizeCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(prefixLength('10.0.0.0/24')).toBe(24);
    expect(sizeOf('10.0.0.0/24')).toBe(256);
    expect(sizeOf('0.0.0.0/0')).toBe(2 ** 32);
    expect(broadcast('172.17.0.0/16')).toBe('172.17.255.255');
    expect(broadcast('0.0.0.0/0')).toBe('255.255.255.255');
    expect(firstHost('172.17.0.0/16')).toBe('172.17.0.1');
    expect(lastHost('172.17.0.0/16')).toBe('172.17.255.254');
    expect(firstHost('10.0.0.0/30')).toBe('10.0.0.1');
    expect(lastHost('10.0.0.0/30')).toBe('10.0.0.2');
    // Docker's IPAM reserves both ends even of a /31.
    expect(firstHost('10.0.0.0/31')).toBeUndefined();
    expect(lastHost('10.0.0.1/32')).toBeUndefined();
  });

  it('contains and overlaps', () => {
    expect(containsIp('172.17.0.0/16', '172.17.255.255')).toBe(true);
    expect(containsIp('172.17.0.0/16', '172.18.0.0')).toBe(false);
    expect(containsIp('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(containsCidr('10.0.0.0/8', '10.5.0.0/16')).toBe(true);
    expect(containsCidr('10.5.0.0/16', '10.0.0.0/8')).toBe(false);
    expect(overlaps('10.0.0.0/8', '10.5.0.0/16')).toBe(true);
    expect(overlaps('10.5.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(overlaps('192.168.0.0/20', '192.168.16.0/20')).toBe(false);
    expect(overlaps('192.168.15.0/24', '192.168.0.0/20')).toBe(true);
  });
});

describe('default pools', () => {
  it("expand to Docker's 31 local subnets in order", () => {
    const all = [...expandPools(LOCAL_DEFAULT_POOLS)].map((c) => `${intToIp(c.network)}/${c.prefix}`);
    expect(all).toHaveLength(31);
    expect(poolCount(LOCAL_DEFAULT_POOLS)).toBe(31);
    expect(all.slice(0, 4)).toEqual(['172.17.0.0/16', '172.18.0.0/16', '172.19.0.0/16', '172.20.0.0/16']);
    expect(all[14]).toBe('172.31.0.0/16');
    expect(all[15]).toBe('192.168.0.0/20');
    expect(all[16]).toBe('192.168.16.0/20');
    expect(all[30]).toBe('192.168.240.0/20');
  });

  it('global pool is 10.0.0.0/8 as /24s', () => {
    expect(poolCount(GLOBAL_DEFAULT_POOLS)).toBe(65536);
    expect(chooseSubnet(GLOBAL_DEFAULT_POOLS, [])).toBe('10.0.0.0/24');
    expect(chooseSubnet(GLOBAL_DEFAULT_POOLS, ['10.0.0.0/24', '10.0.1.0/24'])).toBe('10.0.2.0/24');
  });

  it('chooses the first pool overlapping nothing in use', () => {
    expect(chooseSubnet(LOCAL_DEFAULT_POOLS, [])).toBe('172.17.0.0/16');
    expect(chooseSubnet(LOCAL_DEFAULT_POOLS, ['172.17.0.0/16'])).toBe('172.18.0.0/16');
  });

  it('skips host routes and host addresses, ignores the default route', () => {
    const hostRoutes = ['0.0.0.0/0', '10.254.0.0/24', '172.16.0.0/12'];
    expect(chooseSubnet(LOCAL_DEFAULT_POOLS, hostRoutes)).toBe('192.168.0.0/20');
    // A single host address (no prefix) blocks the pool containing it.
    expect(chooseSubnet(LOCAL_DEFAULT_POOLS, ['172.17.3.4'])).toBe('172.18.0.0/16');
    // A smaller route inside a pool blocks that pool.
    expect(chooseSubnet(LOCAL_DEFAULT_POOLS, ['172.17.0.0/16', '172.18.42.0/24'])).toBe('172.19.0.0/16');
  });

  it('fails with Docker\'s text when every pool is taken', () => {
    const e = errorOf(() => chooseSubnet(LOCAL_DEFAULT_POOLS, ['172.16.0.0/12', '192.168.0.0/16']));
    expect(e.message).toBe(NO_POOL_MESSAGE);
    expect(e.code).toBe('NO_POOL');
  });

  it('can rotate from a start index like dockerd', () => {
    expect(chooseSubnetDetailed(LOCAL_DEFAULT_POOLS, [], { startIndex: 3 })).toEqual({ subnet: '172.20.0.0/16', index: 3 });
    expect(chooseSubnet(LOCAL_DEFAULT_POOLS, ['192.168.240.0/20'], { startIndex: 30 })).toBe('172.17.0.0/16');
  });
});

describe('address allocation', () => {
  const base = { subnet: '172.17.0.0/16', gateway: '172.17.0.1', allocated: [] as string[] };

  it('hands out the lowest free address, never the gateway', () => {
    expect(allocateAddress(base)).toBe('172.17.0.2');
    expect(allocateAddress({ ...base, allocated: ['172.17.0.2', '172.17.0.3'] })).toBe('172.17.0.4');
  });

  it('reuses a released address first (lowest free)', () => {
    const a = createAllocator(base);
    expect([a.allocate(), a.allocate(), a.allocate(), a.allocate()]).toEqual(['172.17.0.2', '172.17.0.3', '172.17.0.4', '172.17.0.5']);
    a.release('172.17.0.3');
    expect(a.allocate()).toBe('172.17.0.3');
    expect(a.allocate()).toBe('172.17.0.6');
    expect(a.allocated()).toEqual(['172.17.0.2', '172.17.0.3', '172.17.0.4', '172.17.0.5', '172.17.0.6']);
  });

  it('fills gaps in an unsorted allocated list', () => {
    expect(allocateAddress({ ...base, allocated: ['172.17.0.5', '172.17.0.2', '172.17.0.4'] })).toBe('172.17.0.3');
  });

  it('skips aux addresses', () => {
    const a = createAllocator({ ...base, auxAddresses: { router: '172.17.0.2', dns: '172.17.0.3' } });
    expect(a.allocate()).toBe('172.17.0.4');
    expect(a.isFree('172.17.0.2')).toBe(false);
  });

  it('allocates from the ip-range only, including its first address (as Docker does)', () => {
    const a = createAllocator({ subnet: '172.28.0.0/16', gateway: '172.28.5.254', ipRange: '172.28.5.0/24', allocated: [] });
    expect(a.allocate()).toBe('172.28.5.0');
    expect(a.allocate()).toBe('172.28.5.1');
  });

  it('an ip-range at the top of the subnet never yields the broadcast address', () => {
    const a = createAllocator({ subnet: '10.0.0.0/24', gateway: '10.0.0.1', ipRange: '10.0.0.252/30', allocated: [] });
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual(['10.0.0.252', '10.0.0.253', '10.0.0.254']);
    expect(() => a.allocate()).toThrow(/no available IPv4 addresses/);
  });

  it('a /30 holds the gateway and one container', () => {
    const a = createAllocator({ subnet: '10.0.0.0/30', gateway: '10.0.0.1', allocated: [], networkName: 'tiny', networkId: 'abc' });
    expect(a.allocate()).toBe('10.0.0.2');
    const e = errorOf(() => a.allocate());
    expect(e.message).toBe("no available IPv4 addresses on this network's address pools: tiny (abc)");
    expect(e.code).toBe('NO_ADDRESS');
  });

  it('a /31 has no usable address at all (both ends reserved)', () => {
    expect(() => allocateAddress({ subnet: '10.0.0.0/31', allocated: [] })).toThrow(/no available IPv4 addresses/);
    expect(() => defaultGateway('10.0.0.0/31')).toThrow(IpamError);
  });

  it('accepts a free static address anywhere in the subnet, even outside the ip-range', () => {
    const a = createAllocator({ subnet: '172.28.0.0/16', gateway: '172.28.0.1', ipRange: '172.28.5.0/24', allocated: [] });
    expect(a.allocate('172.28.9.9')).toBe('172.28.9.9');
    expect(a.isFree('172.28.9.9')).toBe(false);
  });

  it('refuses static addresses that are taken, reserved or outside', () => {
    const a = createAllocator({ ...base, auxAddresses: { x: '172.17.0.9' }, allocated: ['172.17.0.2'] });
    for (const ip of ['172.17.0.2', '172.17.0.1', '172.17.0.9', '172.17.0.0', '172.17.255.255']) {
      const e = errorOf(() => a.allocate(ip));
      expect(e.message).toBe('Address already in use');
      expect(e.code).toBe('ADDRESS_IN_USE');
    }
    const e = errorOf(() => a.allocate('10.0.0.5'));
    expect(e.message).toBe("Invalid address 10.0.0.5: It does not belong to any of this network's subnets");
    expect(e.code).toBe('NOT_IN_SUBNET');
    expect(() => a.allocate('nope')).toThrow(IpamError);
  });

  // How fast is for benchmarks (a timed assertion fails on a busy machine); this checks the answer at that size.
  it('a /8 with many addresses in use hands out the next one', () => {
    const allocated: string[] = [];
    for (let i = 2; i < 50_002; i++) allocated.push(intToIp(ipToInt('10.0.0.0') + i));
    const a = new AddressAllocator({ subnet: '10.0.0.0/8', gateway: '10.0.0.1', allocated });
    expect(a.allocate()).toBe(intToIp(ipToInt('10.0.0.0') + 50_002));
    expect(allocateAddress({ subnet: '10.0.0.0/8', allocated: [] })).toBe('10.0.0.1');
  });
});

describe('network IPAM configuration', () => {
  it('defaults the gateway to the first host', () => {
    expect(validateNetworkConfig({ subnet: '192.168.0.0/16' })).toEqual({ subnet: '192.168.0.0/16', gateway: '192.168.0.1', aux: {} });
    expect(defaultGateway('10.0.0.0/30')).toBe('10.0.0.1');
  });

  it('normalises the subnet and ip-range', () => {
    expect(validateNetworkConfig({ subnet: '10.1.2.3/16', ipRange: '10.1.5.7/24' })).toEqual({
      subnet: '10.1.0.0/16',
      gateway: '10.1.5.0',
      ipRange: '10.1.5.0/24',
      aux: {},
    });
  });

  it('keeps a user gateway and aux addresses', () => {
    expect(validateNetworkConfig({ subnet: '172.28.0.0/16', gateway: '172.28.5.254', ipRange: '172.28.5.0/24', aux: { host1: '172.28.1.5' } })).toEqual({
      subnet: '172.28.0.0/16',
      gateway: '172.28.5.254',
      ipRange: '172.28.5.0/24',
      aux: { host1: '172.28.1.5' },
    });
  });

  it("words errors like docker network create", () => {
    const cases: Array<[Parameters<typeof validateNetworkConfig>[0], string]> = [
      [{ subnet: 'bogus' }, 'invalid CIDR address: bogus'],
      [{ subnet: '10.0.0.0/24', ipRange: '10.0.1.0/25' }, 'no matching subnet for range 10.0.1.0/25'],
      [{ subnet: '10.0.0.0/24', ipRange: '10.0.0.0/16' }, 'no matching subnet for range 10.0.0.0/16'],
      [{ subnet: '10.0.0.0/24', ipRange: 'x' }, 'invalid CIDR address: x'],
      [{ subnet: '10.0.0.0/24', gateway: '10.0.1.1' }, 'no matching subnet for gateway 10.0.1.1'],
      [{ subnet: '10.0.0.0/24', gateway: 'gw' }, 'invalid gateway address gw in Ipam configuration'],
      [{ subnet: '10.0.0.0/24', gateway: '10.0.0.0' }, 'failed to allocate gateway (10.0.0.0): Address already in use'],
      [{ subnet: '10.0.0.0/24', aux: { a: '10.9.0.1' } }, 'no matching subnet for aux-address 10.9.0.1'],
      [{ subnet: '10.0.0.0/24', aux: { a: '10.0.0.1' } }, 'failed to allocate secondary ip address (a:10.0.0.1): Address already in use'],
    ];
    for (const [input, message] of cases) expect(errorOf(() => validateNetworkConfig(input)).message).toBe(message);
  });

  it('refuses a subnet overlapping another network', () => {
    expect(() => checkSubnetOverlap('10.0.0.0/24', ['172.17.0.0/16', '10.0.1.0/24'])).not.toThrow();
    const e = errorOf(() => checkSubnetOverlap('10.0.0.0/16', ['172.17.0.0/16', '10.0.1.0/24']));
    expect(e.message).toBe('Pool overlaps with other one on this address space');
    expect(e.code).toBe('POOL_OVERLAP');
  });
});

describe('mac', () => {
  it('derives the MAC from the IPv4 address', () => {
    expect(macFromIp('172.17.0.2')).toBe('02:42:ac:11:00:02');
    expect(macFromIp('192.168.0.2')).toBe('02:42:c0:a8:00:02');
    expect(macFromIp('10.0.1.4')).toBe('02:42:0a:00:01:04');
  });

  it('validates and normalises user MACs', () => {
    expect(isValidMac('02:42:AC:11:00:02')).toBe(true);
    expect(isValidMac('02-42-ac-11-00-02')).toBe(true);
    expect(isValidMac('02:42:ac:11:00')).toBe(false);
    expect(isValidMac('zz:42:ac:11:00:02')).toBe(false);
    expect(normalizeMac(' 02-42-AC-11-00-02 ')).toBe('02:42:ac:11:00:02');
    expect(() => normalizeMac('nope')).toThrow('nope is not a valid mac address');
  });
});

describe('ids', () => {
  it('are drawn again while their short form is all digits (the random source is injected)', () => {
    const draws = [Buffer.alloc(32, 0x11), Buffer.alloc(32, 0x11), Buffer.alloc(32, 0xab)];
    const id = randomId(() => draws.shift()!);
    expect(id).toBe('ab'.repeat(32));
    expect(draws).toHaveLength(0);
  });

  it('are 64 hex characters with a 12-character short form that is never all digits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = randomId(randomBytes);
      expect(isFullId(id)).toBe(true);
      expect(shortId(id)).toHaveLength(12);
      expect(shortId(id)).not.toMatch(/^\d+$/);
      seen.add(id);
    }
    expect(seen.size).toBe(200);
  });
});
