// Golden-file tests of the firewall renderer: one .rules file per option
// combination under golden/firewall/. Run with UPDATE_GOLDEN=1 to rewrite them
// after an intended change, then review the diff like any other code.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectGolden } from '../helpers/golden.js';
import {
  buildRules,
  explainRulesOwnedBy,
  formatArgs,
  missingJumps,
  parseIptablesSave,
  removeAll,
  renderRuleset,
  rulesOwnedBy,
  tokenize,
  updateText,
  withoutComment,
  type FirewallNetwork,
  type FirewallPort,
  type FirewallState,
} from '../../src/firewall/index.js';
import { bindingRuns, containerPortSpans, runLabel } from '../../src/firewall/port-runs.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'firewall');
function golden(name: string, actual: string): void {
  expectGolden(join(GOLDEN_DIR, `${name}.rules`), actual);
}

function net(over: Partial<FirewallNetwork> & Pick<FirewallNetwork, 'name' | 'bridge' | 'subnet'>): FirewallNetwork {
  return { id: `${over.name}-id`, icc: true, masquerade: true, internal: false, hostBindingIpv4: '0.0.0.0', ...over };
}

const DEFAULT_BRIDGE = net({ name: 'bridge', bridge: 'plumb0', subnet: '172.17.0.0/16' });
const MYNET = net({ name: 'mynet', bridge: 'br-3f2a1b0c9d8e', subnet: '172.18.0.0/16' });

function state(networks: FirewallNetwork[], extra: Partial<FirewallState> = {}): FirewallState {
  return { networks, ports: [], links: [], ...extra };
}

/** `count` bindings host..host+count-1 -> container..container+count-1, as `-p` with ranges asks. */
function publish(container: string, ip: string, proto: 'tcp' | 'udp', hostIp: string, host: number, cport: number, count: number): FirewallPort[] {
  return Array.from({ length: count }, (_, i) => ({
    container,
    bridge: 'plumb0',
    proto,
    hostIp,
    hostPort: host + i,
    containerIp: ip,
    containerPort: cport + i,
  }));
}

