// What `plumb network inspect` adds for an overlay network: the peers (hosts
// with containers on it, and their VTEP addresses), and for every container on
// another host the forwarding entries this host should have (from the cluster
// store) next to the ones the kernel actually has, so a broken path shows up
// as a mismatch in one place.
import { existsSync } from 'node:fs';
import { FLOOD_MAC, OVERLAY_VXLAN, VXLAN_UDP_PORT, openOverlaySandbox, overlayNsName } from '../../drivers/overlay.js';
import { readNodeId } from '../../cluster/node-id.js';
import type { ClusterEndpoint } from '../../cluster/records.js';
import { shortId } from '../../ipam/ids.js';
import type { OverlayNetwork } from '../../store/model.js';
import type { Context } from '../core/context.js';
import { overlayPlace, withCluster } from './cluster.js';
import { fdbOk, neighOk, readActual, remoteEndpoints, type Actual } from './peers.js';

/**
 * Docker's Peers: one per host with a container on the network, named by its
 * node ID (short, as Docker shows its node names), never by hostname, which
 * two hosts may share. Endpoints written before node IDs name their host by
 * its node name.
 */
export function overlayPeers(endpoints: readonly ClusterEndpoint[]): Array<{ name: string; ip: string }> {
  const byVtep = new Map(endpoints.map((e) => [e.vtep, { name: e.nodeId ? shortId(e.nodeId) : e.node, ip: e.vtep }]));
  return [...byVtep.values()].sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
}

/** The same hosts for people: node ID, hostname and VTEP side by side. */
function overlayNodes(endpoints: readonly ClusterEndpoint[]): Array<{ ID: string | null; Name: string; VTEP: string }> {
  const byVtep = new Map(endpoints.map((e) => [e.vtep, { ID: e.nodeId ?? null, Name: e.node, VTEP: e.vtep }]));
  return [...byVtep.values()].sort((a, b) => a.VTEP.localeCompare(b.VTEP, 'en', { numeric: true }));
}

export interface OverlayInspect {
  peers: Array<{ name: string; ip: string }>;
  plumb: Record<string, unknown>;
}

const neighText = (ip: string, mac: string) => `${ip} dev ${OVERLAY_VXLAN} lladdr ${mac} PERMANENT`;
const fdbText = (mac: string, vtep: string) => `${mac} dev ${OVERLAY_VXLAN} dst ${vtep} self permanent`;

export async function inspectOverlay(ctx: Context, net: OverlayNetwork): Promise<OverlayInspect> {
  try {
    return await withCluster(ctx, async (c) => {
      const snapshot = await c.store.snapshot();
      const all = snapshot.endpoints.filter((e) => e.networkId === net.id);
      const peers = overlayPeers(all);
      const place = overlayPlace(ctx.paths, net.id);
      const here = existsSync(place.netns);
      let actual: Actual = { neigh: [], fdb: [] };
      if (here) {
        const ns = openOverlaySandbox(place, net.id);
        if (ns) actual = await readActual(ctx.rtnlIn(ns));
      }
      const remote = remoteEndpoints(snapshot, net.id, c.vtep);
      const remoteEndpointsOut = remote
        .sort((a, b) => a.ip.localeCompare(b.ip))
        .map((e) => {
          const n = actual.neigh.find((x) => x.ip === e.ip);
          const f = actual.fdb.filter((x) => x.mac === e.mac);
          return {
            Name: e.containerName,
            Host: e.node,
            Node: e.nodeId ? shortId(e.nodeId) : null,
            IPv4Address: e.ip,
            MacAddress: e.mac,
            VTEP: e.vtep,
            Expected: { Neighbour: neighText(e.ip, e.mac), Fdb: fdbText(e.mac, e.vtep) },
            Actual: {
              Neighbour: n ? `${n.ip} dev ${OVERLAY_VXLAN}${n.lladdr ? ` lladdr ${n.lladdr}` : ''} ${n.state.join(',').toUpperCase()}` : null,
              Fdb: f.length ? f.map((x) => fdbText(x.mac, x.dst ?? '?')).join('; ') : null,
            },
            InSync: here && neighOk(actual, e.ip, e.mac) && fdbOk(actual, e.mac, e.vtep),
          };
        });
      const vteps = [...new Set(remote.map((e) => e.vtep))].sort();
      return {
        peers,
        plumb: {
          Overlay: {
            VNI: net.vni,
            VxlanPort: VXLAN_UDP_PORT,
            LocalVTEP: c.vtep,
            LocalNode: { ID: readNodeId(ctx.paths) ?? null, Name: c.config.nodeName },
            // Every host with a container on the network: Peers names them by node ID, as Docker does; here with their hostnames.
            Nodes: overlayNodes(all),
            // Only hosts with a container on the network have its namespace.
            Namespace: here ? overlayNsName(net.id) : null,
            Flood: {
              Expected: vteps.map((v) => fdbText(FLOOD_MAC, v)),
              Actual: actual.fdb.filter((x) => x.mac === FLOOD_MAC).map((x) => fdbText(x.mac, x.dst ?? '?')),
            },
            RemoteEndpoints: remoteEndpointsOut,
          },
        },
      };
    });
  } catch (err) {
    return { peers: [], plumb: { Overlay: { VNI: net.vni, Error: (err as Error).message } } };
  }
}
