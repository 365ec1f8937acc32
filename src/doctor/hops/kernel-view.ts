// What `inspect` and `network inspect` show next to the store: the kernel's
// own view of a bridge or macvlan network and of a container's interfaces,
// expected beside actual, with InSync and the problems doctor's hop checks
// find there (the same checks, so the two never disagree).
import type { ContainerRecord, NetworkRecord } from '../../store/model.js';
import type { Facts } from '../facts.js';
import { hopsFor } from './index.js';
import { checkSandbox } from '../sandbox.js';
import type { HopResult } from '../types.js';

const problems = (rs: HopResult[]) => rs.filter((r) => !r.ok).map((r) => `${r.object}: ${r.detail}`);

function usersOf(f: Facts, net: NetworkRecord): ContainerRecord[] {
  return f.runningContainers().filter((c) => Object.values(c.endpoints).some((e) => e.networkId === net.id));
}

export async function networkKernelView(f: Facts, net: NetworkRecord): Promise<Record<string, unknown> | undefined> {
  const hops = hopsFor(net.driver);
  if (!hops || (net.driver !== 'bridge' && net.driver !== 'macvlan')) return undefined;
  const h = await f.hostLinks();
  const results = [...(await hops.network(f, net))];
  const endpoints: Record<string, unknown> = {};
  const mtu = await hops.mtu(f, net);
  for (const c of usersOf(f, net)) {
    const ep = Object.values(c.endpoints).find((e) => e.networkId === net.id)!;
    const sb = await f.sandboxLinks(c);
    if (!sb) continue;
    const epResults = await hops.endpoint(f, { c, net, ep, sandbox: sb });
    results.push(...epResults);
    const inside = sb.links.find((l) => l.name === ep.ifname);
    const actualInside = {
      Interface: ep.ifname,
      Exists: !!inside,
      Up: inside?.up ?? false,
      Mtu: inside?.mtu ?? null,
      MacAddress: inside?.address ?? null,
      Addresses: sb.addrs.filter((a) => a.dev === ep.ifname).map((a) => a.cidr),
      ...(net.driver === 'macvlan' ? { Kind: inside?.kind ?? null, Mode: inside?.macvlanMode ?? null } : {}),
    };
    const expectedInside = {
      Interface: ep.ifname,
      Exists: true,
      Up: true,
      Mtu: mtu,
      MacAddress: ep.mac,
      Addresses: [`${ep.ip}/${ep.prefix}`],
      ...(net.driver === 'macvlan' ? { Kind: 'macvlan', Mode: net.macvlanMode ?? 'bridge' } : {}),
    };
    const entry: Record<string, unknown> = { Expected: { Sandbox: expectedInside }, Actual: { Sandbox: actualInside } };
    if (net.driver === 'bridge' && ep.hostVeth) {
      const veth = h.linkNamed(ep.hostVeth);
      const port = h.portOf(ep.hostVeth);
      (entry.Expected as Record<string, unknown>).HostVeth = { Name: ep.hostVeth, Master: net.bridge, Up: true, Mtu: mtu, Hairpin: true, Learning: true };
      (entry.Actual as Record<string, unknown>).HostVeth = veth
        ? { Name: veth.name, Master: veth.master ?? null, Up: veth.up, Mtu: veth.mtu, Hairpin: port?.hairpin ?? null, Learning: port?.learning ?? null }
        : null;
    }
    entry.InSync = epResults.every((r) => r.ok);
    endpoints[c.name] = entry;
  }
  const view: Record<string, unknown> = {};
  if (net.driver === 'bridge' && net.bridge && net.ipam) {
    const link = h.links.find((l) => l.name === net.bridge);
    view.Bridge = {
      Expected: { Name: net.bridge, Up: true, Mtu: mtu, Addresses: [`${net.ipam.gateway}/${net.ipam.subnet.split('/')[1]}`] },
      Actual: link ? { Name: link.name, Up: link.up, Mtu: link.mtu, Addresses: h.addrs.filter((a) => a.dev === link.name).map((a) => a.cidr) } : null,
    };
  }
  if (net.driver === 'macvlan' && net.parent) {
    const link = h.links.find((l) => l.name === net.parent);
    view.Parent = { Expected: { Name: net.parent, Up: true }, Actual: link ? { Name: link.name, Up: link.up, Mtu: link.mtu } : null };
  }
  view.Endpoints = endpoints;
  view.InSync = results.every((r) => r.ok);
  view.Problems = problems(results);
  return view;
}

export async function containerKernelView(f: Facts, c: ContainerRecord): Promise<Record<string, unknown> | undefined> {
  if (c.state !== 'running' || !c.sandbox?.netns) return undefined;
  const { results, sandbox } = await checkSandbox(f, c);
  if (!sandbox) return { InSync: false, Problems: problems(results) };
  const networks: Record<string, unknown> = {};
  for (const ep of Object.values(c.endpoints)) {
    const net = f.data.networks[ep.networkId];
    if (!net) continue;
    const link = sandbox.links.find((l) => l.name === ep.ifname);
    const mtu = (await hopsFor(net.driver)?.mtu(f, net)) ?? null;
    networks[net.name] = {
      Expected: { Interface: ep.ifname, Up: true, Mtu: mtu, MacAddress: ep.mac, Addresses: [`${ep.ip}/${ep.prefix}`] },
      Actual: link
        ? { Interface: link.name, Up: link.up, Mtu: link.mtu, MacAddress: link.address ?? null, Addresses: sandbox.addrs.filter((a) => a.dev === link.name).map((a) => a.cidr) }
        : null,
    };
  }
  const def = sandbox.routes.find((r) => r.dst === 'default');
  return {
    Networks: networks,
    DefaultRoute: def ? `default via ${def.via ?? '-'} dev ${def.dev ?? '-'}` : null,
    Neighbours: sandbox.neigh.filter((n) => n.state.includes('permanent')).map((n) => `${n.ip} dev ${n.dev} lladdr ${n.lladdr ?? '-'} ${n.state.join(' ').toUpperCase()}`),
    InSync: results.every((r) => r.ok),
    Problems: problems(results),
  };
}
