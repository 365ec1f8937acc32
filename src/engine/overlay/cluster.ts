// What every overlay operation on this host starts from: the cluster
// configuration, a connection to the store, this host's VTEP address, and
// where a network's overlay namespace lives on this host.
import { join } from 'node:path';
import { ClusterConfigError, requireClusterConfig, type ClusterConfig } from '../../cluster/config.js';
import type { ClusterStore } from '../../cluster/etcd.js';
import { ensureNodeId, nodeIdFile, readNodeId } from '../../cluster/node-id.js';
import type { ClusterNode } from '../../cluster/records.js';
import { randomId } from '../../ipam/ids.js';
import { randomBytes } from '../../kernel/random.js';
import type { OverlayPlace } from '../../drivers/overlay.js';
import { overlayNsName } from '../../drivers/overlay.js';
import { isIpv4 as isIp } from '../../net/address.js';
import { netnsDir, type Paths } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';

export interface ClusterHandle {
  config: ClusterConfig;
  store: ClusterStore;
  /** This host's underlay address: the source and destination of its VXLAN packets. */
  vtep: string;
}

/** The configuration, with configuration mistakes turned into user errors. */
export function overlayConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  try {
    return requireClusterConfig(env);
  } catch (err) {
    if (err instanceof ClusterConfigError) throw new PlumbError(err.message);
    throw err;
  }
}

/** The advertised address: given as an IP, or read from the named interface. */
export async function resolveVtep(ctx: Context, config: ClusterConfig): Promise<string> {
  const adv = config.advertise;
  if (!adv) {
    throw new PlumbError('overlay networks need --cluster-advertise IP|IFACE (or PLUMB_CLUSTER_ADVERTISE): the address other hosts send VXLAN packets to');
  }
  if (isIp(adv)) return adv;
  const addrs = (await ctx.hostRtnl().addresses(adv)).filter((a) => isIp(a.address));
  if (!addrs.length) throw new PlumbError(`--cluster-advertise ${adv}: interface ${adv} has no IPv4 address on this host`);
  return addrs[0]!.address;
}

/** Connects to the cluster store (the etcd client is loaded here, on first use). */
export async function openCluster(ctx: Context, opts: { timeoutMs?: number; needVtep?: boolean } = {}): Promise<ClusterHandle> {
  const config = overlayConfig();
  const vtep = opts.needVtep === false ? '' : await resolveVtep(ctx, config);
  const { ClusterStore } = await import('../../cluster/etcd.js');
  const store = await ClusterStore.connect(config, { timeoutMs: opts.timeoutMs });
  return { config, store, vtep };
}

/** Runs `fn` with a fresh connection and always closes it (a kept-alive connection would keep the CLI alive). */
export async function withCluster<T>(ctx: Context, fn: (c: ClusterHandle) => Promise<T>, opts: { timeoutMs?: number; needVtep?: boolean } = {}): Promise<T> {
  const c = await openCluster(ctx, opts);
  try {
    return await fn(c);
  } catch (err) {
    const { ClusterStoreError, ClusterConflict } = await import('../../cluster/etcd.js');
    if (err instanceof ClusterStoreError || err instanceof ClusterConflict) throw new PlumbError(err.message);
    throw err;
  } finally {
    c.store.close();
  }
}

/**
 * This host as the cluster store knows it: its node ID (made on first use;
 * a dry run only plans one, and writes nothing), its display name and VTEP.
 * The ID is the host's, not the operation's: it draws on the kernel's
 * randomness, never on the operation's source of IDs (which a replay fixes).
 */
export function localNode(ctx: Context, c: ClusterHandle): { node: ClusterNode; nodeIdFile: string } {
  const id = ctx.dryRun ? (readNodeId(ctx.paths) ?? randomId(randomBytes)) : ensureNodeId(ctx.paths, randomBytes);
  return { node: { id, name: c.config.nodeName, vtep: c.vtep }, nodeIdFile: nodeIdFile(ctx.paths) };
}

/** Where network `networkId`'s overlay namespace lives on this host. */
export function overlayPlace(paths: Paths, networkId: string): OverlayPlace {
  const name = overlayNsName(networkId);
  return { netns: join(netnsDir(paths), name), alias: join(paths.netnsNames, name), aliasDir: paths.netnsNames };
}
