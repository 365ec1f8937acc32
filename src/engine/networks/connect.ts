// Sandboxes on several networks: `network connect` / `network disconnect`,
// which network holds the default route, and each sandbox's path to the
// embedded DNS. Docker's behaviour (reference section 3):
//   - connect adds the next ethN (names are never reused in a sandbox's life)
//     with the next free address, and a second "<ip>\t<hostname>" hosts line;
//   - connecting to a user-defined network switches resolv.conf to 127.0.0.11,
//     and it stays so after disconnect;
//   - disconnect removes the interface and every hosts line of the hostname;
//   - the default route belongs to the first network in Docker's endpoint
//     order (default-route.ts, the one rule check follows too); when the
//     network holding it is disconnected, the next one in that order takes it over.
import type { DnsTarget } from '../../firewall/sandbox-dns.js';
import { applySandboxDns, readSandboxNat } from '../firewall/sandbox-dns.js';
import { configuredPort, ensureResolver, releaseInSandbox, resolverStatus } from '../../dns/service.js';
import { resolverPath } from '../../dns/sandbox-path.js';
import { listenInside } from './resolver-sockets.js';
import { hasEmbeddedNames, reachesResolver } from '../../dns/names.js';
import { traitsOf } from '../../drivers/traits.js';
import type { Netns } from '../../kernel/netns.js';
import type { ContainerRecord, NetworkRecord, StoreData } from '../../store/model.js';
import { findContainer, findNetwork } from '../../store/store.js';
import { reapExited, reapIfEnded } from '../containers/teardown.js';
import type { Context } from '../core/context.js';
import { attachEndpoint, detachEndpoint, type NetworkSpec } from './endpoints.js';
import { PlumbError } from '../core/errors.js';
import { refreshLinkers, writeEtcFiles } from '../containers/etc-sync.js';
import { syncFirewall } from '../firewall/sync.js';
import { Transaction } from '../core/transaction.js';
import { defaultRouteEndpoint } from './default-route.js';

export { gatewayNetworkId } from './default-route.js';
import { isIpv4 } from '../../net/address.js';
import { InputError } from '../../validate/errors.js';
import { validateAlias } from '../../validate/names.js';
import { hasControlChars, quote } from '../../validate/text.js';

/** Whether the sandbox's resolv.conf should name the embedded DNS: it is on a user-defined network. */
export function needsEmbeddedDns(data: StoreData, c: ContainerRecord): boolean {
  return c.networks.some((n) => hasEmbeddedNames(data.networks[n.networkId]));
}

function ifIndex(ifname: string): number {
  return Number(ifname.replace(/^eth/, '')) || 0;
}

/**
 * Where the sandbox's DNS queries go: through its first user-defined bridge
 * network, else any bridge network it is on (an overlay container: its
 * plumb_gwbridge endpoint; the overlay's own gateway is not in plumb's namespace).
 * None for a macvlan-only sandbox: the resolver listens inside it instead.
 */
export function dnsTarget(data: StoreData, c: ContainerRecord, port: number): DnsTarget | undefined {
  const eps = Object.values(c.endpoints).sort((a, b) => ifIndex(a.ifname) - ifIndex(b.ifname));
  const usable = eps.filter((e) => reachesResolver(data.networks[e.networkId]));
  const ep = usable.find((e) => hasEmbeddedNames(data.networks[e.networkId])) ?? usable[0];
  return ep ? { gateway: data.networks[ep.networkId]!.ipam!.gateway, ownIp: ep.ip, port } : undefined;
}

/**
 * Starts the resolver if needed and (re)points the sandbox's 127.0.0.11 at it:
 * nat rules to a gateway, or (no gateway on the host: macvlan) the resolver's
 * own sockets inside the sandbox (dns/sandbox-path.ts). `tx`: a start or
 * connect that may still roll back, taking those sockets back with it.
 */
