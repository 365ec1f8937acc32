// The macvlan driver: no bridge, no NAT. Each endpoint is a macvlan child of a
// host interface (the network's parent), born directly inside the sandbox with
// its own MAC, so containers appear on the parent's wire as hosts of their own.
// The parent is the user's: plumb neither creates nor removes it. A property
// learners trip over: the kernel does not deliver traffic between a parent and
// its macvlan children, so the host itself cannot reach its containers this way.
import { openNetns, closeNetns } from '../kernel/netns.js';
import { Rtnl } from '../kernel/rtnl.js';
import type { EndpointRecord, NetworkRecord } from '../store/model.js';
import type { DriverEnv, EndpointJoin, NetworkDriver, Steps, LeaveOptions } from './types.js';

export { MACVLAN_MODES, type MacvlanModeName } from './macvlan-options.js';

/** Validates the parent when the network is created; nothing is built in the kernel. */
async function createMacvlanNetwork(env: DriverEnv, _steps: Steps, net: NetworkRecord): Promise<void> {
  const parent = net.parent!;
  if (parent === 'lo') throw new Error('loopback interface is not a valid macvlan parent link');
  if (!(await env.hostRtnl().linkByName(parent))) {
    // Docker would try to create a VLAN sub-interface for a dotted name; plumb only uses existing parents.
    throw new Error(`invalid subinterface vlan name ${parent}, example formatting is eth0.10`);
  }
}

/** The parent is not ours: removing the network leaves it exactly as it was. */
async function deleteMacvlanNetwork(): Promise<void> {}

async function joinMacvlan(j: EndpointJoin): Promise<void> {
  const { net, ep, steps: tx } = j;
  const host = j.env.hostRtnl();
  const sandbox = j.env.rtnlIn(j.sandboxNs);
  ep.netnsPath = j.sandboxNs.path ?? undefined;
  await tx.step(
    `macvlan ${ep.ifname}`,
    () =>
      host.addMacvlan(
        ep.ifname,
        net.parent!,
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

export const macvlanDriver: NetworkDriver = {
  createNetwork: createMacvlanNetwork,
  deleteNetwork: deleteMacvlanNetwork,
  joinEndpoint: joinMacvlan,
  leaveEndpoint: leaveMacvlan,
};
