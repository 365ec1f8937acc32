// Checks every driver's endpoint shares: the interface inside the sandbox.
import type { LinkInfo } from '../../kernel/rtnl.js';
import { broken, ok, type HopResult } from '../types.js';
import type { Facts } from '../facts.js';
import type { EndpointHop } from './types.js';

/** The sandbox end: exists, up, carries its address, has the network's MTU. Returns the link when it exists. */
export function sandboxInterface(f: Facts, e: EndpointHop, mtu: number): { results: HopResult[]; link?: LinkInfo } {
  const { c, net, ep, sandbox } = e;
  const hop = `${c.name} ${ep.ifname}`;
  const object = `link ${ep.ifname} in ${c.name}`;
  const path = c.sandbox!.netns!;
  const link = sandbox.links.find((l) => l.name === ep.ifname);
  if (!link) {
    return {
      results: [
        broken(hop, object, `missing (${c.name}'s interface on ${net.name})`, `${c.name} has no way onto ${net.name}`, `plumb network disconnect -f ${net.name} ${c.name} && plumb network connect ${net.name} ${c.name}`),
      ],
    };
  }
  const out: HopResult[] = [];
  if (!link.up) {
    out.push(broken(hop, object, 'is down', `no packet leaves or enters ${c.name} through ${ep.ifname}`, f.inNs(c.name, path, `ip link set ${ep.ifname} up`)));
  }
  const cidr = `${ep.ip}/${ep.prefix}`;
  const addrs = sandbox.addrs.filter((a) => a.dev === ep.ifname);
  if (!addrs.some((a) => a.cidr === cidr)) {
    out.push(
      broken(hop, `address ${cidr} on ${ep.ifname} in ${c.name}`, `missing (has ${addrs.map((a) => a.cidr).join(', ') || 'none'})`,
        `packets for ${ep.ip} have nowhere to land, and ${c.name} has no source address on ${net.name}`, f.inNs(c.name, path, `ip addr add ${cidr} dev ${ep.ifname}`)),
    );
  }
  if (link.mtu !== mtu) {
    out.push(
      broken(hop, object, `MTU ${link.mtu}, the network's is ${mtu}`,
        link.mtu < mtu ? `frames larger than ${link.mtu} bytes sent to ${c.name} are dropped: big packets (and TCP transfers) stall while ping works` : `${c.name} sends frames larger than the rest of the path (${mtu}) carries`,
        f.inNs(c.name, path, `ip link set ${ep.ifname} mtu ${mtu}`)),
    );
  }
  if (!out.length) out.push(ok(hop, object, `up, ${cidr}, mtu ${link.mtu}`));
  return { results: out, link };
}
