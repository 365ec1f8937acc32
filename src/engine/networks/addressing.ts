// Glue between the store and the pure IPAM: which subnets are taken on this
// host, a new local network's address plan, and which container already holds
// a MAC on a network (endpoint addresses are the drivers':
// drivers/local-addresses.ts, or the cluster store for overlay).
import { containersWhere } from '../../store/store.js';
import { checkSubnetOverlap, validateNetworkConfig } from '../../ipam/allocator.js';
import { formatCidr, parseCidr } from '../../ipam/cidr.js';
import { IpamError } from '../../ipam/errors.js';
import { chooseSubnet, LOCAL_DEFAULT_POOLS } from '../../ipam/pools.js';
import type { IpamRecord, NetworkRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';

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

/**
 * The container that already has `mac` on the network (or, with
 * `configured`, was created asking for it): two interfaces with one MAC on a
 * bridge make the bridge deliver each one's frames to the other. A new
 * --mac-address is checked against both; an endpoint being plugged in only
 * against endpoints that exist, so a container created but not started does
 * not keep others from starting.
 *
 * With `derived` (a MAC made from the endpoint's own address, which no other
 * endpoint on the network has), only a MAC someone asked for can be the
 * same: just the containers created with --mac-address are read.
 */
export function macHolder(
  data: StoreData,
  networkId: string,
  mac: string,
  opts: { except?: string; configured?: boolean; derived?: boolean } = {},
): string | undefined {
  const wanted = mac.toLowerCase();
  for (const c of opts.derived ? containersWhere(data, 'macs') : Object.values(data.containers)) {
    if (c.id === opts.except) continue;
    if (c.endpoints[networkId]?.mac?.toLowerCase() === wanted) return c.name;
    if (opts.configured && c.networks.some((n) => n.networkId === networkId && n.mac?.toLowerCase() === wanted)) return c.name;
  }
  return undefined;
}

export function macInUseMessage(mac: string, net: NetworkRecord, holder: string): string {
  return `MAC address ${mac} is already in use on network ${net.name} by container ${holder}: give each container its own --mac-address`;
}