describe('renderRuleset golden files', () => {
  it('empty state still declares (and so flushes) every managed chain', () => {
    golden('empty', renderRuleset(state([])));
  });

  it('default bridge only', () => {
    golden('default-bridge', renderRuleset(state([DEFAULT_BRIDGE])));
  });

  for (const icc of [true, false]) {
    for (const masquerade of [true, false]) {
      const name = `user-icc-${icc ? 'on' : 'off'}-masq-${masquerade ? 'on' : 'off'}`;
      it(`user network ${name}`, () => {
        golden(name, renderRuleset(state([{ ...MYNET, icc, masquerade }])));
      });
    }
  }

  it('internal network (icc on and icc off)', () => {
    const internal = net({ name: 'backend', bridge: 'br-0123456789ab', subnet: '10.30.0.0/24', internal: true });
    golden('internal', renderRuleset(state([DEFAULT_BRIDGE, internal])));
    golden('internal-icc-off', renderRuleset(state([{ ...internal, icc: false }])));
  });

  it('two networks are isolated from each other', () => {
    golden('two-networks', renderRuleset(state([DEFAULT_BRIDGE, MYNET])));
  });

  it('published ports: tcp, udp, 127.0.0.1, a specific host IP, a shared container port', () => {
    golden(
      'published-ports',
      renderRuleset(
        state([DEFAULT_BRIDGE, MYNET], {
          ports: [
            { container: 'web', bridge: 'br-3f2a1b0c9d8e', proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80 },
            { container: 'dns', bridge: 'plumb0', proto: 'udp', hostIp: '', hostPort: 8082, containerIp: '172.17.0.2', containerPort: 53 },
            { container: 'local', bridge: 'plumb0', proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8081, containerIp: '172.17.0.3', containerPort: 80 },
            { container: 'p6', bridge: 'plumb0', proto: 'tcp', hostIp: '10.254.0.1', hostPort: 8085, containerIp: '172.17.0.4', containerPort: 80 },
            { container: 'p6', bridge: 'plumb0', proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8083, containerIp: '172.17.0.4', containerPort: 80 },
          ],
        }),
      ),
    );
  });

  it('host_binding_ipv4 applies to ports published without a host IP', () => {
    const bound = { ...MYNET, hostBindingIpv4: '192.0.2.10' };
    golden(
      'host-binding-ipv4',
      renderRuleset(
        state([bound], {
          ports: [{ container: 'web', bridge: bound.bridge, proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80 }],
        }),
      ),
    );
  });

  it('port ranges: one rule per run of consecutive ports, a lone port keeps Docker\'s rule', () => {
    golden(
      'published-port-ranges',
      renderRuleset(
        state([DEFAULT_BRIDGE], {
          ports: [
            ...publish('many', '172.17.0.2', 'tcp', '', 20000, 20000, 200),
            ...publish('shift', '172.17.0.3', 'tcp', '127.0.0.1', 8080, 80, 10),
            ...publish('shift', '172.17.0.3', 'udp', '', 5353, 53, 1),
            ...publish('shift', '172.17.0.3', 'tcp', '', 9000, 80, 2),
            ...publish('mixed', '172.17.0.4', 'tcp', '', 80, 80, 1),
            ...publish('mixed', '172.17.0.4', 'tcp', '', 443, 443, 1),
            ...publish('mixed', '172.17.0.4', 'tcp', '', 444, 444, 1),
          ],
        }),
      ),
    );
  });

  it('legacy link under icc=false opens the exposed ports both ways', () => {
    golden(
      'link-icc-off',
      renderRuleset(
        state([{ ...DEFAULT_BRIDGE, icc: false }], {
          links: [
            {
              from: 'web1',
              to: 'db1',
              bridge: 'plumb0',
              fromIp: '172.17.0.3',
              toIp: '172.17.0.2',
              ports: [
                { proto: 'tcp', port: 5432 },
                { proto: 'udp', port: 53 },
              ],
            },
          ],
        }),
      ),
    );
  });
});

describe('rule semantics', () => {
  const text = (s: FirewallState) => renderRuleset(s);

  it('every rule carries a plumb comment placed before the target', () => {
    const s = state([DEFAULT_BRIDGE, MYNET], {
      ports: [{ container: 'web', bridge: 'plumb0', proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 }],
    });
    for (const line of text(s).split('\n').filter((l) => l.startsWith('-A '))) {
      expect(line).toMatch(/-m comment --comment "plumb: [^"]+" -j \S+/);
    }
  });

  it('links add nothing when icc is on (as dockerd)', () => {
    const s = state([DEFAULT_BRIDGE], {
      links: [{ from: 'a', to: 'b', bridge: 'plumb0', fromIp: '172.17.0.3', toIp: '172.17.0.2', ports: [{ proto: 'tcp', port: 80 }] }],
    });
    expect(text(s)).toBe(text(state([DEFAULT_BRIDGE])));
  });

  it('ports on an --internal network are not published', () => {
    const internal = net({ name: 'i', bridge: 'br-i', subnet: '10.1.0.0/24', internal: true });
    const s = state([internal], {
      ports: [{ container: 'web', bridge: 'br-i', proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 }],
    });
    expect(text(s)).not.toContain('DNAT');
  });

  it('normalises a subnet written with host bits', () => {
    expect(text(state([{ ...MYNET, subnet: '172.18.5.4/16' }]))).toContain('-s 172.18.0.0/16 ! -o br-3f2a1b0c9d8e');
  });

  it('quotes comments like iptables-save (escaping quotes)', () => {
    const s = state([net({ name: `we"ird'name`, bridge: 'br-x', subnet: '10.2.0.0/24' })]);
    expect(text(s)).toContain(`--comment "plumb: network we\\"ird\\'name"`);
  });

  it('gives every rule a reason', () => {
    const s = state([DEFAULT_BRIDGE, { ...MYNET, icc: false }], {
      ports: [{ container: 'web', bridge: 'plumb0', proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 }],
    });
    for (const r of buildRules(s)) expect(r.why.length).toBeGreaterThan(10);
  });

  it('is deterministic', () => {
    const s = state([DEFAULT_BRIDGE, MYNET]);
    expect(text(s)).toBe(text(s));
  });
});

