// The overlay driver's kernel work, laid out like Docker's classic overlay:
// on each host that has a container on the network, one namespace
// ("1-" + 10 hex of the network id) holds a bridge br0 with the gateway
// address and a VXLAN device vxlan0 (VNI, UDP 4789) plugged into it. Each
// sandbox gets a veth whose far end is a port of br0. Frames for a container
// on another host leave through vxlan0, wrapped in UDP to that host's VTEP,
// as told by permanent neighbour and FDB entries (programmed from the
// cluster store by the engine; see engine/overlay/peers.ts).
//
// vxlan0 is created in plumb's own namespace and then moved: its UDP socket
// stays where the device was born, on the underlay, while the device itself
// sits in the overlay namespace.
import { createNetns, isNamespaceFile, openNetns, registerNetns, removeNsFile, deleteNsFile, unregisterNetns, type Netns } from '../kernel/netns.js';
import { KernelError } from '../kernel/errors.js';
import type { Rtnl } from '../kernel/rtnl.js';
import { setSysctl } from '../kernel/sysctl.js';
import { existsSync } from 'node:fs';
import type { EndpointRecord, NetworkRecord, OverlayNetwork, OverlaySettings } from '../store/model.js';
import { hostVethName } from './bridge.js';
import { DriverError } from './errors.js';
import { DRIVER_TRAITS } from './traits.js';
import { checkOptionKeys, MTU_OPTION, mtuOption } from './options.js';
import { requireOverlay } from './records.js';
import type { Description, DriverEnv, Finding, EndpointJoin, LeaveOptions, NetworkDriver, NetworkRequest, OverlayPlace, OverlayServices, Steps } from './types.js';

export type { OverlayPlace } from './types.js';

export const OVERLAY_BRIDGE = 'br0';
export const OVERLAY_VXLAN = 'vxlan0';
export const VXLAN_UDP_PORT = 4789;
export const DEFAULT_OVERLAY_MTU = 1450;
/** The all-zero MAC: a VXLAN FDB entry for it floods broadcasts (ARP) to that VTEP. */
export const FLOOD_MAC = '00:00:00:00:00:00';

/** Docker's name for a network's overlay namespace: "1-" + the first 10 hex of its id. */
export function overlayNsName(networkId: string): string {
  return `1-${networkId.slice(0, 10)}`;
}

/** Temporary name of vxlan0 while it is still in plumb's namespace (Docker's vx-VNI-ID form). */
function vxlanTempName(net: OverlayNetwork): string {
  return `vx-${net.vni.toString(16).padStart(6, '0')}-${net.id.slice(0, 5)}`;
}

/** `-o` options of an overlay network -> its settings. Its VNI is handed out by the cluster store, not here. */
export function configureOverlay(req: NetworkRequest): OverlaySettings {
  checkOptionKeys(req.options, [MTU_OPTION], 'overlay');
  return { driver: 'overlay', mtu: mtuOption(req.options) ?? DEFAULT_OVERLAY_MTU };
}

/** The cluster store, through the environment (a command without a cluster store cannot reach overlay networks). */
async function services(env: DriverEnv): Promise<OverlayServices> {
  if (!env.overlay) throw new DriverError('overlay networks need a cluster store: set --cluster-store (or PLUMB_CLUSTER_STORE)');
  return env.overlay();
}

