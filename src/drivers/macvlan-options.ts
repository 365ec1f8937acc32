// The macvlan driver's `-o` options (parent, macvlan_mode), read into a typed
// config when a network is created. Docker's texts where it has them. Pure.
import { InputError } from '../validate/errors.js';
import { hasControlChars, quote } from '../validate/text.js';
import { checkInterfaceName, parseMtuOption } from './bridge-options.js';

export const MACVLAN_MODES = ['bridge', 'vepa', 'private', 'passthru'] as const;
export type MacvlanModeName = (typeof MACVLAN_MODES)[number];

export interface MacvlanConfig {
  parent: string;
  mode: MacvlanModeName;
  mtu?: number;
}

export function parseMacvlanOptions(options: Readonly<Record<string, string>>): MacvlanConfig {
  for (const [key, value] of Object.entries(options)) {
    if (hasControlChars(key) || hasControlChars(value)) {
      throw new InputError(`invalid option ${quote(`${key}=${value}`)}: control characters (newline, tab, ...) are not allowed`);
    }
  }
  const parent = options.parent;
  if (!parent) throw new InputError('-o parent=IFACE is required: this version of plumb does not create dummy parents for macvlan networks');
  checkInterfaceName(parent, 'macvlan parent');
  const mode = options.macvlan_mode || 'bridge';
  if (!(MACVLAN_MODES as readonly string[]).includes(mode)) {
    throw new InputError(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
  }
  const mtu = options['com.docker.network.driver.mtu'];
  return { parent, mode: mode as MacvlanModeName, mtu: mtu === undefined ? undefined : parseMtuOption('com.docker.network.driver.mtu', mtu) };
}
