// Everything about a `network create` request that can be checked before the
// store is locked or the kernel touched: the name, the driver's options (each
// driver parses its own), labels, and the shape of the address plan. A
// request refused here leaves no trace. Overlap with other networks needs the
// store and is checked under the lock, still before any change.
import { parseBridgeOptions } from '../drivers/bridge-options.js';
import { parseMacvlanOptions } from '../drivers/macvlan-options.js';
import { validateNetworkConfig } from '../ipam/allocator.js';
import { IpamError } from '../ipam/errors.js';
import { InputError } from '../validate/errors.js';
import { validateNetworkName } from '../validate/names.js';
import { hasControlChars, quote } from '../validate/text.js';
import type { CreateNetworkRequest } from './networks.js';

function refuseControl(pairs: Readonly<Record<string, string>>, what: string): void {
  for (const [k, v] of Object.entries(pairs)) {
    if (hasControlChars(k) || hasControlChars(v)) {
      throw new InputError(`invalid ${what} ${quote(`${k}=${v}`)}: control characters (newline, tab, ...) are not allowed`);
    }
  }
}

export function checkCreateNetworkRequest(req: CreateNetworkRequest): void {
  validateNetworkName(req.name);
  for (const [value, what] of [[req.driver, 'driver'], [req.subnet, 'subnet'], [req.gateway, 'gateway'], [req.ipRange, 'ip-range']] as const) {
    if (value !== undefined && hasControlChars(value)) throw new InputError(`invalid ${what} ${quote(value)}: control characters (newline, tab, ...) are not allowed`);
  }
  refuseControl(req.labels, 'label');
  refuseControl(req.aux, 'aux-address');
  refuseControl(req.options, 'option');
  if (req.driver === 'bridge') parseBridgeOptions(req.options);
  else if (req.driver === 'macvlan') parseMacvlanOptions(req.options);
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
