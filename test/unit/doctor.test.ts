// The pure parts of doctor and trace: walking iptables-save text with a
// packet, conntrack output, the first packet of a trace, and FROM/TO parsing.
import { describe, expect, it } from 'vitest';
import { cidrContains, lookupRoute } from '../../src/doctor/addresses.js';
import { parseRuleset, walkChain, type Packet } from '../../src/doctor/netfilter.js';
import { firstPacket } from '../../src/doctor/trace.js';
import { parseTarget } from '../../src/doctor/walk.js';
import { parseConntrack } from '../../src/kernel/conntrack.js';

const SAVE = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:PLUMB - [0:0]
:PLUMB-FORWARD - [0:0]
:PLUMB-ISOLATION-STAGE-1 - [0:0]
:PLUMB-ISOLATION-STAGE-2 - [0:0]
:PLUMB-USER - [0:0]
-A FORWARD -m comment --comment "plumb: base" -j PLUMB-USER
-A FORWARD -m comment --comment "plumb: base" -j PLUMB-ISOLATION-STAGE-1
-A FORWARD -m comment --comment "plumb: base" -j PLUMB-FORWARD
-A PLUMB -d 10.61.0.2/32 ! -i br-a -o br-a -p tcp -m tcp --dport 80 -m comment --comment "plumb: web 8080->80/tcp" -j ACCEPT
-A PLUMB-FORWARD -o br-a -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "plumb: network front" -j ACCEPT
-A PLUMB-FORWARD -o br-a -m comment --comment "plumb: network front" -j PLUMB
-A PLUMB-FORWARD -i br-a ! -o br-a -m comment --comment "plumb: network front" -j ACCEPT
-A PLUMB-FORWARD -i br-a -o br-a -m comment --comment "plumb: network front" -j ACCEPT
-A PLUMB-FORWARD -i br-b ! -o br-b -m comment --comment "plumb: network back" -j ACCEPT
-A PLUMB-ISOLATION-STAGE-1 -i br-a ! -o br-a -m comment --comment "plumb: network front" -j PLUMB-ISOLATION-STAGE-2
-A PLUMB-ISOLATION-STAGE-1 -i br-b ! -o br-b -m comment --comment "plumb: network back" -j PLUMB-ISOLATION-STAGE-2
-A PLUMB-ISOLATION-STAGE-1 -m comment --comment "plumb: base" -j RETURN
-A PLUMB-ISOLATION-STAGE-2 -o br-a -m comment --comment "plumb: network front" -j DROP
-A PLUMB-ISOLATION-STAGE-2 -o br-b -m comment --comment "plumb: network back" -j DROP
-A PLUMB-ISOLATION-STAGE-2 -m comment --comment "plumb: base" -j RETURN
-A PLUMB-USER -m comment --comment "plumb: base" -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:PLUMB - [0:0]
:PLUMB-POSTROUTING - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "plumb: base" -j PLUMB
-A POSTROUTING -m comment --comment "plumb: base" -j PLUMB-POSTROUTING
-A PLUMB -p tcp -m tcp --dport 8080 -m comment --comment "plumb: web 8080->80/tcp" -j DNAT --to-destination 10.61.0.2:80
-A PLUMB-POSTROUTING -s 10.61.0.0/24 ! -o br-a -m comment --comment "plumb: network front" -j MASQUERADE
COMMIT
`;

const base: Packet = { src: '10.61.0.3', dst: '10.61.0.2', proto: 'tcp', sport: 40000, dport: 80, inIf: 'br-a', outIf: 'br-a', ctstate: ['NEW'] };

describe('walkChain', () => {
  const rules = parseRuleset(SAVE);

  it('accepts traffic inside one bridge by the icc rule, after returning from PLUMB-USER, stage 1 and PLUMB', () => {
    const v = walkChain(rules, 'filter', 'FORWARD', base);
    expect(v.verdict).toBe('ACCEPT');
    expect(v.rule).toMatchObject({ chain: 'PLUMB-FORWARD', position: 4, comment: 'plumb: network front' });
    expect(v.met.map((r) => r.chain)).toEqual(['FORWARD', 'PLUMB-USER', 'FORWARD', 'PLUMB-ISOLATION-STAGE-1', 'FORWARD', 'PLUMB-FORWARD', 'PLUMB-FORWARD']);
  });

  it('names the isolation DROP between two bridges', () => {
    const v = walkChain(rules, 'filter', 'FORWARD', { ...base, dst: '10.62.0.2', outIf: 'br-b' });
    expect(v.verdict).toBe('DROP');
    expect(v.rule).toMatchObject({ chain: 'PLUMB-ISOLATION-STAGE-2', position: 2, comment: 'plumb: network back' });
  });

  it('finds the DNAT of a published port and the ACCEPT behind it', () => {
    const p: Packet = { src: '203.0.113.2', dst: '203.0.113.1', proto: 'tcp', sport: 5000, dport: 8080, inIf: 'eth0', ctstate: ['NEW'], dstLocal: true };
    const nat = walkChain(rules, 'nat', 'PREROUTING', p);
    expect(nat).toMatchObject({ verdict: 'DNAT', to: '10.61.0.2:80' });
    expect(walkChain(rules, 'nat', 'PREROUTING', { ...p, dstLocal: false }).verdict).toBe('none');
    const fwd = walkChain(rules, 'filter', 'FORWARD', { ...p, dst: '10.61.0.2', dport: 80, outIf: 'br-a', ctstate: ['NEW', 'DNAT'] });
    expect(fwd).toMatchObject({ verdict: 'ACCEPT', rule: { chain: 'PLUMB', position: 1 } });
  });

  it('lets the policy decide when nothing matches, and says so', () => {
    const v = walkChain(rules, 'filter', 'FORWARD', { ...base, inIf: 'eth0', outIf: 'eth1' });
    expect(v).toMatchObject({ verdict: 'DROP', policyOf: 'FORWARD' });
    expect(v.rule).toBeUndefined();
  });

  it('masquerades egress but not traffic staying on the bridge', () => {
    expect(walkChain(rules, 'nat', 'POSTROUTING', { ...base, dst: '198.51.100.1', outIf: 'eth0' }).verdict).toBe('MASQUERADE');
    expect(walkChain(rules, 'nat', 'POSTROUTING', base).verdict).toBe('none');
  });

  it('treats a match it does not know as matching, and marks the rule uncertain', () => {
    const r = parseRuleset('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m iprange --src-range 10.0.0.1-10.0.0.9 -j DROP\nCOMMIT\n');
    const v = walkChain(r, 'filter', 'FORWARD', base);
    expect(v).toMatchObject({ verdict: 'DROP', rule: { uncertain: true } });
  });

  it('understands negation, port ranges and multiport lists', () => {
    const r = parseRuleset('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ! -s 10.0.0.0/8 -p udp -m multiport --dports 53,5300:5400 -j REJECT\nCOMMIT\n');
    const p: Packet = { src: '192.0.2.1', dst: '10.61.0.1', proto: 'udp', dport: 5311, ctstate: ['NEW'] };
    expect(walkChain(r, 'filter', 'INPUT', p).verdict).toBe('REJECT');
    expect(walkChain(r, 'filter', 'INPUT', { ...p, src: '10.1.1.1' }).verdict).toBe('ACCEPT');
    expect(walkChain(r, 'filter', 'INPUT', { ...p, dport: 80 }).verdict).toBe('ACCEPT');
  });
});

describe('addresses', () => {
  it('contains and routes by the longest prefix', () => {
    expect(cidrContains('10.61.0.0/24', '10.61.0.9')).toBe(true);
    expect(cidrContains('10.61.0.0/24', '10.62.0.9')).toBe(false);
    const routes = [
      { dst: 'default', via: '203.0.113.2', dev: 'eth0', scope: 0, protocol: 3, type: 1, onlink: false },
      { dst: '10.61.0.0/24', dev: 'br-a', scope: 253, protocol: 2, type: 1, onlink: false },
    ] as Parameters<typeof lookupRoute>[0];
    expect(lookupRoute(routes, '10.61.0.7')?.dev).toBe('br-a');
    expect(lookupRoute(routes, '198.51.100.1')?.dev).toBe('eth0');
  });
});

describe('parseConntrack', () => {
  it('reads both directions and the flags', () => {
    const [e] = parseConntrack(
      'udp      17 110 src=203.0.113.2 dst=203.0.113.1 sport=5000 dport=5353 [UNREPLIED] src=203.0.113.1 dst=203.0.113.2 sport=5353 dport=5000 mark=0 use=1\n',
    );
    expect(e).toMatchObject({
      proto: 'udp',
      original: { src: '203.0.113.2', dst: '203.0.113.1', sport: 5000, dport: 5353 },
      reply: { src: '203.0.113.1', dst: '203.0.113.2', sport: 5353, dport: 5000 },
      flags: ['UNREPLIED'],
    });
    const [t] = parseConntrack('tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=10.0.0.3 sport=1 dport=80 src=10.0.0.3 dst=10.0.0.2 sport=80 dport=1 [ASSURED] mark=0 use=1');
    expect(t!.flags).toEqual(['ASSURED', 'ESTABLISHED']);
  });
});

describe('firstPacket', () => {
  it('follows the IP id across hooks, though the trace id changes after routing and is reused by a later packet', () => {
    const ev = (id: string, text: string) => ({ id, text });
    const events = [
      ev('a', 'inet plumb_trace_1 pre packet: iif "br-a" ip saddr 10.0.0.2 ip id 7 ip protocol tcp'),
      ev('a', 'ip nat PREROUTING policy accept'),
      ev('b', 'ip filter FORWARD packet: iif "br-a" oif "br-b" ip saddr 10.0.0.2 ip id 7 ip length 60'),
      ev('b', 'ip filter PLUMB-ISOLATION-STAGE-2 rule oifname "br-b" drop # handle 30 (verdict drop)'),
      ev('a', 'inet plumb_trace_1 pre packet: iif "br-a" ip saddr 10.0.0.2 ip id 8 ip protocol tcp'),
      ev('a', 'ip nat PREROUTING policy accept'),
    ];
    expect(firstPacket(events).map((e) => e.text)).toEqual(events.slice(0, 4).map((e) => e.text));
  });
});

describe('parseTarget', () => {
  it('reads NAME, NAME:PORT and NAME:PORT/udp, and refuses the rest with the fix', () => {
    expect(parseTarget('web')).toEqual({ name: 'web', port: undefined, proto: 'tcp' });
    expect(parseTarget('web:80')).toEqual({ name: 'web', port: 80, proto: 'tcp' });
    expect(parseTarget('10.0.0.2:53/udp')).toEqual({ name: '10.0.0.2', port: 53, proto: 'udp' });
    expect(() => parseTarget('web:0')).toThrow(/invalid port 0/);
    expect(() => parseTarget('web:80/sctp')).toThrow(/use NAME, host or IP, optionally :PORT or :PORT\/udp/);
  });
});
