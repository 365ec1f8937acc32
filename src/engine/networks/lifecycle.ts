// Network operations: create, remove, prune, and the built-in networks
// (bridge/host/none) that appear on first use, as in Docker.
import { BRIDGE_OPTIONS } from '../../drivers/bridge-options.js';
import { driverFor, requestedDriver } from '../../drivers/index.js';
import { localNetwork } from '../../drivers/records.js';
import type { NetworkDriver, NetworkRequest } from '../../drivers/types.js';
import { newNetworkId } from '../../ipam/ids.js';
import { ONE_TIME_SETUP } from '../../kernel/ops.js';
import type { NetworkRecord, StoreData } from '../../store/model.js';
import { findNetwork } from '../../store/store.js';
import { planBridgeIpam, hostNetworksInUse } from './addressing.js';
import type { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { syncFirewall } from '../firewall/sync.js';
import { ensureHostSysctls } from './host-setup.js';
import { setSysctl } from '../../kernel/sysctl.js';
import { withIntent } from '../core/intents.js';
import { takeSnapshotOnce } from '../system/snapshot.js';
import { firewallCheckpoint } from '../firewall/checkpoint.js';
import { Transaction } from '../core/transaction.js';
import { defaultBridgeIcc, defaultBridgeName } from '../../cluster/config.js';
import { driverEnv } from './driver-env.js';
import { checkCreateNetworkRequest } from './network-input.js';


/** What `network create` was asked; each driver validates its own options (NetworkDriver.configure). */
export type CreateNetworkRequest = NetworkRequest;

/** Records for host and none (no kernel objects) plus the default bridge, created when first needed. */
export async function ensureBuiltins(ctx: Context, data: StoreData, tx: Transaction): Promise<void> {
  // Every operation that may change the host passes here first: remember the host as it was (system reset --verify).
  await takeSnapshotOnce(ctx);
  const now = new Date().toISOString();
  for (const [name, driver] of [
    ['host', 'host'],
    ['none', 'null'],
  ] as const) {
    if (!findNetwork(data, name)) {
      const id = newNetworkId(ctx.random);
      data.networks[id] = {
        id,
        name,
        driver,
        scope: 'local',
        created: now,
        internal: false,
        attachable: false,
        builtin: true,
        labels: {},
        options: {},
        allocated: {},
      };
    }
  }
  if (!Object.values(data.networks).some((n) => n.name === 'bridge')) {
    // Made once, by whichever command first needs it: shown under its own heading so it does not bury that command's lesson.
    const heading = `${ONE_TIME_SETUP}: the default bridge ${defaultBridgeName()} (docker0's twin), made by the first command that needs it`;
    await ctx.journal.section(heading, async () => {
      const net = await buildBridgeNetwork(ctx, data, {
        name: 'bridge',
        driver: 'bridge',
        aux: {},
        internal: false,
        attachable: false,
        labels: {},
        options: {
          [BRIDGE_OPTIONS.defaultBridge]: 'true',
          // dockerd --icc: the daemon's setting for the default bridge (PLUMB_ICC, or "icc" in the config file).
          [BRIDGE_OPTIONS.icc]: String(defaultBridgeIcc()),
          [BRIDGE_OPTIONS.masquerade]: 'true',
          [BRIDGE_OPTIONS.hostBindingIpv4]: '0.0.0.0',
          // dockerd --bridge: plumb0 unless "bridge-name" (or PLUMB_BRIDGE_NAME) says otherwise, e.g. docker0 for a course.
          [BRIDGE_OPTIONS.name]: defaultBridgeName(),
          [BRIDGE_OPTIONS.mtu]: '1500',
        },
      }, tx, true);
      data.networks[net.id] = net;
      await syncFirewall(ctx, data, tx, 'add the firewall rules of the default bridge', await firewallCheckpoint(ctx, tx));
    });
  }
}

export async function createNetwork(ctx: Context, req: CreateNetworkRequest): Promise<NetworkRecord> {
  const driver = requestedDriver(req.driver);
  // Refuse bad input before anything is locked, logged or built.
  checkCreateNetworkRequest(req, driver);
  // Networks defined in the cluster store (overlay) are made there, for every host (the etcd client is loaded only for them).
  if (driver.scope === 'global') return (await import('../overlay/networks.js')).createGlobalNetwork(ctx, req, driver);
  return withIntent(ctx, () => ctx.store.locked(async (data, commit) =>
    Transaction.run('network create', async (tx) => {
      // The name is checked before the built-in networks are made on first use: a refused create builds nothing.
      if (findNetworkByExactName(data, req.name)) throw new PlumbError(`network with name ${req.name} already exists`);
      await ensureBuiltins(ctx, data, tx);
      const net = await buildLocalNetwork(ctx, data, driver, req, tx, false);
      data.networks[net.id] = net;
      await syncFirewall(ctx, data, tx, `add the firewall rules of ${net.name}`, await firewallCheckpoint(ctx, tx));
      commit();
      return net;
    }),
  ));
}

function findNetworkByExactName(data: StoreData, name: string): NetworkRecord | undefined {
  return Object.values(data.networks).find((n) => n.name === name);
}

/** A bridge network (plumb_gwbridge and the default bridge are made this way too). */
export function buildBridgeNetwork(ctx: Context, data: StoreData, req: CreateNetworkRequest, tx: Transaction, isDefault: boolean): Promise<NetworkRecord> {
  return buildLocalNetwork(ctx, data, driverFor('bridge'), req, tx, isDefault);
}

/** A network of this host: the driver's settings, an address plan that avoids the host's routes, then its kernel objects. */
async function buildLocalNetwork(
  ctx: Context,
  data: StoreData,
  driver: NetworkDriver,
  req: CreateNetworkRequest,
  tx: Transaction,
  isDefault: boolean,
): Promise<NetworkRecord> {
  const id = newNetworkId(ctx.random);
  if (!isDefault) ctx.journal.declare('NETWORK_ID', id, 'the network ID: 32 random bytes in hex');
  const settings = driver.configure(req, Object.values(data.networks), id);
  const inUse = await hostNetworksInUse(ctx, data);
  const ipam = planBridgeIpam(req, inUse, data);
  const net = localNetwork({
    id,
    name: req.name,
    scope: 'local',
    created: new Date().toISOString(),
    internal: req.internal,
    attachable: req.attachable,
    builtin: isDefault,
    labels: req.labels,
    options: req.options,
    ipam,
    allocated: {},
  }, settings);
  await driver.createNetwork(driverEnv(ctx), tx, net);
  if (driver.routesThroughHost) {
    // Routing between bridges and the uplink needs ip_forward (and bridged traffic must meet iptables).
    const known = data.sysctls.length;
    if (ensureHostSysctls(ctx, data) && data.forwardPolicyBefore === undefined) data.forwardPolicyBefore = 'pending';
    // A later step may still fail: put back what this operation changed first.
    tx.onRollback('host sysctls', () => restoreHostSysctlsSince(ctx, data, known));
  }
  return net;
}

/** Rollback of ensureHostSysctls: restores the host sysctls recorded after index `known`. */
function restoreHostSysctlsSince(ctx: Context, data: StoreData, known: number): void {
  for (const s of data.sysctls.splice(known).reverse()) setSysctl(ctx.journal, ctx.hostNs(), s.key, s.original, `roll back: restore ${s.key}`);
  if (data.forwardPolicyBefore === 'pending') data.forwardPolicyBefore = undefined;
}

export async function removeNetworks(ctx: Context, refs: string[]): Promise<{ removed: string[]; errors: string[] }> {
  const removed: string[] = [];
  const errors: string[] = [];
  // Overlay networks created on other hosts become known here first (no-op without a cluster store).
  await (await import('../overlay/networks.js')).refreshClusterNetworks(ctx, { tolerant: true });
  await ctx.store.locked(async (data, commit) => {
    for (const ref of refs) {
      try {
        const net = findNetwork(data, ref);
        if (!net) throw new PlumbError(`No such network: ${ref}`);
        if (net.builtin) throw new PlumbError(`${net.name} is a pre-defined network and cannot be removed`);
        if (net.scope === 'global') {
          await (await import('../overlay/networks.js')).removeGlobalNetwork(ctx, data, net);
          commit();
          removed.push(ref);
          continue;
        }
        const users = activeEndpoints(data, net.id);
        if (users.length) throw new PlumbError(`error while removing network: network ${net.name} id ${net.id} has active endpoints`);
        await Transaction.run('network rm', async (tx) => {
          delete data.networks[net.id];
          tx.onRollback('network record', () => {
            data.networks[net.id] = net;
          });
          // The network's kernel objects go while iptables-restore withdraws its rules: both wait
          // for RCU grace periods (a restore that deletes rules, a bridge's removal), and waiting
          // at the same time costs one wait instead of two. The narration keeps the order rules, then bridge.
          const driver = driverFor(net.driver);
          await syncFirewall(ctx, data, tx, `remove the firewall rules of ${net.name}`, undefined, async () => {
            await driver.deleteNetwork(driverEnv(ctx), net);
            // The restore can still fail after this: the network then stays, so its kernel objects are built again as its create built them.
            tx.onRollback('network kernel objects', () => Transaction.run('network rm undo', (undo) => driver.createNetwork(driverEnv(ctx), undo, net)));
          });
        });
        commit();
        removed.push(ref);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  });
  return { removed, errors };
}

/** Containers that have (or will have, on start) an endpoint on the network: what `network rm` refuses over and `dangling` counts. */
export function activeEndpoints(data: StoreData, networkId: string): string[] {
  return Object.values(data.containers)
    .filter((c) => c.networks.some((n) => n.networkId === networkId))
    .map((c) => c.name);
}

export async function pruneNetworks(ctx: Context): Promise<string[]> {
  const data = ctx.store.read();
  const unused = Object.values(data.networks)
    .filter((n) => !n.builtin && activeEndpoints(data, n.id).length === 0)
    .map((n) => n.name)
    .sort();
  if (!unused.length) return [];
  const { removed } = await removeNetworks(ctx, unused);
  return removed;
}

/** Makes sure the built-in networks exist (first use), for read-only commands like `network ls`. */
export async function ensureBuiltinNetworks(ctx: Context): Promise<void> {
  const data = ctx.store.read();
  if (Object.values(data.networks).some((n) => n.name === 'bridge')) return;
  await ctx.store.locked(async (d, commit) =>
    Transaction.run('default networks', async (tx) => {
      await ensureBuiltins(ctx, d, tx);
      commit();
    }),
  );
}
