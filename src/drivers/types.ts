// What a network driver is and what it is given. Drivers sit below the engine:
// they receive kernel handles and a step runner, never the engine itself.
import type { Journal } from '../kernel/ops.js';
import type { Netns } from '../kernel/netns.js';
import type { Rtnl } from '../kernel/rtnl.js';
import type { EndpointRecord, NetworkRecord } from '../store/model.js';

/** Runs a named step and registers its undo (the engine's Transaction fits this shape). */
export interface Steps {
  step<T>(name: string, run: () => Promise<T> | T, undo?: (result: T) => Promise<void> | void): Promise<T>;
}

/** Kernel access a driver may use during one operation. */
export interface DriverEnv {
  readonly journal: Journal;
  readonly dryRun: boolean;
  hostNs(): Netns;
  hostRtnl(): Rtnl;
  rtnlIn(ns: Netns): Rtnl;
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
  sandboxGoing?: boolean;
}

export interface NetworkDriver {
  /** Builds the network's kernel objects (its IPAM is already planned in `net`). */
  createNetwork(env: DriverEnv, steps: Steps, net: NetworkRecord): Promise<void>;
  /** Removes them; must tolerate objects that are already gone. */
  deleteNetwork(env: DriverEnv, net: NetworkRecord): Promise<void>;
  /** Plugs a sandbox into the network: interface, address, routes. Sets ep.hostVeth etc. as needed. */
  joinEndpoint(j: EndpointJoin): Promise<void>;
  /**
   * Unplugs it; must tolerate an endpoint that is already gone. With
   * `sandboxGoing`, the sandbox's namespace is about to be deleted, which takes
   * every link inside it (and a veth's twin) along: a driver then only undoes
   * what lives outside the sandbox.
   */
  leaveEndpoint(env: DriverEnv, net: NetworkRecord, ep: EndpointRecord, how?: LeaveOptions): Promise<void>;
}
