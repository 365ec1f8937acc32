// Which names a sandbox may resolve through the embedded DNS, computed from
// the store. Pure. Docker's rules:
//   - only user-defined networks have names (the default bridge has none);
//   - a container is known by its name, name.network, its --network-alias /
//     `connect --alias` names on that network, and its 12-hex short id;
//   - the asker sees only networks it is on itself, tried in the order of its
//     interfaces; the first network where the name matches answers, with every
//     container there that carries it (a shared alias gives several A records);
//   - `--link target:alias` on a user network is an alias only the linking
//     container sees;
//   - only running containers are known: a stopped one disappears at once.
// Overlay networks span hosts: the store knows only this host's containers on
// them, so the table also takes the overlay endpoints of the other hosts, as
// read from the cluster store (src/cluster/names.ts), and answers with both.
import type { OverlayName } from '../cluster/names.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord, StoreData } from '../store/model.js';
import { traitsOf } from '../drivers/traits.js';

/**
 * The local bridge that gives overlay containers their way out (Docker's
 * docker_gwbridge). Every overlay container has an endpoint on it, so it must
 * not scope names: containers sharing only this bridge do not know each other.
 */
export const GATEWAY_BRIDGE = 'plumb_gwbridge';

export interface Asker {
  container: ContainerRecord;
  /** User-defined networks the asker is on, in interface order. */
  networks: NetworkRecord[];
  /** Its own --dns servers (empty: the host's). */
  servers: string[];
  /** Whether unknown names may be forwarded (Docker does not forward for sandboxes on internal networks only). */
  forward: boolean;
}

/** One container on one network, on this host or another. */
interface Member {
  name: string;
  id: string;
  ip: string;
  aliases: string[];
}

const localMember = (c: ContainerRecord, ep: EndpointRecord): Member => ({ name: c.name, id: c.id, ip: ep.ip, aliases: ep.aliases });

function ifIndex(ep: EndpointRecord): number {
  return Number(ep.ifname.replace(/^eth/, '')) || 0;
}

/** A network with names: every bridge network except the default one and the gateway bridge, and every overlay network. */
export function hasEmbeddedNames(net: NetworkRecord | undefined): boolean {
  if (!net) return false;
  return traitsOf(net).embeddedNames && net.name !== 'bridge' && net.name !== GATEWAY_BRIDGE;
}

/**
 * A network whose gateway address lives in plumb's own namespace, where the
 * resolver listens: a bridge network (its bridge holds the gateway). An
 * overlay's gateway is on br0 inside the overlay's namespace, out of the
 * resolver's reach; its containers reach the resolver through the gateway
 * bridge instead.
 */
export function reachesResolver(net: NetworkRecord | undefined): boolean {
  return !!net && traitsOf(net).gatewayOnHost && !!net.ipam?.gateway;
}

export class NameTable {
  private readonly byIp = new Map<string, ContainerRecord>();
  private readonly members = new Map<string, Member[]>();

  /**
   * `remote`: overlay endpoints from the cluster store. Those of this host
   * (node ID `localNodeId`) are skipped: the local store is the truth for this
   * host's containers, running or not. Hosts are told apart by node ID, never
   * by hostname, which lab namespaces and cloned VMs share. Endpoints without
   * a node ID (written before node IDs) count as remote, and any address this
   * host already answers for is skipped.
   */
  constructor(
    private readonly data: StoreData,
    remote: readonly OverlayName[] = [],
    localNodeId?: string,
  ) {
    for (const c of Object.values(data.containers)) {
      if (c.state !== 'running') continue;
      for (const ep of Object.values(c.endpoints)) {
        this.byIp.set(ep.ip, c);
        this.add(ep.networkId, localMember(c, ep));
      }
    }
    for (const r of remote) {
      if ((localNodeId && r.nodeId === localNodeId) || data.networks[r.networkId]?.scope !== 'global') continue;
      if ((this.members.get(r.networkId) ?? []).some((m) => m.ip === r.ip)) continue;
      this.add(r.networkId, { name: r.name, id: r.containerId, ip: r.ip, aliases: r.aliases });
    }
  }

  private add(networkId: string, m: Member): void {
    const list = this.members.get(networkId) ?? [];
    list.push(m);
    this.members.set(networkId, list);
  }

  /** The running sandbox that owns `ip` (the source address of a query), if any. */
  asker(ip: string): Asker | undefined {
    const c = this.byIp.get(ip);
    return c && this.askerOf(c);
  }

  /** The running container `id` as an asker (a query that came in on a socket inside its sandbox), if it runs. */
  askerById(id: string): Asker | undefined {
    const c = this.data.containers[id];
    return c?.state === 'running' ? this.askerOf(c) : undefined;
  }

  private askerOf(c: ContainerRecord): Asker {
    const eps = Object.values(c.endpoints).sort((a, b) => ifIndex(a) - ifIndex(b));
    const nets = eps.map((ep) => this.data.networks[ep.networkId]).filter((n): n is NetworkRecord => !!n);
    return {
      container: c,
      networks: nets.filter(hasEmbeddedNames),
      servers: c.dns,
      forward: nets.some((n) => !n.internal),
    };
  }

  /** Addresses for `name` as `asker` sees it; undefined when the name is not a container's (forward it). */
  lookup(asker: Asker, name: string): string[] | undefined {
    const q = name.toLowerCase().replace(/\.$/, '');
    if (!q) return undefined;
    const linked = this.linkAlias(asker, q);
    if (linked) return [linked];
    for (const net of asker.networks) {
      const ips = (this.members.get(net.id) ?? []).filter((m) => answersTo(m, net, q)).map((m) => m.ip);
      if (ips.length) return ips;
    }
    return undefined;
  }

  /** `name.network` for an address on a network the asker shares (Docker's PTR answer). */
  reverse(asker: Asker, ip: string): string | undefined {
    for (const net of asker.networks) {
      const m = (this.members.get(net.id) ?? []).find((x) => x.ip === ip);
      if (m) return `${m.name}.${net.name}`;
    }
    return undefined;
  }

  private linkAlias(asker: Asker, q: string): string | undefined {
    for (const l of asker.container.links) {
      if (l.alias.toLowerCase() !== q) continue;
      const target = findRunning(this.data, l.target);
      if (!target) continue;
      for (const net of asker.networks) {
        const ep = target.endpoints[net.id];
        if (ep) return ep.ip;
      }
    }
    return undefined;
  }
}

function answersTo(m: Member, net: NetworkRecord, q: string): boolean {
  const names = [m.name, `${m.name}.${net.name}`, m.id.slice(0, 12), ...m.aliases];
  return names.some((n) => n.toLowerCase() === q);
}

function findRunning(data: StoreData, ref: string): ContainerRecord | undefined {
  const all = Object.values(data.containers).filter((c) => c.state === 'running');
  return all.find((c) => c.id === ref) ?? all.find((c) => c.name === ref) ?? all.find((c) => c.id.startsWith(ref));
}
