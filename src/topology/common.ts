// Lookups every describer needs: which sandbox a container lives in, which
// containers share it, and what the kernel reports for one interface.
import type { AddrInfo, LinkInfo } from '../kernel/rtnl.js';
import type { ContainerRecord, DriverName, EndpointRecord, NetworkByDriver, NetworkRecord, StoreData } from '../store/model.js';
import type { NsView, TopologyInput } from './view.js';

export type Describe = TopologyInput;

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function sortedContainers(data: StoreData): ContainerRecord[] {
  return Object.values(data.containers).sort(byName);
}

/**
 * Per-driver parts of the picture, each handed the record as its driver's
 * variant. The topology sits below the drivers, so it reads their records
 * through a table keyed by driver rather than by asking which driver it has.
 */
export type ByDriver<R> = { [D in DriverName]?: (net: NetworkByDriver[D]) => R };

/** The entry of `table` for the network's driver, applied to it (undefined when the table has none). */
export function byDriver<R, D extends DriverName>(table: ByDriver<R>, net: NetworkByDriver[D] & { driver: D }): R | undefined {
  return table[net.driver]?.(net);
}

export function sortedNetworks(data: StoreData): NetworkRecord[] {
  return Object.values(data.networks).sort(byName);
}

/** The container whose sandbox `c` lives in: itself, or X for --network container:X. */
export function sandboxOwner(data: StoreData, c: ContainerRecord): ContainerRecord | undefined {
  if (c.networkMode === 'host') return undefined;
  if (c.sandbox?.joined) return data.containers[c.sandbox.joined];
  if (c.networkMode.startsWith('container:')) {
    const ref = c.networkMode.slice('container:'.length);
    return Object.values(data.containers).find((x) => x.id === ref || x.name === ref || x.id.startsWith(ref));
  }
  return c;
}

/** Whether the container has a network stack of its own to draw (running, not host mode, not sharing). */
export function ownsSandbox(c: ContainerRecord): boolean {
  return c.state === 'running' && !!c.sandbox?.netns && !c.sandbox.joined && c.networkMode !== 'host';
}

/** Names of the containers living in `owner`'s sandbox, the owner first. */
export function sandboxMembers(data: StoreData, owner: ContainerRecord): string[] {
  const guests = sortedContainers(data)
    .filter((c) => c !== owner && c.state === 'running' && sandboxOwner(data, c) === owner)
    .map((c) => c.name);
  return [owner.name, ...guests];
}

/** Every live endpoint on `net`: the container and its endpoint, in name order. */
export function endpointsOn(data: StoreData, net: NetworkRecord): Array<{ c: ContainerRecord; ep: EndpointRecord }> {
  return sortedContainers(data)
    .filter((c) => c.state === 'running' && c.endpoints[net.id])
    .map((c) => ({ c, ep: c.endpoints[net.id]! }));
}

export function linkIn(view: NsView | undefined, name: string): LinkInfo | undefined {
  return view?.links.find((l) => l.name === name);
}

export function ipv4Of(view: NsView | undefined, dev: string): AddrInfo[] {
  return (view?.addrs ?? []).filter((a) => a.dev === dev && !a.address.includes(':'));
}

/** "up" / "DOWN" / "no carrier" as a learner reads them in `ip link`. */
export function linkState(l: LinkInfo): string {
  if (!l.up) return 'DOWN';
  return l.lowerUp ? 'up' : 'up, no carrier';
}
