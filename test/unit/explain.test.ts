import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Op } from '../../src/kernel/ops.js';
import { Journal } from '../../src/kernel/ops.js';
import { ExplainPrinter } from '../../src/explain/printer.js';
import { newRenderState, renderOp, renderScript, scriptHeader, shellQuote } from '../../src/explain/render.js';
import { simulateRestore, simulatesExactly } from '../../src/firewall/simulate.js';
import { whyVethPair } from '../../src/explain/lesson.js';

const one = (op: Op, opts?: Parameters<typeof renderOp>[1]) => renderOp(op, opts).join('\n');

const RULES = [
  '*nat',
  ':PLUMB - [0:0]',
  '-A PLUMB ! -i br-3f2a1b0c9d8e -p tcp -m tcp --dport 8080 -m comment --comment "plumb: web 8080->80/tcp" -j DNAT --to-destination 192.168.0.2:80',
  'COMMIT',
].join('\n');

/** One op of every kind, a small but complete topology. */
const ALL: Op[] = [
  { kind: 'netns.add', ns: 'web', path: '/run/plumb/netns/web', why: 'sandbox web: a private network stack' },
  { kind: 'netns.register', ns: 'web', path: '/run/plumb/netns/web', alias: 'web', dir: '/run/netns' },
  { kind: 'uts.add', ns: 'web', path: '/run/plumb/uts/web', hostname: 'web-host' },
  { kind: 'link.add', ns: null, name: 'br-3f2a', spec: { type: 'bridge', mtu: 1500, address: '02:42:00:00:00:01' } },
  { kind: 'brport.set', ns: null, name: 'vethc0a8002', hairpin: true, learning: false, flood: true, isolated: false },
  {
    kind: 'link.add',
    ns: null,
    name: 'vethc0a8002',
    spec: { type: 'veth', peer: 'eth0', peerNs: 'web', mtu: 1450 },
    why: whyVethPair('vethc0a8002', 'eth0', 'web'),
  },
  { kind: 'link.set', ns: null, name: 'vethc0a8002', master: 'br-3f2a', up: true },
  { kind: 'link.set', ns: 'web', name: 'eth0', address: '02:42:c0:a8:00:02', up: true },
  { kind: 'addr.add', ns: 'web', dev: 'eth0', cidr: '192.168.0.2/16' },
  { kind: 'route.add', ns: 'web', dst: 'default', via: '192.168.0.1' },
  { kind: 'route.replace', ns: null, dst: '10.9.0.0/24', dev: 'br-3f2a', scope: 'link', metric: 10 },
  { kind: 'neigh.replace', ns: 'web', dev: 'eth0', ip: '192.168.0.3', lladdr: '02:42:c0:a8:00:03' },
  { kind: 'fdb.append', ns: 'web', dev: 'vxlan0', mac: '02:42:c0:a8:00:03', dst: '203.0.113.7', self: true },
  { kind: 'sysctl', ns: null, key: 'net.ipv4.ip_forward', value: '1' },
  { kind: 'sysctl', ns: 'web', key: 'net.ipv4.conf.eth0.rp_filter', value: '0' },
  { kind: 'iptables', ns: null, rules: RULES, why: "publish 8080 -> 80: it's DNAT" },
  { kind: 'iptables', ns: 'web', rules: '*filter\nCOMMIT\n' },
  { kind: 'link.add', ns: 'web', name: 'vxlan0', spec: { type: 'vxlan', vni: 256, port: 4789 } },
  { kind: 'link.add', ns: null, name: 'mv0', spec: { type: 'macvlan', parent: 'eth0', mode: 'bridge' } },
  { kind: 'fdb.del', ns: 'web', dev: 'vxlan0', mac: '02:42:c0:a8:00:03', dst: '203.0.113.7', self: true },
  { kind: 'neigh.del', ns: 'web', dev: 'eth0', ip: '192.168.0.3' },
  { kind: 'route.del', ns: 'web', dst: 'default', via: '192.168.0.1' },
  { kind: 'addr.del', ns: 'web', dev: 'eth0', cidr: '192.168.0.2/16' },
  { kind: 'link.set', ns: null, name: 'vethc0a8002', master: null, up: false },
  { kind: 'link.del', ns: null, name: 'vethc0a8002' },
  { kind: 'uts.del', ns: 'web', path: '/run/plumb/uts/web' },
  { kind: 'netns.del', ns: 'web', path: '/run/plumb/netns/web' },
  { kind: 'netns.del', ns: 'web', path: '/run/netns/web' },
];

