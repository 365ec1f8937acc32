// Hop checks of the bridge driver: the Linux bridge (up, gateway address,
// MTU, route_localnet), and per endpoint the host end of the veth (up, on
// the right bridge, MTU, port flags) and the bridge's FDB for its MAC.
import { requireBridge } from '../../drivers/records.js';
import { ifaceSysctlKey, readSysctl } from '../../kernel/sysctl.js';
import type { NetworkRecord } from '../../store/model.js';
import type { Facts } from '../facts.js';
import { broken, ok, type HopResult } from '../types.js';
import { sandboxInterface } from './common.js';
import type { DriverHops, EndpointHop } from './types.js';

const DEFAULT_MTU = 1500;

async function network(f: Facts, record: NetworkRecord): Promise<HopResult[]> {
  const net = requireBridge(record);
  if (!net.ipam) return [];
  const h = await f.hostLinks();
  const name = net.bridge;
  const hop = name;
  const object = `bridge ${name}`;
  const link = h.links.find((l) => l.name === name);
  if (!link) return [broken(hop, object, 'missing', `${net.name}'s containers have no switch and no gateway`, 'plumb system gc')];
  const out: HopResult[] = [];
  if (!link.up) out.push(broken(hop, object, 'is down', `nothing passes between ${net.name}'s containers, nor to their gateway`, `ip link set ${name} up`));
  const gw = `${net.ipam.gateway}/${net.ipam.subnet.split('/')[1]}`;
  if (!h.addrs.some((a) => a.dev === name && a.cidr === gw)) {
    out.push(broken(hop, `address ${gw} on ${name}`, 'missing', `${net.name}'s containers route everything off the subnet through ${net.ipam.gateway}: no gateway, no way out (nor DNS)`, `ip addr add ${gw} dev ${name}`));
  }
  const mtu = net.mtu ?? DEFAULT_MTU;
  if (link.mtu !== mtu) {
    out.push(broken(hop, object, `MTU ${link.mtu}, the network's is ${mtu}`, 'a bridge takes the smallest MTU of its ports: some link on it is smaller than the rest, and big frames through it are dropped', `ip link set ${name} mtu ${mtu} (after fixing the port with the smaller MTU)`));
  }
  if (!net.internal) {
    const v = readSysctl(h.ns, ifaceSysctlKey('ipv4', name, 'route_localnet'));
    if (v !== undefined && v !== '1') {
      out.push(broken(hop, `sysctl net.ipv4.conf.${name}.route_localnet`, `is ${v}`, `the host reaching a published port through 127.0.0.1 is NATed into ${name} with a 127.x source, which the kernel then drops`, `sysctl -w net.ipv4.conf.${name}.route_localnet=1`));
    }
  }
  if (!out.length) out.push(ok(hop, object, `up, ${gw}, mtu ${link.mtu}`));
  return out;
}

async function endpoint(f: Facts, e: EndpointHop): Promise<HopResult[]> {
  const { ep, c } = e;
  const net = requireBridge(e.net);
  const mtu = net.mtu ?? DEFAULT_MTU;
  const inside = sandboxInterface(f, e, mtu);
  const out = [...inside.results];
  if (!ep.hostVeth) return out;
  const h = await f.hostLinks();
  const veth = ep.hostVeth;
  const hop = `${veth} (${c.name} ${ep.ifname})`;
  const object = `veth ${veth}`;
  const link = h.linkNamed(veth);
  if (!link) {
    out.push(broken(hop, object, 'missing', `${c.name}'s cable to ${net.bridge} is gone`, 'plumb system gc'));
    return out;
  }
  const before = out.length;
  if (link.master !== net.bridge) {
    out.push(broken(hop, object, link.master ? `is on ${link.master}, not ${net.bridge}` : `is on no bridge (belongs on ${net.bridge})`, `frames from ${c.name} reach no switch: neither the gateway nor other containers hear them`, `ip link set ${veth} master ${net.bridge}`));
  }
  if (!link.up) out.push(broken(hop, object, 'is down', `the host end of ${c.name}'s cable is unplugged: nothing passes in either direction`, `ip link set ${veth} up`));
  if (link.mtu !== mtu) {
    out.push(broken(hop, object, `MTU ${link.mtu}, the network's is ${mtu}`, link.mtu < mtu ? `frames larger than ${link.mtu} bytes between ${c.name} and ${net.bridge} are dropped: big packets stall while ping works` : 'larger than the rest of the path', `ip link set ${veth} mtu ${mtu}`));
  }
  const port = h.portOf(veth);
  if (port && link.master === net.bridge) {
    if (!port.hairpin) {
      out.push(broken(hop, `bridge port ${veth}`, 'hairpin is off', `${c.name} reaching its own published port on a host address is NATed back to itself; the bridge must send that frame out of the port it came in on`, `bridge link set dev ${veth} hairpin on`));
    }
    if (!port.learning) {
      out.push(broken(hop, `bridge port ${veth}`, 'learning is off', `${net.bridge} never learns that ${c.name}'s MAC is behind ${veth}: frames for it are flooded to every port`, `bridge link set dev ${veth} learning on`));
    }
    if (port.state && port.state !== 'forwarding' && link.up) {
      out.push(broken(hop, `bridge port ${veth}`, `STP state ${port.state}`, 'a port that is not forwarding drops every frame', `bridge link set dev ${veth} state 3`));
    }
  }
  const mac = inside.link?.address;
  if (mac) {
    const wrong = h.fdbOf(mac).filter((x) => x.master === net.bridge && x.dev !== veth && !x.self);
    for (const x of wrong) {
      out.push(broken(`${net.bridge} fdb`, `fdb entry ${mac} dev ${x.dev} master ${net.bridge}${x.state.length ? ` ${x.state.join(' ')}` : ''}`, `sends ${c.name}'s MAC to ${x.dev} instead of ${veth}`, `${net.bridge} forwards every frame for ${c.name} out of the wrong port`, `bridge fdb del ${mac} dev ${x.dev} master`));
    }
  }
  if (out.length === before) out.push(ok(hop, object, `up, on ${net.bridge}, mtu ${link.mtu}, hairpin ${port?.hairpin ? 'on' : 'off'}, learning ${port?.learning === false ? 'off' : 'on'}`));
  return out;
}

export const bridgeHops: DriverHops = {
  network,
  endpoint,
  mtu: async (_f, net) => requireBridge(net).mtu ?? DEFAULT_MTU,
};
