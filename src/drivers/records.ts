// Which variant of NetworkRecord a network is. The record is a union keyed by
// driver (store/model.ts): code outside the drivers that reads one driver's
// own settings (the firewall reads a bridge's name and flags, the graph and
// the doctor draw and check each driver's objects) narrows the record here,
// so comparing driver names stays inside src/drivers/. Pure.
import type { BridgeNetwork, MacvlanNetwork, NetworkCommon, NetworkRecord, NetworkSettings, OverlayNetwork, OverlaySettings } from '../store/model.js';
import { traitsOf } from './traits.js';

/** The network as a bridge network, or undefined when it has another driver (or is undefined). */
export function bridgeNetwork(net: NetworkRecord | undefined): BridgeNetwork | undefined {
  return net?.driver === 'bridge' ? net : undefined;
}

export function macvlanNetwork(net: NetworkRecord | undefined): MacvlanNetwork | undefined {
  return net?.driver === 'macvlan' ? net : undefined;
}

export function overlayNetwork(net: NetworkRecord | undefined): OverlayNetwork | undefined {
  return net?.driver === 'overlay' ? net : undefined;
}

/** The MTU the network's links get: its own `-o com.docker.network.driver.mtu`, else its driver's default (undefined: the kernel's). */
export function networkMtu(net: NetworkRecord): number | undefined {
  const own = net.driver === 'bridge' || net.driver === 'macvlan' || net.driver === 'overlay' ? net.mtu : undefined;
  return own ?? traitsOf(net).defaultMtu;
}

/**
 * A driver's entry points are reached through the driver table, which is
 * keyed by the record's own `driver`: a record of another driver there is a
 * bug, reported as such rather than read as the wrong shape.
 */
function wrongDriver(net: NetworkRecord, expected: string): never {
  throw new Error(`internal error: network ${net.name} has driver ${net.driver}, handed to the ${expected} driver`);
}

export function requireBridge(net: NetworkRecord): BridgeNetwork {
  return bridgeNetwork(net) ?? wrongDriver(net, 'bridge');
}

export function requireMacvlan(net: NetworkRecord): MacvlanNetwork {
  return macvlanNetwork(net) ?? wrongDriver(net, 'macvlan');
}

export function requireOverlay(net: NetworkRecord): OverlayNetwork {
  return overlayNetwork(net) ?? wrongDriver(net, 'overlay');
}

/** What an overlay driver's `configure` made of a request, or an internal error for another driver's settings. */
export function requireOverlaySettings(settings: NetworkSettings): OverlaySettings {
  if (settings.driver === 'overlay') return settings;
  throw new Error(`internal error: the ${settings.driver} driver's settings, where an overlay network's were expected`);
}

/**
 * A new network of this host: the common fields and what its driver's
 * `configure` made of the request. Overlay networks are not made here: their
 * record is the cluster store's definition (it holds the VNI).
 */
export function localNetwork(common: NetworkCommon, settings: NetworkSettings): NetworkRecord {
  if (settings.driver === 'overlay') throw new Error(`internal error: overlay network ${common.name} is defined in the cluster store, not by one host`);
  return { ...common, ...settings };
}