describe('renderOp: every kind', () => {
  it('namespaces', () => {
    expect(one({ kind: 'netns.add', ns: 'web', path: '/run/plumb/netns/web' })).toBe('ip netns add web');
    expect(one({ kind: 'netns.del', ns: 'web', path: '/run/plumb/netns/web' })).toBe('ip netns del web');
    expect(one({ kind: 'netns.register', ns: 'web', path: '/run/plumb/netns/web', alias: 'web', dir: '/run/netns' })).toBe(
      '# ip netns add already lists web in ip netns list',
    );
    expect(
      renderOp({ kind: 'netns.register', ns: 'web', path: '/run/plumb/netns/web', alias: 'web', dir: '/run/netns' }, { comments: false }),
    ).toEqual([]);
    expect(renderOp({ kind: 'netns.register', ns: 'abc', path: '/run/plumb/netns/abc', alias: 'web', dir: '/tmp/names' })).toEqual([
      'mkdir -p /tmp/names',
      'touch /tmp/names/web',
      'mount --bind /run/netns/abc /tmp/names/web',
    ]);
    expect(renderOp({ kind: 'uts.add', ns: 'web', path: '/run/plumb/uts/web', hostname: 'h1' })).toEqual([
      'mkdir -p /run/plumb/uts',
      'touch /run/plumb/uts/web',
      'unshare --uts=/run/plumb/uts/web hostname h1',
    ]);
    expect(renderOp({ kind: 'uts.del', ns: 'web', path: '/run/plumb/uts/web' }, { utsDir: '/tmp/uts' })).toEqual([
      'umount -l /tmp/uts/web',
      'rm -f /tmp/uts/web',
    ]);
  });

  it('links', () => {
    expect(one({ kind: 'link.add', ns: null, name: 'br0', spec: { type: 'bridge' } })).toBe('ip link add br0 type bridge');
    expect(one({ kind: 'link.add', ns: null, name: 'br0', spec: { type: 'bridge', mtu: 1400, address: '02:42:00:00:00:01' } })).toBe(
      'ip link add br0 address 02:42:00:00:00:01 mtu 1400 type bridge',
    );
    expect(one({ kind: 'link.add', ns: null, name: 'veth1', spec: { type: 'veth', peer: 'eth0', peerNs: 'web' } })).toBe(
      'ip link add veth1 type veth peer name eth0 netns web',
    );
    expect(
      one({ kind: 'link.add', ns: 'h', name: 'veth1', spec: { type: 'veth', peer: 'eth0', peerNs: null, mtu: 1450, peerAddress: '02:00:00:00:00:09' } }),
    ).toBe('ip -n h link add veth1 mtu 1450 type veth peer name eth0 address 02:00:00:00:00:09 mtu 1450');
    // Born plugged in and up: master and up belong to this end, before `type`.
    expect(
      one({ kind: 'link.add', ns: null, name: 'veth1', spec: { type: 'veth', peer: 'eth0', peerNs: 'web', mtu: 1500, master: 'plumb0', up: true, peerAddress: '02:42:ac:11:00:02' } }),
    ).toBe('ip link add veth1 mtu 1500 master plumb0 up type veth peer name eth0 address 02:42:ac:11:00:02 mtu 1500 netns web');
    expect(
      one({
        kind: 'link.add',
        ns: 'ov',
        name: 'vxlan0',
        spec: { type: 'vxlan', vni: 256, port: 4789, local: '10.0.0.1', dev: 'eth0', learning: false, proxy: true, l2miss: true, l3miss: true, mtu: 1450 },
      }),
    ).toBe('ip -n ov link add vxlan0 mtu 1450 type vxlan id 256 dstport 4789 local 10.0.0.1 dev eth0 nolearning proxy l2miss l3miss');
    expect(one({ kind: 'link.add', ns: null, name: 'vx', spec: { type: 'vxlan', vni: 1, port: 4789, learning: true } })).toBe(
      'ip link add vx type vxlan id 1 dstport 4789',
    );
    expect(one({ kind: 'link.add', ns: null, name: 'mv0', spec: { type: 'macvlan', parent: 'eth0', mode: 'bridge', mtu: 1500 } })).toBe(
      'ip link add link eth0 name mv0 mtu 1500 type macvlan mode bridge',
    );
    expect(one({ kind: 'link.del', ns: 'web', name: 'eth0' })).toBe('ip -n web link del eth0');
  });

  it('link.set', () => {
    expect(one({ kind: 'link.set', ns: null, name: 'v', master: 'br0', up: true })).toBe('ip link set v master br0 up');
    expect(one({ kind: 'link.set', ns: null, name: 'v', master: null, up: false })).toBe('ip link set v nomaster down');
    expect(one({ kind: 'link.set', ns: 'web', name: 'eth0', mtu: 1450, address: '02:42:ac:11:00:02', rename: 'eth1' })).toBe(
      'ip -n web link set eth0 mtu 1450 address 02:42:ac:11:00:02 name eth1',
    );
    expect(one({ kind: 'link.set', ns: null, name: 'eth0', netns: 'web', rename: 'eth1', up: true })).toBe(
      'ip link set eth0 name eth1 netns web up',
    );
    expect(one({ kind: 'link.set', ns: 'web', name: 'eth0', netns: null })).toBe('ip -n web link set eth0 netns $$');
    expect(one({ kind: 'link.set', ns: null, name: 'lo', up: true })).toBe('ip link set lo up');
  });

  it('bridge ports and fdb', () => {
    expect(one({ kind: 'brport.set', ns: null, name: 'v', hairpin: true, learning: false, flood: true, isolated: false })).toBe(
      'bridge link set dev v hairpin on learning off flood on isolated off',
    );
    expect(one({ kind: 'brport.set', ns: 'ov', name: 'v', hairpin: false })).toBe('bridge -n ov link set dev v hairpin off');
    const fdb = { ns: 'ov', dev: 'vxlan0', mac: '02:42:0a:00:00:03', dst: '203.0.113.7', self: true } as const;
    expect(one({ kind: 'fdb.append', ...fdb })).toBe('bridge -n ov fdb append 02:42:0a:00:00:03 dev vxlan0 dst 203.0.113.7 self permanent');
    expect(one({ kind: 'fdb.replace', ...fdb })).toBe('bridge -n ov fdb replace 02:42:0a:00:00:03 dev vxlan0 dst 203.0.113.7 self permanent');
    expect(one({ kind: 'fdb.del', ...fdb })).toBe('bridge -n ov fdb del 02:42:0a:00:00:03 dev vxlan0 dst 203.0.113.7 self');
    expect(one({ kind: 'fdb.append', ns: null, dev: 'v', mac: '02:42:0a:00:00:03', self: false })).toBe(
      'bridge fdb append 02:42:0a:00:00:03 dev v master static',
    );
  });

  it('addresses, routes, neighbours', () => {
    expect(one({ kind: 'addr.add', ns: 'web', dev: 'eth0', cidr: '192.168.0.2/16' })).toBe('ip -n web addr add 192.168.0.2/16 dev eth0');
    expect(one({ kind: 'addr.add', ns: null, dev: 'br0', cidr: '172.17.0.1/16', broadcast: '172.17.255.255' })).toBe(
      'ip addr add 172.17.0.1/16 brd 172.17.255.255 dev br0',
    );
    expect(one({ kind: 'addr.del', ns: null, dev: 'br0', cidr: '172.17.0.1/16' })).toBe('ip addr del 172.17.0.1/16 dev br0');
    expect(one({ kind: 'route.add', ns: 'web', dst: 'default', via: '192.168.0.1' })).toBe('ip -n web route add default via 192.168.0.1');
    expect(
      one({ kind: 'route.replace', ns: null, dst: '10.0.0.0/8', via: '10.1.0.1', dev: 'eth0', src: '10.1.0.2', scope: 'link', metric: 5, onlink: true }),
    ).toBe('ip route replace 10.0.0.0/8 via 10.1.0.1 dev eth0 src 10.1.0.2 scope link metric 5 onlink');
    expect(one({ kind: 'route.del', ns: null, dst: '10.0.0.0/8', dev: 'eth0' })).toBe('ip route del 10.0.0.0/8 dev eth0');
    expect(one({ kind: 'neigh.replace', ns: 'ov', dev: 'vxlan0', ip: '10.0.0.3', lladdr: '02:42:0a:00:00:03' })).toBe(
      'ip -n ov neigh replace 10.0.0.3 lladdr 02:42:0a:00:00:03 dev vxlan0 nud permanent',
    );
    expect(one({ kind: 'neigh.del', ns: 'ov', dev: 'vxlan0', ip: '10.0.0.3' })).toBe('ip -n ov neigh del 10.0.0.3 dev vxlan0');
  });

  it('sysctl and iptables', () => {
    expect(one({ kind: 'sysctl', ns: null, key: 'net.ipv4.ip_forward', value: '1' })).toBe('sysctl -w net.ipv4.ip_forward=1');
    expect(one({ kind: 'sysctl', ns: 'web', key: 'net.ipv4.ping_group_range', value: '0 2147483647' })).toBe(
      "nsenter --net=/run/netns/web sysctl -w 'net.ipv4.ping_group_range=0 2147483647'",
    );
    expect(renderOp({ kind: 'iptables', ns: null, rules: RULES + '\n' })).toEqual([
      "iptables-restore --noflush --wait <<'RULES'",
      ...RULES.split('\n'),
      'RULES',
    ]);
    expect(renderOp({ kind: 'iptables', ns: 'web', rules: '*filter\nCOMMIT' })).toEqual([
      "nsenter --net=/run/netns/web iptables-restore --noflush --wait <<'RULES'",
      '*filter',
      'COMMIT',
      'RULES',
    ]);
    // A rules body that contains the delimiter gets another one.
    expect(renderOp({ kind: 'iptables', ns: null, rules: 'RULES\nCOMMIT' })[0]).toBe("iptables-restore --noflush --wait <<'RULES2'");
  });

  it('why comments', () => {
    expect(renderOp({ kind: 'link.del', ns: null, name: 'v', why: 'remove the cable' })).toEqual(['# remove the cable', 'ip link del v']);
    expect(renderOp({ kind: 'link.del', ns: null, name: 'v', why: 'line one\nline two' })).toEqual(['# line one', '# line two', 'ip link del v']);
    expect(renderOp({ kind: 'link.del', ns: null, name: 'v', why: 'hidden' }, { comments: false })).toEqual(['ip link del v']);
  });
});