export async function syncSandboxDns(ctx: Context, data: StoreData, c: ContainerRecord, ns: Netns, fresh: boolean, tx?: Transaction, natRules?: Promise<string>): Promise<void> {
  if (!c.embeddedDns) return;
  const path = resolverPath(data, c);
  // Off the inside path (a bridge joined, or no named network left): the resolver lets go of the sandbox.
  if (!fresh && path !== 'inside' && !ctx.dryRun) await releaseInSandbox(ctx.paths, c.id);
  if (!resolverStatus(ctx.paths)) {
    ctx.journal.narrate(
      `plumb dns serve --state ${ctx.paths.state} --run ${ctx.paths.run} --port ${configuredPort()} &`,
      "start the embedded DNS once per host: a resolver in the host's namespace that answers the names of containers on user-defined networks and forwards other names to the host's resolvers",
    );
  }
  const port = ctx.dryRun ? configuredPort() : (await ensureResolver(ctx.paths)).port;
  if (path !== 'inside') return applySandboxDns(ctx, ns, c.name, dnsTarget(data, c, port), fresh, natRules);
  // A sandbox that had a gateway path keeps nat rules: emptied, so 127.0.0.11 is no longer sent away.
  if (!fresh) await applySandboxDns(ctx, ns, c.name, undefined, false, natRules);
  await listenInside(ctx, c);
  tx?.onRollback('resolver sockets in the sandbox', () => releaseInSandbox(ctx.paths, c.id));
}

export interface ConnectRequest {
  network: string;
  container: string;
  ip?: string;
  aliases: string[];
}

function lookup(data: StoreData, networkRef: string, containerRef: string): { c: ContainerRecord; net: NetworkRecord } {
  const c = findContainer(data, containerRef);
  if (!c) throw new PlumbError(`No such container: ${containerRef}`);
  const net = findNetwork(data, networkRef);
  if (!net) throw new PlumbError(`network ${networkRef} not found`);
  if (traitsOf(net).mode === 'host' || c.networkMode === 'host') {
    throw new PlumbError('container cannot be disconnected from host network or connected to host network');
  }
  return { c, net };
}