describe('rulesOwnedBy', () => {
  const s = state([DEFAULT_BRIDGE, { ...MYNET, icc: false }], {
    ports: [{ container: 'web', bridge: 'br-3f2a1b0c9d8e', proto: 'tcp', hostIp: '', hostPort: 8080, containerIp: '172.18.0.2', containerPort: 80 }],
    links: [{ from: 'app', to: 'db', bridge: 'br-3f2a1b0c9d8e', fromIp: '172.18.0.3', toIp: '172.18.0.4', ports: [{ proto: 'tcp', port: 5432 }] }],
  });

  it("lists a container's published-port rules as replayable commands", () => {
    const rules = rulesOwnedBy(s, 'web');
    expect(rules).toContain(
      'iptables -t nat -A PLUMB -p tcp -m tcp --dport 8080 -m comment --comment "plumb: web 8080->80/tcp" -j DNAT --to-destination 172.18.0.2:80',
    );
    expect(rules).toContain(
      'iptables -t filter -A PLUMB -d 172.18.0.2/32 ! -i br-3f2a1b0c9d8e -o br-3f2a1b0c9d8e -p tcp -m tcp --dport 80 -m comment --comment "plumb: web 8080->80/tcp" -j ACCEPT',
    );
    expect(rules.every((r) => r.includes('plumb: web '))).toBe(true);
  });

  it("lists a network's rules and not another network's", () => {
    const rules = rulesOwnedBy(s, { kind: 'network', name: 'mynet' });
    expect(rules.length).toBeGreaterThan(5);
    expect(rules.every((r) => r.includes('br-3f2a1b0c9d8e'))).toBe(true);
    expect(rulesOwnedBy(s, 'network bridge').every((r) => r.includes('plumb0'))).toBe(true);
  });

  it('link rules belong to both linked containers', () => {
    expect(rulesOwnedBy(s, 'app')).toHaveLength(2);
    expect(rulesOwnedBy(s, 'container db')).toHaveLength(2);
  });

  it('explains each rule', () => {
    const explained = explainRulesOwnedBy(s, 'web');
    expect(explained.find((e) => e.command.includes('-j DNAT'))!.why).toMatch(/destination rewritten/);
  });
});

// Docker 20.10 layout, as recorded in the reference, plus unrelated rules that must survive.
const DOCKER_SAVE = `# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
`;