/** Builds the network's namespace with br0 and vxlan0; returns it open. */
export async function createOverlaySandbox(env: DriverEnv, steps: Steps, net: OverlayNetwork, place: OverlayPlace, vtep: string): Promise<Netns> {
  const name = overlayNsName(net.id);
  const mtu = net.mtu ?? DEFAULT_OVERLAY_MTU;
  const ns = await steps.step(
    `overlay netns ${name}`,
    () =>
      createNetns(
        env.journal,
        name,
        place.netns,
        `${net.name} gets its own namespace on this host, ${name}: it holds the network's switch (br0) and tunnel end (vxlan0)`,
      ),
    () => removeNsFile(place.netns),
  );
  await steps.step(
    `register ${name}`,
    () => registerNetns(env.journal, name, place.netns, place.aliasDir, name, `let \`ip netns exec ${name}\` find it`),
    () => removeNsFile(place.alias),
  );
  const ov = env.rtnlIn(ns);
  await steps.step('overlay no ipv6', () => {
    // IPv4-only like the sandboxes: no router solicitations from br0 flooding every VTEP.
    for (const scope of ['all', 'default']) setSysctl(env.journal, ns, `net.ipv6.conf.${scope}.disable_ipv6`, '1', scope === 'all' ? 'the overlay is IPv4-only: no IPv6 chatter through the tunnel' : undefined);
  });
  await steps.step('overlay lo', () => ov.setLink('lo', { up: true }));
  await steps.step('overlay br0', () =>
    ov.addBridge(OVERLAY_BRIDGE, { mtu }, `br0 is the switch of ${net.name} on this host: local containers and the tunnel all plug into it`),
  );
  await steps.step('overlay br0 address', () =>
    ov.addAddress(OVERLAY_BRIDGE, `${net.ipam!.gateway}/${net.ipam!.subnet.split('/')[1]}`, `br0 holds the network's gateway address ${net.ipam!.gateway}`),
  );
  const host = env.hostRtnl();
  const temp = vxlanTempName(net);
  await steps.step(
    `vxlan ${temp}`,
    () =>
      addVxlanOnceVniIsFree(
        host,
        temp,
        { vni: net.vni, port: VXLAN_UDP_PORT, local: vtep, learning: false, proxy: true, mtu },
        `a VXLAN tunnel end for VNI ${net.vni}: frames go out wrapped in UDP ${VXLAN_UDP_PORT} from ${vtep}; it is born here so its socket stays on the underlay, and learns nothing by itself: plumb tells it where every remote container lives`,
      ),
    async () => {
      if (await host.linkByName(temp)) await host.deleteLink(temp, `roll back: remove ${temp}`);
    },
  );
  await steps.step('move vxlan', () =>
    host.setLink(temp, { netns: ns, rename: OVERLAY_VXLAN }, `move it into ${name} as vxlan0 (its UDP socket stays in this namespace)`),
  );
  await steps.step('plug vxlan0', () => ov.setLink(OVERLAY_VXLAN, { master: OVERLAY_BRIDGE, up: true }, 'plug the tunnel into br0'));
  await steps.step('br0 up', () => ov.setLink(OVERLAY_BRIDGE, { up: true }));
  return ns;
}

/** Opens the network's namespace on this host, if it exists. */
export function openOverlaySandbox(place: OverlayPlace | undefined, networkId: string): Netns | undefined {
  if (!place || !existsSync(place.netns)) return undefined;
  try {
    return openNetns(place.netns, overlayNsName(networkId));
  } catch {
    return undefined;
  }
}

/** How long a new vxlan0 waits for the VNI to be let go by the one of a namespace the kernel is still destroying. */
const VNI_RELEASE_WAIT_MS = 1000;

/**
 * `ip link add` of vxlan0's temporary name. The kernel refuses a second VXLAN
 * device with the same VNI and port on one underlay (EEXIST, though no link
 * has the name): a namespace deleted without removing its vxlan0 first (a
 * crash, then gc) keeps the VNI until the kernel has destroyed it in the
 * background, a few ms later. That wait is worth making; a VNI that stays
 * taken is a leftover, and the error says how to clear it.
 */
