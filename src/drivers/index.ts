// The driver for a network record. host and null networks have no kernel
// objects of their own: a sandbox on them is handled by the engine's modes.
import type { DriverName } from '../store/model.js';
import { bridgeDriver } from './bridge.js';
import { macvlanDriver } from './macvlan.js';
import { overlayDriver } from './overlay.js';
import type { NetworkDriver } from './types.js';

const DRIVERS: Partial<Record<DriverName, NetworkDriver>> = {
  bridge: bridgeDriver,
  macvlan: macvlanDriver,
  overlay: overlayDriver,
};

export function driverFor(name: DriverName): NetworkDriver | undefined {
  return DRIVERS[name];
}
