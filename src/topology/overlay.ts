// The overlay driver's part, as Docker's classic overlay lays it out: on this
// host, the network's own namespace with br0 (gateway address) and vxlan0
// (VNI, UDP port) plugged into it; a veth from br0 to ethN in each local
// sandbox; and, from the cluster store, the other hosts (peers, by VTEP) and
// the containers there that vxlan0 reaches through the tunnel. A remote
// endpoint without its permanent neighbour and FDB entries in this host's
// kernel is drift: packets to it would be flooded or lost.
import { VXLAN_PORT } from '../cluster/records.js';
import type { OverlayNetwork } from '../store/model.js';
import { endpointsOn, ipv4Of, linkIn, type Describe } from './common.js';
import { vethEndpoint } from './endpoint.js';
import { edge, ids, node, type Fragment } from './model.js';

// The kernel names the overlay driver gives things (drivers/overlay.ts). The
// topology sits below the drivers (they will describe themselves with its
// model), so it names them here rather than import them.
const OVERLAY_BRIDGE = 'br0';
const OVERLAY_VXLAN = 'vxlan0';
const VXLAN_UDP_PORT = VXLAN_PORT;

/** The network's namespace name: as the store recorded it, else Docker's "1-" + 10 hex of the id. */
function overlayNsName(net: OverlayNetwork): string {
  return net.overlaySandbox?.alias.split('/').pop() ?? `1-${net.id.slice(0, 10)}`;
}

export function describeOverlayNetwork(d: Describe, net: OverlayNetwork): Fragment {
  const view = d.kernel.overlays[net.name];
  const local = endpointsOn(d.data, net);
  const fragment: Fragment = { nodes: [], edges: [] };
  const nsId = ids.overlayNs(net.name);
  const brId = ids.overlayBridge(net.name);
  const vxId = ids.vxlan(net.name);
  const here = !!view || local.length > 0;
  if (here) {
    const br = linkIn(view, OVERLAY_BRIDGE);
    const vx = linkIn(view, OVERLAY_VXLAN);
    const gw = ipv4Of(view, OVERLAY_BRIDGE).map((a) => a.cidr);
    const expectedGw = net.ipam ? `${net.ipam.gateway}/${net.ipam.subnet.split('/')[1]}` : undefined;
    const vni = vx?.vxlan?.vni ?? net.vni;
    const port = vx?.vxlan?.port ?? VXLAN_UDP_PORT;
    fragment.nodes.push(
      node(nsId, 'overlay-ns', overlayNsName(net), {
        parent: ids.host(),
        details: [`ip netns exec ${overlayNsName(net)}`],
        networks: [net.name],
        attrs: { network: net.name, driver: 'overlay', netns: overlayNsName(net) },
        absent: !view,
      }),
      node(brId, 'bridge', OVERLAY_BRIDGE, {
        parent: nsId,
        details: [`network ${net.name}`, ...(gw.length ? gw : expectedGw ? [expectedGw] : []).map((g) => `gateway ${g}`)],
        networks: [net.name],
        attrs: { network: net.name, driver: 'overlay', ...(net.ipam ? { subnet: net.ipam.subnet } : {}), gateway: gw[0] ?? expectedGw ?? '' },
        absent: !br,
      }),
      node(vxId, 'vxlan', OVERLAY_VXLAN, {
        parent: nsId,
        details: [`VNI ${vni ?? '?'}`, `UDP ${port}`, ...(d.cluster ? [`local VTEP ${d.cluster.vtep}`] : [])],
        networks: [net.name],
        attrs: { network: net.name, vni: String(vni ?? ''), port: String(port), ...(d.cluster ? { vtep: d.cluster.vtep } : {}) },
        absent: !vx,
      }),
    );
    fragment.edges.push(edge('port', vxId, brId, { undirected: true, absent: !vx || vx.master !== OVERLAY_BRIDGE }));
    for (const { c, ep } of local) {
      const f = vethEndpoint(d, c, net, ep, { where: overlayNsName(net), box: nsId, links: view?.links, bridgeId: brId, bridgeName: OVERLAY_BRIDGE });
      fragment.nodes.push(...f.nodes);
      fragment.edges.push(...f.edges);
    }
  }
  if (!d.cluster) return fragment;
  const remote = d.cluster.endpoints
    .filter((e) => e.networkId === net.id && e.vtep !== d.cluster!.vtep)
    .sort((a, b) => (a.vtep === b.vtep ? a.ip.localeCompare(b.ip, 'en', { numeric: true }) : a.vtep.localeCompare(b.vtep, 'en', { numeric: true })));
  for (const e of remote) {
    // A peer is a VTEP: hostnames repeat (lab namespaces, cloned VMs), underlay addresses cannot.
    const peerId = ids.peer(e.vtep);
    const vtepId = ids.vtep(e.vtep);
    if (!fragment.nodes.some((n) => n.id === peerId)) {
      const who = { node: e.node, vtep: e.vtep, ...(e.nodeId ? { nodeId: e.nodeId } : {}) };
      fragment.nodes.push(
        node(peerId, 'peer', `host ${e.node}`, { details: [`VTEP ${e.vtep}`, ...(e.nodeId ? [`node ${e.nodeId.slice(0, 12)}`] : [])], networks: [net.name], attrs: who }),
        node(vtepId, 'vtep', `VTEP ${e.vtep}`, { parent: peerId, details: [`UDP ${VXLAN_UDP_PORT}`], networks: [net.name], attrs: who }),
      );
      if (here) fragment.edges.push(edge('tunnel', vxId, vtepId, { label: `VXLAN VNI ${net.vni ?? '?'}`, undirected: true }));
    }
    const neigh = view?.neigh.find((n) => n.dev === OVERLAY_VXLAN && n.ip === e.ip);
    const fdb = view?.fdb.find((f) => f.dev === OVERLAY_VXLAN && f.mac === e.mac);
    const missing = !here
      ? []
      : [
          ...(neigh && neigh.lladdr === e.mac && neigh.state.includes('permanent') ? [] : [`no permanent neighbour ${e.ip} lladdr ${e.mac} on ${OVERLAY_VXLAN}`]),
          ...(fdb && fdb.dst === e.vtep ? [] : [`no FDB entry ${e.mac} dst ${e.vtep} on ${OVERLAY_VXLAN}`]),
        ];
    const rid = ids.remote(net.name, e.ip);
    fragment.nodes.push(
      node(rid, 'remote', e.containerName, {
        parent: peerId,
        details: [`${e.ip}/${e.prefix}`, e.mac],
        networks: [net.name],
        containers: [e.containerName],
        attrs: { network: net.name, ip: e.ip, mac: e.mac, node: e.node, vtep: e.vtep },
        ...(missing.length ? { drift: missing } : {}),
      }),
    );
    fragment.edges.push(edge('port', rid, vtepId, { undirected: true }));
  }
  return fragment;
}
