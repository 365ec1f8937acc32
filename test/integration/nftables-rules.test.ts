// The sandbox DNS redirection read from the kernel's nf_tables rules without a
// process (kernel/nftables-rules.ts + firewall/sandbox-dns-nft.ts), against
// rules iptables-restore really wrote, in a throwaway namespace of this test.
// `system check` trusts that reader only to say "certainly in place", so what
// matters is that every change to the rules makes it stop saying so.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNetns, openNetns, withinNetns, type Netns } from '../../src/kernel/netns.js';
import { readNftRules } from '../../src/kernel/nftables-rules.js';
import { dnsRedirectCertain } from '../../src/firewall/sandbox-dns-nft.js';
import { sandboxDnsRules } from '../../src/firewall/sandbox-dns.js';

const name = `plbnft${process.pid}${Math.floor(Math.random() * 1e6)}`;
let ns: Netns;

const inNs = (cmd: string, args: string[], input?: string) =>
  execFileSync('nsenter', [`--net=/run/netns/${name}`, cmd, ...args], { encoding: 'utf8', input });
const target = { gateway: '172.18.0.1', ownIp: '172.18.0.2', port: 5311 };
const natRules = () => withinNetns(ns, () => readNftRules('nat'));

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', name]);
  ns = openNetns(`/run/netns/${name}`, name);
});

afterAll(() => {
  closeNetns(ns);
  execFileSync('ip', ['netns', 'del', name]);
});

describe('the DNS redirection, read as nf_tables expressions', () => {
  it('a namespace without a nat table has no rules to vouch for', () => {
    const rules = natRules();
    expect(rules === undefined || rules.length === 0).toBe(true);
    expect(dnsRedirectCertain(rules ?? [], target.gateway, target.port)).toBe(false);
  });

  it('is certain once iptables-restore wrote the rules plumb writes, and only for their gateway and port', () => {
    inNs('iptables-restore', ['--noflush'], sandboxDnsRules(target, true));
    const rules = natRules()!;
    // What iptables-save shows, seen by the reader: two jumps and four rules in plumb's chains.
    expect(rules.map((r) => r.chain).sort()).toEqual(['OUTPUT', 'PLUMB_DNS_OUTPUT', 'PLUMB_DNS_OUTPUT', 'PLUMB_DNS_POSTROUTING', 'PLUMB_DNS_POSTROUTING', 'POSTROUTING']);
    expect(dnsRedirectCertain(rules, target.gateway, target.port)).toBe(true);
    expect(dnsRedirectCertain(rules, target.gateway, 5312)).toBe(false);
    expect(dnsRedirectCertain(rules, '172.18.0.254', target.port)).toBe(false);
  });

  it('is no longer certain when the DNAT goes elsewhere', () => {
    inNs('iptables-restore', ['--noflush'], sandboxDnsRules({ ...target, port: 6000 }, false));
    expect(dnsRedirectCertain(natRules()!, target.gateway, target.port)).toBe(false);
    expect(dnsRedirectCertain(natRules()!, target.gateway, 6000)).toBe(true);
  });

  it('is no longer certain when the jump from OUTPUT is gone, or matches another address', () => {
    inNs('iptables', ['-t', 'nat', '-D', 'OUTPUT', '-d', '127.0.0.11/32', '-j', 'PLUMB_DNS_OUTPUT']);
    expect(dnsRedirectCertain(natRules()!, target.gateway, 6000)).toBe(false);
    inNs('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-d', '127.0.0.12/32', '-j', 'PLUMB_DNS_OUTPUT']);
    expect(dnsRedirectCertain(natRules()!, target.gateway, 6000)).toBe(false);
    // A jump with one more match is not the rule plumb writes either.
    inNs('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-d', '127.0.0.11/32', '-p', 'udp', '-j', 'PLUMB_DNS_OUTPUT']);
    expect(dnsRedirectCertain(natRules()!, target.gateway, 6000)).toBe(false);
    inNs('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-d', '127.0.0.11/32', '-j', 'PLUMB_DNS_OUTPUT']);
    expect(dnsRedirectCertain(natRules()!, target.gateway, 6000)).toBe(true);
  });

  it('reads the namespace it is asked about, not the caller\'s', () => {
    // This test's own namespace has no such rules (it is never given any).
    expect(dnsRedirectCertain(readNftRules('nat') ?? [], target.gateway, 6000)).toBe(false);
  });
});
