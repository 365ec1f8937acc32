// A container joining an overlay network on this host, Docker's way:
//  1. its address is claimed in the cluster store (one etcd transaction, so no
//     other host can take it) and the endpoint is published there for the
//     other hosts' agents;
//  2. the network's namespace (br0 + vxlan0) is built on this host if this is
//     its first container here;
//  3. a veth joins the sandbox to br0 (eth0, MTU 1450, no default route);
//  4. the remote containers already known are programmed at once, so the
//     new container reaches them without waiting for the agent;
//  5. unless the network is --internal, a second endpoint on the local
//     plumb_gwbridge bridge gives the container its default route out;
//  6. the host agent is started if it is not running.
// Leaving is the reverse; the namespace goes with the last local container.
import { ONE_TIME_SETUP } from '../kernel/ops.js';
import type { ClusterEndpoint, ClusterSnapshot } from '../cluster/records.js';
import { createOverlaySandbox, deleteOverlaySandbox, joinOverlay, leaveOverlay, openOverlaySandbox } from '../drivers/overlay.js';
import { allocateAddress } from '../ipam/allocator.js';
import { IpamError } from '../ipam/errors.js';
import { newEndpointId } from '../ipam/ids.js';
import { macFromIp } from '../ipam/mac.js';
import { prefixLength } from '../ipam/cidr.js';
import type { Netns } from '../kernel/netns.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord, StoreData } from '../store/model.js';
import { ensureAgent } from './agent-control.js';
import type { Context } from './context.js';
import { attachEndpoint, nextIfname, type NetworkSpec } from './endpoints.js';
import { PlumbError } from './errors.js';
import { syncFirewall } from './firewall-sync.js';
import { createGatewayBridge, GWBRIDGE } from './overlay-gwbridge.js';
import { overlayPlace, withCluster, type ClusterHandle } from './overlay-cluster.js';
import { forgetProgrammed, reconcilePeers } from './overlay-peers.js';
import type { Transaction } from './transaction.js';

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

/**
 * Claims an address and publishes the endpoint in the cluster store (undone on
 * rollback). Also returns the overlay state as of the claim (none in a dry run).
 */
async function claimEndpoint(
  ctx: Context,
  c: ClusterHandle,
  tx: Transaction,
  cont: ContainerRecord,
  net: NetworkRecord,
  spec: NetworkSpec,
): Promise<{ endpoint: ClusterEndpoint; snapshot?: ClusterSnapshot }> {
  const id = newEndpointId();
  const plan = (taken: string[]): ClusterEndpoint => {
    const ip = pickAddress(net, taken, spec.staticIp);
    return {
      id,
      networkId: net.id,
      containerId: cont.id,
      containerName: cont.name,
      aliases: spec.aliases,
      ip,
      prefix: prefixLength(net.ipam!.subnet),
      // Like every plumb MAC: 02:42 + the four bytes of the address, so learners can see why.
      mac: spec.mac ?? macFromIp(ip),
      node: c.config.nodeName,
      vtep: c.vtep,
    };
  };
  // A dry run reads the overlay as it is (reading claims nothing), so its script programs the same peers a real run would.
  const claimed = ctx.dryRun ? await plannedClaim(c, net, plan) : await c.store.addEndpoint(net.id, plan);
  if (!ctx.dryRun) tx.onRollback('withdraw endpoint', () => withdraw(ctx, claimed.endpoint));
  const k = c.store.k;
  const ep = claimed.endpoint;
  ctx.journal.narrate(
    [
      `etcd transaction, only if ${k.ip(net.id, ep.ip)} does not exist yet:`,
      `  put ${k.ip(net.id, ep.ip)} ${ep.id}`,
      `  put ${k.endpoint(net.id, ep.id)} <the endpoint as JSON: ${ep.ip}, ${ep.mac}, host ${ep.node}, VTEP ${ep.vtep}>`,
    ].join('\n'),
    `claim ${ep.ip} on ${net.name} in the cluster store, so no other host hands it out; the other hosts' agents read the endpoint and point ${ep.mac} at this host's VTEP ${ep.vtep}`,
    'cluster',
  );
  return claimed;
}

/** What a claim would give, without making it: the endpoint as planned, and the overlay's state with it added. */
async function plannedClaim(c: ClusterHandle, net: NetworkRecord, plan: (taken: string[]) => ClusterEndpoint): Promise<{ endpoint: ClusterEndpoint; snapshot: ClusterSnapshot }> {
  const snapshot = await c.store.snapshot();
  const endpoint = plan(snapshot.endpoints.filter((e) => e.networkId === net.id).map((e) => e.ip));
  return { endpoint, snapshot: { ...snapshot, endpoints: [...snapshot.endpoints, endpoint] } };
}

