// What a network driver is and what it is given. Drivers sit below the engine:
// they receive kernel handles, a step runner and (for overlay) the cluster
// services through their environment, never the engine itself.
//
// The driver is the unit of knowledge: anything that depends on which driver a
// network has is a method here, so the engine treats every network alike.
import type { RandomBytes } from '../ipam/ids.js';
import type { Journal } from '../kernel/ops.js';
import type { Netns } from '../kernel/netns.js';
import type { Rtnl } from '../kernel/rtnl.js';
import type { DriverName, EndpointRecord, NetworkRecord, NetworkSettings } from '../store/model.js';
import type { DriverTraits } from './traits.js';

/** Runs a named step and registers its undo (the engine's Transaction fits this shape). */
export interface Steps {
  step<T>(name: string, run: () => Promise<T> | T, undo?: (result: T) => Promise<void> | void): Promise<T>;
  /** Registers an undo for a change to records (not a kernel step). */
  onRollback(name: string, undo: () => Promise<void> | void): void;
}

/** Where a network's overlay namespace lives on this host. */
export interface OverlayPlace {
  /** Namespace file (under the runtime dir). */
  netns: string;
  /** Its second name, for `ip netns exec 1-...`. */
  alias: string;
  /** Directory of that second name. */
  aliasDir: string;
}

/**
 * The cluster store as the overlay driver sees it. The engine implements it
 * (engine/overlay/services.ts) and hands it over through DriverEnv, so the
 * driver never imports the engine or the etcd client.
 */
export interface OverlayServices {
  /** Claims an address in the cluster store and publishes the endpoint for the other hosts (withdrawn if the operation fails). */
  claimEndpoint(steps: Steps, req: EndpointRequest): Promise<EndpointRecord>;
  /** Withdraws an endpoint from the cluster store (best effort: warns when the store is unreachable). */
  withdrawEndpoint(net: NetworkRecord, ep: EndpointRecord, containerName: string): Promise<void>;
  /** This host's underlay address, the source of its VXLAN packets. */
  vtep(): Promise<string>;
  /** Where network `networkId`'s namespace lives on this host. */
  place(networkId: string): OverlayPlace;
  /** Programs the other hosts' endpoints of `net` into its namespace here, and makes sure the host agent runs. */
  programPeers(net: NetworkRecord): Promise<void>;
  /** Forgets what was programmed for a network whose namespace is gone. */
  forgetPeers(networkId: string): void;
}

/** Kernel access (and cluster access) a driver may use during one operation. */
export interface DriverEnv {
  readonly journal: Journal;
  readonly dryRun: boolean;
  readonly random: RandomBytes;
  hostNs(): Netns;
  hostRtnl(): Rtnl;
  rtnlIn(ns: Netns): Rtnl;
  /** Registers a namespace handle opened by the driver so the operation closes it. */
  adopt(ns: Netns): Netns;
  /** The cluster store, for overlay networks (absent where no cluster is reachable, e.g. in unit tests). */
  overlay?(): Promise<OverlayServices>;
}

