// The cluster store as the overlay driver uses it (OverlayServices): a
// container's address is claimed in one etcd transaction, so no other host can
// take it, and the endpoint is published there for the other hosts' agents;
// the containers of other hosts are programmed into this host's namespace of
// the network, and the host agent is started if it is not running. The
// driver (drivers/overlay.ts) does the kernel work around these.
import type { ClusterStore } from '../../cluster/etcd.js';
import type { ClusterEndpoint, ClusterSnapshot } from '../../cluster/records.js';
import type { EndpointRequest, OverlayServices, Steps } from '../../drivers/types.js';
import { allocateAddress } from '../../ipam/allocator.js';
import { prefixLength } from '../../ipam/cidr.js';
import { IpamError } from '../../ipam/errors.js';
import { newEndpointId } from '../../ipam/ids.js';
import { macFromIp } from '../../ipam/mac.js';
import type { EndpointRecord, NetworkRecord, StoreData } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { ensureAgent } from './agent-control.js';
import { localNode, overlayPlace, resolveVtep, overlayConfig, withCluster } from './cluster.js';
import { readNodeId } from '../../cluster/node-id.js';
import { forgetProgrammed, reconcilePeers } from './peers.js';

function pickAddress(net: NetworkRecord, taken: string[], requested?: string): string {
  const ipam = net.ipam!;
  if (requested && !ipam.userSubnet) {
    throw new PlumbError('user specified IP address is supported only when connecting to networks with user configured subnets', 125);
  }
  try {
    return allocateAddress(
      { subnet: ipam.subnet, gateway: ipam.gateway, ipRange: ipam.ipRange, auxAddresses: ipam.aux, allocated: taken, networkName: net.name, networkId: net.id },
      requested,
    );
  } catch (err) {
    if (err instanceof IpamError) throw new PlumbError(err.message);
    throw err;
  }
}

/** What a claim would give, without making it: the endpoint as planned, and the overlay's state with it added. */
async function plannedClaim(
  store: ClusterStore,
  net: NetworkRecord,
  plan: (taken: string[]) => ClusterEndpoint,
): Promise<{ endpoint: ClusterEndpoint; snapshot: ClusterSnapshot }> {
  const snapshot = await store.snapshot();
  const endpoint = plan(snapshot.endpoints.filter((e) => e.networkId === net.id).map((e) => e.ip));
  return { endpoint, snapshot: { ...snapshot, endpoints: [...snapshot.endpoints, endpoint] } };
}

async function withdraw(ctx: Context, ep: Pick<ClusterEndpoint, 'networkId' | 'id' | 'ip'>): Promise<void> {
  await withCluster(ctx, (c) => c.store.removeEndpoint(ep), { needVtep: false, timeoutMs: 2000 });
}