async function withdraw(ctx: Context, ep: Pick<ClusterEndpoint, 'networkId' | 'id' | 'ip'>): Promise<void> {
  await withCluster(ctx, (c) => c.store.removeEndpoint(ep), { needVtep: false, timeoutMs: 2000 });
}

/** This host's namespace of the network: opened if it exists, built otherwise. */
async function overlaySandbox(ctx: Context, tx: Transaction, net: NetworkRecord, vtep: string): Promise<Netns> {
  const existing = openOverlaySandbox(net.overlaySandbox, net.id);
  if (existing) return ctx.adopt(existing);
  const place = overlayPlace(ctx.paths, net.id);
  // Its handle is already registered with the context (the driver opened rtnetlink in it).
  const ns = await createOverlaySandbox(ctx, tx, net, place, vtep);
  const before = net.overlaySandbox;
  net.overlaySandbox = place;
  tx.onRollback('overlay namespace record', () => {
    net.overlaySandbox = before;
  });
  return ns;
}

export async function attachOverlayEndpoint(
  ctx: Context,
  data: StoreData,
  c: ContainerRecord,
  tx: Transaction,
  spec: NetworkSpec,
  ns: Netns,
  defaultRoute: boolean,
): Promise<EndpointRecord> {
  const net = data.networks[spec.networkId]!;
  const ep = await withCluster(ctx, async (cluster) => {
    const { endpoint: claimed, snapshot } = await claimEndpoint(ctx, cluster, tx, c, net, spec);
    const ovNs = await overlaySandbox(ctx, tx, net, cluster.vtep);
    const rec: EndpointRecord = {
      id: claimed.id,
      networkId: net.id,
      ifname: nextIfname(c),
      ip: claimed.ip,
      prefix: claimed.prefix,
      mac: claimed.mac,
      aliases: spec.aliases,
      staticIp: spec.staticIp,
    };
    await joinOverlay({ env: ctx, steps: tx, net, ep: rec, sandboxNs: ns, sandboxName: c.name, defaultRoute: false }, ovNs);
    c.endpoints[net.id] = rec;
    tx.onRollback('endpoint record', () => {
      delete c.endpoints[net.id];
    });
    if (snapshot) {
      await reconcilePeers(ctx, snapshot, cluster.vtep, [net.id]);
      ensureAgent(ctx, cluster.config);
    }
    return rec;
  });
  if (!net.internal) {
    let gw = Object.values(data.networks).find((n) => n.name === GWBRIDGE);
    if (!gw) {
      // Made once per host, like the default bridge: under its own heading.
      gw = await ctx.journal.section(`${ONE_TIME_SETUP}: ${GWBRIDGE}, the way out for this host's overlay containers`, async () => {
        const made = await createGatewayBridge(ctx, data, tx);
        await syncFirewall(ctx, data, tx, `add the firewall rules of ${GWBRIDGE}: no traffic between containers, masquerade on the way out`);
        return made;
      });
    }
    const gwEp = await attachEndpoint(ctx, data, c, tx, { networkId: gw.id, aliases: [] }, ns, defaultRoute);
    // Docker names this endpoint gateway_<sandbox id>; it is not one of the container's networks.
    gwEp.aliases = [];
  }
  return ep;
}

/** Leaves the overlay: veth, cluster store entry, and the namespace when no local container is left on the network. */
export async function detachOverlayEndpoint(ctx: Context, data: StoreData, c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
  const ovNs = openOverlaySandbox(net.overlaySandbox, net.id);
  if (ovNs) ctx.adopt(ovNs);
  await leaveOverlay(ctx, ovNs, ep);
  delete c.endpoints[net.id];
  if (!ctx.dryRun) {
    try {
      await withdraw(ctx, { networkId: net.id, id: ep.id, ip: ep.ip });
    } catch (err) {
      process.stderr.write(`WARNING: ${(err as Error).message}: the other hosts still list ${c.name} on ${net.name} until it is withdrawn\n`);
    }
  }
  const othersHere = Object.values(data.containers).some((o) => o.id !== c.id && o.endpoints[net.id]);
  if (!othersHere && net.overlaySandbox) {
    await deleteOverlaySandbox(ctx, net, net.overlaySandbox);
    if (!ctx.dryRun) forgetProgrammed(ctx.paths, net.id);
    net.overlaySandbox = undefined;
  }
}

/** system reset: withdraws this host's endpoints from the cluster store (best effort: reset must work with etcd down). */
export async function withdrawLocalEndpoints(ctx: Context, data: StoreData): Promise<string[]> {
  const eps = Object.values(data.containers).flatMap((c) =>
    Object.values(c.endpoints).filter((ep) => data.networks[ep.networkId]?.driver === 'overlay'),
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
