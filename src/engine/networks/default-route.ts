// Which of a sandbox's endpoints holds its default route: the one rule that
// `run`, `network connect` / `disconnect` and `system check` / `gc` all follow,
// so what an operation builds is what check expects.
//
// Docker's endpoint order decides it: networks with a gateway (not
// --internal) come first, then by network name. So a container on `un`
// connected to `bridge` has its default route moved to bridge ("bridge" <
// "un"); one on `aaa` connected to `zzz` keeps it on aaa. An overlay network
// has no way out of its own: its containers' default route goes through
// their plumb_gwbridge endpoint instead.
import { traitsOf } from '../../drivers/traits.js';
import { GATEWAY_BRIDGE } from '../../dns/names.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord, StoreData } from '../../store/model.js';

/** Of these networks, the one Docker gives the default route: gateway-bearing (not internal) first, then by name. */
export function gatewayNetworkId(data: StoreData, networkIds: string[]): string | undefined {
  const nets = networkIds
    .map((id) => data.networks[id])
    .filter((n): n is NetworkRecord => !!n && !n.internal && !!n.ipam?.gateway);
  nets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return nets[0]?.id;
}

/**
 * The endpoint whose gateway the sandbox's default route goes through, among
 * those it has now (c.endpoints), by the container's own networks (not the
 * plumb_gwbridge endpoint an overlay adds, which is no network of its own).
 */
export function defaultRouteEndpoint(data: StoreData, c: ContainerRecord): EndpointRecord | undefined {
  const id = gatewayNetworkId(
    data,
    c.networks.map((n) => n.networkId).filter((n) => c.endpoints[n]),
  );
  if (!id) return undefined;
  const net = data.networks[id];
  if (net && traitsOf(net).egressViaGatewayBridge) {
    return Object.values(c.endpoints).find((e) => data.networks[e.networkId]?.name === GATEWAY_BRIDGE && e.gateway);
  }
  const ep = c.endpoints[id];
  return ep?.gateway ? ep : undefined;
}
