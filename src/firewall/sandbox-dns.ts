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
// plumb's prefix. A sandbox with no bridge path at all (macvlan only) gets no
// rules: the resolver opens its sockets inside it (dns/sandbox-path.ts).
//
// Pure: the rule text only. engine/firewall/sandbox-dns.ts applies it (and the
// route_localnet sysctl it needs) inside the sandbox.

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
 * Owner: the sandbox (container NAME); made when it joins its first
 * user-defined network, rewritten on connect/disconnect, gone with the sandbox's
 * namespace. The rules live in the sandbox's own nat table, never the host's.
 * Golden file: test/unit/golden/firewall/sandbox-dns*.rules.
 *
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

/** Whether an iptables-save text of a sandbox's nat table has the jumps into plumb's DNS chains. */
export function hasDnsJumps(natSaveText: string): boolean {
  return natSaveText.includes(JUMPS[0]!);
}