export function overlayServices(ctx: Context): OverlayServices {
  let vtep: Promise<string> | undefined;
  /** The cluster's state as of this operation's claim, reused to program the peers without reading it again. */
  const claimed = new Map<string, ClusterSnapshot>();
  return {
    vtep: () => (vtep ??= resolveVtep(ctx, overlayConfig())),
    place: (networkId) => overlayPlace(ctx.paths, networkId),

    async claimEndpoint(steps: Steps, req: EndpointRequest): Promise<EndpointRecord> {
      const { net, container, spec } = req;
      return withCluster(ctx, async (c) => {
        vtep ??= Promise.resolve(c.vtep);
        const self = localNode(ctx, c);
        const id = newEndpointId(ctx.random);
        const plan = (taken: string[]): ClusterEndpoint => {
          const ip = pickAddress(net, taken, spec.staticIp);
          return {
            id,
            networkId: net.id,
            containerId: container.id,
            containerName: container.name,
            aliases: spec.aliases,
            ip,
            prefix: prefixLength(net.ipam!.subnet),
            // Like every plumb MAC: 02:42 + the four bytes of the address, so learners can see why.
            mac: spec.mac ?? macFromIp(ip),
            node: c.config.nodeName,
            vtep: c.vtep,
            nodeId: self.node.id,
          };
        };
        // A dry run reads the overlay as it is (reading claims nothing), so its script programs the same peers a real run would.
        const result = ctx.dryRun ? await plannedClaim(c.store, net, plan) : await c.store.addEndpoint(net.id, plan, self);
        const endpoint = result.endpoint;
        claimed.set(net.id, result.snapshot);
        if (!ctx.dryRun) steps.onRollback('withdraw endpoint', () => withdraw(ctx, endpoint));
        const k = c.store.k;
        ctx.journal.narrate(
          [
            `etcd transaction, only if ${k.ip(net.id, endpoint.ip)} does not exist yet:`,
            `  put ${k.ip(net.id, endpoint.ip)} ${endpoint.id}`,
            `  put ${k.endpoint(net.id, endpoint.id)} <the endpoint as JSON: ${endpoint.ip}, ${endpoint.mac}, host ${endpoint.node} (node ${self.node.id.slice(0, 12)}), VTEP ${endpoint.vtep}>`,
          ].join('\n'),
          `claim ${endpoint.ip} on ${net.name} in the cluster store, so no other host hands it out; the other hosts' agents read the endpoint and point ${endpoint.mac} at this host's VTEP ${endpoint.vtep}`,
          'cluster',
        );
        return {
          id: endpoint.id,
          networkId: net.id,
          ifname: 'eth0',
          ip: endpoint.ip,
          prefix: endpoint.prefix,
          mac: endpoint.mac,
          aliases: spec.aliases,
          staticIp: spec.staticIp,
        };
      });
    },

    async withdrawEndpoint(net, ep, containerName) {
      try {
        await withdraw(ctx, { networkId: net.id, id: ep.id, ip: ep.ip });
      } catch (err) {
        process.stderr.write(`WARNING: ${(err as Error).message}: the other hosts still list ${containerName} on ${net.name} until it is withdrawn\n`);
      }
    },

    async programPeers(net) {
      const known = claimed.get(net.id);
      await withCluster(ctx, async (c) => {
        const snapshot = known ?? (await c.store.snapshot());
        await reconcilePeers(ctx, snapshot, c.vtep, [net.id]);
        await ensureAgent(ctx, c.config);
      });
    },

    forgetPeers: (networkId) => forgetProgrammed(ctx.paths, networkId),
  };
}

/** system reset: withdraws this host's endpoints from the cluster store (best effort: reset must work with etcd down). */
export async function withdrawLocalEndpoints(ctx: Context, data: StoreData): Promise<string[]> {
  const eps = Object.values(data.containers).flatMap((c) =>
    Object.values(c.endpoints).filter((ep) => data.networks[ep.networkId]?.scope === 'global'),
  );
  if (!eps.length) return [];
  const failures: string[] = [];
  try {
    await withCluster(
      ctx,
      async (cl) => {
        for (const ep of eps) {
          try {
            await cl.store.removeEndpoint(ep);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      },
      { needVtep: false, timeoutMs: 2000 },
    );
  } catch (err) {
    failures.push((err as Error).message);
  }
  return failures;
}

/**
 * Endpoints the cluster store lists for this host that no local container
 * has: an overlay run killed after claiming its address. Other hosts program
 * tunnel entries for them; gc withdraws them. Only when this host has global
 * networks and a cluster store; an unreachable store reports nothing.
 */
export async function orphanedClusterEndpoints(ctx: Context, data: StoreData): Promise<ClusterEndpoint[]> {
  if (!Object.values(data.networks).some((n) => n.scope === 'global')) return [];
  const { clusterConfig } = await import('../../cluster/config.js');
  if (!clusterConfig()) return [];
  // Endpoints are this host's by node ID and VTEP both: a clone carrying another host's node ID must never
  // take that host's endpoints for its own. Those written before node IDs carry none and are left alone.
  const me = readNodeId(ctx.paths);
  if (!me) return [];
  const local = new Set(Object.values(data.containers).flatMap((c) => Object.values(c.endpoints).map((e) => e.id)));
  try {
    const { all, vtep } = await withCluster(ctx, async (c) => ({ all: await c.store.endpoints(), vtep: c.vtep }), { timeoutMs: 2000 });
    return all.filter((e) => e.nodeId === me && e.vtep === vtep && !local.has(e.id));
  } catch {
    return [];
  }
}

export async function withdrawClusterEndpoint(ctx: Context, ep: ClusterEndpoint): Promise<void> {
  await withdraw(ctx, ep);
}