/** What iptables-save prints once plumb's jumps and chains are in place (round-tripped through the kernel). */
const PLUMB_JUMPS_SAVE = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:PLUMB-PREROUTING - [0:0]
-A PREROUTING -m comment --comment "plumb: base" -j PLUMB-PREROUTING
COMMIT
*filter
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
-A FORWARD -i eth0 -j ACCEPT
-A PLUMB-ISOLATION-STAGE-1 -m comment --comment "plumb: base" -j RETURN
-A PLUMB-ISOLATION-STAGE-2 -m comment --comment "plumb: base" -j RETURN
-A PLUMB-USER -m comment --comment "plumb: base" -j RETURN
-A PLUMB-USER -s 198.51.100.0/24 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:PLUMB - [0:0]
:PLUMB-POSTROUTING - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "plumb: base" -j PLUMB
-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "plumb: base" -j PLUMB
-A POSTROUTING -m comment --comment "plumb: base" -j PLUMB-POSTROUTING
COMMIT
`;

describe('missingJumps', () => {
  it('on empty tables: creates PLUMB-USER and every jump, in order', () => {
    golden('missing-jumps-empty', missingJumps(''));
  });

  it('returns nothing when every jump is present', () => {
    expect(missingJumps(PLUMB_JUMPS_SAVE)).toBe('');
  });

  it('moves a jump that is out of order back (PLUMB-USER below PLUMB-FORWARD would let packets bypass it)', () => {
    const user = '-A FORWARD -m comment --comment "plumb: base" -j PLUMB-USER\n';
    const moved = PLUMB_JUMPS_SAVE.replace(user, '').replace('-A FORWARD -i eth0 -j ACCEPT\n', `-A FORWARD -i eth0 -j ACCEPT\n${user}`);
    const filter = missingJumps(moved).split('*nat')[0]!;
    const lines = filter.split('\n').filter((l) => /^-[DAI] /.test(l));
    // Delete what is out of place and insert it again where the order wants it; nothing else.
    expect(lines.filter((l) => l.startsWith('-D '))).toHaveLength(lines.length / 2);
    const after = applyJumpLines(moved, lines);
    expect(after.slice(0, 3)).toEqual(['PLUMB-USER', 'PLUMB-ISOLATION-STAGE-1', 'PLUMB-FORWARD']);
    expect(after).toContain('ACCEPT');
  });

  it('does not count a Docker jump as ours (OUTPUT has Docker\'s 127.0.0.0/8 exclusion)', () => {
    golden('missing-jumps-docker-present', missingJumps(DOCKER_SAVE));
  });

  it('inserts only what is missing, right after the jump before it', () => {
    const partial = `*filter
:FORWARD DROP [0:0]
:PLUMB-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -m comment --comment "plumb: base" -j PLUMB-ISOLATION-STAGE-1
-A FORWARD -o docker0 -j DOCKER
-A PLUMB-USER -j RETURN
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j PLUMB
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
COMMIT
`;
    expect(missingJumps(partial)).toBe(`*filter
-I FORWARD 1 -m comment --comment "plumb: base" -j PLUMB-USER
-I FORWARD 4 -m comment --comment "plumb: base" -j PLUMB-FORWARD
COMMIT
*nat
-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "plumb: base" -j PLUMB
-I POSTROUTING 1 -m comment --comment "plumb: base" -j PLUMB-POSTROUTING
COMMIT
*raw
-I PREROUTING 1 -m comment --comment "plumb: base" -j PLUMB-PREROUTING
COMMIT
`);
  });
});

describe('removeAll', () => {
  it('removes plumb chains and jumps, keeps Docker\'s and other rules', () => {
    const mixed = DOCKER_SAVE + PLUMB_JUMPS_SAVE;
    const text = removeAll(mixed);
    golden('remove-all', text);
    expect(text).not.toMatch(/DOCKER/);
    expect(text).not.toContain('eth0');
  });

  it('returns nothing when plumb left nothing behind', () => {
    expect(removeAll(DOCKER_SAVE)).toBe('');
    expect(removeAll('')).toBe('');
  });
});

describe('iptables-save parsing', () => {
  it('tokenises quotes and escapes like iptables-restore', () => {
    expect(tokenize(`-A X -m comment --comment "plumb: a \\"b\\" c\\'d" -j ACCEPT`)).toEqual([
      '-A', 'X', '-m', 'comment', '--comment', `plumb: a "b" c'd`, '-j', 'ACCEPT',
    ]);
  });

  it('reads chains and rules per table', () => {
    const t = parseIptablesSave(DOCKER_SAVE);
    expect([...t.keys()]).toEqual(['filter', 'nat']);
    expect(t.get('filter')!.chains.get('FORWARD')).toBe('DROP');
    expect(t.get('filter')!.rules.get('FORWARD')).toHaveLength(6);
    expect(t.get('nat')!.rules.get('OUTPUT')![0]).toEqual(['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER']);
  });

  it('compares rules without their comment', () => {
    expect(withoutComment(['-m', 'comment', '--comment', 'x y', '-j', 'A'])).toEqual(['-j', 'A']);
  });

  it('what renderRuleset writes parses back to the same rules', () => {
    const s = state([DEFAULT_BRIDGE, MYNET]);
    const parsed = parseIptablesSave(renderRuleset(s));
    const count = [...parsed.values()].reduce((n, t) => n + [...t.rules.values()].reduce((m, r) => m + r.length, 0), 0);
    expect(count).toBe(buildRules(s).length);
  });
});

