// Network operations: create, remove, prune, and the built-in networks
// (bridge/host/none) that appear on first use, as in Docker.
import { driverFor } from '../drivers/index.js';
import { newNetworkId } from '../ipam/ids.js';
import { ONE_TIME_SETUP } from '../kernel/ops.js';
import type { NetworkRecord, StoreData } from '../store/model.js';
import { findNetwork } from '../store/store.js';
import { planBridgeIpam, hostNetworksInUse } from './addressing.js';
import type { Context } from './context.js';
import { PlumbError } from './errors.js';
import { syncFirewall } from './firewall-sync.js';
import { ensureHostSysctls } from './host-setup.js';
import { setSysctl } from '../kernel/sysctl.js';
import { MACVLAN_MODES } from '../drivers/macvlan.js';
import { withIntent } from './intents.js';
import { takeSnapshotOnce } from './snapshot.js';
import { firewallCheckpoint } from './firewall-undo.js';
import { Transaction } from './transaction.js';
import { defaultBridgeIcc } from '../cluster/config.js';

export const DEFAULT_BRIDGE = 'plumb0';
const BRIDGE_OPT = 'com.docker.network.bridge.';
const KNOWN_BRIDGE_OPTIONS = new Set([
  `${BRIDGE_OPT}name`,
  `${BRIDGE_OPT}enable_icc`,
  `${BRIDGE_OPT}enable_ip_masquerade`,
  `${BRIDGE_OPT}host_binding_ipv4`,
  `${BRIDGE_OPT}default_bridge`,
  'com.docker.network.driver.mtu',
]);

export interface CreateNetworkRequest {
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  aux: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

function parseBool(value: string | undefined, key: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new PlumbError(`invalid value for ${key}: ${value} (use true or false)`);
}

/** Kernel interface names are at most 15 bytes. */
function checkIfName(name: string): void {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new PlumbError(`invalid bridge name "${name}": interface names are 1-15 characters of letters, digits, '_', '.' and '-'`);
  }
}

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
      const id = newNetworkId();
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
    const heading = `${ONE_TIME_SETUP}: the default bridge ${DEFAULT_BRIDGE} (docker0's twin), made by the first command that needs it`;
    await ctx.journal.section(heading, async () => {
      const net = await buildBridgeNetwork(ctx, data, {
        name: 'bridge',
        driver: 'bridge',
        aux: {},
        internal: false,
        attachable: false,
        labels: {},
        options: {
          [`${BRIDGE_OPT}default_bridge`]: 'true',
          // dockerd --icc: the daemon's setting for the default bridge (PLUMB_ICC, or "icc" in the config file).
          [`${BRIDGE_OPT}enable_icc`]: String(defaultBridgeIcc()),
          [`${BRIDGE_OPT}enable_ip_masquerade`]: 'true',
          [`${BRIDGE_OPT}host_binding_ipv4`]: '0.0.0.0',
          [`${BRIDGE_OPT}name`]: DEFAULT_BRIDGE,
          'com.docker.network.driver.mtu': '1500',
        },
      }, tx, true);
      data.networks[net.id] = net;
      await syncFirewall(ctx, data, tx, 'add the firewall rules of the default bridge', await firewallCheckpoint(ctx, tx));
    });
  }
}

