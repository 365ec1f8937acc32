// The bridge driver's `-o` options, read into a typed config when a network is
// created (bridgeDriver.configure, and the engine's check before anything is
// written), so nothing unusable reaches the store: a host_binding_ipv4 of
// `1.2.3.4 -j ACCEPT` would otherwise end up in every later iptables-restore.
// Docker's parser (libnetwork's bridge fromLabels) and texts. Pure.
import { isIpv4, isIpv6 } from '../net/address.js';
import { DriverError } from './errors.js';
import { boolOption, checkInterfaceName, checkOptionKeys, mtuOption, optionParseError, ownOption } from './options.js';

const BRIDGE_OPT = 'com.docker.network.bridge.';
export const BRIDGE_OPTIONS = {
  name: `${BRIDGE_OPT}name`,
  icc: `${BRIDGE_OPT}enable_icc`,
  masquerade: `${BRIDGE_OPT}enable_ip_masquerade`,
  hostBindingIpv4: `${BRIDGE_OPT}host_binding_ipv4`,
  defaultBridge: `${BRIDGE_OPT}default_bridge`,
  mtu: 'com.docker.network.driver.mtu',
} as const;

export interface BridgeConfig {
  /** The kernel name asked for; undefined = br-<id>. */
  bridgeName?: string;
  icc: boolean;
  masquerade: boolean;
  /** Host address for -p values that name none. */
  hostBindingIpv4: string;
  defaultBridge: boolean;
  mtu?: number;
}

export function parseBridgeOptions(options: Readonly<Record<string, string>>): BridgeConfig {
  checkOptionKeys(options, Object.values(BRIDGE_OPTIONS), 'bridge');
  const name = ownOption(options, BRIDGE_OPTIONS.name);
  const binding = ownOption(options, BRIDGE_OPTIONS.hostBindingIpv4);
  if (binding !== undefined) {
    if (isIpv6(binding)) {
      throw new DriverError(`invalid ${BRIDGE_OPTIONS.hostBindingIpv4} ${binding}: plumb publishes ports on IPv4 host addresses only`);
    }
    if (!isIpv4(binding)) throw optionParseError(BRIDGE_OPTIONS.hostBindingIpv4, binding, 'nil ip');
  }
  return {
    bridgeName: name === undefined ? undefined : checkInterfaceName(name, 'bridge name'),
    icc: boolOption(options, BRIDGE_OPTIONS.icc, true),
    masquerade: boolOption(options, BRIDGE_OPTIONS.masquerade, true),
    hostBindingIpv4: binding ?? '0.0.0.0',
    defaultBridge: boolOption(options, BRIDGE_OPTIONS.defaultBridge, false),
    mtu: mtuOption(options),
  };
}
