// Points a sandbox's 127.0.0.11 at the embedded resolver: the nat rules of
// firewall/sandbox-dns.ts, applied inside the sandbox, and the route_localnet
// sysctl that lets the redirected queries leave it.
import { EMBEDDED_DNS_IP, hasDnsJumps, sandboxDnsRules, type DnsTarget } from '../../firewall/sandbox-dns.js';
import type { Journal } from '../../kernel/ops.js';
import type { HostFirewall } from './backend.js';
import type { Netns } from '../../kernel/netns.js';
import { setSysctl } from '../../kernel/sysctl.js';

/**
 * Points the sandbox's 127.0.0.11 at `target` (or at nothing). `fresh`: a new
 * sandbox, no rules yet. `natRules`: the sandbox's nat table, when a read of
 * it was started earlier (readSandboxNat) to run alongside other work.
 */
export async function applySandboxDns(
  op: { journal: Journal; firewall: HostFirewall },
  ns: Netns,
  sandboxName: string,
  target: DnsTarget | undefined,
  fresh: boolean,
  natRules?: Promise<string>,
): Promise<void> {
  const { journal, firewall } = op;
  // A dry run reads too (reading changes nothing), so its script adds the jumps exactly when a real run would.
  const withJumps =
    fresh || !hasDnsJumps(await (natRules ?? readSandboxNat(op, ns)));
  if (withJumps) {
    setSysctl(
      journal,
      ns,
      'net.ipv4.conf.all.route_localnet',
      '1',
      `let DNS queries to ${EMBEDDED_DNS_IP} leave ${sandboxName} after they are redirected to the resolver`,
    );
  }
  const why = target
    ? `${sandboxName} asks ${EMBEDDED_DNS_IP}:53; send that to plumb's resolver at ${target.gateway}:${target.port}, from ${target.ownIp} so it knows who asks`
    : `${sandboxName} has no network left to reach the resolver through`;
  await firewall.apply(ns, sandboxDnsRules(target, withJumps), why);
}

/**
 * The sandbox's nat table, as applySandboxDns reads it to see whether its
 * jumps are there (a dry run reads too, and takes a failure as no rules).
 * Started before a change that blocks on the kernel (a veth's deletion waits
 * for the kernel's RCU grace period), the iptables-save runs meanwhile; its
 * rejection is held until the result is awaited.
 */
export function readSandboxNat(op: { journal: Journal; firewall: HostFirewall }, ns: Netns): Promise<string> {
  const read = op.firewall.save(ns, 'nat').catch((err) => (op.journal.dryRun ? '' : Promise.reject(err)));
  read.catch(() => {});
  return read;
}