describe('port runs', () => {
  const eff = (ports: FirewallPort[]) => ports.map((p) => ({ p, hostIp: p.hostIp || '0.0.0.0' }));

  it('folds bindings whose host and container ports both step by one', () => {
    const runs = bindingRuns(eff([...publish('a', '172.17.0.2', 'tcp', '', 8080, 80, 3), ...publish('a', '172.17.0.2', 'tcp', '', 8083, 90, 1)]));
    expect(runs.map(runLabel)).toEqual(['8080-8082->80-82/tcp', '8083->90/tcp']);
  });

  it('keeps protocols, host addresses and containers apart, in order of first binding', () => {
    const runs = bindingRuns(
      eff([
        ...publish('a', '172.17.0.2', 'tcp', '', 8080, 80, 1),
        ...publish('a', '172.17.0.2', 'udp', '', 8081, 81, 1),
        ...publish('a', '172.17.0.2', 'tcp', '127.0.0.1', 8081, 81, 1),
        ...publish('b', '172.17.0.3', 'tcp', '', 8081, 81, 1),
        ...publish('a', '172.17.0.2', 'tcp', '', 8081, 81, 1),
      ]),
    );
    expect(runs.map((r) => `${r.container} ${runLabel(r)}`)).toEqual([
      'a 8080-8081->80-81/tcp',
      'a 8081->81/udp',
      'a 127.0.0.1:8081->81/tcp',
      'b 8081->81/tcp',
    ]);
  });

  it('gives a container port that two bindings share one span naming both', () => {
    const spans = containerPortSpans(
      bindingRuns(eff([...publish('a', '172.17.0.2', 'tcp', '', 8080, 80, 1), ...publish('a', '172.17.0.2', 'tcp', '', 9090, 80, 2)])),
    );
    expect(spans.map((s) => [s.first, s.last, s.labels.join(', ')])).toEqual([[80, 81, '8080->80/tcp, 9090-9091->80-81/tcp']]);
  });

  it('200 consecutive ports make 5 rules, not 1000', () => {
    const rules = buildRules(state([DEFAULT_BRIDGE], { ports: publish('many', '172.17.0.2', 'tcp', '', 20000, 20000, 200) }));
    expect(rules.filter((r) => r.refs.some((x) => x.name === 'many'))).toHaveLength(5);
  });

  it('every why stands on its own (none continues the sentence of the rule above)', () => {
    const s = state([DEFAULT_BRIDGE, { ...MYNET, icc: false }], {
      ports: publish('web', '172.18.0.2', 'tcp', '', 8080, 80, 3),
      links: [{ from: 'app', to: 'db', bridge: MYNET.bridge, fromIp: '172.18.0.3', toIp: '172.18.0.4', ports: [{ proto: 'tcp', port: 5432 }] }],
    });
    for (const r of buildRules(s)) expect(r.why).not.toMatch(/^(and|then|so|but)\b/i);
  });
});

const BUILT_IN: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

/**
 * What iptables-restore --noflush does with update text, for the lines
 * updateText writes (declare, -A, -I n, -D rule), applied to a parsed dump.
 */
