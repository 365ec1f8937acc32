// plumb's chain names and the few fixed jumps from built-in chains.
//
// Layout compared with Docker 20.10 (DOCKER -> PLUMB, docker0 -> plumb0):
//  * Same chains and same rules as dockerd: nat PLUMB (DNAT), filter PLUMB
//    (ACCEPT per published port / link), PLUMB-ISOLATION-STAGE-1/2, PLUMB-USER.
//  * Difference: the rules dockerd writes straight into built-in chains live in
//    plumb chains instead, so one `iptables-restore --noflush` can rebuild all
//    of them (declaring a user chain flushes it; a built-in chain cannot be
//    flushed without touching other software's rules; update.ts changes only
//    what differs, which is faster):
//      filter FORWARD per-bridge rules  -> filter PLUMB-FORWARD
//      nat POSTROUTING MASQUERADE rules -> nat PLUMB-POSTROUTING
//    Built-in chains only get the fixed jumps below, added once if missing.
//  * plumb runs without docker-proxy, so it takes the layout dockerd uses with
//    `--userland-proxy=false`: OUTPUT jumps to PLUMB for 127.0.0.0/8 too, DNAT
//    rules carry no `! -i <bridge>` and there is no `-i <bridge> -j RETURN`,
//    so the host and containers reach published ports through NAT alone.
//  * Extras beyond Docker: a MASQUERADE for `-s 127.0.0.0/8 -o <bridge>` (the
//    host reaching 127.0.0.1:port), a raw-table guard against containers
//    addressing the host's loopback, and per-port RETURNs in ISOLATION-STAGE-1
//    so containers on other bridges reach published ports as they do through
//    Docker's proxy.
//  * Consecutive published ports share one rule with a port range where
//    dockerd writes one rule per port (port-runs.ts); a lone port gets
//    exactly dockerd's rules.
//  * PLUMB-USER is the learner's, like DOCKER-USER: created once, never flushed.

import type { Table } from './types.js';

export const CHAIN = {
  nat: 'PLUMB',
  natPostrouting: 'PLUMB-POSTROUTING',
  filter: 'PLUMB',
  forward: 'PLUMB-FORWARD',
  user: 'PLUMB-USER',
  isolation1: 'PLUMB-ISOLATION-STAGE-1',
  isolation2: 'PLUMB-ISOLATION-STAGE-2',
  rawPrerouting: 'PLUMB-PREROUTING',
} as const;

/** Chains plumb owns outright, per table: they hold exactly the rules buildRules() lists (update.ts brings them there). */
export const MANAGED_CHAINS: Record<Table, readonly string[]> = {
  filter: [CHAIN.filter, CHAIN.forward, CHAIN.isolation1, CHAIN.isolation2],
  nat: [CHAIN.nat, CHAIN.natPostrouting],
  raw: [CHAIN.rawPrerouting],
};

/** Every chain name plumb may create (for reset). */
export function isPlumbChain(name: string): boolean {
  return name === 'PLUMB' || name.startsWith('PLUMB-');
}

export const BASE_OWNER = 'base';

export interface Jump {
  table: Table;
  chain: string;
  spec: string[];
  /** insert: keep at the top of the chain (in list order), as dockerd's -I; append: -A. */
  mode: 'insert' | 'append';
  why: string;
}

/** The only rules plumb puts into built-in chains, in Docker's order. */
export const JUMPS: readonly Jump[] = [
  {
    table: 'filter',
    chain: 'FORWARD',
    spec: ['-j', CHAIN.user],
    mode: 'insert',
    why: 'forwarded packets meet the learner\'s own rules first (PLUMB-USER is never flushed by plumb, like DOCKER-USER)',
  },
  {
    table: 'filter',
    chain: 'FORWARD',
    spec: ['-j', CHAIN.isolation1],
    mode: 'insert',
    why: 'forwarded packets pass the isolation chains, which drop traffic between different plumb bridges (after PLUMB-USER)',
  },
  {
    table: 'filter',
    chain: 'FORWARD',
    spec: ['-j', CHAIN.forward],
    mode: 'insert',
    why: 'forwarded packets meet the per-bridge rules Docker keeps in FORWARD (replies, published ports, outbound, inter-container), after the isolation chains',
  },
  {
    table: 'nat',
    chain: 'PREROUTING',
    spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN.nat],
    mode: 'append',
    why: 'packets arriving for one of the host\'s own addresses may be for a published port: let PLUMB rewrite them',
  },
  {
    table: 'nat',
    chain: 'OUTPUT',
    spec: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN.nat],
    mode: 'append',
    why:
      'connections the host itself opens to its own addresses, 127.0.0.1 included (Docker excludes 127.0.0.0/8 ' +
      'because its docker-proxy answers there; plumb has no proxy), go through PLUMB too',
  },
  {
    table: 'nat',
    chain: 'POSTROUTING',
    spec: ['-j', CHAIN.natPostrouting],
    mode: 'insert',
    why: 'outgoing packets get their source rewritten by PLUMB-POSTROUTING (dockerd inserts its MASQUERADE rules at the top too)',
  },
  {
    table: 'raw',
    chain: 'PREROUTING',
    spec: ['-j', CHAIN.rawPrerouting],
    mode: 'insert',
    why: 'before connection tracking, drop packets from containers that are addressed to the host\'s loopback',
  },
];
