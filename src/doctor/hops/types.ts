// The checks one driver contributes for what it builds: its network's own
// objects, and each endpoint's hop between the sandbox and that network.
// Shaped to become the `check` method of the driver contract in src/drivers/.
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../../store/model.js';
import type { Facts, NsLinkFacts } from '../facts.js';
import type { HopResult } from '../types.js';

export interface EndpointHop {
  c: ContainerRecord;
  net: NetworkRecord;
  ep: EndpointRecord;
  sandbox: NsLinkFacts;
}

export interface DriverHops {
  /** The network's kernel objects on this host (bridge, parent interface, overlay namespace). */
  network(f: Facts, net: NetworkRecord): Promise<HopResult[]>;
  /** One endpoint: the interface in the sandbox and whatever joins it to the network. */
  endpoint(f: Facts, e: EndpointHop): Promise<HopResult[]>;
  /** The MTU every link of the network should have. */
  mtu(f: Facts, net: NetworkRecord): Promise<number>;
}
