// The bridge driver: a Linux bridge per network (docker0-style), a veth pair per
// endpoint with the host end on the bridge and the other end as ethN inside the
// sandbox. Firewall rules are not made here: they are rendered for all networks
// at once by the engine (see engine/firewall/sync.ts).
import type { RandomBytes } from '../ipam/ids.js';
import type { Journal } from '../kernel/ops.js';
import type { Rtnl } from '../kernel/rtnl.js';
import { ifaceSysctlKey, setSysctl } from '../kernel/sysctl.js';
import type { BridgeNetwork, BridgeSettings, EndpointRecord, NetworkRecord } from '../store/model.js';
import { DriverError } from './errors.js';
import { DRIVER_TRAITS } from './traits.js';
import { allocateLocalEndpoint, releaseLocalAddress } from './local-addresses.js';
import { parseBridgeOptions } from './bridge-options.js';
import { bridgeNetwork, requireBridge } from './records.js';
import type { Description, DriverEnv, EndpointJoin, Finding, KernelView, LeaveOptions, NetworkDriver, NetworkRequest, Steps } from './types.js';

import { BRIDGE_OPTIONS } from './bridge-options.js';
export { BRIDGE_OPTIONS };

/** `-o` options of a bridge network -> its settings (Docker's names and defaults); bridge names are unique on the host. */
export function configureBridge(req: NetworkRequest, existing: readonly NetworkRecord[], id: string): BridgeSettings {
  const config = parseBridgeOptions(req.options);
  const bridge = config.bridgeName ?? `br-${id.slice(0, 12)}`;
  if (existing.some((n) => bridgeNetwork(n)?.bridge === bridge)) throw new DriverError(`bridge name ${bridge} is already used by another network`);
  return { driver: 'bridge', bridge, mtu: config.mtu, icc: config.icc, masquerade: config.masquerade, hostBindingIpv4: config.hostBindingIpv4 };
}

/** Docker gives its bridges a 02:42 locally administered MAC; so do we, so learners recognise it. */
export function randomBridgeMac(random: RandomBytes): string {
  const tail = [...random(4)].map((b) => b.toString(16).padStart(2, '0'));
  return ['02', '42', ...tail].join(':');
}

/** Host end of an endpoint's veth: "veth" + 7 hex characters, like Docker's, derived from the endpoint id. */
export function hostVethName(endpointId: string): string {
  return `veth${endpointId.slice(0, 7)}`;
}

export async function createBridge(tx: Steps, host: Rtnl, net: BridgeNetwork, random: RandomBytes, journal?: Journal): Promise<void> {
  const name = net.bridge;
  const ipam = net.ipam!;
  const prefix = ipam.subnet.split('/')[1];
  const existing = await host.linkByName(name);
  if (existing) {
    // Never adopt a bridge plumb did not make (a real Docker's docker0, say): its rules and containers are not plumb's.
    const hint = net.builtin ? ': set "bridge-name" in /etc/plumb/config.json (or PLUMB_BRIDGE_NAME) to a name no other program uses' : '';
    throw new Error(`cannot create network ${net.name}: a link named ${name} already exists on this host${hint}`);
  }
  const mac = randomBridgeMac(random);
  // Named after the bridge when it is one of plumb's own, so a network's script says BRIDGE_MAC for its own bridge.
  const label = net.builtin ? 'DEFAULT_BRIDGE_MAC' : name === 'plumb_gwbridge' ? 'GWBRIDGE_MAC' : 'BRIDGE_MAC';
  journal?.declare(label, mac, `the MAC of ${name}: 02:42 and four random bytes, as Docker gives its bridges`);
  await tx.step(
    `add bridge ${name}`,
    () =>
      host.addBridge(
        name,
        { mtu: net.mtu, address: mac },
        `${net.name} is a Linux bridge named ${name}: a virtual switch that every container on the network plugs into`,
      ),
    () => host.deleteLink(name, `roll back: remove bridge ${name}`),
  );
  await tx.step(`address ${name}`, () =>
    host.addAddress(name, `${ipam.gateway}/${prefix}`, `the bridge holds the gateway address ${ipam.gateway}: containers route through it`),
  );
  await tx.step(`up ${name}`, () => host.setLink(name, { up: true }));
}

/**
 * Published ports are reached from the host through 127.0.0.1 by NAT alone (no
 * proxy process): the DNATed packet leaves through the bridge still carrying
 * its 127.0.0.1 source until MASQUERADE rewrites it, and the kernel drops such
 * packets unless route_localnet is on for that interface. The setting lives
 * and dies with the bridge. An --internal network publishes nothing.
 */
