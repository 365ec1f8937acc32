// Keeps each sandbox's /etc/hosts and /etc/resolv.conf in step with the store:
// its own addresses, --add-host entries, legacy links (which follow their
// target to a new address), and the resolver it should use.
import type { ContainerRecord, StoreData } from '../../store/model.js';
import { sandboxDir } from '../../store/paths.js';
import { containersWhere, findContainer, findNetwork } from '../../store/store.js';
import { resolveHostGateway } from '../../validate/extra-hosts.js';
import type { Context } from '../core/context.js';
import { readHostResolvConf, renderHosts, renderResolvConf, writeSandboxFiles } from './etc-files.js';
import { legacyLinkEndpoint, usesLegacyLinks } from './links.js';

/** Whether the container is on a user-defined network (embedded DNS, no legacy link entries). */
export function onUserNetwork(data: StoreData, c: ContainerRecord): boolean {
  return c.networks.some((n) => {
    const net = data.networks[n.networkId];
    return !!net && net.name !== 'bridge';
  });
}

export function writeEtcFiles(ctx: Context, data: StoreData, c: ContainerRecord): void {
  const links = c.links
    .map((l) => {
      const t = findContainer(data, l.target);
      const ip = t && legacyLinkEndpoint(data, t)?.ip;
      return t && ip ? { ip, alias: l.alias, id12: t.id.slice(0, 12), name: t.name } : undefined;
    })
    .filter((l): l is NonNullable<typeof l> => !!l);
  const hosts = renderHosts({
    extraHosts: resolveHostGateway(c.extraHosts, findNetwork(data, 'bridge')?.ipam?.gateway),
    // Links are hosts lines only for a container started on the default bridge; on user networks the DNS answers them.
    links: usesLegacyLinks(data, c) ? links : [],
    own: Object.values(c.endpoints)
      .filter((e) => !c.hostsLines || c.hostsLines.includes(e.networkId))
      .map((e) => ({ ip: e.ip })),
    hostname: c.hostname,
  });
  const resolvConf = renderResolvConf({
    embeddedDns: c.embeddedDns ?? onUserNetwork(data, c),
    dns: c.dns,
    dnsSearch: c.dnsSearch,
    dnsOptions: c.dnsOptions,
    hostResolvConf: readHostResolvConf(),
  });
  writeSandboxFiles(ctx.journal, sandboxDir(ctx.paths, c.id), { hosts, resolvConf, hostname: c.hostname }, {
    hosts: whyHosts(c, usesLegacyLinks(data, c) ? links : []),
    resolvConf: whyResolvConf(c.embeddedDns ?? onUserNetwork(data, c), c.dns.length > 0),
  });
}

function whyHosts(c: ContainerRecord, links: Array<{ alias: string; name: string; ip: string }>): string {
  const base = `${c.name}'s /etc/hosts: localhost, then its own address${Object.keys(c.endpoints).length > 1 ? 'es' : ''} under its hostname ${c.hostname}`;
  if (!links.length) return base;
  const named = links.map((l) => `${l.alias} (${l.name}, ${l.ip})`).join(', ');
  return (
    `${base}, and for --link: ${named}. A link is one-way: only ${c.name} gets these lines (IP, alias, short ID, name); ` +
    `the linked container's own files are not touched, so it cannot call ${c.name} by name. The default bridge has no DNS: this file is the whole mechanism`
  );
}

function whyResolvConf(embedded: boolean, custom: boolean): string {
  if (embedded) {
    return "on a user-defined network the container asks plumb's embedded DNS at 127.0.0.11, which knows the names of the containers it shares a network with and forwards the rest to the host's resolvers";
  }
  return custom
    ? 'the --dns servers asked for'
    : "the default bridge has no embedded DNS: the host's resolvers, without any on 127.x (the sandbox has its own loopback, where they do not run)";
}

/** Rewrites the hosts files of running containers that link to `target` (its address changed). */
export function refreshLinkers(ctx: Context, data: StoreData, target: ContainerRecord): void {
  for (const c of containersWhere(data, 'links')) {
    if (c.state === 'running' && c.links.some((l) => findContainer(data, l.target)?.id === target.id)) writeEtcFiles(ctx, data, c);
  }
}
