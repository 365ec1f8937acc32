// The hop checks of each driver that builds kernel objects.
import type { DriverName } from '../../store/model.js';
import { bridgeHops } from './bridge.js';
import { macvlanHops } from './macvlan.js';
import { overlayHops } from './overlay.js';
import type { DriverHops } from './types.js';

const HOPS: Partial<Record<DriverName, DriverHops>> = { bridge: bridgeHops, macvlan: macvlanHops, overlay: overlayHops };

export function hopsFor(driver: DriverName): DriverHops | undefined {
  return HOPS[driver];
}
