// Fixed topologies for the graph golden tests: store records built by hand,
// and the kernel view a correct host would report for them (links, addresses,
// routes, the rules plumb's own firewall renderer writes, each sandbox's DNS
// rules). A fixture can then break the kernel view on purpose.
import { firewallState } from '../../src/engine/firewall/sync.js';
import { renderRuleset } from '../../src/firewall/index.js';
import { sandboxDnsRules } from '../../src/firewall/sandbox-dns.js';
import type { ClusterEndpoint } from '../../src/cluster/records.js';
import type { LinkInfo } from '../../src/kernel/rtnl.js';
import { emptyStore, type BridgeNetwork, type ContainerRecord, type EndpointRecord, type MacvlanNetwork, type NetworkCommon, type NetworkRecord, type OverlayNetwork, type StoreData } from '../../src/store/model.js';
import type { ClusterView, DriftFinding, KernelView, NsView, TopologyInput } from '../../src/topology/view.js';

let created = 0;
const stamp = () => `2026-01-01T00:00:${String(created++).padStart(2, '0')}Z`;

function commonNet(name: string, id: string, subnet: string, gateway: string): NetworkCommon {
  return {
    id,
    name,
    scope: 'local',
    created: stamp(),
    internal: false,
    attachable: false,
    builtin: name === 'bridge',
    labels: {},
    options: {},
    ipam: { subnet, gateway, aux: {}, userSubnet: true, userGateway: false },
    allocated: {},
  };
}

export function bridgeNet(name: string, id: string, subnet: string, gateway: string, more: Partial<BridgeNetwork> = {}): BridgeNetwork {
  return {
    ...commonNet(name, id, subnet, gateway),
    driver: 'bridge',
    bridge: name === 'bridge' ? 'plumb0' : `br-${id.slice(0, 12)}`,
    icc: true,
    masquerade: true,
    ...more,
  };
}

export function macvlanNet(name: string, id: string, subnet: string, gateway: string, parent: string, more: Partial<MacvlanNetwork> = {}): MacvlanNetwork {
  return { ...commonNet(name, id, subnet, gateway), driver: 'macvlan', parent, ...more };
}

export function overlayNet(name: string, id: string, subnet: string, gateway: string, vni: number, more: Partial<OverlayNetwork> = {}): OverlayNetwork {
  return { ...commonNet(name, id, subnet, gateway), driver: 'overlay', scope: 'global', vni, mtu: 1450, ...more };
}

export function container(name: string, id: string, networkMode: string, more: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    name,
    image: 'busybox',
    command: [],
    created: stamp(),
    hostname: id.slice(0, 12),
    state: 'running',
    autoRemove: false,
    networkMode,
    networks: [],
    endpoints: {},
    publish: [],
    ports: [],
    expose: [],
    links: [],
    env: {},
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    extraHosts: [],
    sandbox: { id, netns: `/run/plumb/netns/${id.slice(0, 12)}` },
    ...more,
  };
}

