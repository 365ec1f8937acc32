// A sandbox as a whole: lo, its endpoints (each through its driver's hop
// checks), the default route, and neighbour entries that lie about a MAC.
import type { NetworkRecord } from '../store/model.js';
import { traitsOf } from '../drivers/traits.js';
import type { ContainerRecord } from '../store/model.js';
import type { Facts, NsFacts } from './facts.js';
import { hopsFor } from './hops/index.js';
import { broken, ok, type HopResult } from './types.js';

/** IP -> MAC as the kernel has them: bridge gateways and every sandbox interface. */
export async function realMacs(f: Facts): Promise<Map<string, string>> {
  const h = await f.hostLinks();
  const macs = new Map<string, string>();
  for (const a of h.addrs) {
    const l = h.links.find((x) => x.name === a.dev);
    if (l?.address && l.kind === 'bridge') macs.set(a.address, l.address);
  }
  for (const c of f.runningContainers()) {
    const sb = await f.sandbox(c);
    if (!sb) continue;
    for (const a of sb.addrs) {
      const l = sb.links.find((x) => x.name === a.dev);
      if (l?.address && a.dev !== 'lo') macs.set(a.address, l.address);
    }
  }
  return macs;
}

export async function checkSandbox(f: Facts, c: ContainerRecord): Promise<{ results: HopResult[]; sandbox: NsFacts | null }> {
  if (!c.sandbox?.netns) return { results: [], sandbox: null };
  const sb = await f.sandbox(c);
  if (!sb) {
    return { results: [broken(c.name, `namespace ${c.sandbox.netns}`, 'missing', `${c.name} has no network stack`, `plumb restart ${c.name}`)], sandbox: null };
  }
  if (c.sandbox.joined) return { results: [ok(c.name, `namespace of ${c.networkMode}`, 'shares the network stack it joined')], sandbox: sb };
  const path = c.sandbox.netns;
  const out: HopResult[] = [];
  const lo = sb.links.find((l) => l.name === 'lo');
  if (lo && !lo.up) out.push(broken(c.name, `link lo in ${c.name}`, 'is down', `${c.name} cannot talk to itself on 127.0.0.1, and its DNS queries (127.0.0.11) go nowhere`, f.inNs(c.name, path, 'ip link set lo up')));
  const endpoints = Object.values(c.endpoints);
  for (const ep of endpoints) {
    const net = f.data.networks[ep.networkId];
    const hops = net && hopsFor(net.driver);
    if (!net || !hops) continue;
    out.push(...(await hops.endpoint(f, { c, net, ep, sandbox: sb })));
  }
  // The default route: through one of the endpoints' gateways, when any network gives one.
  const gateways = endpoints.filter((e) => e.gateway && !f.data.networks[e.networkId]?.internal && !egressViaGwbridge(f.data.networks[e.networkId]));
  const def = sb.routes.find((r) => r.dst === 'default');
  if (gateways.length) {
    const primary = gateways[0]!;
    if (!def) {
      out.push(broken(c.name, `default route in ${c.name}`, 'missing', `${c.name} can reach only its own subnets: no internet, no published ports of other networks`, f.inNs(c.name, path, `ip route add default via ${primary.gateway} dev ${primary.ifname}`)));
    } else if (!gateways.some((g) => g.gateway === def.via)) {
      out.push(broken(c.name, `default route in ${c.name}`, `goes via ${def.via ?? def.dev}, not a gateway of its networks (${gateways.map((g) => g.gateway).join(', ')})`, 'packets leaving the subnet go to a router that is not there', f.inNs(c.name, path, `ip route replace default via ${primary.gateway} dev ${primary.ifname}`)));
    } else {
      out.push(ok(c.name, `default route in ${c.name}`, `default via ${def.via} dev ${def.dev}`));
    }
  }
  // Only entries ARP never corrects can lie for long; the kernel's MACs (every sandbox's) are read only when there are some.
  const fixed = sb.neigh.filter((n) => n.lladdr && (n.state.includes('permanent') || n.state.includes('noarp')));
  const macs = fixed.length ? await realMacs(f) : new Map<string, string>();
  for (const n of fixed) {
    const real = macs.get(n.ip);
    if (!real || !n.lladdr || n.lladdr === real) continue;
    out.push(broken(c.name, `neighbour ${n.ip} dev ${n.dev} lladdr ${n.lladdr} ${n.state.join(' ')} in ${c.name}`, `the kernel's MAC for ${n.ip} is ${real}`, `${c.name} addresses every frame for ${n.ip} to a MAC nobody has; a permanent entry is never corrected by ARP`, f.inNs(c.name, path, `ip neigh del ${n.ip} dev ${n.dev}`)));
  }
  return { results: out, sandbox: sb };
}

function egressViaGwbridge(net: NetworkRecord | undefined): boolean {
  return !!net && traitsOf(net).egressViaGatewayBridge;
}
