// Remote endpoints, programmed into this host's overlay namespaces: for each
// container on another host, a permanent neighbour entry (its IP -> its MAC,
// so ARP is answered locally) and an FDB entry (its MAC -> its host's VTEP);
// for each other host with containers on the network, a flood entry so
// broadcasts reach it. Level-triggered: every run compares what the cluster
// store says with what the kernel has, and fixes the difference.
//
// plumb deletes only entries it made itself: what it programmed is recorded
// in the state dir, and an entry is removed only while it still holds the
// value plumb wrote. Runs from the CLI (right after a join) and from the host
// agent, one at a time under a lock file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ClusterEndpoint, ClusterNetwork, ClusterSnapshot } from '../../cluster/records.js';
import {
  addFloodEntry,
  addRemoteEndpoint,
  FLOOD_MAC,
  OVERLAY_VXLAN,
  openOverlaySandbox,
  overlayNsName,
  removeFloodEntry,
  removeRemoteEndpoint,
} from '../../drivers/overlay.js';
import type { FdbInfo, NeighInfo, Rtnl } from '../../kernel/rtnl.js';
import { StoreLock } from '../../kernel/lock.js';
import type { Paths } from '../../store/paths.js';
import type { Context } from '../core/context.js';
import { overlayPlace } from './cluster.js';

/** What plumb programmed into one network's namespace on this host. */
export interface Programmed {
  /** ip -> mac */
  neigh: Record<string, string>;
  /** mac -> vtep */
  fdb: Record<string, string>;
  /** remote VTEPs with a flood entry */
  flood: string[];
}

const programmedFile = (paths: Paths) => join(paths.state, 'overlay-programmed.json');
const peersLock = (paths: Paths) => new StoreLock(join(paths.run, 'overlay-peers.lock'));

function readProgrammed(paths: Paths): Record<string, Programmed> {
  try {
    return JSON.parse(readFileSync(programmedFile(paths), 'utf8')) as Record<string, Programmed>;
  } catch {
    return {};
  }
}

function writeProgrammed(paths: Paths, all: Record<string, Programmed>): void {
  const file = programmedFile(paths);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(all, null, 1));
  renameSync(`${file}.tmp`, file);
}

/** Drops the record of a network whose namespace is gone (its entries died with it). */
export function forgetProgrammed(paths: Paths, networkId: string): void {
  const lock = peersLock(paths);
  lock.acquire();
  try {
    const all = readProgrammed(paths);
    if (all[networkId]) {
      delete all[networkId];
      writeProgrammed(paths, all);
    }
  } finally {
    lock.release();
  }
}

/** Remote endpoints of one network as seen from `vtep`. */
export function remoteEndpoints(snapshot: ClusterSnapshot, networkId: string, vtep: string): ClusterEndpoint[] {
  return snapshot.endpoints.filter((e) => e.networkId === networkId && e.vtep !== vtep);
}

export interface Actual {
  neigh: NeighInfo[];
  fdb: FdbInfo[];
}

export async function readActual(ov: Rtnl): Promise<Actual> {
  if (!(await ov.linkByName(OVERLAY_VXLAN))) return { neigh: [], fdb: [] };
  return { neigh: await ov.neighbours(OVERLAY_VXLAN), fdb: (await ov.fdb(OVERLAY_VXLAN)).filter((f) => f.self) };
}

export const neighOk = (a: Actual, ip: string, mac: string) => a.neigh.some((n) => n.ip === ip && n.lladdr === mac && n.state.includes('permanent'));
export const fdbOk = (a: Actual, mac: string, vtep: string) => a.fdb.some((f) => f.mac === mac && f.dst === vtep);

export interface ReconcileReport {
  /** Kernel changes made. */
  changes: number;
  networks: number;
}

/** Brings one network's namespace in line with the snapshot. */
async function reconcileNetwork(ov: Rtnl, net: ClusterNetwork | undefined, remote: ClusterEndpoint[], done: Programmed): Promise<number> {
  const actual = await readActual(ov);
  let changes = 0;
  const want = new Map(remote.map((e) => [e.ip, e]));
  // Withdraw what plumb programmed for endpoints that are gone (or moved).
  for (const [ip, mac] of Object.entries(done.neigh)) {
    const e = want.get(ip);
    if (e && e.mac === mac && done.fdb[mac] === e.vtep) continue;
    const vtep = done.fdb[mac] ?? '';
    const has = { neigh: actual.neigh.some((n) => n.ip === ip && n.lladdr === mac), fdb: !!vtep && fdbOk(actual, mac, vtep) };
    if (has.neigh || has.fdb) {
      await removeRemoteEndpoint(ov, { ip, mac, vtep, name: `the endpoint at ${ip}` }, has);
      changes++;
    }
    delete done.neigh[ip];
    if (done.fdb[mac] === vtep) delete done.fdb[mac];
  }
  for (const e of remote) {
    if (!(neighOk(actual, e.ip, e.mac) && fdbOk(actual, e.mac, e.vtep))) {
      await addRemoteEndpoint(ov, { ip: e.ip, mac: e.mac, vtep: e.vtep, name: e.containerName });
      changes++;
    }
    done.neigh[e.ip] = e.mac;
    done.fdb[e.mac] = e.vtep;
  }
  const vteps = new Set(remote.map((e) => e.vtep));
  for (const v of done.flood.filter((v) => !vteps.has(v))) {
    if (fdbOk(actual, FLOOD_MAC, v)) {
      await removeFloodEntry(ov, v);
      changes++;
    }
  }
  for (const v of vteps) {
    if (!fdbOk(actual, FLOOD_MAC, v)) {
      await addFloodEntry(ov, v);
      changes++;
    }
  }
  done.flood = [...vteps].sort();
  void net;
  return changes;
}

/**
 * Programs every overlay namespace on this host from `snapshot` (or only the
 * networks in `only`). `vtep` is this host's own address: its endpoints are local.
 */
export async function reconcilePeers(ctx: Context, snapshot: ClusterSnapshot, vtep: string, only?: string[]): Promise<ReconcileReport> {
  const lock = peersLock(ctx.paths);
  lock.acquire();
  try {
    const all = readProgrammed(ctx.paths);
    const ids = new Set([...snapshot.networks.map((n) => n.id), ...Object.keys(all)]);
    let changes = 0;
    let networks = 0;
    for (const id of ids) {
      if (only && !only.includes(id)) continue;
      const place = overlayPlace(ctx.paths, id);
      // A dry run joining a network's first container here made its namespace only on paper: program that one.
      const onPaper = ctx.dryRun && !!only?.includes(id) && !existsSync(place.netns);
      if (!existsSync(place.netns) && !onPaper) {
        delete all[id];
        continue;
      }
      const ns = onPaper ? { name: overlayNsName(id), path: place.netns, fd: -1 } : openOverlaySandbox(place, id);
      if (!ns) continue;
      const ov = ctx.rtnlIn(ns);
      const net = snapshot.networks.find((n) => n.id === id);
      const done = (all[id] ??= { neigh: {}, fdb: {}, flood: [] });
      // A network removed from the store keeps nothing here: desired is empty.
      changes += await reconcileNetwork(ov, net, net ? remoteEndpoints(snapshot, id, vtep) : [], done);
      networks++;
      if (!ctx.dryRun) writeProgrammed(ctx.paths, all);
    }
    if (!ctx.dryRun) writeProgrammed(ctx.paths, all);
    return { changes, networks };
  } finally {
    lock.release();
  }
}
