import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  formatIpv4Prefix,
  formatIpv6,
  ipv4BroadcastOf,
  ipv4Bytes,
  ipv4FromBytes,
  ipv4OfIpv6,
  ipv4OfReverseName,
  ipv4PrefixContains,
  ipv6FromBytes,
  isIp,
  isIpv4,
  isIpv6,
  maskOf,
  parseIpv4,
  parseIpv4Prefix,
  reverseNameOfIpv4,
} from '../../src/net/address.js';

describe('IPv4 addresses', () => {
  it('reads dotted quads as uint32 and writes them back', () => {
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(formatIpv4(0x0a010203)).toBe('10.1.2.3');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIpv4(-1)).toBe('255.255.255.255');
  });

  it.each(['010.1.2.3', '1.2.3', '1.2.3.4.5', '256.1.1.1', ' 1.2.3.4', '1.2.3.4 ', '0x10.1.1.1', '1.2.3.4/24', '', '::1', 'a.b.c.d'])(
    'refuses %j',
    (text) => {
      expect(parseIpv4(text)).toBeUndefined();
      expect(isIpv4(text)).toBe(false);
      expect(() => ipv4Bytes(text)).toThrow(TypeError);
    },
  );

  it('converts to and from network-order bytes', () => {
    expect([...ipv4Bytes('172.18.0.3')]).toEqual([172, 18, 0, 3]);
    expect(ipv4FromBytes(Buffer.from([172, 18, 0, 3, 9]))).toBe('172.18.0.3');
  });

  it('names reverse lookups both ways', () => {
    expect(reverseNameOfIpv4('172.18.0.3')).toBe('3.0.18.172.in-addr.arpa');
    expect(ipv4OfReverseName('3.0.18.172.in-addr.arpa')).toBe('172.18.0.3');
    expect(ipv4OfReverseName('3.0.18.172.IN-ADDR.ARPA.')).toBe('172.18.0.3');
    expect(ipv4OfReverseName('03.0.18.172.in-addr.arpa')).toBeUndefined();
    expect(ipv4OfReverseName('0.18.172.in-addr.arpa')).toBeUndefined();
    expect(ipv4OfReverseName('3.0.18.256.in-addr.arpa')).toBeUndefined();
    expect(ipv4OfReverseName('example.com')).toBeUndefined();
  });
});

describe('IPv4 prefixes', () => {
  it('keeps the written address and clears host bits for the network', () => {
    expect(parseIpv4Prefix('10.1.2.3/8')).toEqual({ ip: 0x0a010203, network: 0x0a000000, prefix: 8 });
    expect(parseIpv4Prefix('0.0.0.0/0')).toEqual({ ip: 0, network: 0, prefix: 0 });
    expect(parseIpv4Prefix('10.1.2.3/32')).toEqual({ ip: 0x0a010203, network: 0x0a010203, prefix: 32 });
    expect(formatIpv4Prefix({ network: 0xac120000, prefix: 16 })).toBe('172.18.0.0/16');
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/1a', '10.0.0.0/100', '10.0.0.0/8/9', '010.0.0.0/8', '10.0.0/8'])('refuses %j', (text) => {
    expect(parseIpv4Prefix(text)).toBeUndefined();
  });

  it('computes masks, broadcast and containment', () => {
    expect(maskOf(0)).toBe(0);
    expect(maskOf(24)).toBe(0xffffff00);
    expect(maskOf(32)).toBe(0xffffffff);
    const net = parseIpv4Prefix('192.168.1.0/24')!;
    expect(formatIpv4(ipv4BroadcastOf(net))).toBe('192.168.1.255');
    expect(ipv4PrefixContains(net, parseIpv4('192.168.1.77')!)).toBe(true);
    expect(ipv4PrefixContains(net, parseIpv4('192.168.2.1')!)).toBe(false);
    expect(formatIpv4(ipv4BroadcastOf(parseIpv4Prefix('0.0.0.0/0')!))).toBe('255.255.255.255');
  });
});

describe('IPv6 and either family', () => {
  it('tells the families apart', () => {
    expect(isIpv6('::1')).toBe(true);
    expect(isIpv6('fe80::1')).toBe(true);
    expect(isIpv6('1.2.3.4')).toBe(false);
    expect(isIpv6('::1/128')).toBe(false);
    expect(isIp('1.2.3.4')).toBe(true);
    expect(isIp('2001:db8::1')).toBe(true);
    expect(isIp('2001:db8::g')).toBe(false);
    expect(isIp('localhost')).toBe(false);
  });

  it('formats IPv6 canonically', () => {
    expect(formatIpv6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    const bytes = Buffer.alloc(16);
    bytes[15] = 1;
    expect(ipv6FromBytes(bytes)).toBe('::1');
  });

  it('finds the IPv4 address an IPv6 socket address also binds', () => {
    expect(ipv4OfIpv6('::')).toBe('0.0.0.0');
    expect(ipv4OfIpv6('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(ipv4OfIpv6('::ffff:a00:1')).toBe('10.0.0.1');
    expect(ipv4OfIpv6('::1')).toBeUndefined();
    expect(ipv4OfIpv6('2001:db8::1')).toBeUndefined();
  });
});
