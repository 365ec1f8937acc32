// Endpoints: one sandbox joined to one network. The network's driver hands
// out the address and does the kernel work; the engine records the endpoint,
// names its interface, and adds the plumb_gwbridge endpoint a driver asks for.
import { traitsOf } from '../../drivers/traits.js';
import { driverFor } from '../../drivers/index.js';
import type { LeaveOptions } from '../../drivers/types.js';
import type { Netns } from '../../kernel/netns.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import type { Transaction } from '../core/transaction.js';
import { macHolder, macInUseMessage } from './addressing.js';
import { driverEnv } from './driver-env.js';
import { joinGatewayBridge } from './gateway-bridge.js';

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
  const driver = driverFor(net.driver);
  const env = driverEnv(ctx);
  const ep = await driver.addEndpoint(tx, { env, net, container: { id: c.id, name: c.name }, spec });
  const holder = macHolder(data, net.id, ep.mac, { except: c.id, derived: !spec.mac });
  if (holder) throw new PlumbError(macInUseMessage(ep.mac, net, holder), 125);
  ep.ifname = nextIfname(c);
  // A second endpoint for the way out takes the default route instead (Docker's gateway endpoint).
  const viaGatewayBridge = driver.egressThroughGatewayBridge(net);
  await driver.joinEndpoint({ env, steps: tx, net, ep, sandboxNs: ns, sandboxName: c.name, defaultRoute: defaultRoute && !viaGatewayBridge });
  c.endpoints[net.id] = ep;
  tx.onRollback('endpoint record', () => {
    delete c.endpoints[net.id];
  });
  if (viaGatewayBridge) {
    const gwEp = await joinGatewayBridge(ctx, data, tx, (gw) => attachEndpoint(ctx, data, c, tx, { networkId: gw.id, aliases: [] }, ns, defaultRoute));
    // Docker names this endpoint gateway_<sandbox id>; it is not one of the container's networks.
    gwEp.aliases = [];
  }
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
  if (net) {
    const driver = driverFor(net.driver);
    const env = driverEnv(ctx);
    // Local networks know their endpoints by address; only a global one (overlay) reads every container to tell.
    const lastHere =
      traitsOf(net).scope === 'local'
        ? !Object.values(net.allocated).some((id) => id !== ep.id)
        : !Object.values(data.containers).some((o) => o.id !== c.id && o.endpoints[net.id]);
    const opts = { ...how, lastHere, containerName: c.name };
    await driver.leaveEndpoint(env, net, ep, opts);
    delete c.endpoints[ep.networkId];
    await driver.removeEndpoint(env, net, ep, opts);
    return;
  }
  delete c.endpoints[ep.networkId];
}
