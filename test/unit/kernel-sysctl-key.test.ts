import { describe, expect, it } from 'vitest';
import { ifaceSysctlKey, sysctlPath, sysctlRelPath } from '../../src/kernel/sysctl.js';
import { failingLine } from '../../src/kernel/iptables.js';
import { linkNames } from '../../src/kernel/probe.js';

describe('sysctl key -> /proc/sys path', () => {
  it('turns dots into slashes', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('/proc/sys/net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.plumb0.route_localnet')).toBe('/proc/sys/net/ipv4/conf/plumb0/route_localnet');
  });

  it('reads a slash in dotted form as a dot inside one segment (interface names with dots)', () => {
    expect(sysctlPath('net.ipv4.conf.eth0/100.forwarding')).toBe('/proc/sys/net/ipv4/conf/eth0.100/forwarding');
    expect(sysctlRelPath('net.ipv6.conf.br-x/y/z.disable_ipv6')).toBe('net/ipv6/conf/br-x.y.z/disable_ipv6');
  });

  it('takes slash form literally', () => {
    expect(sysctlPath('net/ipv4/conf/eth0.100/forwarding')).toBe('/proc/sys/net/ipv4/conf/eth0.100/forwarding');
    expect(sysctlPath('kernel')).toBe('/proc/sys/kernel');
  });

  it('rejects keys that could leave /proc/sys or are malformed', () => {
    for (const bad of ['', '.net', 'net..ipv4', 'net/../../etc/passwd', 'net.ipv4.', '/net/ipv4', 'net/./ipv4']) {
      expect(() => sysctlPath(bad), bad).toThrow(/invalid sysctl key/);
    }
  });

  it('builds per-interface keys that survive the conversion', () => {
    expect(ifaceSysctlKey('ipv4', 'eth0.100', 'forwarding')).toBe('net.ipv4.conf.eth0/100.forwarding');
    expect(sysctlPath(ifaceSysctlKey('ipv4', 'eth0.100', 'forwarding'))).toBe('/proc/sys/net/ipv4/conf/eth0.100/forwarding');
    expect(sysctlPath(ifaceSysctlKey('ipv6', 'plumb0', 'proxy_ndp', 'conf'))).toBe('/proc/sys/net/ipv6/conf/plumb0/proxy_ndp');
    expect(sysctlPath(ifaceSysctlKey('ipv4', 'veth1', 'gc_stale_time', 'neigh'))).toBe('/proc/sys/net/ipv4/neigh/veth1/gc_stale_time');
  });
});

describe('small parsers', () => {
  it('finds the line iptables-restore blames', () => {
    expect(failingLine('iptables-restore v1.8.9 (nf_tables)iptables-restore: line 2 failed: No chain/target/match by that name.')).toBe(2);
    expect(failingLine('iptables-restore: line 7 failed')).toBe(7);
    expect(failingLine('Error occurred at line: 4')).toBe(4);
    expect(failingLine('something else')).toBeUndefined();
  });

  it('reads link names from ip -o link show', () => {
    const out = [
      '1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '2: plbprobe-vb@plbprobe-va: <BROADCAST,MULTICAST,M-DOWN> mtu 1500',
      '5: plbprobe-mv@plbprobe-va: <BROADCAST> mtu 1500',
    ].join('\n');
    expect([...linkNames(out)]).toEqual(['lo', 'plbprobe-vb', 'plbprobe-mv']);
  });
});