/** What `network create` was asked (the CLI's flags, before any driver has looked at them). */
export interface NetworkRequest {
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  aux: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

/** A sandbox asking for an endpoint on a network. */
export interface EndpointRequest {
  env: DriverEnv;
  net: NetworkRecord;
  container: { id: string; name: string };
  spec: { aliases: string[]; staticIp?: string; mac?: string };
}

export interface EndpointJoin {
  env: DriverEnv;
  steps: Steps;
  net: NetworkRecord;
  ep: EndpointRecord;
  sandboxNs: Netns;
  sandboxName: string;
  /** Only the first network a sandbox joins provides its default route (Docker's gateway endpoint). */
  defaultRoute: boolean;
}

export interface LeaveOptions {
  /** The sandbox's namespace is about to be deleted (and every link inside it with it). */
  sandboxGoing?: boolean;
  /** No other sandbox on this host stays on the network after this one leaves. */
  lastHere?: boolean;
  /** The container's name, for messages. */
  containerName?: string;
}

/** One difference between what should exist and what the kernel has, with its repair when there is one. */
export interface Finding {
  /** What it belongs to, as "network NAME" or "container NAME". */
  owner: string;
  problem: string;
  /** The repair, as steps of one transaction the caller runs (undone if a later step fails). */
  fix?: (steps: Steps) => Promise<unknown> | unknown;
}

/** What the driver reads from the kernel to compare with the store (gathered once per check). */
export interface KernelView {
  /** The links in plumb's own namespace, by name. */
  hostLinks: ReadonlyMap<string, { up: boolean; master?: string; mtu?: number }>;
  /** Flags of the ports of plumb's bridges, by port name (read once per check). */
  bridgePorts?: ReadonlyMap<string, { hairpin: boolean }>;
}

/** A node of the network graph: a kernel object a driver made or relies on. */
export interface GraphNode {
  id: string;
  kind: 'bridge' | 'veth' | 'interface' | 'namespace' | 'vxlan' | 'parent' | 'host';
  label: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
}

export interface Description {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface NetworkDriver extends DriverTraits {
  readonly name: DriverName;
  /**
   * Validates the request's options (-o, --internal, IPAM flags) against the
   * networks that exist and returns the driver's typed settings (its variant
   * of the record, keyed by `driver`), which become part of the network
   * record. Throws DriverError naming the bad option.
   */
  configure(req: NetworkRequest, existing: readonly NetworkRecord[], id: string): NetworkSettings;
  /** Builds the network's kernel objects (its IPAM is already planned in `net`). */
  createNetwork(env: DriverEnv, steps: Steps, net: NetworkRecord): Promise<void>;
  /** Removes them; must tolerate objects that are already gone. */
  deleteNetwork(env: DriverEnv, net: NetworkRecord): Promise<void>;
  /** Hands the sandbox an address on the network (local IPAM, or the cluster store), undone with the operation. */
  addEndpoint(steps: Steps, req: EndpointRequest): Promise<EndpointRecord>;
  /** Gives the address back. */
  removeEndpoint(env: DriverEnv, net: NetworkRecord, ep: EndpointRecord, how?: LeaveOptions): Promise<void>;
  /** Plugs a sandbox into the network: interface, address, routes. Also the repair of an endpoint whose interface is gone. */
  joinEndpoint(j: EndpointJoin): Promise<void>;
  /**
   * Unplugs it; must tolerate an endpoint that is already gone. With
   * `sandboxGoing`, the sandbox's namespace is about to be deleted, which takes
   * every link inside it (and a veth's twin) along: a driver then only undoes
   * what lives outside the sandbox.
   */
  leaveEndpoint(env: DriverEnv, net: NetworkRecord, ep: EndpointRecord, how?: LeaveOptions): Promise<void>;
  /** A sandbox on this network leaves the host through a second endpoint on plumb_gwbridge (overlay). */
  egressThroughGatewayBridge(net: NetworkRecord): boolean;
  /** What should exist for the network on this host vs what the kernel has. */
  checkNetwork(env: DriverEnv, net: NetworkRecord, view: KernelView): Promise<Finding[]>;
  /**
   * What is wrong outside the sandbox with one endpoint (its interface inside
   * is checked by the caller). `rejoin` rebuilds the endpoint with the address
   * it has: the repair when a host end is missing.
   */
  checkEndpoint(env: DriverEnv, net: NetworkRecord, ep: EndpointRecord, view: KernelView, rejoin: Finding['fix']): Promise<Finding[]>;
  /** Namespaces the network itself holds on this host (not its sandboxes'): system check must not take them for leftovers. */
  ownedNamespaces(net: NetworkRecord): OverlayPlace[];
  /** Kernel objects of the network and how they connect, for a graph. */
  describe(net: NetworkRecord, endpoints: ReadonlyArray<{ container: string; ep: EndpointRecord }>): Description;
}
