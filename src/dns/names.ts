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
import type { ContainerRecord, EndpointRecord, NetworkRecord, StoreData } from '../store/model.js';

export interface Asker {
  container: ContainerRecord;
  /** User-defined networks the asker is on, in interface order. */
  networks: NetworkRecord[];
  /** Its own --dns servers (empty: the host's). */
  servers: string[];
  /** Whether unknown names may be forwarded (Docker does not forward for sandboxes on internal networks only). */
  forward: boolean;
}

interface Member {
  container: ContainerRecord;
  ep: EndpointRecord;
}

function ifIndex(ep: EndpointRecord): number {
  return Number(ep.ifname.replace(/^eth/, '')) || 0;
}

/** A bridge network with names: every bridge network except the default one. */
export function hasEmbeddedNames(net: NetworkRecord | undefined): boolean {
  return !!net && net.driver === 'bridge' && net.name !== 'bridge';
}

export class NameTable {
  private readonly byIp = new Map<string, ContainerRecord>();
  private readonly members = new Map<string, Member[]>();

  constructor(private readonly data: StoreData) {
    for (const c of Object.values(data.containers)) {
      if (c.state !== 'running') continue;
      for (const ep of Object.values(c.endpoints)) {
        this.byIp.set(ep.ip, c);
        const list = this.members.get(ep.networkId) ?? [];
        list.push({ container: c, ep });
        this.members.set(ep.networkId, list);
      }
    }
  }

  /** The running sandbox that owns `ip` (the source address of a query), if any. */
  asker(ip: string): Asker | undefined {
    const c = this.byIp.get(ip);
    if (!c) return undefined;
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
      const ips = (this.members.get(net.id) ?? []).filter((m) => answersTo(m, net, q)).map((m) => m.ep.ip);
      if (ips.length) return ips;
    }
    return undefined;
  }

  /** `name.network` for an address on a network the asker shares (Docker's PTR answer). */
  reverse(asker: Asker, ip: string): string | undefined {
    for (const net of asker.networks) {
      const m = (this.members.get(net.id) ?? []).find((x) => x.ep.ip === ip);
      if (m) return `${m.container.name}.${net.name}`;
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
  const c = m.container;
  const names = [c.name, `${c.name}.${net.name}`, c.id.slice(0, 12), ...m.ep.aliases];
  return names.some((n) => n.toLowerCase() === q);
}

function findRunning(data: StoreData, ref: string): ContainerRecord | undefined {
  const all = Object.values(data.containers).filter((c) => c.state === 'running');
  return all.find((c) => c.id === ref) ?? all.find((c) => c.name === ref) ?? all.find((c) => c.id.startsWith(ref));
}
