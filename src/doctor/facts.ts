// What doctor reads from the kernel, once per run: the host's links,
// addresses, routes, bridge ports and ruleset, and per sandbox its links,
// addresses, routes and neighbours. The store only says where to look
// (which sandbox files, which bridge names); every verdict is on these facts.
import { existsSync } from 'node:fs';
import type { Context } from '../engine/core/context.js';
import { bridgePorts, type BridgePort } from '../kernel/bridge-ports.js';
import { saveIptables } from '../kernel/iptables.js';
import type { Netns } from '../kernel/netns.js';
import type { AddrInfo, FdbInfo, LinkInfo, NeighInfo, RouteInfo, Rtnl } from '../kernel/rtnl.js';
import type { ContainerRecord, StoreData } from '../store/model.js';
import type { ClusterSnapshot } from '../cluster/records.js';
import { parseRuleset, type Ruleset } from './netfilter.js';
import { compareCodeUnits } from '../store/order.js';

/** A namespace's interfaces and addresses: all an endpoint's checks (and `network inspect`) look at. */
export interface NsLinkFacts {
  name: string;
  ns: Netns;
  rtnl: Rtnl;
  links: LinkInfo[];
  addrs: AddrInfo[];
}

export interface NsFacts extends NsLinkFacts {
  routes: RouteInfo[];
  neigh: NeighInfo[];
}

/** The host's link layer: what the bridge and macvlan hops and `inspect` look at (no routes, no ruleset). */
export interface HostLinkFacts {
  name: string;
  ns: Netns;
  rtnl: Rtnl;
  links: LinkInfo[];
  addrs: AddrInfo[];
  ports: BridgePort[];
  fdb: FdbInfo[];
  /** Lookups by key, for checks made once per endpoint (a network may have a thousand). */
  linkNamed(name: string): LinkInfo | undefined;
  portOf(ifname: string): BridgePort | undefined;
  fdbOf(mac: string): FdbInfo[];
}

export interface HostFacts extends NsFacts, HostLinkFacts {
  saveText: string;
  rules: Ruleset;
}

export class Facts {
  private linkFacts?: HostLinkFacts;
  private hostFacts?: HostFacts;
  private readonly sandboxes = new Map<string, NsFacts | null>();
  private readonly sandboxLinkFacts = new Map<string, NsLinkFacts | null>();
  private clusterFacts?: { snapshot: ClusterSnapshot; vtep: string } | null;
  clusterError?: string;

  constructor(
    readonly ctx: Context,
    readonly data: StoreData,
  ) {}

  /**
   * Links, addresses, bridge ports and FDB of the host, read alone: `inspect`
   * needs only these, and routes, neighbours and an iptables-save (a process)
   * are read only by host().
   */
  async hostLinks(): Promise<HostLinkFacts> {
    if (this.linkFacts) return this.linkFacts;
    const rtnl = this.ctx.hostRtnl();
    const ns = this.ctx.hostNs();
    const links = await rtnl.links();
    const addrs = await rtnl.addresses();
    const fdb = await rtnl.fdb();
    const ports = await bridgePorts(rtnl).catch(() => []);
    const byName = new Map(links.map((l) => [l.name, l]));
    const portByName = new Map(ports.map((p) => [p.ifname, p]));
    const fdbByMac = new Map<string, FdbInfo[]>();
    for (const x of fdb) {
      const same = fdbByMac.get(x.mac);
      if (same) same.push(x);
      else fdbByMac.set(x.mac, [x]);
    }
    this.linkFacts = {
      name: 'host',
      ns,
      rtnl,
      links,
      addrs,
      ports,
      fdb,
      linkNamed: (name) => byName.get(name),
      portOf: (ifname) => portByName.get(ifname),
      fdbOf: (mac) => fdbByMac.get(mac) ?? [],
    };
    return this.linkFacts;
  }

  async host(): Promise<HostFacts> {
    if (this.hostFacts) return this.hostFacts;
    const l = await this.hostLinks();
    const [routes, neigh, saveText] = [await l.rtnl.routes(), await l.rtnl.neighbours(), await saveIptables(l.ns)];
    this.hostFacts = { ...l, routes, neigh, saveText, rules: parseRuleset(saveText) };
    return this.hostFacts;
  }

  /**
   * Links and addresses of a namespace file, read alone: two dumps instead of
   * four, which is what `network inspect` of a network with a thousand
   * members pays per member. null when the file is gone.
   */
  async namespaceLinks(path: string, name: string): Promise<NsLinkFacts | null> {
    const full = this.sandboxes.get(path);
    if (full !== undefined) return full;
    if (this.sandboxLinkFacts.has(path)) return this.sandboxLinkFacts.get(path)!;
    let facts: NsLinkFacts | null = null;
    if (existsSync(path)) {
      const ns = this.ctx.openNs(path, name);
      const rtnl = this.ctx.rtnlIn(ns);
      facts = { name, ns, rtnl, links: await rtnl.links(), addrs: await rtnl.addresses() };
    }
    this.sandboxLinkFacts.set(path, facts);
    return facts;
  }

  /** Kernel facts of a namespace file (a sandbox, an overlay namespace); null when the file is gone. */
  async namespace(path: string, name: string): Promise<NsFacts | null> {
    if (this.sandboxes.has(path)) return this.sandboxes.get(path)!;
    const l = await this.namespaceLinks(path, name);
    const facts: NsFacts | null = l && { ...l, routes: await l.rtnl.routes(), neigh: await l.rtnl.neighbours() };
    this.sandboxes.set(path, facts);
    return facts;
  }

  /** The sandbox a container's network stack lives in (its own, or the one it joined with container:). */
  async sandbox(c: ContainerRecord): Promise<NsFacts | null> {
    if (!c.sandbox?.netns) return null;
    return this.namespace(c.sandbox.netns, c.name);
  }

  /** A sandbox's links and addresses only (see namespaceLinks). */
  async sandboxLinks(c: ContainerRecord): Promise<NsLinkFacts | null> {
    if (!c.sandbox?.netns) return null;
    return this.namespaceLinks(c.sandbox.netns, c.name);
  }

  /** The cluster store's view of overlay endpoints (null when it cannot be reached). */
  async cluster(): Promise<{ snapshot: ClusterSnapshot; vtep: string } | null> {
    if (this.clusterFacts !== undefined) return this.clusterFacts;
    try {
      const { withCluster } = await import('../engine/overlay/cluster.js');
      this.clusterFacts = await withCluster(this.ctx, async (c) => ({ snapshot: await c.store.snapshot(), vtep: c.vtep }), { timeoutMs: 3000 });
    } catch (err) {
      this.clusterError = (err as Error).message;
      this.clusterFacts = null;
    }
    return this.clusterFacts;
  }

  /** How a learner runs `cmd` inside a namespace: `ip -n NAME` when it is registered in /run/netns, nsenter otherwise. */
  inNs(name: string, path: string, cmd: string): string {
    if (this.ctx.paths.netnsNames === '/run/netns' && cmd.startsWith('ip ')) return `ip -n ${name} ${cmd.slice(3)}`;
    return `nsenter --net=${path} ${cmd}`;
  }

  runningContainers(): ContainerRecord[] {
    return Object.values(this.data.containers)
      .filter((c) => c.state === 'running')
      .sort((a, b) => compareCodeUnits(a.name, b.name));
  }
}
