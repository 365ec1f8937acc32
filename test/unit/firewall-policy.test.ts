// Rule text outside plumb's managed chains, each with its owner (the comment
// at the top of its golden file): the FORWARD policy, PLUMB-USER's RETURN rule,
// and the nat rules inside a sandbox that send 127.0.0.11:53 to the resolver.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RecordingFirewall } from '../../src/firewall/backend.js';
import { forwardPolicyOf, forwardPolicyText, userChainReturnText } from '../../src/firewall/index.js';
import { hasDnsJumps, sandboxDnsRules } from '../../src/firewall/sandbox-dns.js';
import { expectGolden } from '../helpers/golden.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'firewall');

describe('rule text owned by firewall/', () => {
  it('FORWARD policy DROP (owner: host setup of the first network routed by the host)', () => {
    expectGolden(join(DIR, 'policy-forward-drop.rules'), forwardPolicyText('DROP'), [
      'owner: host setup (engine/networks/host-setup.ts via engine/firewall/sync.ts): set when plumb turned ip_forward on',
      'undone by: system reset, or gc when no network routes through the host',
    ]);
    expect(forwardPolicyOf(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [3:180]\nCOMMIT\n`)).toBe('DROP');
    expect(forwardPolicyOf('')).toBeUndefined();
  });

  it('the RETURN rule that ends PLUMB-USER (owner: base rules)', () => {
    expectGolden(join(DIR, 'policy-user-return.rules'), userChainReturnText(), [
      'owner: base rules ("plumb: base"); PLUMB-USER is the learner\'s chain and is never flushed by plumb',
      'added back by: system gc, when a flush emptied the chain',
    ]);
  });

  it('sandbox DNS rules, first time in a sandbox (owner: the sandbox)', () => {
    const text = sandboxDnsRules({ gateway: '172.18.0.1', ownIp: '172.18.0.2', port: 5311 }, true);
    expectGolden(join(DIR, 'sandbox-dns-first.rules'), text, [
      'owner: the sandbox (container NAME); in its own nat table, gone with its namespace',
      'made when it joins its first user-defined network (engine/firewall/sandbox-dns.ts)',
    ]);
    expect(hasDnsJumps(text)).toBe(true);
  });

  it('sandbox DNS rules once the sandbox has no network left to reach the resolver through', () => {
    const text = sandboxDnsRules(undefined, false);
    expectGolden(join(DIR, 'sandbox-dns-none.rules'), text, ['owner: the sandbox; rewritten on network disconnect']);
    expect(hasDnsJumps(text)).toBe(false);
  });

  it('a recording backend keeps every batch and answers reads with what the test says the kernel has', async () => {
    const fw = new RecordingFirewall<{ name: string | null }>((ns) => (ns.name === null ? forwardPolicyText('ACCEPT') : ''));
    await fw.apply({ name: 'web' }, sandboxDnsRules(undefined, false), 'why');
    expect(fw.applied).toEqual([{ ns: 'web', text: sandboxDnsRules(undefined, false), why: 'why' }]);
    expect(forwardPolicyOf(await fw.save({ name: null }))).toBe('ACCEPT');
  });
});