describe('nsName', () => {
  const nsName = (n: string) => `t1-${n}`;
  const script = renderScript(ALL, { nsName });

  it('renames every namespace reference', () => {
    expect(one({ kind: 'netns.add', ns: 'web', path: '/x/web' }, { nsName })).toBe('ip netns add t1-web');
    expect(one({ kind: 'netns.del', ns: 'web', path: '/x/web' }, { nsName })).toBe('ip netns del t1-web');
    expect(one({ kind: 'link.add', ns: 'a', name: 'v', spec: { type: 'veth', peer: 'eth0', peerNs: 'web' } }, { nsName })).toBe(
      'ip -n t1-a link add v type veth peer name eth0 netns t1-web',
    );
    expect(one({ kind: 'link.set', ns: 'a', name: 'v', netns: 'web' }, { nsName })).toBe('ip -n t1-a link set v netns t1-web');
    expect(one({ kind: 'brport.set', ns: 'a', name: 'v', hairpin: true }, { nsName })).toBe('bridge -n t1-a link set dev v hairpin on');
    expect(one({ kind: 'sysctl', ns: 'a', key: 'k', value: 'v' }, { nsName })).toBe('nsenter --net=/run/netns/t1-a sysctl -w k=v');
    expect(renderOp({ kind: 'uts.add', ns: 'web', path: '/run/plumb/uts/web', hostname: 'web' }, { nsName })[2]).toBe(
      'unshare --uts=/run/plumb/uts/t1-web hostname web',
    );
    expect(renderOp({ kind: 'netns.register', ns: 'abc', path: '/p/abc', alias: 'web', dir: '/d' }, { nsName })[2]).toBe(
      'mount --bind /run/netns/t1-abc /d/t1-web',
    );
  });

  it('leaves no original namespace name in the script', () => {
    expect(script).not.toMatch(/-n web\b/);
    expect(script).not.toMatch(/netns (add |del )?web\b/);
    expect(script).not.toMatch(/\/run\/netns\/web\b/);
    expect(script).toContain('ip -n t1-web addr add 192.168.0.2/16 dev eth0');
    expect(script).toContain('nsenter --net=/run/netns/t1-web iptables-restore --noflush --wait');
    // the hostname is not a namespace name
    expect(script).toContain('hostname web-host');
  });
});

