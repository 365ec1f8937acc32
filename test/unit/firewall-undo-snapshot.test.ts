// Pure parts of rollback and reset --verify: the restore text that puts
// plumb's firewall back to a checkpoint, and the snapshot comparison.
import { describe, expect, it } from 'vitest';
import { restorePlumbFirewall } from '../../src/engine/firewall/checkpoint.js';
import { diffSnapshots, normaliseIptables, type HostSnapshot } from '../../src/engine/system/snapshot.js';

const EMPTY = '';
const WITH_PLUMB = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:PLUMB - [0:0]
:PLUMB-FORWARD - [0:0]
-A FORWARD -m comment --comment "plumb: base" -j PLUMB-FORWARD
-A FORWARD -i eth9 -j ACCEPT
-A PLUMB-FORWARD -o plumb0 -m comment --comment "plumb: network bridge" -j PLUMB
COMMIT
`;

describe('restorePlumbFirewall', () => {
  it('undoes everything plumb added to a firewall that had nothing, and leaves foreign rules', () => {
    const text = restorePlumbFirewall(EMPTY, WITH_PLUMB);
    expect(text).toBe(
      [
        '*filter',
        ':FORWARD ACCEPT [0:0]',
        ':PLUMB - [0:0]',
        ':PLUMB-FORWARD - [0:0]',
        '-D FORWARD -m comment --comment "plumb: base" -j PLUMB-FORWARD',
        '-X PLUMB',
        '-X PLUMB-FORWARD',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(text).not.toContain('eth9');
  });

  it('puts back the rules a chain had, and says nothing when nothing changed', () => {
    const later = WITH_PLUMB.replace('COMMIT', '-A PLUMB-FORWARD -o br-1 -m comment --comment "plumb: network n1" -j PLUMB\nCOMMIT');
    const text = restorePlumbFirewall(WITH_PLUMB, later);
    expect(text).toBe(
      ['*filter', ':PLUMB-FORWARD - [0:0]', '-A PLUMB-FORWARD -o plumb0 -m comment --comment "plumb: network bridge" -j PLUMB', 'COMMIT', ''].join('\n'),
    );
    expect(restorePlumbFirewall(WITH_PLUMB, WITH_PLUMB)).toBe('');
  });
});

describe('host snapshots', () => {
  const base: HostSnapshot = {
    taken: '',
    links: ['eth0 veth up mtu 1500', 'lo device up mtu 65536'],
    addresses: ['eth0 203.0.113.1/24'],
    routes: ['default via 203.0.113.2 dev eth0 scope global type 1'],
    iptables: [],
    sysctls: { 'net.ipv4.ip_forward': '0' },
  };

  it('ignores empty default tables and counters when normalising iptables-save', () => {
    expect(normaliseIptables('*raw\n:PREROUTING ACCEPT [5:300]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n')).toEqual([]);
    expect(normaliseIptables(WITH_PLUMB)).toContain('filter :FORWARD DROP');
  });

  it('reports every difference as one line, and none for equal hosts', () => {
    expect(diffSnapshots(base, { ...base })).toEqual([]);
    const after = { ...base, links: [...base.links, 'plumb0 bridge up mtu 1500'], sysctls: { 'net.ipv4.ip_forward': '1' }, addresses: [] };
    expect(diffSnapshots(base, after)).toEqual([
      '+ link plumb0 bridge up mtu 1500',
      '- address eth0 203.0.113.1/24',
      '~ sysctl net.ipv4.ip_forward was 0, is 1',
    ]);
  });
});
