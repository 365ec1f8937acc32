// Whether a host may join the overlays under its identity (node ID + VTEP
// address), and what to write so the cluster store records it. Pure: the
// store reads the keys, this module decides, the store writes in one
// transaction whose compares say "nothing changed since the read".
//
// Two registrations clash when they would make two hosts one:
//  - the same VTEP address under two node IDs (two hosts advertising one
//    address: VXLAN packets for one would reach the other), or
//  - the same node ID at two VTEP addresses (a cloned VM, or a copied state
//    directory, carrying the other host's node-id file).
// A registration held by another identity blocks only while that identity
// still has endpoints in the store; one without endpoints is stale (a host
// that moved to another address, or left) and is taken over.
import type { Compare, TxnOp } from './kv.js';
import { keys, type ClusterEndpoint, type ClusterNode } from './records.js';

/** What the store holds for one identity: the node record under its ID, and the owner of its VTEP address. */
export interface RegistrationState {
  /** nodes/<my id>, if present, with its mod revision. */
  byId?: { node: ClusterNode; modRevision: string };
  /** vteps/<my vtep>, if present: the node ID holding it, with its mod revision. */
  byVtep?: { nodeId: string; modRevision: string };
  /** vteps/<the VTEP my ID was registered at before>, when that differs from mine (the key a move frees). */
  previousVtep?: { nodeId: string; modRevision: string };
}

export type RegistrationPlan =
  | { kind: 'registered' }
  | { kind: 'write'; compare: Compare[]; success: TxnOp[] }
  | { kind: 'clash'; message: string };

const short = (id: string) => id.slice(0, 12);

/** The node record exactly as stored: a value compare on it guards every join. */
export const nodeRecordText = (n: ClusterNode): string => JSON.stringify({ id: n.id, name: n.name, vtep: n.vtep });

/** Whether the state read says `me` is registered as it is. */
export function isRegistered(me: ClusterNode, s: Pick<RegistrationState, 'byId' | 'byVtep'>): boolean {
  return !!s.byId && nodeRecordText(s.byId.node) === nodeRecordText(me) && s.byVtep?.nodeId === me.id;
}

/** The compares that hold while `me` stays registered as it is (a join adds them to its transaction). */
export function registrationGuard(prefix: string, me: ClusterNode): Compare[] {
  const k = keys(prefix);
  return [
    { key: k.node(me.id), target: 'VALUE', result: 'EQUAL', value: nodeRecordText(me) },
    { key: k.vtep(me.vtep), target: 'VALUE', result: 'EQUAL', value: me.id },
  ];
}

/** The endpoints a node ID still has at an address (endpoints from before node IDs have none, and count for nobody). */
const endpointsOf = (endpoints: readonly ClusterEndpoint[], nodeId: string, vtep?: string) =>
  endpoints.filter((e) => e.nodeId === nodeId && (vtep === undefined || e.vtep === vtep));

const containersText = (eps: readonly ClusterEndpoint[]) => {
  const names = [...new Set(eps.map((e) => e.containerName))].sort();
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
};

/**
 * Decides whether `me` may register. `endpoints` are the cluster's endpoints
 * (needed only when a registration is held by someone else); `nodeIdFile`
 * names the file to delete on a cloned host, for the message.
 */
export function planRegistration(
  prefix: string,
  me: ClusterNode,
  s: RegistrationState,
  endpoints: readonly ClusterEndpoint[],
  nodeIdFile: string,
): RegistrationPlan {
  if (isRegistered(me, s)) return { kind: 'registered' };
  const k = keys(prefix);
  if (s.byVtep && s.byVtep.nodeId !== me.id) {
    const other = s.byVtep.nodeId;
    const theirs = endpointsOf(endpoints, other, me.vtep);
    if (theirs.length) {
      return {
        kind: 'clash',
        message:
          `VTEP address ${me.vtep} is already used by another host (node ${short(other)}, with ${containersText(theirs)} on overlays): ` +
          `two hosts cannot advertise the same underlay address; give this host its own with --cluster-advertise IP|IFACE`,
      };
    }
  }
  const before = s.byId?.node;
  if (before && before.vtep !== me.vtep) {
    const theirs = endpointsOf(endpoints, me.id, before.vtep);
    if (theirs.length) {
      return {
        kind: 'clash',
        message:
          `node ID ${short(me.id)} is already used by the host at ${before.vtep} (with ${containersText(theirs)} on overlays), and this host advertises ${me.vtep}: ` +
          `if this host is a copy of that one (a cloned VM or copied state directory), delete ${nodeIdFile} here so it makes its own ID, then try again; ` +
          `if this host's address changed, run plumb system reset here first`,
      };
    }
  }
  const compare: Compare[] = [
    { key: k.node(me.id), target: 'MOD', result: 'EQUAL', revision: s.byId?.modRevision ?? '0' },
    { key: k.vtep(me.vtep), target: 'MOD', result: 'EQUAL', revision: s.byVtep?.modRevision ?? '0' },
  ];
  const success: TxnOp[] = [
    { put: k.node(me.id), value: nodeRecordText(me) },
    { put: k.vtep(me.vtep), value: me.id },
  ];
  // Moving from another address: free it, if it is still this ID's.
  if (before && before.vtep !== me.vtep && s.previousVtep?.nodeId === me.id) {
    compare.push({ key: k.vtep(before.vtep), target: 'MOD', result: 'EQUAL', revision: s.previousVtep.modRevision });
    success.push({ delete: k.vtep(before.vtep) });
  }
  return { kind: 'write', compare, success };
}