async function addVxlanOnceVniIsFree(host: Rtnl, name: string, opts: Parameters<Rtnl['addVxlan']>[1], why: string): Promise<void> {
  const deadline = Date.now() + VNI_RELEASE_WAIT_MS;
  for (;;) {
    try {
      return await host.addVxlan(name, opts, why);
    } catch (err) {
      const vniTaken = err instanceof KernelError && err.code === 'EEXIST' && !(await host.linkByName(name));
      if (!vniTaken) throw err;
      if (Date.now() > deadline) {
        throw new KernelError(
          `add link ${name}: another VXLAN device on this host already uses VNI ${opts.vni} on UDP ${opts.port} (a leftover: run plumb system gc; or in a namespace some process still holds open)`,
          'EEXIST',
          17,
          { cause: err },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Removes the namespace: br0, vxlan0 and every veth in it go with it. vxlan0
 * is deleted first, and waited for: the kernel destroys the rest of a
 * namespace in the background, and until it has, a vxlan0 still holds its
 * VNI on the underlay, so the next container of the network on this host
 * could not build a new one.
 */
export async function deleteOverlaySandbox(env: DriverEnv, net: OverlayNetwork, place: OverlayPlace): Promise<void> {
  const ns = openOverlaySandbox(place, net.id);
  if (ns) {
    const ov = env.rtnlIn(ns);
    if (await ov.linkByName(OVERLAY_VXLAN)) await ov.deleteLink(OVERLAY_VXLAN, `free VNI ${net.vni} now rather than when the kernel gets round to destroying the namespace`);
  }
  if (existsSync(place.alias)) {
    unregisterNetns(env.journal, overlayNsName(net.id), place.aliasDir, overlayNsName(net.id), 'forget its name under ip netns: that mount alone would keep the namespace alive');
  }
  if (existsSync(place.netns)) {
    deleteNsFile(env.journal, overlayNsName(net.id), place.netns, 'netns.del', `no container of ${net.name} is left on this host: remove its namespace, br0 and vxlan0 with it`);
  }
}

/** Plugs a sandbox into the overlay: a veth from br0 to ethN, address, MTU. No default route: that comes from plumb_gwbridge. */
export async function joinOverlay(j: EndpointJoin, overlayNs: Netns): Promise<void> {
  const { ep, steps } = j;
  const net = requireOverlay(j.net);
  const ov = j.env.rtnlIn(overlayNs);
  const sandbox = j.env.rtnlIn(j.sandboxNs);
  const mtu = net.mtu ?? DEFAULT_OVERLAY_MTU;
  ep.hostVeth ??= hostVethName(ep.id);
  const veth = ep.hostVeth;
  j.env.journal.declare('VETH', veth, "the name of the end in the overlay's namespace: veth and 7 characters of the endpoint's random ID");
  await steps.step(
    `overlay veth ${veth}`,
    () =>
      ov.addVeth(veth, ep.ifname, j.sandboxNs, { mtu }, `a veth from ${net.name}'s namespace into ${j.sandboxName}: ${veth} plugs into br0, its twin is ${ep.ifname}`),
    async () => {
      if (await ov.linkByName(veth)) await ov.deleteLink(veth, `roll back: remove ${veth}`);
    },
  );
  await steps.step(`plug ${veth}`, () => ov.setLink(veth, { master: OVERLAY_BRIDGE, up: true }));
  await steps.step(`configure ${ep.ifname}`, async () => {
    await sandbox.setLink(
      ep.ifname,
      { address: ep.mac, up: true },
      `${ep.ip} was claimed in the cluster store, so no other host can hand it out; MTU ${mtu} leaves room for the 50 bytes of VXLAN wrapping`,
    );
    await sandbox.addAddress(ep.ifname, `${ep.ip}/${ep.prefix}`);
  });
}

/** Unplugs an endpoint: deleting its veth in the overlay namespace deletes the twin in the sandbox too. */
export async function leaveOverlay(env: DriverEnv, overlayNs: Netns | undefined, ep: EndpointRecord): Promise<void> {
  if (!overlayNs || !ep.hostVeth) return;
  const ov = env.rtnlIn(overlayNs);
  if (await ov.linkByName(ep.hostVeth)) await ov.deleteLink(ep.hostVeth, `unplug ${ep.ifname}: deleting ${ep.hostVeth} also deletes its twin`);
}

/** A remote container: where its MAC lives (VTEP) and which MAC answers for its IP. */
export interface RemotePeer {
  ip: string;
  mac: string;
  vtep: string;
  name: string;
}

export async function addRemoteEndpoint(ov: Rtnl, p: RemotePeer): Promise<void> {
  await ov.replaceNeighbour(OVERLAY_VXLAN, p.ip, p.mac, `${p.name} (${p.ip}) is on host ${p.vtep}: answer ARP for it here, with its MAC`);
  await ov.replaceFdb(OVERLAY_VXLAN, p.mac, { dst: p.vtep, self: true }, `frames for ${p.mac} go through the tunnel to ${p.vtep}`);
}

export async function removeRemoteEndpoint(ov: Rtnl, p: Pick<RemotePeer, 'ip' | 'mac' | 'vtep' | 'name'>, has: { neigh: boolean; fdb: boolean }): Promise<void> {
  if (has.neigh) await ov.deleteNeighbour(OVERLAY_VXLAN, p.ip, `${p.name} (${p.ip}) is gone from ${p.vtep}`);
  if (has.fdb) await ov.deleteFdb(OVERLAY_VXLAN, p.mac, { dst: p.vtep, self: true });
}

export async function addFloodEntry(ov: Rtnl, vtep: string): Promise<void> {
  await ov.appendFdb(OVERLAY_VXLAN, FLOOD_MAC, { dst: vtep, self: true }, `host ${vtep} has containers on this network: broadcasts are copied to it`);
}

export async function removeFloodEntry(ov: Rtnl, vtep: string): Promise<void> {
  await ov.deleteFdb(OVERLAY_VXLAN, FLOOD_MAC, { dst: vtep, self: true }, `host ${vtep} has no container left on this network`);
}

/** This host's namespace of the network: opened if it exists, built (br0 + vxlan0) otherwise. */
async function ensureOverlaySandbox(env: DriverEnv, steps: Steps, net: OverlayNetwork, svc: OverlayServices): Promise<Netns> {
  const existing = openOverlaySandbox(net.overlaySandbox, net.id);
  if (existing) return env.adopt(existing);
  const place = svc.place(net.id);
  // Its handle is registered with the operation already (rtnetlink was opened in it).
  const ns = await createOverlaySandbox(env, steps, net, place, await svc.vtep());
  const before = net.overlaySandbox;
  net.overlaySandbox = place;
  steps.onRollback('overlay namespace record', () => {
    net.overlaySandbox = before;
  });
  return ns;
}

/**
 * A container joining the overlay on this host: its namespace of the network
 * is built with the first container here, a veth joins the sandbox to br0, and
 * the other hosts' containers are programmed at once (so the new container
 * reaches them without waiting for the agent). Also the repair of an endpoint
 * whose interface was deleted: the same join, with the address it has.
 */
async function joinOverlayEndpoint(j: EndpointJoin): Promise<void> {
  const svc = await services(j.env);
  const ovNs = await ensureOverlaySandbox(j.env, j.steps, requireOverlay(j.net), svc);
  await joinOverlay({ ...j, defaultRoute: false }, ovNs);
  // A dry run programs them too, from the cluster store as it would be after its claim: its script reaches the same peers.
  await svc.programPeers(j.net);
}

/** Unplugs the endpoint; the network's namespace goes with the last container of this host. */
async function leaveOverlayEndpoint(env: DriverEnv, record: NetworkRecord, ep: EndpointRecord, how?: LeaveOptions): Promise<void> {
  const net = requireOverlay(record);
  const ns = openOverlaySandbox(net.overlaySandbox, net.id);
  if (ns) env.adopt(ns);
  await leaveOverlay(env, ns, ep);
  if (how?.lastHere && net.overlaySandbox) {
    await deleteOverlaySandbox(env, net, net.overlaySandbox);
    if (!env.dryRun && env.overlay) (await env.overlay()).forgetPeers(net.id);
    net.overlaySandbox = undefined;
  }
}

function describeOverlay(record: NetworkRecord, endpoints: ReadonlyArray<{ container: string; ep: EndpointRecord }>): Description {
  const net = requireOverlay(record);
  const ns = `netns:${overlayNsName(net.id)}`;
  const br = `bridge:${ns}/${OVERLAY_BRIDGE}`;
  const vx = `vxlan:${ns}/${OVERLAY_VXLAN}`;
  const d: Description = {
    nodes: [
      { id: ns, kind: 'namespace', label: overlayNsName(net.id) },
      { id: br, kind: 'bridge', label: `${OVERLAY_BRIDGE} (${net.ipam?.gateway ?? ''})` },
      { id: vx, kind: 'vxlan', label: `${OVERLAY_VXLAN} VNI ${net.vni} UDP ${VXLAN_UDP_PORT}` },
    ],
    edges: [
      { from: br, to: ns, label: 'in' },
      { from: vx, to: br, label: 'port' },
    ],
  };
  for (const { container, ep } of endpoints) {
    const veth = `veth:${ns}/${ep.hostVeth}`;
    const iface = `iface:${container}/${ep.ifname}`;
    d.nodes.push({ id: veth, kind: 'veth', label: ep.hostVeth ?? '?' }, { id: iface, kind: 'interface', label: `${container} ${ep.ifname} ${ep.ip}` });
    d.edges.push({ from: veth, to: br, label: 'port' }, { from: veth, to: iface, label: 'veth pair' });
  }
  return d;
}


/** The network's namespace on this host: there, and br0 and vxlan0 in it and up. */
async function checkOverlayNetwork(env: DriverEnv, record: NetworkRecord): Promise<Finding[]> {
  const net = requireOverlay(record);
  const place = net.overlaySandbox;
  if (!place) return [];
  const owner = `network ${net.name}`;
  const name = overlayNsName(net.id);
  if (!isNamespaceFile(place.netns)) {
    return [{ owner, problem: `its overlay namespace ${name} is missing: remove and run its containers on this host again` }];
  }
  const ov = env.rtnlIn(env.adopt(openNetns(place.netns, name)));
  const links = await ov.links();
  const out: Finding[] = [];
  for (const dev of [OVERLAY_BRIDGE, OVERLAY_VXLAN]) {
    const l = links.find((x) => x.name === dev);
    if (!l) out.push({ owner, problem: `${dev} is missing from its overlay namespace ${name}: remove and run its containers on this host again` });
    else if (!l.up) out.push({ owner, problem: `${dev} is down in its overlay namespace ${name}`, fix: () => ov.setLink(dev, { up: true }) });
  }
  return out;
}

export const overlayDriver: NetworkDriver = {
  name: 'overlay',
  ...DRIVER_TRAITS.overlay,
  configure: configureOverlay,
  createNetwork: async () => {
    // Nothing on this host until a container joins (Docker creates the namespace lazily too).
  },
  deleteNetwork: async (env, record) => {
    const net = requireOverlay(record);
    if (net.overlaySandbox) await deleteOverlaySandbox(env, net, net.overlaySandbox);
  },
  // Addresses are claimed in the cluster store, so no other host hands the same one out.
  addEndpoint: async (steps, req) => (await services(req.env)).claimEndpoint(steps, req),
  removeEndpoint: async (env, net, ep, how) => {
    if (!env.dryRun) await (await services(env)).withdrawEndpoint(net, ep, how?.containerName ?? ep.id);
  },
  joinEndpoint: joinOverlayEndpoint,
  leaveEndpoint: leaveOverlayEndpoint,
  // Containers leave the host through plumb_gwbridge: the gateway on br0 lives in the overlay's own namespace.
  egressThroughGatewayBridge: (net) => !net.internal,
  // This host's namespace of the network (br0 + vxlan0), while it has containers on it.
  ownedNamespaces: (record) => {
    const net = requireOverlay(record);
    return net.overlaySandbox ? [net.overlaySandbox] : [];
  },
  // The peers (neighbour and FDB entries) are checked against the cluster store by `network inspect`.
  checkNetwork: checkOverlayNetwork,
  // Nothing of the endpoint lives outside the sandbox but its veth's host end, which goes with the interface inside.
  checkEndpoint: async () => [],
  describe: describeOverlay,
};