describe('renderScript', () => {
  function shSyntax(text: string): { status: number | null; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-explain-'));
    try {
      const file = join(dir, 'replay.sh');
      writeFileSync(file, text);
      const r = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('is valid sh for every kind', () => {
    const script = renderScript(ALL);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toMatch(/^set -e$/m);
    expect(script.endsWith('\n')).toBe(true);
    expect(shSyntax(script)).toEqual({ status: 0, stderr: '' });
    expect(shSyntax(renderScript(ALL, { comments: false, nsName: (n) => `x${n}` }))).toEqual({ status: 0, stderr: '' });
  });

  it('deletes a namespace once even when plumb removes two of its files', () => {
    const script = renderScript(ALL);
    expect(script.match(/^ip netns del web$/gm)).toHaveLength(1);
  });

  it('removes a registration under another name with umount', () => {
    const ops: Op[] = [
      { kind: 'netns.add', ns: 'abc', path: '/run/plumb/netns/abc' },
      { kind: 'netns.register', ns: 'abc', path: '/run/plumb/netns/abc', alias: 'web', dir: '/tmp/names' },
      { kind: 'netns.del', ns: 'abc', path: '/tmp/names/web' },
      { kind: 'netns.del', ns: 'abc', path: '/run/plumb/netns/abc' },
    ];
    expect(renderScript(ops, { comments: false }).split('\n').slice(5, -1)).toEqual([
      'ip netns add abc',
      'mkdir -p /tmp/names',
      'touch /tmp/names/web',
      'mount --bind /run/netns/abc /tmp/names/web',
      'umount -l /tmp/names/web',
      'rm -f /tmp/names/web',
      'ip netns del abc',
    ]);
  });

  it('quotes odd names and comments so the script stays valid', () => {
    const ops: Op[] = [
      { kind: 'netns.add', ns: "it's web", path: '/run/plumb/netns/x', why: `a "quoted" why with $HOME, \`backticks\` and 'single' quotes\nand a second line` },
      { kind: 'link.add', ns: "it's web", name: 'br;rm -rf', spec: { type: 'bridge' } },
      { kind: 'sysctl', ns: null, key: 'net.ipv4.conf.br;rm.forwarding', value: '1' },
      {
        kind: 'iptables',
        ns: "it's web",
        rules: '*filter\n-A PLUMB -m comment --comment "plumb: a comment with spaces and $VARS" -j RETURN\nCOMMIT',
      },
    ];
    const lines = renderScript(ops).split('\n');
    expect(lines).toContain(`# a "quoted" why with $HOME, \`backticks\` and 'single' quotes`);
    expect(lines).toContain('# and a second line');
    expect(lines).toContain(`ip netns add 'it'\\''s web'`);
    expect(lines).toContain(`ip -n 'it'\\''s web' link add 'br;rm -rf' type bridge`);
    expect(lines).toContain(`sysctl -w 'net.ipv4.conf.br;rm.forwarding=1'`);
    expect(lines).toContain(`nsenter '--net=/run/netns/it'\\''s web' iptables-restore --noflush --wait <<'RULES'`);
    expect(lines).toContain('-A PLUMB -m comment --comment "plumb: a comment with spaces and $VARS" -j RETURN');
    expect(shSyntax(lines.join('\n'))).toEqual({ status: 0, stderr: '' });
  });

  it('shellQuote', () => {
    expect(shellQuote('eth0')).toBe('eth0');
    expect(shellQuote('02:42:ac:11:00:02')).toBe('02:42:ac:11:00:02');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$x')).toBe("'$x'");
    // the shell reads the quoted form back as the original string
    for (const s of ["it's", 'a b', '$HOME `x` "y"', 'new\nline', '*?[]']) {
      const r = spawnSync('sh', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' });
      expect(r.stdout).toBe(s);
    }
  });
});

describe('ExplainPrinter', () => {
  it('prints ops as they are recorded, under headings, a blank line before each explained step', async () => {
    let out = '';
    const journal = new Journal(true).addSink(new ExplainPrinter({ write: (s: string) => (out += s) }));
    await journal.run({ kind: 'netns.add', ns: 'web', path: '/p/web', why: 'sandbox web' }, () => undefined);
    await journal.run({ kind: 'netns.register', ns: 'web', path: '/p/web', alias: 'web', dir: '/run/netns' }, () => undefined);
    await journal.run({ kind: 'link.add', ns: null, name: 'v', spec: { type: 'veth', peer: 'eth0', peerNs: 'web' }, why: 'a cable' }, () => undefined);
    journal.runSync({ kind: 'link.set', ns: null, name: 'v', up: true }, () => undefined);
    journal.runSync({ kind: 'netns.del', ns: 'web', path: '/p/web' }, () => undefined);
    journal.runSync({ kind: 'netns.del', ns: 'web', path: '/run/netns/web' }, () => undefined);
    expect(out).toBe(
      [
        "# ==== sandbox: the container's own network namespace ====",
        '',
        '# sandbox web',
        'ip netns add web',
        '# ip netns add already lists web in ip netns list',
        '',
        '# ==== virtual cable: a veth pair from the sandbox to the network ====',
        '',
        '# a cable',
        'ip link add v type veth peer name eth0 netns web',
        'ip link set v up',
        '',
        "# ==== sandbox: the container's own network namespace ====",
        'ip netns del web',
        '# (web was already removed by ip netns del above)',
        '',
      ].join('\n'),
    );
  });

  it('keeps a section heading for everything recorded inside Journal.section', async () => {
    let out = '';
    const journal = new Journal(true).addSink(new ExplainPrinter({ write: (s: string) => (out += s) }));
    await journal.section('one-time setup', async () => {
      await journal.section('network', async () => journal.runSync({ kind: 'link.add', ns: null, name: 'b', spec: { type: 'bridge' } }, () => undefined));
      journal.runSync({ kind: 'addr.add', ns: null, dev: 'b', cidr: '10.0.0.1/24' }, () => undefined);
    });
    journal.runSync({ kind: 'addr.add', ns: null, dev: 'b', cidr: '10.0.0.2/24' }, () => undefined);
    expect(out.split('\n').filter((l) => l.startsWith('# ===='))).toEqual(['# ==== one-time setup ====', '# ==== address: the IP the container is known by ====']);
  });

  it('--explain shows a random value as an assignment under the heading of the step that uses it', () => {
    let out = '';
    const journal = new Journal(true).addSink(new ExplainPrinter({ write: (s: string) => (out += s) }));
    journal.runSync({ kind: 'netns.add', ns: 'web', path: '/p/web', why: 'sandbox web' }, () => undefined);
    journal.declare('VETH', 'veth1234567', 'the host end');
    journal.runSync({ kind: 'link.add', ns: null, name: 'veth1234567', spec: { type: 'veth', peer: 'eth0', peerNs: 'web' }, why: 'a cable' }, () => undefined);
    expect(out.split('\n').slice(4)).toEqual([
      '',
      '# ==== virtual cable: a veth pair from the sandbox to the network ====',
      'VETH=veth1234567  # the host end',
      '',
      '# a cable',
      'ip link add veth1234567 type veth peer name eth0 netns web',
      '',
    ]);
  });

  it('brief: the commands alone, without comments, headings or the rules\' own comments; the one-time setup folded', () => {
    let out = '';
    const p = new ExplainPrinter({ write: (s: string) => (out += s) }, { style: 'brief' });
    p.record({ kind: 'netns.add', ns: 'web', path: '/p/web', why: 'sandbox web' });
    p.record({ kind: 'iptables', ns: null, rules: '*nat\n# why\n-A X -j Y\nCOMMIT\n', why: 'rules' });
    p.declare({ name: 'VETH', value: 'veth1234567', why: 'random' });
    p.record({ kind: 'link.del', ns: null, name: 'veth1234567', why: 'unplug' });
    p.record({ kind: 'link.add', ns: null, name: 'b', spec: { type: 'bridge' }, section: 'one-time setup: the default bridge' });
    p.record({ kind: 'link.set', ns: null, name: 'b', up: true, section: 'one-time setup: the default bridge' });
    expect(out).toBe(
      [
        'ip netns add web',
        "iptables-restore --noflush --wait <<'RULES'",
        '*nat',
        '-A X -j Y',
        'COMMIT',
        'RULES',
        'VETH=veth1234567',
        'ip link del veth1234567',
        '# one-time setup: the default bridge (folded: --explain shows each step)',
        '',
      ].join('\n'),
    );
  });

  it('a dry-run script comes whole at finish: random values declared on top and used as variables, output as comments', () => {
    let out = '';
    const journal = new Journal(true);
    const p = new ExplainPrinter({ write: (s: string) => (out += s) }, { header: true });
    journal.addSink(p);
    journal.declare('CONTAINER_ID', 'ab'.repeat(32), 'the ID');
    journal.declare('SHORT_ID', 'ab'.repeat(6), 'its prefix');
    journal.declare('VETH', 'veth1234567', 'the host end');
    journal.declare('UNUSED', 'zzzzzz', 'never used');
    journal.runSync({ kind: 'link.add', ns: null, name: 'veth1234567', spec: { type: 'veth', peer: 'eth0', peerNs: 'web' } }, () => undefined);
    journal.runSync({ kind: 'file.write', path: `/r/${'ab'.repeat(32)}/hostname`, content: `${'ab'.repeat(6)}\n` }, () => undefined);
    journal.runSync({ kind: 'iptables', ns: null, rules: '*filter\n-A PLUMB -i veth1234567 -m comment --comment "plumb: $x" -j ACCEPT\nCOMMIT\n' }, () => undefined);
    expect(out).toBe('');
    p.finish(['ab'.repeat(32)]);
    const lines = out.split('\n');
    expect(lines.slice(0, 4)).toEqual(scriptHeader());
    expect(lines.filter((l) => /^[A-Z_]+=/.test(l))).toEqual([
      `CONTAINER_ID=${'ab'.repeat(32)}  # the ID`,
      `SHORT_ID=${'ab'.repeat(6)}  # its prefix`,
      'VETH=veth1234567  # the host end',
    ]);
    expect(out).toContain('ip link add ${VETH} type veth peer name eth0 netns web');
    expect(out).toContain("cat > /r/${CONTAINER_ID}/hostname <<EOF\n${SHORT_ID}\nEOF");
    // an unquoted heredoc: the variable expands, what was literal stays literal
    expect(out).toContain('iptables-restore --noflush --wait <<RULES\n*filter\n-A PLUMB -i ${VETH} -m comment --comment "plumb: \\$x" -j ACCEPT');
    expect(lines.at(-2)).toBe('# ${CONTAINER_ID}');
    // sh runs it as far as the first command (no root here): the syntax holds
    const r = spawnSync('sh', ['-n', '-e'], { input: out, encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  it('shares state with renderOp through RenderOptions.state', () => {
    const state = newRenderState();
    expect(renderOp({ kind: 'netns.del', ns: 'a', path: '/x' }, { state })).toEqual(['ip netns del a']);
    expect(renderOp({ kind: 'netns.del', ns: 'a', path: '/y' }, { state, comments: false })).toEqual([]);
  });
});

describe('what is not kernel state, rendered', () => {
  it('writes a sandbox file whole with cat and a quoted heredoc, which sh reproduces byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumb-file-'));
    try {
      const content = '127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab\n$HOME `x`\n';
      const lines = renderOp({ kind: 'file.write', path: join(dir, 'c', 'hosts'), content, why: 'one-way' });
      expect(lines[0]).toBe('# one-way');
      const r = spawnSync('sh', ['-e'], { input: lines.join('\n') + '\n', encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(readFileSync(join(dir, 'c', 'hosts'), 'utf8')).toBe(content);
      expect(renderOp({ kind: 'file.remove', path: join(dir, 'c') }, { comments: false })).toEqual([`rm -rf ${join(dir, 'c')}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes an ip netns name registered in another directory before the namespace', () => {
    expect(renderOp({ kind: 'netns.unregister', ns: 'web', alias: 'web', dir: '/r/names' }, { comments: false })).toEqual([
      'umount -l /r/names/web',
      'rm -f /r/names/web',
    ]);
    expect(renderOp({ kind: 'netns.unregister', ns: 'web', alias: 'web', dir: '/run/netns' }, { comments: false })).toEqual([]);
  });

  it('narrates a note as comments only', () => {
    expect(renderOp({ kind: 'note', text: 'A=1\nB=2', why: 'env' })).toEqual(['# env', '# A=1', '# B=2']);
    expect(renderOp({ kind: 'note', text: 'A=1' }, { comments: false })).toEqual([]);
  });
});

describe('simulateRestore', () => {
  it('applies declarations, appends, numbered inserts and deletes like iptables-restore --noflush', () => {
    const save = ['*filter', ':FORWARD ACCEPT [0:0]', ':X - [0:0]', '-A FORWARD -j X', '-A X -j RETURN', 'COMMIT', ''].join('\n');
    const restore = ['*filter', ':Y - [0:0]', '-A Y -j RETURN', '-I FORWARD 1 -j Y', '-D X -j RETURN', '-I X 1 -s 10.0.0.0/8 -j ACCEPT', 'COMMIT', ''].join('\n');
    expect(simulateRestore(save, restore)).toBe(
      ['*filter', ':FORWARD ACCEPT [0:0]', ':X - [0:0]', ':Y - [0:0]', '-A FORWARD -j Y', '-A FORWARD -j X', '-A X -s 10.0.0.0/8 -j ACCEPT', '-A Y -j RETURN', 'COMMIT', ''].join('\n'),
    );
  });

  it('keeps the saved text of rules it does not touch, and deletes a rule however it is quoted', () => {
    const save = ['*nat', ':PLUMB - [0:0]', '-A PLUMB -m comment --comment "plumb: a b" -j RETURN', '-A PLUMB -m comment --comment plumb:c -j RETURN', 'COMMIT', ''].join('\n');
    const restore = ['*nat', '-D PLUMB -m comment --comment "plumb:c" -j RETURN', 'COMMIT', ''].join('\n');
    expect(simulateRestore(save, restore)).toBe(['*nat', ':PLUMB - [0:0]', '-A PLUMB -m comment --comment "plumb: a b" -j RETURN', 'COMMIT', ''].join('\n'));
  });

  it('says which restore texts it follows line by line', () => {
    expect(simulatesExactly('*filter\n# why\n:X - [0:0]\n:FORWARD DROP [0:0]\n-A X -j RETURN\n-I X 2 -j ACCEPT\n-D X -j RETURN\nCOMMIT\n')).toBe(true);
    expect(simulatesExactly('*filter\n-X X\nCOMMIT\n')).toBe(false);
    expect(simulatesExactly('*filter\n-F X\nCOMMIT\n')).toBe(false);
  });
});
