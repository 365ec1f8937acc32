// The driver of a network record, and of a `network create -d NAME` request.
import type { DriverName } from '../store/model.js';
import { bridgeDriver } from './bridge.js';
import { hostDriver, nullDriver } from './builtin.js';
import { DriverError } from './errors.js';
import { macvlanDriver } from './macvlan.js';
import { overlayDriver } from './overlay.js';
import type { NetworkDriver } from './types.js';

const DRIVERS: Record<DriverName, NetworkDriver> = {
  bridge: bridgeDriver,
  macvlan: macvlanDriver,
  overlay: overlayDriver,
  host: hostDriver,
  null: nullDriver,
};

export function driverFor(name: DriverName): NetworkDriver {
  return DRIVERS[name];
}

/** The driver `-d NAME` asks for, or a one-line refusal naming the drivers there are. */
export function requestedDriver(name: string): NetworkDriver {
  if (Object.hasOwn(DRIVERS, name)) return DRIVERS[name as DriverName];
  throw new DriverError(`plugin "${name}" not found: this version of plumb supports -d bridge, -d macvlan and -d overlay (host and none are built in)`);
}
