// The macvlan driver: no bridge, no NAT. Each endpoint is a macvlan child of a
// host interface (the network's parent), born directly inside the sandbox with
// its own MAC, so containers appear on the parent's wire as hosts of their own.
// The parent is the user's: plumb neither creates nor removes it. A property
// learners trip over: the kernel does not deliver traffic between a parent and
// its macvlan children, so the host itself cannot reach its containers this way.
import { openNetns, closeNetns } from '../kernel/netns.js';
import { Rtnl } from '../kernel/rtnl.js';
import type { EndpointRecord, MacvlanSettings, NetworkRecord } from '../store/model.js';
import { DriverError } from './errors.js';
import { DRIVER_TRAITS } from './traits.js';
import { allocateLocalEndpoint, releaseLocalAddress } from './local-addresses.js';
import { parseMacvlanOptions } from './macvlan-options.js';
import { macvlanNetwork, requireMacvlan } from './records.js';
import type { Description, DriverEnv, EndpointJoin, Finding, KernelView, NetworkDriver, NetworkRequest, Steps, LeaveOptions } from './types.js';

export { MACVLAN_MODES, type MacvlanModeName } from './macvlan-options.js';

/** `-o parent=IFACE [-o macvlan_mode=MODE]` -> the network's settings; one network per parent, as in Docker. */
export function configureMacvlan(req: NetworkRequest, existing: readonly NetworkRecord[]): MacvlanSettings {
  const { parent, mode, mtu } = parseMacvlanOptions(req.options);
  const other = existing.find((n) => macvlanNetwork(n)?.parent === parent);
  if (other) throw new DriverError(`network dm-${other.id.slice(0, 12)} is already using parent interface ${parent}`);
  return { driver: 'macvlan', parent, macvlanMode: mode, mtu };
}

/** Validates the parent when the network is created; nothing is built in the kernel. */
async function createMacvlanNetwork(env: DriverEnv, _steps: Steps, net: NetworkRecord): Promise<void> {
  const { parent } = requireMacvlan(net);
  if (parent === 'lo') throw new DriverError('loopback interface is not a valid macvlan parent link');
  if (!(await env.hostRtnl().linkByName(parent))) {
    // Docker would try to create a VLAN sub-interface for a dotted name; plumb only uses existing parents.
    throw new DriverError(`invalid subinterface vlan name ${parent}, example formatting is eth0.10`);
  }
}

/** The parent is not ours: removing the network leaves it exactly as it was. */
async function deleteMacvlanNetwork(): Promise<void> {}

async function joinMacvlan(j: EndpointJoin): Promise<void> {
  const { ep, steps: tx } = j;
  const net = requireMacvlan(j.net);
  const host = j.env.hostRtnl();
  const sandbox = j.env.rtnlIn(j.sandboxNs);
  ep.netnsPath = j.sandboxNs.path ?? undefined;
  await tx.step(
    `macvlan ${ep.ifname}`,
    () =>
      host.addMacvlan(
        ep.ifname,
        net.parent,
        net.macvlanMode ?? 'bridge',
        j.sandboxNs,
        { mtu: net.mtu, address: ep.mac },
        `a macvlan child of ${net.parent}, born inside ${j.sandboxName} as ${ep.ifname}: its own MAC on ${net.parent}'s wire, no bridge, no NAT`,
      ),
    () => sandbox.deleteLink(ep.ifname, `roll back: remove ${ep.ifname} from ${j.sandboxName}`),
  );
  await tx.step(`configure ${ep.ifname}`, async () => {
    await sandbox.setLink(ep.ifname, { up: true });
    await sandbox.addAddress(
      ep.ifname,
      `${ep.ip}/${ep.prefix}`,
      `${ep.ip} comes from ${net.name}'s address plan (${net.ipam!.subnet}); neighbours on ${net.parent}'s segment reach it directly`,
    );
    if (j.defaultRoute && ep.gateway) {
      await sandbox.addRoute({ dst: 'default', via: ep.gateway, dev: ep.ifname }, `the network's gateway ${ep.gateway} is a router on the parent's segment`);
    }
  });
}

/** Deletes the child inside its sandbox; a sandbox already gone took the child with it. */
async function leaveMacvlan(env: DriverEnv, _net: NetworkRecord, ep: EndpointRecord, how?: LeaveOptions): Promise<void> {
  // The child lives inside the sandbox and dies with its namespace.
  if (!ep.netnsPath || how?.sandboxGoing) return;
  let ns;
  try {
    ns = openNetns(ep.netnsPath, null);
  } catch {
    return;
  }
  const rtnl = Rtnl.open({ ...ns, name: ep.netnsPath.split('/').pop() ?? null }, env.journal);
  try {
    if (await rtnl.linkByName(ep.ifname)) await rtnl.deleteLink(ep.ifname, `unplug: remove the macvlan child ${ep.ifname}`);
  } finally {
    rtnl.close();
    closeNetns(ns);
  }
}

/** The parent must still exist: plumb does not make it, so it cannot repair it either. */
async function checkMacvlanNetwork(_env: DriverEnv, record: NetworkRecord, view: KernelView): Promise<Finding[]> {
  const net = requireMacvlan(record);
  if (!view.hostLinks.has(net.parent)) return [{ owner: `network ${net.name}`, problem: `parent interface ${net.parent} does not exist` }];
  return [];
}

function describeMacvlan(record: NetworkRecord, endpoints: ReadonlyArray<{ container: string; ep: EndpointRecord }>): Description {
  const net = requireMacvlan(record);
  const parent = `parent:${net.parent}`;
  const d: Description = { nodes: [{ id: parent, kind: 'parent', label: `${net.parent} (${net.macvlanMode ?? 'bridge'} mode)` }], edges: [] };
  for (const { container, ep } of endpoints) {
    const iface = `iface:${container}/${ep.ifname}`;
    d.nodes.push({ id: iface, kind: 'interface', label: `${container} ${ep.ifname} ${ep.ip}` });
    d.edges.push({ from: iface, to: parent, label: 'macvlan child' });
  }
  return d;
}

export const macvlanDriver: NetworkDriver = {
  name: 'macvlan',
  ...DRIVER_TRAITS.macvlan,
  configure: configureMacvlan,
  createNetwork: createMacvlanNetwork,
  deleteNetwork: deleteMacvlanNetwork,
  addEndpoint: allocateLocalEndpoint,
  removeEndpoint: async (_env, net, ep) => releaseLocalAddress(net, ep.ip),
  joinEndpoint: joinMacvlan,
  leaveEndpoint: leaveMacvlan,
  egressThroughGatewayBridge: () => false,
  ownedNamespaces: () => [],
  checkNetwork: checkMacvlanNetwork,
  // Nothing of the endpoint lives outside the sandbox.
  checkEndpoint: async () => [],
  describe: describeMacvlan,
};