export async function createNetwork(ctx: Context, req: CreateNetworkRequest): Promise<NetworkRecord> {
  // Overlay networks live in the cluster store (loaded only for them).
  if (req.driver === 'overlay') return (await import('./overlay-networks.js')).createOverlayNetwork(ctx, req);
  return withIntent(ctx, () => ctx.store.locked(async (data, commit) =>
    Transaction.run('network create', async (tx) => {
      await ensureBuiltins(ctx, data, tx);
      if (findNetworkByExactName(data, req.name)) throw new PlumbError(`network with name ${req.name} already exists`);
      if (req.driver === 'host' || req.driver === 'null') throw new PlumbError(`only one instance of "${req.driver}" network is allowed`);
      if (req.driver !== 'bridge' && req.driver !== 'macvlan') {
        throw new PlumbError(`plugin "${req.driver}" not found: this version of plumb supports -d bridge and -d macvlan (host and none are built in)`);
      }
      const net = req.driver === 'macvlan' ? await buildMacvlanNetwork(ctx, data, req, tx) : await buildBridgeNetwork(ctx, data, req, tx, false);
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

export async function buildBridgeNetwork(
  ctx: Context,
  data: StoreData,
  req: CreateNetworkRequest,
  tx: Transaction,
  isDefault: boolean,
): Promise<NetworkRecord> {
  for (const key of Object.keys(req.options)) {
    if (key.startsWith('com.docker.network.') && !KNOWN_BRIDGE_OPTIONS.has(key)) {
      throw new PlumbError(`unknown bridge option ${key}`);
    }
  }
  const id = newNetworkId();
  const bridge = req.options[`${BRIDGE_OPT}name`] ?? `br-${id.slice(0, 12)}`;
  if (!isDefault) {
    ctx.journal.declare('NETWORK_ID', id, 'the network ID: 32 random bytes in hex');
    if (!req.options[`${BRIDGE_OPT}name`]) ctx.journal.declare('BRIDGE', bridge, "the bridge's name: br- and the network ID's first 12 characters");
  }
  checkIfName(bridge);
  if (Object.values(data.networks).some((n) => n.bridge === bridge)) {
    throw new PlumbError(`bridge name ${bridge} is already used by another network`);
  }
  const mtuText = req.options['com.docker.network.driver.mtu'];
  const mtu = mtuText === undefined ? undefined : Number(mtuText);
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)) {
    throw new PlumbError(`invalid MTU ${mtuText}: use a number from 68 to 65535`);
  }
  const inUse = await hostNetworksInUse(ctx, data);
  const ipam = planBridgeIpam(req, inUse, data);
  const net: NetworkRecord = {
    id,
    name: req.name,
    driver: 'bridge',
    scope: 'local',
    created: new Date().toISOString(),
    internal: req.internal,
    attachable: req.attachable,
    builtin: isDefault,
    labels: req.labels,
    options: req.options,
    ipam,
    bridge,
    mtu,
    icc: parseBool(req.options[`${BRIDGE_OPT}enable_icc`], `${BRIDGE_OPT}enable_icc`, true),
    masquerade: parseBool(req.options[`${BRIDGE_OPT}enable_ip_masquerade`], `${BRIDGE_OPT}enable_ip_masquerade`, true),
    hostBindingIpv4: req.options[`${BRIDGE_OPT}host_binding_ipv4`] ?? '0.0.0.0',
    allocated: {},
  };
  await driverFor('bridge')!.createNetwork(ctx, tx, net);
  const known = data.sysctls.length;
  if (ensureHostSysctls(ctx, data) && data.forwardPolicyBefore === undefined) data.forwardPolicyBefore = 'pending';
  // A later step may still fail: put back what this operation changed first.
  tx.onRollback('host sysctls', () => restoreHostSysctlsSince(ctx, data, known));
  return net;
}

/** Rollback of ensureHostSysctls: restores the host sysctls recorded after index `known`. */
function restoreHostSysctlsSince(ctx: Context, data: StoreData, known: number): void {
  for (const s of data.sysctls.splice(known).reverse()) setSysctl(ctx.journal, ctx.hostNs(), s.key, s.original, `roll back: restore ${s.key}`);
  if (data.forwardPolicyBefore === 'pending') data.forwardPolicyBefore = undefined;
}

/** A macvlan network: IPAM like a bridge network's, children of an existing host interface, no kernel objects of its own. */
async function buildMacvlanNetwork(ctx: Context, data: StoreData, req: CreateNetworkRequest, tx: Transaction): Promise<NetworkRecord> {
  const parent = req.options.parent;
  if (!parent) throw new PlumbError('-o parent=IFACE is required: this version of plumb does not create dummy parents for macvlan networks');
  const mode = req.options.macvlan_mode || 'bridge';
  if (!(MACVLAN_MODES as readonly string[]).includes(mode)) {
    throw new PlumbError(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
  }
  const id = newNetworkId();
  const other = Object.values(data.networks).find((n) => n.driver === 'macvlan' && n.parent === parent);
  if (other) throw new PlumbError(`network dm-${other.id.slice(0, 12)} is already using parent interface ${parent}`);
  const ipam = planBridgeIpam(req, await hostNetworksInUse(ctx, data), data);
  const net: NetworkRecord = {
    id,
    name: req.name,
    driver: 'macvlan',
    scope: 'local',
    created: new Date().toISOString(),
    internal: req.internal,
    attachable: req.attachable,
    builtin: false,
    labels: req.labels,
    options: req.options,
    ipam,
    parent,
    macvlanMode: mode as NetworkRecord['macvlanMode'],
    allocated: {},
  };
  try {
    await driverFor('macvlan')!.createNetwork(ctx, tx, net);
  } catch (err) {
    throw new PlumbError((err as Error).message);
  }
  return net;
}

export async function removeNetworks(ctx: Context, refs: string[]): Promise<{ removed: string[]; errors: string[] }> {
  const removed: string[] = [];
  const errors: string[] = [];
  // Overlay networks created on other hosts become known here first (no-op without a cluster store).
  await (await import('./overlay-networks.js')).refreshClusterNetworks(ctx, { tolerant: true });
  await ctx.store.locked(async (data, commit) => {
    for (const ref of refs) {
      try {
        const net = findNetwork(data, ref);
        if (!net) throw new PlumbError(`No such network: ${ref}`);
        if (net.builtin) throw new PlumbError(`${net.name} is a pre-defined network and cannot be removed`);
        if (net.driver === 'overlay') {
          await (await import('./overlay-networks.js')).removeOverlayNetwork(ctx, data, net);
          commit();
          removed.push(ref);
          continue;
        }
        const users = activeEndpoints(data, net.id);
        if (users.length) throw new PlumbError(`error while removing network: network ${net.name} id ${net.id} has active endpoints`);
        await Transaction.run('network rm', async (tx) => {
          delete data.networks[net.id];
          await syncFirewall(ctx, data, tx, `remove the firewall rules of ${net.name}`);
          await driverFor(net.driver)?.deleteNetwork(ctx, net);
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

/** Containers that have (or will have, on start) an endpoint on the network. */
function activeEndpoints(data: StoreData, networkId: string): string[] {
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
