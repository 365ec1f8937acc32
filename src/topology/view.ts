// What the topology is drawn from: one read of the kernel (links, addresses,
// routes per namespace, the host's firewall text) and what the store, the
// cluster store and `system check` say. Plain data, so the pictures can be
// built (and golden-tested) without a kernel.
import type { ClusterEndpoint } from '../cluster/records.js';
import type { AddrInfo, FdbInfo, LinkInfo, NeighInfo, RouteInfo } from '../kernel/rtnl.js';
import type { StoreData } from '../store/model.js';

export interface NsView {
  links: LinkInfo[];
  addrs: AddrInfo[];
  routes: RouteInfo[];
}

export interface OverlayNsView extends NsView {
  fdb: FdbInfo[];
  neigh: NeighInfo[];
}

export interface SandboxView extends NsView {
  /** The sandbox's nat table (iptables-save -t nat), read when its resolv.conf names 127.0.0.11. */
  nat?: string;
  /**
   * Set for a sandbox whose networks cannot reach the host (macvlan), where the
   * resolver listens on 127.0.0.11:53 inside: whether the kernel shows it holding those sockets.
   */
  resolverInside?: boolean;
}

export interface KernelView {
  host: NsView;
  /** By the name of the container that owns the sandbox; absent when its namespace file is gone. */
  sandboxes: Record<string, SandboxView>;
  /** By overlay network name; absent on a host without a container on that network. */
  overlays: Record<string, OverlayNsView>;
  /** The host's rules (iptables-save): DNAT, MASQUERADE, isolation. */
  firewall: string;
}

export interface ClusterView {
  /** This host's node name and VTEP. */
  node: string;
  vtep: string;
  endpoints: ClusterEndpoint[];
}

export interface DriftFinding {
  owner: string;
  problem: string;
}

export interface TopologyInput {
  /** Name to show for this host. */
  hostName: string;
  data: StoreData;
  kernel: KernelView;
  cluster?: ClusterView;
  /** The embedded DNS resolver, when it runs. */
  resolver?: { pid: number; port: number };
  drift: DriftFinding[];
}
