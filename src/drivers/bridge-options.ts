// The bridge driver's `-o` options, read into a typed config when a network is
// created, so nothing unusable reaches the store: a host_binding_ipv4 of
// `1.2.3.4 -j ACCEPT` would otherwise end up in every later iptables-restore.
// Docker's parser (libnetwork's bridge fromLabels) and texts: `failed to parse
// <key> value: <value> (<why>)`. Pure.
import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from '../validate/errors.js';
import { hasControlChars, quote } from '../validate/text.js';

export const BRIDGE_OPTION = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBindingIpv4: 'com.docker.network.bridge.host_binding_ipv4',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  mtu: 'com.docker.network.driver.mtu',
} as const;

const KNOWN: ReadonlySet<string> = new Set(Object.values(BRIDGE_OPTION));

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

function parseErr(key: string, value: string, why: string): InputError {
  return new InputError(`failed to parse ${key} value: ${hasControlChars(value) ? quote(value) : value} (${why})`);
}

/** Go's strconv.ParseBool: exactly these spellings. */
export function parseGoBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw parseErr(key, value, `strconv.ParseBool: parsing ${quote(value)}: invalid syntax`);
}

/** Kernel interface names: 1-15 bytes, no '/', no blanks; plumb keeps to letters, digits, '_', '.', '-'. */
export function checkInterfaceName(name: string, what: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new InputError(`invalid ${what} ${quote(name)}: interface names are 1-15 characters of letters, digits, '_', '.' and '-'`);
  }
  return name;
}

/** MTU of a network's links; the kernel takes 68 (IPv4's minimum) to 65535. */
export function parseMtuOption(key: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) throw parseErr(key, value, `strconv.Atoi: parsing ${quote(value)}: invalid syntax`);
  const mtu = Number(value);
  if (mtu < 68 || mtu > 65535) throw new InputError(`invalid MTU ${mtu}: use a number from 68 to 65535`);
  return mtu;
}

export function parseBridgeOptions(options: Readonly<Record<string, string>>): BridgeConfig {
  for (const [key, value] of Object.entries(options)) {
    if (hasControlChars(key) || hasControlChars(value)) {
      throw new InputError(`invalid option ${quote(`${key}=${value}`)}: control characters (newline, tab, ...) are not allowed`);
    }
    if (key.startsWith('com.docker.network.') && !KNOWN.has(key)) throw new InputError(`unknown bridge option ${key}`);
  }
  const get = (k: string): string | undefined => (Object.prototype.hasOwnProperty.call(options, k) ? options[k] : undefined);
  const bool = (k: string, fallback: boolean): boolean => {
    const v = get(k);
    return v === undefined ? fallback : parseGoBool(k, v);
  };
  const name = get(BRIDGE_OPTION.name);
  const binding = get(BRIDGE_OPTION.hostBindingIpv4);
  if (binding !== undefined) {
    if (isIPv6(binding)) {
      throw new InputError(`invalid ${BRIDGE_OPTION.hostBindingIpv4} ${binding}: plumb publishes ports on IPv4 host addresses only`);
    }
    if (!isIPv4(binding)) throw parseErr(BRIDGE_OPTION.hostBindingIpv4, binding, 'nil ip');
  }
  const mtu = get(BRIDGE_OPTION.mtu);
  return {
    bridgeName: name === undefined ? undefined : checkInterfaceName(name, 'bridge name'),
    icc: bool(BRIDGE_OPTION.icc, true),
    masquerade: bool(BRIDGE_OPTION.masquerade, true),
    hostBindingIpv4: binding ?? '0.0.0.0',
    defaultBridge: bool(BRIDGE_OPTION.defaultBridge, false),
    mtu: mtu === undefined ? undefined : parseMtuOption(BRIDGE_OPTION.mtu, mtu),
  };
}
