// A container's naming and resolver settings as `run`/`create` receive them:
// checked and brought to the form the store keeps. The CLI calls this while it
// builds the request, the engine again before it locks the store, so a value
// that would add a line to /etc/hosts, /etc/resolv.conf or /etc/hostname, or
// that the kernel would refuse half-way, is refused before anything is made.
import { isIpv4 } from '../net/address.js';
import { InputError } from './errors.js';
import { formatExtraHost, parseExtraHost } from './extra-hosts.js';
import { validateContainerMac } from './mac.js';
import { validateAlias, validateContainerName, validateHostname } from './names.js';
import { validateDnsOption, validateDnsSearch, validateDnsServer } from './resolver.js';
import { hasControlChars, quote, refuseControlChars } from './text.js';

export interface ContainerConfigInput {
  /** Undefined: a generated name. */
  name?: string;
  image: string;
  network: string;
  hostname?: string;
  aliases: string[];
  ip?: string;
  mac?: string;
  links: Array<{ target: string; alias: string }>;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** `name:ip` */
  extraHosts: string[];
}

export type ContainerConfig = ContainerConfigInput;

/** Checks every field; returns them normalised (MAC lower-case with colons, DNS values trimmed). */
export function normalizeContainerConfig(input: ContainerConfigInput): ContainerConfig {
  // plumb has no images, but the label is printed in tables: Docker's reference grammar has no blanks or controls.
  if (hasControlChars(input.image) || /\s/.test(input.image) || input.image === '') {
    throw new InputError(`invalid reference format: ${quote(input.image)}`);
  }
  const name = input.name === undefined ? undefined : validateContainerName(input.name);
  refuseControlChars(input.network, 'network');
  const hostname = input.hostname === undefined ? undefined : validateHostname(input.hostname);
  const aliases = input.aliases.map((a) => validateAlias(a));
  if (input.ip !== undefined && (hasControlChars(input.ip) || !isIpv4(input.ip))) {
    throw new InputError(`invalid IPv4 address: ${quote(input.ip)} (--ip takes a dotted quad such as 172.18.0.10)`);
  };
  const mac = input.mac === undefined ? undefined : validateContainerMac(input.mac);
  const links = input.links.map((l) => {
    refuseControlChars(l.target, 'link target');
    return { target: l.target, alias: validateAlias(l.alias, 'link alias') };
  });
  return {
    name,
    image: input.image,
    network: input.network,
    hostname,
    aliases,
    ip: input.ip,
    mac,
    links,
    dns: input.dns.map(validateDnsServer),
    dnsSearch: input.dnsSearch.map(validateDnsSearch),
    dnsOptions: input.dnsOptions.map(validateDnsOption),
    extraHosts: input.extraHosts.map((h) => formatExtraHost(parseExtraHost(h))),
  };
}
