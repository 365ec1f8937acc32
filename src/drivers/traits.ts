// What the rest of plumb may know about a driver without loading it: static
// facts, one table, no kernel code (the DNS resolver process reads it too).
// Anything that depends on which driver a network has asks here or asks the
// driver (drivers/types.ts), never compares driver names.
import type { DriverName } from '../store/model.js';

export interface DriverTraits {
  /** 'global' networks are defined in the cluster store, once for every host. */
  readonly scope: 'local' | 'global';
  /** Its containers' traffic is routed by this host: ip_forward, the FORWARD policy, plumb's iptables rules for the network. */
  readonly routesThroughHost: boolean;
  /** Its gateway address is on a link of plumb's own namespace, where the embedded resolver listens. */
  readonly gatewayOnHost: boolean;
  /**
   * Containers on it find each other by name through the embedded DNS (user-defined networks of this driver).
   * Where the gateway is not on the host, the resolver listens inside the sandbox (dns/sandbox-path.ts).
   */
  readonly embeddedNames: boolean;
  /** Its containers reach the outside through a second endpoint on plumb_gwbridge, which holds their default route. */
  readonly egressViaGatewayBridge: boolean;
  /** The host can reach its containers (a macvlan parent never delivers frames to its own children). */
  readonly hostReachesContainers: boolean;
  /** The MTU its endpoints get when the network sets none. */
  readonly defaultMtu?: number;
  /** Whether `run --network` / `network connect` may give a sandbox an endpoint on it. */
  readonly attach: { readonly run: boolean; readonly connect: boolean };
  /** Built-in networks that are a network mode instead of an endpoint (`--network host`, `--network none`). */
  readonly mode?: 'host' | 'none';
}

export const DRIVER_TRAITS: Readonly<Record<DriverName, DriverTraits>> = {
  bridge: { scope: 'local', routesThroughHost: true, gatewayOnHost: true, embeddedNames: true, egressViaGatewayBridge: false, hostReachesContainers: true, defaultMtu: 1500, attach: { run: true, connect: true } },
  macvlan: { scope: 'local', routesThroughHost: false, gatewayOnHost: false, embeddedNames: true, egressViaGatewayBridge: false, hostReachesContainers: false, attach: { run: true, connect: true } },
  overlay: { scope: 'global', routesThroughHost: false, gatewayOnHost: false, embeddedNames: true, egressViaGatewayBridge: true, hostReachesContainers: true, defaultMtu: 1450, attach: { run: true, connect: false } },
  host: { scope: 'local', routesThroughHost: false, gatewayOnHost: false, embeddedNames: false, egressViaGatewayBridge: false, hostReachesContainers: true, attach: { run: false, connect: false }, mode: 'host' },
  null: { scope: 'local', routesThroughHost: false, gatewayOnHost: false, embeddedNames: false, egressViaGatewayBridge: false, hostReachesContainers: false, attach: { run: false, connect: false }, mode: 'none' },
};

export function traitsOf(net: { driver: DriverName }): DriverTraits {
  return DRIVER_TRAITS[net.driver];
}
