// Golden-file tests of the firewall renderer: one .rules file per option
// combination under golden/firewall/. Run with UPDATE_GOLDEN=1 to rewrite them
// after an intended change, then review the diff like any other code.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildRules,
  explainRulesOwnedBy,
  missingJumps,
  parseIptablesSave,
  removeAll,
  renderRuleset,
  rulesOwnedBy,
  tokenize,
  withoutComment,
  type FirewallNetwork,
  type FirewallState,
} from '../../src/firewall/index.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'firewall');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Compares text the way a reader would: no trailing blanks, no comment lines, one trailing newline. */
function normalise(text: string): string {
  return (
    text
      .replace(/\r\n/g, '\n')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .join('\n') + '\n'
  );
}

function golden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, `${name}.rules`);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1 to create it`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, normalise(actual));
    return;
  }
  expect(normalise(actual)).toBe(normalise(readFileSync(file, 'utf8')));
}

function net(over: Partial<FirewallNetwork> & Pick<FirewallNetwork, 'name' | 'bridge' | 'subnet'>): FirewallNetwork {
  return { id: `${over.name}-id`, icc: true, masquerade: true, internal: false, hostBindingIpv4: '0.0.0.0', ...over };
}

const DEFAULT_BRIDGE = net({ name: 'bridge', bridge: 'plumb0', subnet: '172.17.0.0/16' });
const MYNET = net({ name: 'mynet', bridge: 'br-3f2a1b0c9d8e', subnet: '172.18.0.0/16' });

function state(networks: FirewallNetwork[], extra: Partial<FirewallState> = {}): FirewallState {
  return { networks, ports: [], links: [], ...extra };
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