export async function enableRouteLocalnet(env: DriverEnv, tx: Steps, net: BridgeNetwork): Promise<void> {
  if (net.internal) return;
  const name = net.bridge;
  await tx.step(`route_localnet ${name}`, () =>
    setSysctl(
      env.journal,
      env.hostNs(),
      ifaceSysctlKey('ipv4', name, 'route_localnet'),
      '1',
      `let packets with a 127.0.0.1 source leave through ${name}: the host reaching a published port via 127.0.0.1/localhost is NATed into the bridge, then masqueraded to ${net.ipam!.gateway}`,
    ),
  );
}

export async function deleteBridge(host: Rtnl, net: BridgeNetwork): Promise<void> {
  if (await host.linkExists(net.bridge)) await host.deleteLink(net.bridge, `remove ${net.name}'s bridge ${net.bridge}`);
}

/** Plugs a sandbox into a bridge network: veth pair (born plugged into the bridge), hairpin, address, routes. */
export async function joinBridge(j: EndpointJoin): Promise<void> {
  const { ep, steps: tx } = j;
  const net = requireBridge(j.net);
  const host = j.env.hostRtnl();
  const sandbox = j.env.rtnlIn(j.sandboxNs);
  ep.hostVeth ??= hostVethName(ep.id);
  const veth = ep.hostVeth;
  j.env.journal.declare('VETH', veth, "the host end's name: veth and 7 characters of the endpoint's random ID");
  const { peerIndex } = await tx.step(
    `veth ${veth}`,
    () =>
      host.addVeth(
        veth,
        ep.ifname,
        j.sandboxNs,
        { mtu: net.mtu, peerAddress: ep.mac, master: net.bridge, up: true },
        `a veth pair is a virtual cable: ${veth} stays on the host, plugged into ${net.name === 'bridge' ? `${net.bridge} (the default bridge, plumb's docker0)` : `${net.bridge} (the bridge of network ${net.name}, the way docker0 works)`}; its twin becomes ${ep.ifname} inside ${j.sandboxName}, with the MAC 02:42 + the four bytes of its address`,
      ),
    () => host.deleteLink(veth, `roll back: remove ${veth} (its twin ${ep.ifname} goes with it)`),
  );
  // The kernel said which ifindex the twin got in the sandbox: configuring it needs no lookup.
  if (peerIndex) sandbox.rememberIndex(ep.ifname, peerIndex);
  await tx.step(`hairpin ${veth}`, () =>
    host.setBridgePort(
      veth,
      { hairpin: true },
      `hairpin on ${veth}: a packet that came in through this port may be sent back out of it. A container reaching a published port on the host's address is NATed back to itself or to a neighbour on ${net.bridge}, and the bridge must forward that frame where it came from`,
    ),
  );
  await tx.step(`configure ${ep.ifname}`, async () => {
    await sandbox.setLink(ep.ifname, { up: true });
    await sandbox.addAddress(
      ep.ifname,
      `${ep.ip}/${ep.prefix}`,
      `${ep.ip} is ${ep.staticIp ? 'the address asked for' : 'the lowest free address'} in ${net.ipam!.subnet}`,
    );
    if (j.defaultRoute && ep.gateway) {
      await sandbox.addRoute({ dst: 'default', via: ep.gateway, dev: ep.ifname }, `leave the sandbox through the gateway ${ep.gateway}`);
    }
  });
}

/** Unplugs an endpoint: deleting the host end of a veth deletes its twin too. */
export async function leaveBridge(host: Rtnl, ep: EndpointRecord): Promise<void> {
  if (ep.hostVeth && (await host.linkExists(ep.hostVeth))) {
    await host.deleteLink(ep.hostVeth, `unplug: deleting ${ep.hostVeth} also deletes its twin ${ep.ifname} in the sandbox`);
  }
}

/** The bridge and its gateway address, as the store says they should be. */
async function checkBridgeNetwork(env: DriverEnv, record: NetworkRecord, view: KernelView): Promise<Finding[]> {
  const net = requireBridge(record);
  const owner = `network ${net.name}`;
  if (!net.ipam) return [];
  const bridge = net.bridge;
  const host = env.hostRtnl();
  const link = view.hostLinks.get(bridge);
  if (!link) return [{ owner, problem: `bridge ${bridge} is missing`, fix: (steps) => bridgeDriver.createNetwork(env, steps, net) }];
  const out: Finding[] = [];
  if (!link.up) out.push({ owner, problem: `bridge ${bridge} is down`, fix: () => host.setLink(bridge, { up: true }) });
  const gw = `${net.ipam.gateway}/${net.ipam.subnet.split('/')[1]}`;
  if (!(await host.addresses(bridge)).some((a) => a.cidr === gw)) {
    out.push({ owner, problem: `bridge ${bridge} lacks the gateway address ${gw}`, fix: () => host.addAddress(bridge, gw) });
  }
  return out;
}

/** The host end of the veth: present, up, and a port of the network's bridge. */
async function checkBridgeEndpoint(env: DriverEnv, record: NetworkRecord, ep: EndpointRecord, view: KernelView, rejoin: Finding['fix']): Promise<Finding[]> {
  if (!ep.hostVeth) return [];
  const net = requireBridge(record);
  const veth = ep.hostVeth;
  const bridge = net.bridge;
  const owner = `network ${net.name}`;
  const link = view.hostLinks.get(veth);
  if (!link) return [{ owner, problem: `veth ${veth} (its ${ep.ifname} on ${net.name}) is missing`, fix: rejoin }];
  if (link.master !== bridge || !link.up) {
    return [
      {
        owner,
        problem: `veth ${veth} is ${link.master ? `on ${link.master}` : 'on no bridge'}${link.up ? '' : ', down'}; it belongs on ${bridge}`,
        fix: async () => {
          await env.hostRtnl().setLink(veth, { master: bridge, up: true });
          // A port that left its bridge lost its flags: hairpin lets a container reach its own published port.
          await env.hostRtnl().setBridgePort(veth, { hairpin: true });
        },
      },
    ];
  }
  const out: Finding[] = [];
  const mtu = net.mtu ?? 1500;
  if (link.mtu !== undefined && link.mtu !== mtu) {
    out.push({ owner, problem: `veth ${veth} has MTU ${link.mtu}; ${net.name} uses ${mtu}`, fix: () => env.hostRtnl().setLink(veth, { mtu }) });
  }
  if (view.bridgePorts?.get(veth)?.hairpin === false) {
    out.push({ owner, problem: `hairpin is off on bridge port ${veth}`, fix: () => env.hostRtnl().setBridgePort(veth, { hairpin: true }) });
  }
  return out;
}

export function describeBridge(record: NetworkRecord, endpoints: ReadonlyArray<{ container: string; ep: EndpointRecord }>): Description {
  const net = requireBridge(record);
  const br = `bridge:${net.bridge}`;
  const d: Description = { nodes: [{ id: br, kind: 'bridge', label: `${net.bridge} (${net.ipam?.gateway ?? 'no address'})` }], edges: [] };
  for (const { container, ep } of endpoints) {
    const veth = `veth:${ep.hostVeth}`;
    const iface = `iface:${container}/${ep.ifname}`;
    d.nodes.push({ id: veth, kind: 'veth', label: ep.hostVeth ?? '?' }, { id: iface, kind: 'interface', label: `${container} ${ep.ifname} ${ep.ip}` });
    d.edges.push({ from: veth, to: br, label: 'port' }, { from: veth, to: iface, label: 'veth pair' });
  }
  return d;
}

export const bridgeDriver: NetworkDriver = {
  name: 'bridge',
  ...DRIVER_TRAITS.bridge,
  configure: configureBridge,
  createNetwork: async (env: DriverEnv, steps: Steps, record: NetworkRecord) => {
    const net = requireBridge(record);
    if (!net.options[BRIDGE_OPTIONS.name]) env.journal.declare('BRIDGE', net.bridge, "the bridge's name: br- and the network ID's first 12 characters");
    // The bridge, its gateway address and its link state read as one picture: the network's switch.
    await env.journal.section('network', () => createBridge(steps, env.hostRtnl(), net, env.random, env.journal));
    await enableRouteLocalnet(env, steps, net);
  },
  deleteNetwork: (env: DriverEnv, net: NetworkRecord) => env.journal.section('network', () => deleteBridge(env.hostRtnl(), requireBridge(net))),
  addEndpoint: allocateLocalEndpoint,
  removeEndpoint: async (_env, net, ep) => releaseLocalAddress(net, ep.ip),
  joinEndpoint: joinBridge,
  // Deleting a veth waits for the kernel (~30 ms, an RCU grace period); when the
  // sandbox's namespace goes anyway, its teardown removes the pair in the background.
  leaveEndpoint: async (env: DriverEnv, _net: NetworkRecord, ep: EndpointRecord, how?: LeaveOptions) => {
    if (!how?.sandboxGoing) await leaveBridge(env.hostRtnl(), ep);
  },
  egressThroughGatewayBridge: () => false,
  ownedNamespaces: () => [],
  checkNetwork: checkBridgeNetwork,
  checkEndpoint: checkBridgeEndpoint,
  describe: describeBridge,
};