export async function connectContainer(ctx: Context, req: ConnectRequest): Promise<void> {
  // Refuse bad input before the store is locked.
  try {
    req = { ...req, aliases: req.aliases.map((a) => validateAlias(a)) };
    if (req.ip !== undefined && (hasControlChars(req.ip) || !isIpv4(req.ip))) {
      throw new InputError(`invalid IPv4 address: ${quote(req.ip)} (--ip takes a dotted quad such as 172.18.0.10)`);
    }
  } catch (err) {
    if (err instanceof InputError) throw new PlumbError(err.message);
    throw err;
  }
  await ctx.store.locked(async (data, commit) => {
    await reapExited(ctx, data);
    await reapIfEnded(ctx, data, lookup(data, req.network, req.container).c);
    const { c, net } = lookup(data, req.network, req.container);
    if (traitsOf(net).mode === 'none' || c.networkMode === 'none') {
      throw new PlumbError('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    }
    if (c.networkMode.startsWith('container:')) {
      throw new PlumbError('container sharing network namespace with another container or host cannot be connected to any other network');
    }
    if (!traitsOf(net).attach.connect) throw new PlumbError(`network ${net.name} uses driver ${net.driver}, which this version of plumb cannot attach containers to`);
    if (c.networks.some((n) => n.networkId === net.id)) throw new PlumbError(`endpoint with name ${c.name} already exists in network ${net.name}`);
    if (!hasEmbeddedNames(net)) {
      if (req.aliases.length) throw new PlumbError('network-scoped alias is supported only for containers in user defined networks');
      if (req.ip) throw new PlumbError('user specified IP address is supported on user defined networks only');
    }
    const spec: NetworkSpec = { networkId: net.id, aliases: req.aliases, staticIp: req.ip };
    await Transaction.run('network connect', async (tx) => {
      c.networks.push(spec);
      tx.onRollback('network list', () => {
        c.networks = c.networks.filter((n) => n !== spec);
      });
      if (c.state === 'running' && c.sandbox?.netns) await joinRunning(ctx, data, c, net, spec, tx);
      commit();
    });
  });
}

async function joinRunning(ctx: Context, data: StoreData, c: ContainerRecord, net: NetworkRecord, spec: NetworkSpec, tx: Transaction): Promise<void> {
  const ns = ctx.openNs(c.sandbox!.netns!, c.name);
  const before = defaultRouteEndpoint(data, c);
  // The sandbox's nat rules are read (an iptables-save) while the endpoint is made.
  const natRules = c.embeddedDns || hasEmbeddedNames(net) ? readSandboxNat(ctx, ns) : undefined;
  await attachEndpoint(ctx, data, c, tx, spec, ns, false);
  const after = defaultRouteEndpoint(data, c);
  if (after && after !== before) {
    const rtnl = ctx.rtnlIn(ns);
    const route = { dst: 'default', via: after.gateway!, dev: after.ifname };
    await tx.step(
      'move default route',
      () =>
        rtnl.replaceRoute(
          route,
          before ? `${net.name} comes first in Docker's order (by network name): the default route moves to it` : `leave the sandbox through the gateway ${after.gateway}`,
        ),
      () =>
        before
          ? rtnl.replaceRoute({ dst: 'default', via: before.gateway!, dev: before.ifname }, 'roll back: the default route goes back')
          : rtnl.deleteRoute(route, 'roll back: no default route'),
    );
  }
  if (c.hostsLines) c.hostsLines.push(net.id);
  const hadDns = !!c.embeddedDns;
  if (hasEmbeddedNames(net)) c.embeddedDns = true;
  tx.onRollback('resolver choice', () => {
    c.embeddedDns = hadDns;
  });
  await syncSandboxDns(ctx, data, c, ns, false, tx, natRules);
  writeEtcFiles(ctx, data, c);
  refreshLinkers(ctx, data, c);
  await syncFirewall(ctx, data, tx, `${c.name} joins ${net.name}`);
}

export interface DisconnectRequest {
  network: string;
  container: string;
  force: boolean;
}

export async function disconnectContainer(ctx: Context, req: DisconnectRequest): Promise<void> {
  await ctx.store.locked(async (data, commit) => {
    await reapExited(ctx, data);
    await reapIfEnded(ctx, data, lookup(data, req.network, req.container).c);
    const { c, net } = lookup(data, req.network, req.container);
    if (!c.networks.some((n) => n.networkId === net.id)) {
      throw new PlumbError(`container ${c.id} is not connected to network ${net.name}`);
    }
    const ep = c.endpoints[net.id];
    if (c.state === 'running' && ep && c.sandbox?.netns) {
      const ns = ctx.openNs(c.sandbox.netns, c.name);
      const before = defaultRouteEndpoint(data, c);
      // The sandbox's nat rules are read (an iptables-save) while the veth's deletion waits on the kernel.
      const natRules = c.embeddedDns ? readSandboxNat(ctx, ns) : undefined;
      try {
        await detachEndpoint(ctx, data, c, net, ep);
      } catch (err) {
        if (!req.force) throw err;
        delete c.endpoints[net.id];
      }
      c.networks = c.networks.filter((n) => n.networkId !== net.id);
      // Docker removes every hosts line carrying the hostname, those of the remaining networks too.
      c.hostsLines = [];
      commit();
      await Transaction.run('network disconnect', async (tx) => {
        const nextEp = defaultRouteEndpoint(data, c);
        if (nextEp && nextEp !== before) {
          const rtnl = ctx.rtnlIn(ns);
          await tx.step('move default route', () =>
            rtnl.replaceRoute({ dst: 'default', via: nextEp.gateway!, dev: nextEp.ifname }, `${net.name} held the default route; ${data.networks[nextEp.networkId]!.name} takes it over`),
          );
        }
        await syncSandboxDns(ctx, data, c, ns, false, undefined, natRules);
        writeEtcFiles(ctx, data, c);
        refreshLinkers(ctx, data, c);
        await syncFirewall(ctx, data, tx, `${c.name} leaves ${net.name}`);
      });
    } else {
      c.networks = c.networks.filter((n) => n.networkId !== net.id);
    }
    commit();
  });
}
