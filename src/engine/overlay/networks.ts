// Overlay networks: defined once in the cluster store, visible from every
// host. Each host keeps a copy of the definitions in its local store (scope
// "global"), refreshed from etcd by the commands that need them, so the rest
// of the engine finds an overlay network like any other.
import { checkSubnetOverlap, validateNetworkConfig } from '../../ipam/allocator.js';
import { IpamError } from '../../ipam/errors.js';
import { newNetworkId } from '../../ipam/ids.js';
import { chooseSubnet, GLOBAL_DEFAULT_POOLS } from '../../ipam/pools.js';
import { clusterConfig } from '../../cluster/config.js';
import { FIRST_VNI, type ClusterEndpoint, type ClusterNetwork } from '../../cluster/records.js';
import { overlayDriver } from '../../drivers/overlay.js';
import { overlayNetwork, requireOverlaySettings } from '../../drivers/records.js';
import type { NetworkDriver, NetworkRequest } from '../../drivers/types.js';
import { DriverError } from '../../drivers/errors.js';
import type { NetworkRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { ensureAgent } from './agent-control.js';
import { withCluster } from './cluster.js';
import { forgetProgrammed } from './peers.js';

/** The lowest VNI from 256 up that no network uses. */
export function nextVni(existing: readonly ClusterNetwork[]): number {
  const used = new Set(existing.map((n) => n.vni));
  let vni = FIRST_VNI;
  while (used.has(vni)) vni++;
  return vni;
}

/** Plans the new network against those that exist everywhere (pure; etcd checks the result again in its transaction). */
export function planOverlayNetwork(req: NetworkRequest, existing: readonly ClusterNetwork[], id: string, driver: NetworkDriver = overlayDriver): ClusterNetwork {
  if (existing.some((n) => n.name === req.name)) throw new PlumbError(`network with name ${req.name} already exists`);
  let mtu: number;
  try {
    mtu = requireOverlaySettings(driver.configure(req, [], id)).mtu;
  } catch (err) {
    if (err instanceof DriverError) throw new PlumbError(err.message);
    throw err;
  }
  try {
    if (!req.subnet && (req.gateway || req.ipRange || Object.keys(req.aux).length)) {
      throw new IpamError('ip-range, gateway and aux-address options require the --subnet option', 'INVALID_CONFIG');
    }
    const taken = existing.map((n) => n.ipam.subnet);
    let subnet = req.subnet;
    if (subnet) checkSubnetOverlap(subnet, taken);
    else subnet = chooseSubnet(GLOBAL_DEFAULT_POOLS, taken);
    const cfg = validateNetworkConfig({ subnet, gateway: req.gateway, ipRange: req.ipRange, aux: req.aux });
    return {
      id,
      name: req.name,
      driver: 'overlay',
      created: new Date().toISOString(),
      internal: req.internal,
      attachable: req.attachable,
      labels: req.labels,
      options: req.options,
      ipam: { subnet: cfg.subnet, gateway: cfg.gateway, ipRange: cfg.ipRange, aux: cfg.aux, userSubnet: !!req.subnet, userGateway: !!req.gateway },
      vni: nextVni(existing),
      mtu,
    };
  } catch (err) {
    if (err instanceof IpamError) throw new PlumbError(err.message);
    throw err;
  }
}

/** The local copy of a cluster network (keeps what only this host knows: its overlay namespace). */
export function localRecord(n: ClusterNetwork, previous?: NetworkRecord): NetworkRecord {
  return {
    id: n.id,
    name: n.name,
    driver: 'overlay',
    scope: 'global',
    created: n.created,
    internal: n.internal,
    attachable: n.attachable,
    builtin: false,
    labels: n.labels,
    options: n.options,
    ipam: n.ipam,
    mtu: n.mtu,
    vni: n.vni,
    overlaySandbox: overlayNetwork(previous)?.overlaySandbox,
    allocated: {},
  };
}

/** Makes the local copies match the cluster store: new networks appear, removed ones go (unless a local container still refers to one). */
export function mergeClusterNetworks(data: StoreData, networks: readonly ClusterNetwork[]): void {
  const live = new Set(networks.map((n) => n.id));
  for (const n of networks) data.networks[n.id] = localRecord(n, data.networks[n.id]);
  for (const n of Object.values(data.networks)) {
    if (n.scope !== 'global' || live.has(n.id)) continue;
    const used = Object.values(data.containers).some((c) => c.networks.some((s) => s.networkId === n.id) || c.endpoints[n.id]);
    if (!used && !overlayNetwork(n)?.overlaySandbox) delete data.networks[n.id];
  }
}

/**
 * Refreshes the local copies when a cluster store is configured (a no-op
 * otherwise, without loading the etcd client). With `tolerant`, an
 * unreachable store only prints a warning: listing still works from the copy.
 */
export async function refreshClusterNetworks(ctx: Context, opts: { tolerant?: boolean } = {}): Promise<void> {
  let networks: ClusterNetwork[];
  try {
    if (!clusterConfig()) return;
    networks = await withCluster(ctx, (c) => c.store.networks(), { needVtep: false });
  } catch (err) {
    if (!opts.tolerant) throw err;
    process.stderr.write(`WARNING: ${(err as Error).message}; showing the last known overlay networks\n`);
    return;
  }
  const data = ctx.store.read();
  const same = JSON.stringify(networks.map((n) => localRecord(n, data.networks[n.id])).sort((a, b) => a.id.localeCompare(b.id)));
  const mine = JSON.stringify(Object.values(data.networks).filter((n) => n.scope === 'global').sort((a, b) => a.id.localeCompare(b.id)));
  if (same === mine) return;
  await ctx.store.locked(async (d, commit) => {
    mergeClusterNetworks(d, networks);
    commit();
  });
}

/** `network create` of a network defined in the cluster store (overlay): claimed there for every host. */
export async function createGlobalNetwork(ctx: Context, req: NetworkRequest, driver: NetworkDriver): Promise<NetworkRecord> {
  const created = await withCluster(ctx, async (c) => {
    const local = ctx.store.read();
    const clash = Object.values(local.networks).find((n) => n.name === req.name && n.scope !== 'global');
    if (clash) throw new PlumbError(`network with name ${req.name} already exists`);
    const id = newNetworkId(ctx.random);
    ctx.journal.declare('NETWORK_ID', id, 'the network ID: 32 random bytes in hex');
    const net = ctx.dryRun ? planOverlayNetwork(req, await c.store.networks(), id, driver) : await c.store.createNetwork((existing) => planOverlayNetwork(req, existing, id, driver));
    const k = c.store.k;
    ctx.journal.narrate(
      [
        `etcd transaction, only if none of the last three keys exists yet:`,
        `  put ${k.network(net.id)} <the network as JSON>`,
        `  put ${k.name(net.name)} ${net.id}`,
        `  put ${k.vni(net.vni)} ${net.id}`,
        `  put ${k.subnet(net.ipam.subnet)} ${net.id}`,
      ].join('\n'),
      `claim ${net.name}'s name, VNI ${net.vni} and subnet ${net.ipam.subnet} in the cluster store in one transaction: no other host can take them, and every host sees the network (scope global)`,
      'cluster',
    );
    if (ctx.dryRun) return net;
    await ensureAgent(ctx, c.config);
    return net;
  });
  if (ctx.dryRun) return localRecord(created);
  return ctx.store.locked(async (data, commit) => {
    const rec = localRecord(created, data.networks[created.id]);
    data.networks[rec.id] = rec;
    commit();
    return rec;
  });
}

/** `network rm` of an overlay: refused while any host has a container on it; removes this host's namespace too. */
export async function removeGlobalNetwork(ctx: Context, data: StoreData, net: NetworkRecord): Promise<void> {
  const local = Object.values(data.containers).filter((c) => c.networks.some((s) => s.networkId === net.id));
  if (local.length) throw new PlumbError(`error while removing network: network ${net.name} id ${net.id} has active endpoints`);
  if (ctx.dryRun) return;
  await withCluster(
    ctx,
    async (c) => {
      const nets = await c.store.networks();
      const cn = nets.find((n) => n.id === net.id);
      if (cn) {
        await c.store.removeNetwork(cn, (users: ClusterEndpoint[]) => {
          const where = [...new Set(users.map((u) => `${u.containerName} on ${u.node}`))].join(', ');
          return new PlumbError(`error while removing network: network ${net.name} id ${net.id} has active endpoints (${where})`);
        });
      }
    },
    { needVtep: false },
  );
  if (overlayNetwork(net)?.overlaySandbox) {
    await overlayDriver.deleteNetwork(ctx, net);
    forgetProgrammed(ctx.paths, net.id);
  }
  delete data.networks[net.id];
}
