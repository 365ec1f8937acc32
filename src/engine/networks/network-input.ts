// Everything about a `network create` request that can be checked before the
// store is locked or the kernel touched: the name, labels and the IPAM flags,
// the driver's options (through the driver's own configure, the same rules
// that build the record), and the shape of the address plan. A request
// refused here leaves no trace. What needs the store (a taken name, bridge
// name or macvlan parent, an overlapping subnet) is checked under the lock,
// still before any change.
import { DriverError } from '../../drivers/errors.js';
import type { NetworkDriver, NetworkRequest } from '../../drivers/types.js';
import { validateNetworkConfig } from '../../ipam/allocator.js';
import { IpamError } from '../../ipam/errors.js';
import { InputError } from '../../validate/errors.js';
import { validateNetworkName } from '../../validate/names.js';
import { hasControlChars, quote } from '../../validate/text.js';
import { PlumbError } from '../core/errors.js';

/** An id no network has: the driver's settings are checked without the networks that exist (those clashes are checked under the lock). */
const PROBE_ID = '0'.repeat(64);

function refuseControl(pairs: Readonly<Record<string, string>>, what: string): void {
  for (const [k, v] of Object.entries(pairs)) {
    if (hasControlChars(k) || hasControlChars(v)) {
      throw new InputError(`invalid ${what} ${quote(`${k}=${v}`)}: control characters (newline, tab, ...) are not allowed`);
    }
  }
}

function checkRequest(req: NetworkRequest, driver: NetworkDriver): void {
  validateNetworkName(req.name);
  for (const [value, what] of [[req.driver, 'driver'], [req.subnet, 'subnet'], [req.gateway, 'gateway'], [req.ipRange, 'ip-range']] as const) {
    if (value !== undefined && hasControlChars(value)) throw new InputError(`invalid ${what} ${quote(value)}: control characters (newline, tab, ...) are not allowed`);
  }
  refuseControl(req.labels, 'label');
  refuseControl(req.aux, 'aux-address');
  refuseControl(req.options, 'option');
  driver.configure(req, [], PROBE_ID);
  if (req.subnet) {
    try {
      validateNetworkConfig({ subnet: req.subnet, gateway: req.gateway, ipRange: req.ipRange, aux: req.aux });
    } catch (err) {
      if (err instanceof IpamError) throw new InputError(err.message);
      throw err;
    }
  } else if (req.gateway || req.ipRange || Object.keys(req.aux).length) {
    throw new InputError('ip-range, gateway and aux-address options require the --subnet option');
  }
}

/** Refuses a bad request with a one-line error (Docker exits 1 for `network create`). */
export function checkCreateNetworkRequest(req: NetworkRequest, driver: NetworkDriver): void {
  try {
    checkRequest(req, driver);
  } catch (err) {
    if (err instanceof InputError || err instanceof DriverError) throw new PlumbError(err.message, err.exitCode);
    throw err;
  }
}
