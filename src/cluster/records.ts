// What plumb keeps in the cluster store, and where. Every host reads and
// writes the same keys; etcd transactions make each change all-or-nothing,
// so two hosts never take the same name, VNI, subnet or address.
//
//   PREFIX/networks/<id>                network definition (ClusterNetwork)
//   PREFIX/names/<name>                 <id>     one network per name
//   PREFIX/vnis/<vni>                   <id>     one network per VNI
//   PREFIX/subnets/<a.b.c.d_len>        <id>     one network per subnet
//   PREFIX/joins/<id>                   bumped by every join: network rm compares it
//   PREFIX/ipam/<id>/<ip>               <endpoint id>
//   PREFIX/endpoints/<id>/<endpoint id> ClusterEndpoint
//   PREFIX/nodes/<node id>              ClusterNode: a host's identity, name and VTEP
//   PREFIX/vteps/<a.b.c.d>              <node id>  one host per underlay address
//
// A host is known by its node ID (random, made once and kept in its state
// dir), never by its hostname: lab namespaces and cloned VMs share hostnames.
// Stores written before node IDs existed have no nodes/ or vteps/ keys and
// endpoints without nodeId: those endpoints still work (who is local is told
// by the VTEP), they only take no part in clash checks.
import type { IpamRecord } from '../store/model.js';

export interface ClusterNetwork {
  id: string;
  name: string;
  driver: 'overlay';
  created: string;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipam: IpamRecord;
  /** VXLAN network identifier (24 bits; plumb, like Docker, starts at 256). */
  vni: number;
  /** MTU of the overlay's interfaces (1450 leaves room for the 50-byte VXLAN header). */
  mtu: number;
}

export interface ClusterEndpoint {
  id: string;
  networkId: string;
  containerId: string;
  containerName: string;
  aliases: string[];
  ip: string;
  prefix: number;
  mac: string;
  /** The name of the host the endpoint lives on (for people: hostnames repeat), and its VTEP (the advertised underlay address). */
  node: string;
  vtep: string;
  /** The host's node ID (absent in endpoints written before node IDs). */
  nodeId?: string;
}

/** A host of the cluster, as registered when it first joins an overlay. */
export interface ClusterNode {
  /** 64 hex characters, made once per host (its state dir's node-id file). */
  id: string;
  /** Display name: the hostname or node-name setting. Not unique. */
  name: string;
  /** Its advertised underlay address. Unique: two hosts cannot receive the same VXLAN packets. */
  vtep: string;
}

export interface ClusterSnapshot {
  revision: string;
  networks: ClusterNetwork[];
  endpoints: ClusterEndpoint[];
}

export const FIRST_VNI = 256;
export const OVERLAY_MTU = 1450;
export const VXLAN_PORT = 4789;

export function keys(prefix: string) {
  const p = prefix.replace(/\/+$/, '');
  return {
    root: `${p}/`,
    networks: `${p}/networks/`,
    network: (id: string) => `${p}/networks/${id}`,
    name: (name: string) => `${p}/names/${name}`,
    vnis: `${p}/vnis/`,
    vni: (vni: number) => `${p}/vnis/${vni}`,
    subnet: (cidr: string) => `${p}/subnets/${cidr.replace('/', '_')}`,
    joins: (id: string) => `${p}/joins/${id}`,
    ipamOf: (id: string) => `${p}/ipam/${id}/`,
    ip: (id: string, ip: string) => `${p}/ipam/${id}/${ip}`,
    endpoints: `${p}/endpoints/`,
    endpointsOf: (id: string) => `${p}/endpoints/${id}/`,
    endpoint: (id: string, epId: string) => `${p}/endpoints/${id}/${epId}`,
    nodes: `${p}/nodes/`,
    node: (nodeId: string) => `${p}/nodes/${nodeId}`,
    vtep: (ip: string) => `${p}/vteps/${ip}`,
  };
}

/** One change seen by a watch of the cluster store: the key, and its value after (put) or before (delete). */
export interface ClusterChange {
  type: 'put' | 'delete';
  key: string;
  value?: string;
  previous?: string;
}

/** Whether a change can alter who is where on the overlays (what the embedded DNS answers from). */
export function changesNames(change: ClusterChange, prefix: string): boolean {
  const k = keys(prefix);
  return change.key.startsWith(k.networks) || change.key.startsWith(k.endpoints);
}

/**
 * Whether a change can alter the forwarding entries the host at `vtep`
 * programs for the containers of other hosts. Network definitions and other
 * hosts' endpoints can; this host's own endpoints cannot (the command that
 * made or removed one has already put this host in order), nor can the
 * bookkeeping keys (names, VNIs, subnets, addresses, joins, nodes). Hosts are
 * told apart by VTEP, which every endpoint, old or new, carries and no two
 * hosts share. When in doubt: yes.
 */
export function changesPeersOf(change: ClusterChange, prefix: string, vtep: string): boolean {
  const k = keys(prefix);
  if (change.key.startsWith(k.networks)) return true;
  if (!change.key.startsWith(k.endpoints)) return false;
  const text = change.type === 'put' ? change.value : change.previous;
  if (!text) return true;
  try {
    return (JSON.parse(text) as Partial<ClusterEndpoint>).vtep !== vtep;
  } catch {
    return true;
  }
}