function applyRestore(saveText: string, restore: string): Map<string, Map<string, string[]>> {
  const tables = new Map<string, Map<string, string[]>>();
  for (const [name, t] of parseIptablesSave(saveText)) {
    const chains = new Map<string, string[]>();
    for (const chain of t.chains.keys()) chains.set(chain, (t.rules.get(chain) ?? []).map((r) => formatArgs(r)));
    tables.set(name, chains);
  }
  let table: Map<string, string[]> | undefined;
  for (const line of restore.split('\n')) {
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      if (!tables.has(line.slice(1))) tables.set(line.slice(1), new Map(BUILT_IN[line.slice(1)]!.map((c) => [c, []])));
      table = tables.get(line.slice(1))!;
      continue;
    }
    if (line.startsWith(':')) {
      table!.set(line.slice(1).split(' ')[0]!, []);
      continue;
    }
    const [op, chain, ...rest] = tokenize(line);
    const rules = table!.get(chain!);
    if (!rules) throw new Error(`no chain ${chain}: ${line}`);
    if (op === '-A') rules.push(formatArgs(rest));
    else if (op === '-I') {
      const at = Number(rest[0]);
      if (!(at >= 1 && at <= rules.length + 1)) throw new Error(`bad position: ${line}`);
      rules.splice(at - 1, 0, formatArgs(rest.slice(1)));
    } else if (op === '-D') {
      const i = rules.indexOf(formatArgs(rest));
      if (i < 0) throw new Error(`no such rule: ${line}`);
      rules.splice(i, 1);
    } else throw new Error(`unexpected line: ${line}`);
  }
  return tables;
}

