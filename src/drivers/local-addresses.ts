// Addresses of local networks (bridge, macvlan): handed out from the network's
// own plan, recorded on its record. Overlay addresses come from the cluster
// store instead (see OverlayServices).
import { allocateAddress } from '../ipam/allocator.js';
import { prefixLength } from '../ipam/cidr.js';
import { IpamError } from '../ipam/errors.js';
import { newEndpointId } from '../ipam/ids.js';
import { macFromIp } from '../ipam/mac.js';
import type { EndpointRecord, NetworkRecord } from '../store/model.js';
import { DriverError } from './errors.js';
import type { EndpointRequest, Steps } from './types.js';

/** Hands out the lowest free address (or the requested one) and records it on the network; released if the operation fails. */
export async function allocateLocalEndpoint(steps: Steps, req: EndpointRequest): Promise<EndpointRecord> {
  const { net, spec } = req;
  const ipam = net.ipam;
  if (!ipam) throw new DriverError(`network ${net.name} has no address plan`);
  const requested = spec.staticIp;
  if (requested && !ipam.userSubnet) {
    throw new DriverError('user specified IP address is supported only when connecting to networks with user configured subnets', 125);
  }
  const id = newEndpointId(req.env.random);
  let ip: string;
  try {
    ip = allocateAddress(
      {
        subnet: ipam.subnet,
        gateway: ipam.gateway,
        ipRange: ipam.ipRange,
        auxAddresses: ipam.aux,
        allocated: Object.keys(net.allocated),
        networkName: net.name,
        networkId: net.id,
      },
      requested,
    );
  } catch (err) {
    if (err instanceof IpamError) throw new DriverError(err.message);
    throw err;
  }
  net.allocated[ip] = id;
  steps.onRollback('release address', () => releaseLocalAddress(net, ip));
  return {
    id,
    networkId: net.id,
    ifname: 'eth0',
    ip,
    prefix: prefixLength(ipam.subnet),
    // 02:42 + the four bytes of the address, so learners can see why.
    mac: spec.mac ?? macFromIp(ip),
    aliases: spec.aliases,
    staticIp: requested,
    gateway: net.internal ? undefined : ipam.gateway,
  };
}

export function releaseLocalAddress(net: NetworkRecord, ip: string): void {
  delete net.allocated[ip];
}
