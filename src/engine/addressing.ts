// Glue between the store and the pure IPAM: which subnets are taken on this
// host, a new bridge network's address plan, and endpoint addresses.
import { allocateAddress, checkSubnetOverlap, validateNetworkConfig } from '../ipam/allocator.js';
import { formatCidr, parseCidr, prefixLength } from '../ipam/cidr.js';
import { IpamError } from '../ipam/errors.js';
import { macFromIp } from '../ipam/mac.js';
import { chooseSubnet, LOCAL_DEFAULT_POOLS } from '../ipam/pools.js';
import type { EndpointRecord, IpamRecord, NetworkRecord, StoreData } from '../store/model.js';
import type { Context } from './context.js';
import { PlumbError } from './errors.js';

/** Subnets already in use: other networks, and the host's own addresses and routes (Docker skips those pools). */
export async function hostNetworksInUse(ctx: Context, data: StoreData): Promise<{ networks: string[]; host: string[] }> {
  const networks = Object.values(data.networks)
    .map((n) => n.ipam?.subnet)
    .filter((s): s is string => !!s);
  const rtnl = ctx.hostRtnl();
  const host: string[] = [];
  for (const a of await rtnl.addresses()) host.push(formatCidr(parseCidr(`${a.address}/${a.prefix}`)));
  for (const r of await rtnl.routes()) if (r.dst && r.dst !== 'default' && r.dst !== '0.0.0.0/0') host.push(r.dst);
  return { networks, host };
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof IpamError) throw new PlumbError(err.message);
    throw err;
  }
}

export function planBridgeIpam(
  req: { subnet?: string; gateway?: string; ipRange?: string; aux: Record<string, string> },
  inUse: { networks: string[]; host: string[] },
  _data: StoreData,
): IpamRecord {
  return wrap(() => {
    if (!req.subnet && (req.gateway || req.ipRange || Object.keys(req.aux).length)) {
      throw new IpamError('ip-range, gateway and aux-address options require the --subnet option', 'INVALID_CONFIG');
    }
    let subnet = req.subnet;
    if (subnet) checkSubnetOverlap(subnet, inUse.networks);
    else subnet = chooseSubnet(LOCAL_DEFAULT_POOLS, [...inUse.networks, ...inUse.host]);
    const cfg = validateNetworkConfig({ subnet, gateway: req.gateway, ipRange: req.ipRange, aux: req.aux });
    return {
      subnet: cfg.subnet,
      gateway: cfg.gateway,
      ipRange: cfg.ipRange,
      aux: cfg.aux,
      userSubnet: !!req.subnet,
      userGateway: !!req.gateway,
    };
  });
}

/** Hands out the lowest free address (or the requested one) and records it on the network. */
export function allocateEndpointAddress(net: NetworkRecord, endpointId: string, requested?: string, mac?: string): EndpointRecord {
  const ipam = net.ipam!;
  if (requested && !ipam.userSubnet) {
    throw new PlumbError('user specified IP address is supported only when connecting to networks with user configured subnets', 125);
  }
  const ip = wrap(() =>
    allocateAddress(
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
    ),
  );
  net.allocated[ip] = endpointId;
  return {
    id: endpointId,
    networkId: net.id,
    ifname: 'eth0',
    ip,
    prefix: prefixLength(ipam.subnet),
    mac: mac ?? macFromIp(ip),
    aliases: [],
    staticIp: requested,
  };
}

/** Refuses a static address the network cannot give (outside its subnet, taken), without taking it: run checks this before it builds anything. */
export function checkRequestedAddress(net: NetworkRecord, requested: string): void {
  if (!net.ipam) return;
  if (!net.ipam.userSubnet) {
    throw new PlumbError('user specified IP address is supported only when connecting to networks with user configured subnets', 125);
  }
  wrap(() =>
    allocateAddress(
      { subnet: net.ipam!.subnet, gateway: net.ipam!.gateway, ipRange: net.ipam!.ipRange, auxAddresses: net.ipam!.aux, allocated: Object.keys(net.allocated) },
      requested,
    ),
  );
}

export function releaseEndpointAddress(net: NetworkRecord, ip: string): void {
  delete net.allocated[ip];
}

/**
 * The container that already has `mac` on the network (or, with
 * `configured`, was created asking for it): two interfaces with one MAC on a
 * bridge make the bridge deliver each one's frames to the other. A new
 * --mac-address is checked against both; an endpoint being plugged in only
 * against endpoints that exist, so a container created but not started does
 * not keep others from starting.
 */
export function macHolder(data: StoreData, networkId: string, mac: string, opts: { except?: string; configured?: boolean } = {}): string | undefined {
  const wanted = mac.toLowerCase();
  for (const c of Object.values(data.containers)) {
    if (c.id === opts.except) continue;
    if (c.endpoints[networkId]?.mac?.toLowerCase() === wanted) return c.name;
    if (opts.configured && c.networks.some((n) => n.networkId === networkId && n.mac?.toLowerCase() === wanted)) return c.name;
  }
  return undefined;
}

export function macInUseMessage(mac: string, net: NetworkRecord, holder: string): string {
  return `MAC address ${mac} is already in use on network ${net.name} by container ${holder}: give each container its own --mac-address`;
}
