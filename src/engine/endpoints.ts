// Endpoints: one sandbox joined to one network. Allocation of the address,
// the driver's kernel work, and the reverse.
import { driverFor } from '../drivers/index.js';
import type { LeaveOptions } from '../drivers/types.js';
import { newEndpointId } from '../ipam/ids.js';
import type { Netns } from '../kernel/netns.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord, StoreData } from '../store/model.js';
import { allocateEndpointAddress, macHolder, macInUseMessage, releaseEndpointAddress } from './addressing.js';
import type { Context } from './context.js';
import { PlumbError } from './errors.js';
import type { Transaction } from './transaction.js';

export type NetworkSpec = ContainerRecord['networks'][number];

/** Interface names are never reused inside a sandbox (Docker): eth0, eth1, ... counting up. */
export function nextIfname(c: ContainerRecord): string {
  const used = Object.values(c.endpoints).map((e) => Number(e.ifname.replace(/^eth/, '')));
  const next = Math.max(c.nextIfIndex ?? 0, used.length ? Math.max(...used) + 1 : 0);
  c.nextIfIndex = next + 1;
  return `eth${next}`;
}

export async function attachEndpoint(
  ctx: Context,
  data: StoreData,
  c: ContainerRecord,
  tx: Transaction,
  spec: NetworkSpec,
  ns: Netns,
  defaultRoute: boolean,
): Promise<EndpointRecord> {
  const net = data.networks[spec.networkId];
  if (!net) throw new PlumbError(`network ${spec.networkId} not found`);
  // Overlay addresses come from the cluster store, and the join adds a plumb_gwbridge endpoint.
  if (net.driver === 'overlay') return (await import('./overlay-endpoints.js')).attachOverlayEndpoint(ctx, data, c, tx, spec, ns, defaultRoute);
  const driver = driverFor(net.driver);
  if (!driver) throw new PlumbError(`network ${net.name} (driver ${net.driver}) cannot be joined by a sandbox`);
  const ep = allocateEndpointAddress(net, newEndpointId(), spec.staticIp, spec.mac);
  tx.onRollback('release address', () => releaseEndpointAddress(net, ep.ip));
  const holder = macHolder(data, net.id, ep.mac, { except: c.id });
  if (holder) throw new PlumbError(macInUseMessage(ep.mac, net, holder), 125);
  ep.ifname = nextIfname(c);
  ep.aliases = spec.aliases;
  ep.gateway = net.internal ? undefined : net.ipam?.gateway;
  await driver.joinEndpoint({ env: ctx, steps: tx, net, ep, sandboxNs: ns, sandboxName: c.name, defaultRoute });
  c.endpoints[net.id] = ep;
  tx.onRollback('endpoint record', () => {
    delete c.endpoints[net.id];
  });
  return ep;
}

export async function detachEndpoint(
  ctx: Context,
  data: StoreData,
  c: ContainerRecord,
  net: NetworkRecord | undefined,
  ep: EndpointRecord,
  how: LeaveOptions = {},
): Promise<void> {
  if (net?.driver === 'overlay') return (await import('./overlay-endpoints.js')).detachOverlayEndpoint(ctx, data, c, net, ep);
  if (net) {
    await driverFor(net.driver)?.leaveEndpoint(ctx, net, ep, how);
    releaseEndpointAddress(net, ep.ip);
  }
  delete c.endpoints[ep.networkId];
}