/** The dump iptables-save would print after applying `restore` on top of `saveText`. */
function dumpAfter(saveText: string, restore: string): string {
  let out = '';
  for (const [name, chains] of applyRestore(saveText, restore)) {
    out += `*${name}\n`;
    for (const chain of chains.keys()) out += `:${chain} - [0:0]\n`;
    for (const [chain, rules] of chains) for (const r of rules) out += `-A ${chain} ${r}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

/** Plumb's managed chains of a dump, rule by rule (PLUMB-USER is the learner's; gc refills it, not an update). */
function managed(saveText: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, t] of parseIptablesSave(saveText)) {
    for (const chain of t.chains.keys()) if (chain.startsWith('PLUMB') && chain !== 'PLUMB-USER') out[`${name} ${chain}`] = (t.rules.get(chain) ?? []).map((r) => r.join(' '));
  }
  return out;
}

describe('updateText', () => {
  const base = state([DEFAULT_BRIDGE, MYNET], { ports: publish('web', '172.18.0.2', 'tcp', '', 8080, 80, 1) });
  const withMany = { ...base, ports: [...base.ports, ...publish('many', '172.17.0.2', 'tcp', '', 20000, 20000, 200)] };
  const fromScratch = (s: FirewallState) => dumpAfter('', updateText(buildRules(s), ''));

  it('from nothing builds every managed chain and jump (the dry-run text)', () => {
    const dump = fromScratch(base);
    expect(managed(dump)).toEqual(managed(renderRuleset(base) + missingJumps('')));
    expect(missingJumps(dump)).toBe('');
  });

  it('changes nothing when the kernel already agrees', () => {
    expect(updateText(buildRules(base), fromScratch(base))).toBe('');
  });

  it('publishing ports only adds rules: no deletion, no chain declared again', () => {
    const text = updateText(buildRules(withMany), fromScratch(base));
    expect(text).not.toMatch(/^(-D|:)/m);
    expect(text.split('\n').filter((l) => /^-[AI] /.test(l))).toHaveLength(5);
    // the isolation RETURNs go before the per-network rules, as in the full render
    expect(text).toMatch(/^-I PLUMB-ISOLATION-STAGE-1 3 -d 172\.17\.0\.2\/32 /m);
    expect(managed(dumpAfter(fromScratch(base), text))).toEqual(managed(fromScratch(withMany)));
  });

  it('withdrawing deletes exactly the rules of what went away', () => {
    const text = updateText(buildRules(base), fromScratch(withMany));
    const lines = text.split('\n').filter((l) => /^[-:]/.test(l));
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => l.startsWith('-D ') && l.includes('plumb: many '))).toBe(true);
    expect(managed(dumpAfter(fromScratch(withMany), text))).toEqual(managed(fromScratch(base)));
  });

  it('reaches the wanted rules, in order, from any other state', () => {
    const other = state([DEFAULT_BRIDGE, { ...MYNET, icc: false, name: 'other' }], {
      ports: [...publish('x', '172.17.0.9', 'udp', '', 53, 53, 1), ...publish('many', '172.17.0.2', 'tcp', '', 20000, 20000, 200)],
    });
    const states = [base, withMany, other, state([]), state([MYNET, DEFAULT_BRIDGE])];
    for (const from of states) {
      for (const to of states) {
        const before = fromScratch(from);
        const after = dumpAfter(before, updateText(buildRules(to), before));
        expect(managed(after)).toEqual(managed(fromScratch(to)));
      }
    }
  });

  it('repairs what a flush emptied and what was deleted by hand', () => {
    const full = fromScratch(withMany);
    const flushed = full.replace(/^-A .*\n/gm, '');
    expect(managed(dumpAfter(flushed, updateText(buildRules(withMany), flushed)))).toEqual(managed(full));
    expect(missingJumps(dumpAfter(flushed, updateText(buildRules(withMany), flushed)))).toBe('');
    const oneGone = full.replace(/^-A PLUMB -p tcp -m tcp --dport 8080 .*\n/m, '');
    expect(oneGone).not.toBe(full);
    const text = updateText(buildRules(withMany), oneGone);
    expect(text.split('\n').filter((l) => /^[-:]/.test(l))).toEqual([expect.stringMatching(/^-I PLUMB 1 -p tcp -m tcp --dport 8080 /)]);
  });

  it('declares a chain again when it holds a rule twice (deleting by rule would be ambiguous)', () => {
    const full = fromScratch(base);
    const twice = full.replace(/^(-A PLUMB-ISOLATION-STAGE-2 -m comment --comment "plumb: base" -j RETURN\n)/m, '$1$1');
    const text = updateText(buildRules(base), twice);
    expect(text).toMatch(/^:PLUMB-ISOLATION-STAGE-2 - \[0:0\]$/m);
    expect(managed(dumpAfter(twice, text))).toEqual(managed(full));
  });

  it('gives every change a why and keeps each table in one block', () => {
    const text = updateText(buildRules(withMany), '');
    const lines = text.split('\n');
    lines.forEach((l, i) => {
      if (/^-[AID] /.test(l)) expect(lines[i - 1], l).toMatch(/^# \S/);
    });
    expect(text.match(/^\*filter$/gm)).toHaveLength(1);
    // chains are declared before any rule of the block
    const filter = text.slice(text.indexOf('*filter'), text.indexOf('COMMIT'));
    expect(filter.lastIndexOf('\n:')).toBeLessThan(filter.indexOf('\n-'));
  });

  it('publishing 200 consecutive ports into an existing ruleset (golden)', () => {
    golden('update-publish-range', updateText(buildRules(withMany), fromScratch(base)));
  });
});

/** FORWARD's targets after applying -D / -I N / -A lines to a save's FORWARD chain (a tiny iptables for one chain). */
function applyJumpLines(save: string, lines: string[]): string[] {
  const rules = save.split('\n').filter((l) => l.startsWith('-A FORWARD ')).map((l) => l.slice('-A FORWARD '.length));
  for (const line of lines) {
    const del = /^-D FORWARD (.*)$/.exec(line);
    const ins = /^-I FORWARD (\d+) (.*)$/.exec(line);
    const app = /^-A FORWARD (.*)$/.exec(line);
    if (del) rules.splice(rules.indexOf(del[1]!), 1);
    else if (ins) rules.splice(Number(ins[1]) - 1, 0, ins[2]!);
    else if (app) rules.push(app[1]!);
  }
  return rules.map((r) => /-j (\S+)$/.exec(r)?.[1] ?? '');
}
