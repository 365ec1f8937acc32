// The macvlan driver's `-o` options (parent, macvlan_mode, MTU), read into a
// typed config when a network is created (macvlanDriver.configure, and the
// engine's check before anything is written). Docker's texts where it has them. Pure.
import { DriverError } from './errors.js';
import { checkInterfaceName, checkOptionKeys, MTU_OPTION, mtuOption, ownOption } from './options.js';

export const MACVLAN_MODES = ['bridge', 'vepa', 'private', 'passthru'] as const;
export type MacvlanModeName = (typeof MACVLAN_MODES)[number];

export interface MacvlanConfig {
  parent: string;
  mode: MacvlanModeName;
  mtu?: number;
}

export function parseMacvlanOptions(options: Readonly<Record<string, string>>): MacvlanConfig {
  checkOptionKeys(options, [MTU_OPTION], 'macvlan');
  const parent = ownOption(options, 'parent');
  if (!parent) throw new DriverError('-o parent=IFACE is required: this version of plumb does not create dummy parents for macvlan networks');
  checkInterfaceName(parent, 'macvlan parent');
  const mode = ownOption(options, 'macvlan_mode') || 'bridge';
  if (!(MACVLAN_MODES as readonly string[]).includes(mode)) {
    throw new DriverError(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
  }
  return { parent, mode: mode as MacvlanModeName, mtu: mtuOption(options) };
}