const macOf = (ip: string) => `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;

/** Plugs `c` into `net` as the store records it (veth host end named from the endpoint id). */
export function join(c: ContainerRecord, net: NetworkRecord, ip: string, epId: string, more: Partial<EndpointRecord> = {}): EndpointRecord {
  const ep: EndpointRecord = {
    id: epId,
    networkId: net.id,
    ifname: `eth${Object.keys(c.endpoints).length}`,
    ...(net.driver === 'macvlan' ? {} : { hostVeth: `veth${epId.slice(0, 7)}` }),
    ip,
    prefix: Number(net.ipam!.subnet.split('/')[1]),
    mac: macOf(ip),
    gateway: net.ipam!.gateway,
    aliases: [],
    ...more,
  };
  c.endpoints[net.id] = ep;
  c.networks.push({ networkId: net.id, aliases: [] });
  net.allocated[ip] = epId;
  return ep;
}

export function store(networks: NetworkRecord[], containers: ContainerRecord[]): StoreData {
  const data = emptyStore();
  for (const n of networks) data.networks[n.id] = n;
  for (const c of containers) data.containers[c.id] = c;
  return data;
}

let index = 1;
function link(name: string, more: Partial<LinkInfo> = {}): LinkInfo {
  return { index: index++, name, up: true, lowerUp: true, operstate: 'UP', mtu: 1500, ...more };
}

function addr(dev: string, cidr: string) {
  const [address, prefix] = cidr.split('/');
  return { dev, index: 0, address: address!, prefix: Number(prefix), cidr, scope: 'global' as const };
}

/** What the kernel of a healthy host reports for `data` (plus the lab's uplink eth0 and any extra host interfaces). */
export function healthyKernel(data: StoreData, opts: { extraHostLinks?: string[]; cluster?: ClusterView; dnsPort?: number } = {}): KernelView {
  index = 1;
  const host: NsView = {
    links: [link('lo', { operstate: 'UNKNOWN' }), link('eth0', { kind: 'veth', address: '02:00:cb:00:71:01' }), ...(opts.extraHostLinks ?? []).map((n) => link(n, { address: '02:00:00:00:00:99' }))],
    addrs: [addr('lo', '127.0.0.1/8'), addr('eth0', '203.0.113.1/24')],
    routes: [{ dst: 'default', via: '203.0.113.2', dev: 'eth0', scope: 'global', protocol: 3, type: 1, onlink: false }],
  };
  const nets = Object.values(data.networks).sort((a, b) => a.created.localeCompare(b.created));
  for (const n of nets) {
    if (n.driver !== 'bridge') continue;
    host.links.push(link(n.bridge, { kind: 'bridge', address: '02:42:00:00:00:01' }));
    host.addrs.push(addr(n.bridge, `${n.ipam!.gateway}/${n.ipam!.subnet.split('/')[1]}`));
  }
  const sandboxes: KernelView['sandboxes'] = {};
  const overlays: KernelView['overlays'] = {};
  const containers = Object.values(data.containers).sort((a, b) => a.name.localeCompare(b.name));
  for (const c of containers) {
    if (c.state !== 'running' || !c.sandbox?.netns || c.sandbox.joined || c.networkMode === 'host') continue;
    const view: NsView & { nat?: string } = { links: [link('lo', { operstate: 'UNKNOWN' })], addrs: [addr('lo', '127.0.0.1/8')], routes: [] };
    for (const ep of Object.values(c.endpoints)) {
      const net = data.networks[ep.networkId]!;
      view.links.push(link(ep.ifname, { kind: net.driver === 'macvlan' ? 'macvlan' : 'veth', address: ep.mac }));
      view.addrs.push(addr(ep.ifname, `${ep.ip}/${ep.prefix}`));
      if (net.driver === 'bridge') host.links.push(link(ep.hostVeth!, { kind: 'veth', master: net.bridge, address: '0a:00:00:00:00:01' }));
      if (net.driver === 'overlay') {
        const ov = (overlays[net.name] ??= {
          links: [link('lo'), link('br0', { kind: 'bridge' }), link('vxlan0', { kind: 'vxlan', master: 'br0', vxlan: { vni: net.vni, port: 4789 } })],
          addrs: [addr('br0', `${net.ipam!.gateway}/${net.ipam!.subnet.split('/')[1]}`)],
          routes: [],
          fdb: [],
          neigh: [],
        });
        ov.links.push(link(ep.hostVeth!, { kind: 'veth', master: 'br0' }));
      }
    }
    if (c.embeddedDns) {
      const ep = Object.values(c.endpoints).find((e) => data.networks[e.networkId]!.driver === 'bridge' && data.networks[e.networkId]!.name !== 'bridge')!;
      view.nat = sandboxDnsRules({ gateway: data.networks[ep.networkId]!.ipam!.gateway, ownIp: ep.ip, port: opts.dnsPort ?? 5311 }, true);
    }
    sandboxes[c.name] = view;
  }
  for (const e of opts.cluster?.endpoints ?? []) {
    const net = data.networks[e.networkId];
    const ov = net && overlays[net.name];
    if (!ov || e.vtep === opts.cluster!.vtep) continue;
    ov.neigh.push({ dev: 'vxlan0', ip: e.ip, lladdr: e.mac, state: ['permanent'] });
    ov.fdb.push({ dev: 'vxlan0', mac: e.mac, dst: e.vtep, self: true, state: ['permanent'] });
  }
  return { host, sandboxes, overlays, firewall: renderRuleset(firewallState(data)) };
}

export function input(data: StoreData, kernel: KernelView, more: { cluster?: ClusterView; drift?: DriftFinding[]; resolver?: boolean; hostName?: string } = {}): TopologyInput {
  return {
    hostName: more.hostName ?? 'lab1',
    data,
    kernel,
    cluster: more.cluster,
    resolver: more.resolver ? { pid: 4242, port: 5311 } : undefined,
    drift: more.drift ?? [],
  };
}

export function clusterEndpoint(net: NetworkRecord, name: string, ip: string, node: string, vtep: string): ClusterEndpoint {
  return { id: `ep-${name}`, networkId: net.id, containerId: `id-${name}`, containerName: name, aliases: [], ip, prefix: 24, mac: macOf(ip), node, vtep };
}
