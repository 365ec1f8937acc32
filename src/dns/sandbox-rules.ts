// How a sandbox reaches the one resolver: its processes ask 127.0.0.11:53
// (resolv.conf), and nat rules inside the sandbox send that to the resolver
// port on the gateway of one of its networks (DNAT), with the sandbox's own
// address on that network as source (SNAT), so the resolver knows who asks.
// Replies are un-NATed by conntrack: the process sees 127.0.0.11:53 answer.
// The gateway must be an address of plumb's namespace, so it is always a
// bridge network's: a container on an overlay asks through its plumb_gwbridge
// endpoint (eth1), from its address there (the overlay's gateway sits on br0
// in the overlay's own namespace, where no resolver listens).
//
// A packet from 127.0.0.1 may leave through eth0 only with route_localnet=1
// in the sandbox (otherwise the kernel drops it as a martian after the DNAT).
// Docker instead opens sockets inside each sandbox; the rules here have the
// same names as Docker's chains (DOCKER_OUTPUT / DOCKER_POSTROUTING) with
// plumb's prefix.
import { applyIptables, saveIptables } from '../kernel/iptables.js';
import type { Journal } from '../kernel/ops.js';
import type { Netns } from '../kernel/netns.js';
import { setSysctl } from '../kernel/sysctl.js';

export const EMBEDDED_DNS_IP = '127.0.0.11';
export const OUTPUT_CHAIN = 'PLUMB_DNS_OUTPUT';
export const POSTROUTING_CHAIN = 'PLUMB_DNS_POSTROUTING';

export interface DnsTarget {
  /** The gateway (bridge address, in plumb's namespace) of the network the queries go out on. */
  gateway: string;
  /** The sandbox's address on that network. */
  ownIp: string;
  /** The resolver's port in plumb's namespace. */
  port: number;
}

const JUMPS = [
  `-A OUTPUT -d ${EMBEDDED_DNS_IP}/32 -j ${OUTPUT_CHAIN}`,
  `-A POSTROUTING -s 127.0.0.0/8 -j ${POSTROUTING_CHAIN}`,
];

/**
 * The nat table text for a sandbox (iptables-restore --noflush): declaring the
 * two chains flushes them, so re-applying with a new target replaces the old
 * one. `withJumps` adds the jumps from OUTPUT / POSTROUTING (once per sandbox).
 * Without a target the chains are left empty: 127.0.0.11 then answers nothing.
 */
export function sandboxDnsRules(target: DnsTarget | undefined, withJumps: boolean): string {
  const lines = ['*nat', `:${OUTPUT_CHAIN} - [0:0]`, `:${POSTROUTING_CHAIN} - [0:0]`];
  if (withJumps) lines.push(...JUMPS);
  if (target) {
    const to = `${target.gateway}:${target.port}`;
    for (const proto of ['udp', 'tcp']) {
      lines.push(`-A ${OUTPUT_CHAIN} -d ${EMBEDDED_DNS_IP}/32 -p ${proto} -m ${proto} --dport 53 -j DNAT --to-destination ${to}`);
    }
    for (const proto of ['udp', 'tcp']) {
      lines.push(
        `-A ${POSTROUTING_CHAIN} -s 127.0.0.0/8 -d ${target.gateway}/32 -p ${proto} -m ${proto} --dport ${target.port} -j SNAT --to-source ${target.ownIp}`,
      );
    }
  }
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

/** Whether the sandbox already has the jumps into plumb's DNS chains. */
export async function hasDnsJumps(ns: Netns): Promise<boolean> {
  const nat = await saveIptables(ns, 'nat');
  return nat.includes(JUMPS[0]!);
}

/** Points the sandbox's 127.0.0.11 at `target` (or at nothing). `fresh`: a new sandbox, no rules yet. */
export async function applySandboxDns(journal: Journal, ns: Netns, sandboxName: string, target: DnsTarget | undefined, fresh: boolean): Promise<void> {
  // A dry run reads too (reading changes nothing), so its script adds the jumps exactly when a real run would.
  const withJumps = fresh || !(await hasDnsJumps(ns).catch((err) => (journal.dryRun ? false : Promise.reject(err))));
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
  await applyIptables(journal, ns, sandboxDnsRules(target, withJumps), why);
}
